// The restricted unpickler: arbitrary opcode streams never crash, hang or run anything.
#include <cstddef>
#include <cstdint>

#include "tribev2/core/error.hpp"
#include "tribev2/io/pickle.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tribev2::io::pickle;
  Hooks hooks;
  hooks.persistent_load = [](Arena&, ValuePtr pid) { return pid; };
  try {
    (void)unpickle({reinterpret_cast<const std::byte*>(data), size}, "fuzz.pkl", hooks);
  } catch (const tribev2::Error&) {
  }
  return 0;
}

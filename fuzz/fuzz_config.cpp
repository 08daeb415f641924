// config.yaml parser (yaml-cpp underneath) on arbitrary text.
#include <cstddef>
#include <cstdint>
#include <string>

#include "tribev2/core/error.hpp"
#include "tribev2/model_io/load.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    (void)tribev2::model_io::parse_config_yaml_text(std::string(reinterpret_cast<const char*>(data), size), "fuzz.yaml");
  } catch (const tribev2::Error&) {
  }
  return 0;
}

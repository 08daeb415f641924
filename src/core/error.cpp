#include "tribev2/core/error.hpp"

#include <exception>
#include <new>

namespace tribev2 {

void rethrow_with_context(std::string_view context) {
  try {
    throw;
  } catch (const std::bad_alloc&) {
    throw Error(str_cat(context, ": out of memory"));
  } catch (const std::exception& e) {
    throw Error(str_cat(context, ": ", e.what()));
  }
}

}  // namespace tribev2

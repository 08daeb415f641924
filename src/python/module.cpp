// tribev2._tribev2: the engine's Python bindings. The user-facing API (TribeModel, PlotBrain)
// is the pure-Python part in python/tribev2/, built on these functions.
#include <cctype>
#include <filesystem>
#include <system_error>

#include "common.hpp"
#include "tribev2/core/error.hpp"
#include "tribev2/pipeline/build_events.hpp"

namespace tribev2::python {
namespace {

// Case-insensitive: the library writes "no such file", "does not exist", "cannot open", ...
bool mentions(std::string s, const char* what) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s.find(what) != std::string::npos;
}

}  // namespace
}  // namespace tribev2::python

PYBIND11_MODULE(_tribev2, m) {
  namespace py = pybind11;
  using namespace tribev2::python;
  m.doc() = "tribev2 engine bindings (use the tribev2 package)";
  m.attr("__version__") = tribev2::pipeline::tribev2_version();
  // Library errors name the file or field; a missing file becomes FileNotFoundError, anything
  // else ValueError, with the library's message.
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const tribev2::Error& e) {
      const std::string msg = e.what();
      if (mentions(msg, "does not exist") || mentions(msg, "no such file") || mentions(msg, "cannot open"))
        PyErr_SetString(PyExc_FileNotFoundError, msg.c_str());
      else
        PyErr_SetString(PyExc_ValueError, msg.c_str());
    } catch (const std::filesystem::filesystem_error& e) {
      PyErr_SetString(PyExc_OSError, e.what());
    } catch (const std::bad_alloc&) {
      PyErr_SetString(PyExc_MemoryError, "out of memory");
    } catch (const Cancelled&) {
      PyErr_SetString(PyExc_KeyboardInterrupt, "interrupted");
    }
  });
  register_model(m);
  register_pipeline(m);
  register_viz(m);
  register_hub(m);
  register_roi(m);
}

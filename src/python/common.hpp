// Shared pieces of the Python bindings: numpy <-> Tensor without copies on the way in,
// owning arrays on the way out, and long calls that release the GIL and stop on Ctrl-C.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "tribev2/core/context.hpp"
#include "tribev2/core/tensor.hpp"

namespace tribev2::python {

namespace py = pybind11;

// A float32 array the C++ side reads in place: the caller's array itself when it is already
// C-contiguous float32 (no copy), else a C-contiguous float32 copy. `keep` holds it alive for
// the duration of the call (the Tensor views its memory and owns nothing).
struct InputArray {
  py::array_t<float, py::array::c_style> array;
  Tensor tensor;
};
InputArray input_f32(py::handle obj, const std::string& what);

// A new numpy array owning a copy of a float32 tensor's values.
py::array_t<float> to_numpy(const Tensor& t);

// Thrown inside the work of call_interruptible (from progress callbacks) after Ctrl-C.
struct Cancelled : std::exception {
  const char* what() const noexcept override { return "interrupted"; }
};

// What long calls need besides their arguments: the context options and a cancel flag.
struct CallOptions {
  int threads = 0;                // 0: TRIBEV2_NUM_THREADS or all cores
  std::string precision = "f32";  // f32 | bf16
  bool progress = false;          // progress lines on stderr
};
Context make_context(const CallOptions& o);

// A progress function for `label` that throws Cancelled once `cancel` is set and prints
// "label: done/total" on stderr when `show`.
std::function<void(std::int64_t, std::int64_t)> progress_fn(const std::string& label, bool show,
                                                             const std::atomic<bool>& cancel);

// Runs work(cancel) on a worker thread with the GIL released. Every 50 ms the calling thread
// takes the GIL and lets Python run its signal handlers; when one raises (KeyboardInterrupt
// on Ctrl-C), `cancel` is set, the work is awaited (it stops at its next progress call; what
// it writes is atomic, so nothing is left half-written) and the Python exception is raised.
// C++ exceptions of the work propagate unchanged (module.cpp translates them).
template <class F>
auto call_interruptible(F&& work) {
  using R = std::invoke_result_t<F&, const std::atomic<bool>&>;
  static_assert(!std::is_void_v<R>, "the work returns a value");
  std::atomic<bool> cancel{false};
  std::optional<R> result;
  std::exception_ptr error;
  std::mutex m;
  std::condition_variable cv;
  bool done = false, interrupted = false;
  {
    py::gil_scoped_release release;
    std::thread worker([&] {
      try {
        result.emplace(work(cancel));
      } catch (...) {
        error = std::current_exception();
      }
      std::lock_guard lock(m);
      done = true;
      cv.notify_all();
    });
    for (;;) {
      std::unique_lock lock(m);
      if (cv.wait_for(lock, std::chrono::milliseconds(50), [&] { return done; })) break;
      lock.unlock();
      if (!interrupted) {
        py::gil_scoped_acquire acquire;
        if (PyErr_CheckSignals() != 0) {  // the error stays set on this thread
          interrupted = true;
          cancel = true;
        }
      }
    }
    worker.join();
  }
  if (interrupted) throw py::error_already_set();
  if (error) std::rethrow_exception(error);
  return std::move(*result);
}

void register_model(py::module_& m);
void register_pipeline(py::module_& m);
void register_viz(py::module_& m);
void register_hub(py::module_& m);
void register_roi(py::module_& m);

}  // namespace tribev2::python

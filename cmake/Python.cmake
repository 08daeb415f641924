# The Python package `tribev2` (src/python, python/tribev2): a pybind11 extension built when
# Python 3 development files and pybind11 are found (Debian: python3-dev, pybind11-dev).
#
# -DTRIBEV2_PYTHON=ON|OFF; left unset it is ON when both are found. Python is pinned to
# Debian's /usr/bin/python3 (its numpy, pandas, matplotlib and pytest are what the package and
# its tests use); a pyenv python3 earlier on PATH lacks them. Override with
# -DPython3_EXECUTABLE=... (the interpreter must match the one that imports the module).
#
# Off with TRIBEV2_SANITIZE or TRIBEV2_FUZZ: an ASan-instrumented extension cannot be loaded by
# an uninstrumented python3 without LD_PRELOADing the sanitizer runtime, so the sanitizer
# builds test the C++ code only (docs/python.md).
if(NOT DEFINED Python3_EXECUTABLE AND EXISTS /usr/bin/python3)
  set(Python3_EXECUTABLE /usr/bin/python3 CACHE FILEPATH "Python interpreter for the tribev2 package")
endif()

set(_tribev2_python_default OFF)
if(NOT TRIBEV2_SANITIZE AND NOT TRIBEV2_FUZZ)
  find_package(Python3 QUIET COMPONENTS Interpreter Development.Module)
  if(Python3_FOUND)
    find_package(pybind11 CONFIG QUIET)
    if(pybind11_FOUND)
      set(_tribev2_python_default ON)
    endif()
  endif()
endif()
option(TRIBEV2_PYTHON "Build the Python package tribev2 (pybind11)" ${_tribev2_python_default})

if(TRIBEV2_PYTHON)
  if(TRIBEV2_SANITIZE OR TRIBEV2_FUZZ)
    message(FATAL_ERROR "TRIBEV2_PYTHON=ON does not combine with TRIBEV2_SANITIZE/TRIBEV2_FUZZ "
                        "(an ASan extension needs an ASan python); configure with -DTRIBEV2_PYTHON=OFF")
  endif()
  find_package(Python3 REQUIRED COMPONENTS Interpreter Development.Module)
  find_package(pybind11 CONFIG REQUIRED)
  message(STATUS "tribev2: Python package for ${Python3_EXECUTABLE} (${Python3_VERSION}), pybind11 ${pybind11_VERSION}")
else()
  message(STATUS "tribev2: Python package off (needs python3-dev + pybind11-dev, and no sanitizer build)")
endif()

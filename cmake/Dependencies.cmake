# Every dependency comes from a Debian package (see scripts/install-deps.sh); nothing is
# downloaded at configure or build time.
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)

# OpenBLAS: we link the library itself (not the generic libblas alternative) so that
# openblas_set_num_threads is available and BLAS threading can be controlled.
pkg_check_modules(OPENBLAS REQUIRED IMPORTED_TARGET openblas)

find_package(yaml-cpp REQUIRED)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(CLI11 REQUIRED)
pkg_check_modules(LIBZIP REQUIRED IMPORTED_TARGET libzip)
pkg_check_modules(LIBCRYPTO REQUIRED IMPORTED_TARGET libcrypto)   # SHA-256

if(TRIBEV2_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()

# The brain-model benchmark driver (forward, gemm, flops, predict cases): bench/run.sh.
find_package(PkgConfig REQUIRED)
add_executable(tribev2_bench ${CMAKE_CURRENT_LIST_DIR}/tribev2_bench.cpp)
target_link_libraries(tribev2_bench PRIVATE tribev2 PkgConfig::OPENBLAS)
tribev2_target_defaults(tribev2_bench)

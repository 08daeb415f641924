# The machine's matmul limit (bench/matmul_limit.cpp), the yardstick of bench/extractors.sh.
find_package(PkgConfig REQUIRED)
add_executable(matmul_limit_bench ${CMAKE_CURRENT_LIST_DIR}/matmul_limit.cpp)
target_link_libraries(matmul_limit_bench PRIVATE tribev2 PkgConfig::OPENBLAS nlohmann_json::nlohmann_json)
tribev2_target_defaults(matmul_limit_bench)

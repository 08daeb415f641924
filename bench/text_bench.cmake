# The text-feature benchmark (bench/text_bench.cpp). Include from bench/CMakeLists.txt
# (TRIBEV2_BUILD_BENCH=ON); bench/text_bench.sh also builds it standalone from a build folder.
add_executable(text_bench ${CMAKE_CURRENT_LIST_DIR}/text_bench.cpp)
target_link_libraries(text_bench PRIVATE tribev2 nlohmann_json::nlohmann_json)
tribev2_target_defaults(text_bench)

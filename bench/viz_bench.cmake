# Visualisation benchmark (include() from bench/CMakeLists.txt when TRIBEV2_BUILD_BENCH=ON).
add_executable(viz_bench ${CMAKE_CURRENT_LIST_DIR}/viz_bench.cpp)
target_link_libraries(viz_bench PRIVATE tribev2)
tribev2_target_defaults(viz_bench)

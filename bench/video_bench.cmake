# The video-encoder benchmark (bench/video_bench.cpp). Include from bench/CMakeLists.txt
# (TRIBEV2_BUILD_BENCH=ON); bench/video_bench.sh also builds it standalone from a build folder
# and runs it under the heavy-job lock (optionally with the PyTorch comparison, --torch).
add_executable(video_bench ${CMAKE_CURRENT_LIST_DIR}/video_bench.cpp)
target_include_directories(video_bench PRIVATE ${PROJECT_SOURCE_DIR}/src/features/video)
target_link_libraries(video_bench PRIVATE tribev2)
tribev2_target_defaults(video_bench)

# Audio features benchmark (issue 7): real-time factor and peak memory of w2v-BERT 2.0 at full
# size (random weights of the real shapes). Included by bench/CMakeLists.txt.
add_executable(audio_w2vbert_bench ${CMAKE_CURRENT_LIST_DIR}/audio_w2vbert_bench.cpp)
target_link_libraries(audio_w2vbert_bench PRIVATE tribev2_audio tribev2_media tribev2_io nlohmann_json::nlohmann_json)
tribev2_target_defaults(audio_w2vbert_bench)

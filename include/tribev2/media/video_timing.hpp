// How upstream's moviepy reader turns container facts into fps, duration and frame indices.
// moviepy parses the text that `ffmpeg -i` prints, so its numbers carry that text's rounding:
//  * fps: the stream's average frame rate printed by ffmpeg's print_fps ("%3.2f" unless the
//    value is a whole number, "%1.0fk" from 100000 up), falling back to the real base rate
//    (tbr) when no average is known; then values within 0.01 of x*1000/1001 for x in
//    {23, 24, 25, 30, 50} become exactly x*1000/1001.
//  * duration: the container duration printed as HH:MM:SS.cc (rounded to the nearest
//    centisecond, halves up), read back as ss + 60*mm + 3600*hh.
//  * frame index at time t: int(fps * t + 1e-5), clamped to the last frame.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace tribev2::media {

// ffmpeg's print_fps text for a rate (e.g. "25", "29.97", "1k").
std::string ffmpeg_fps_text(double rate);

// moviepy's fps from the stream's average and real-base frame rates (0 when unknown).
// nullopt when neither is known.
std::optional<double> moviepy_fps(double avg_frame_rate, double r_frame_rate);

// moviepy's duration from the container duration in microseconds (AV_TIME_BASE units).
double moviepy_duration(std::int64_t duration_us);

// moviepy's get_frame index rule: min(int(fps * t + 1e-5), n_frames - 1), and 0 for t < 0.
std::int64_t moviepy_frame_index(double fps, double t, std::int64_t n_frames);

}  // namespace tribev2::media

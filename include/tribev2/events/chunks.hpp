// upstream ChunkEvents(max_duration=60, min_duration=30) as in neuralset 0.0.2: split points
// every max_duration seconds from the event start, strictly inside (0, duration); a point
// that would leave a piece shorter than min_duration is dropped, so the last chunk lies in
// [min, max + min) or is the whole event. 52 s -> [52]; 90 -> [60, 30]; 100 -> [60, 40];
// 130 -> [60, 70]. (Open question Q3: the newest neuralset drops short tails instead.)
#pragma once

#include <vector>

namespace tribev2::events {

struct Chunk {
  double start = 0.0;     // timeline start of the chunk
  double offset = 0.0;    // seconds into the file
  double duration = 0.0;
};

std::vector<Chunk> chunk_event(double start, double offset, double duration, double max_duration = 60.0,
                               double min_duration = 30.0);

}  // namespace tribev2::events

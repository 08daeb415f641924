// Where an extractor's per-chunk results are kept between runs: a find-or-compute function
// the caller supplies. The feature layers know nothing of caches; the commands pass the
// pipeline's FeatureStore (pipeline/feature_store.hpp), the one stage cache `tribev2 run`
// uses, so a chunk computed by `audio-features` or `video-features` is found by `run`.
#pragma once

#include <functional>

#include "tribev2/core/tensor.hpp"
#include "tribev2/events/chunks.hpp"

namespace tribev2::features {

struct StoredChunk {
  Tensor data;            // the chunk's features, as `compute` returns them
  bool computed = false;  // false: found in the store
};

// Called once per chunk with the chunk and a function that computes its features; returns
// the stored array or calls `compute` and stores its result. Empty: always compute.
using ChunkStore = std::function<StoredChunk(const events::Chunk& chunk, const std::function<Tensor()>& compute)>;

}  // namespace tribev2::features

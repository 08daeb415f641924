// Models with seeded random weights: the published TRIBE v2 architecture (for the offline
// demo, benchmarks and tests), or any configuration. The numbers are NOT the released
// weights; predictions from them are meaningless except for timing and plumbing.
#pragma once

#include <cstdint>

#include "tribev2/model/config.hpp"
#include "tribev2/model/weight_store.hpp"

namespace tribev2::model {

// The released checkpoint's architecture (reference-semantics section 0.9).
BrainConfig published_brain_config();
BuildArgs published_build_args();

// Every tensor of expected_weights(config, args), F32, drawn from a fixed-seed generator with
// scales like a trained model's (linear weights ~ N(0, 1/fan_in), norms near 1).
WeightStore random_weights(const BrainConfig& config, const BuildArgs& args, std::uint64_t seed);

}  // namespace tribev2::model

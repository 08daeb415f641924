// Per-word contextual text features exactly as upstream HuggingFaceText computes them
// (docs/reference-semantics.md section 2.1): each word is encoded in its own context (built
// by events::add_context), its tokens are the trailing tokens of the context after the
// separately tokenised prefix, the hidden states are sub-selected to 20 layers, averaged over
// the word's tokens and then over layer groups -> [n_groups = 2, hidden] per word.
//
// Speed without changing results: causal attention makes the hidden states of a token depend
// only on the tokens before it, so words whose contexts are token-prefixes of one another are
// read off one forward pass of the longest, and a new context reuses the keys/values of the
// longest token prefix it shares with the previous one. Cost model: docs/text-features.md.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "tribev2/core/context.hpp"
#include "tribev2/core/tensor.hpp"
#include "tribev2/events/word.hpp"
#include "tribev2/features/text/llama_model.hpp"
#include "tribev2/features/text/tokenizer.hpp"

namespace tribev2::text {

// Which hidden states are kept and how they are averaged: upstream's `cache_n_layers`
// sub-selection (round(linspace(0, n_states - 1, cache_n_layers))) and `group_mean` over the
// layer fractions (bounds int(f * (n - 1)), last bound + 1).
struct LayerGroups {
  std::vector<int> selected;                  // hidden-state indices
  std::vector<std::pair<int, int>> groups;    // [begin, end) ranges into `selected`
  std::string key() const;                    // canonical text (part of cache keys)
};
LayerGroups upstream_layer_groups(int n_states, int cache_n_layers = 20,
                                  const std::vector<double>& fractions = {0.5, 0.75, 1.0});

// The ids of a word's context and the number of its trailing tokens that are the word's:
// max(1, len(ids) - len(encode(prefix))) with prefix = context[:-len(text)].rstrip().
struct WordTokens {
  std::vector<std::int32_t> context_ids;
  std::int64_t n_word_tokens = 0;
};
WordTokens word_tokens(const Tokenizer& tokenizer, const events::Word& word);

struct WordFeatureStats {
  std::int64_t words = 0;             // input words
  std::int64_t words_with_context = 0;
  std::int64_t tokens_naive = 0;      // tokens the per-word loop feeds the model (sum of context lengths)
  std::int64_t tokens_computed = 0;   // tokens actually fed to the model
  std::int64_t forward_calls = 0;
  std::int64_t max_sequence = 0;      // longest sequence held in the key/value cache
  double seconds = 0.0;
};

struct WordFeatureOptions {
  bool share_prefixes = true;          // false: upstream's loop, one forward per word from scratch
  std::int64_t chunk_tokens = 512;     // most tokens fed to the model at once (bounds memory)
  std::function<void(std::int64_t done, std::int64_t total)> progress;  // words finished / to compute
  std::function<void(const std::string&)> warn;
};

struct WordFeatures {
  Tensor features;                     // [n_words, n_groups, hidden] float32
  std::vector<std::uint8_t> has_features;  // 0 for words without a context (upstream removes them)
  WordFeatureStats stats;
};

// `words` must carry their contexts (events::add_context). Words with an empty context get
// zeros and has_features = 0. Throws on a word with empty text or non-finite timing.
WordFeatures compute_word_features(const Context& ctx, const LlamaModel& model, const std::vector<events::Word>& words,
                                   const WordFeatureOptions& options = {});

// The cost of both strategies without running the model (tokens only).
WordFeatureStats plan_word_features(const Tokenizer& tokenizer, const std::vector<events::Word>& words);

}  // namespace tribev2::text

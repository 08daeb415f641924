// Text-feature benchmark at the real Llama-3.2-3B shapes with random weights.
//
//   text_bench make-model DIR [--layers N]        random bf16 checkpoint (6.4 GB for 28 layers) +
//                                                 a tokenizer whose vocabulary holds the bench
//                                                 transcript's words (about 1.1 tokens a word,
//                                                 like Llama 3 on English speech)
//   text_bench make-words FILE.json [--words N]   a synthetic transcript (0.4 s a word)
//   text_bench forward DIR --tokens T [--past P] [--bf16] [--llama-bf16]
//                                                 tokens/s of one forward of T tokens after P cached
//                                                 (--bf16 = --precision bf16, --llama-bf16 = --llama-precision bf16)
//   text_bench words DIR FILE.json [--first N] [--per-word] [--max-context-len L]
//                                                 words/s end to end for the first N words
//   text_bench fidelity DIR FILE.json [--first N]  bf16 (and + --llama-precision bf16) word
//                                                 features against f32: Pearson r per feature, max rel error
//   text_bench plan DIR FILE.json [--max-context-len L] [--first N]
//                                                 tokens the fast path and the per-word loop feed
//
// Every command prints one JSON line (seconds, rates, peak RSS). Run through
// bench/text_bench.sh, which builds this file and holds the heavy-job lock.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>

#include "tribev2/core/context.hpp"
#include "tribev2/core/error.hpp"
#include "tribev2/events/word.hpp"
#include "tribev2/features/text/llama_model.hpp"
#include "tribev2/features/text/word_features.hpp"
#include "tribev2/io/file.hpp"
#include "tribev2/io/safetensors.hpp"

using namespace tribev2;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

double now_s() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

double peak_rss_gb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / (1024.0 * 1024.0);
}

std::string arg(int argc, char** argv, const std::string& name, const std::string& def) {
  for (int i = 1; i + 1 < argc; ++i)
    if (argv[i] == name) return argv[i + 1];
  return def;
}
bool flag(int argc, char** argv, const std::string& name) {
  for (int i = 1; i < argc; ++i)
    if (argv[i] == name) return true;
  return false;
}

const std::vector<std::string>& word_list() {
  static const std::vector<std::string> w = {
      "the", "of", "and", "to", "a", "in", "is", "you", "that", "it", "he", "was", "for", "on", "are", "as", "with",
      "his", "they", "I", "at", "be", "this", "have", "from", "or", "one", "had", "by", "word", "but", "not", "what",
      "all", "were", "we", "when", "your", "can", "said", "there", "use", "an", "each", "which", "she", "do", "how",
      "their", "if", "will", "up", "other", "about", "out", "many", "then", "them", "these", "so", "some", "her",
      "would", "make", "like", "him", "into", "time", "has", "look", "two", "more", "write", "go", "see", "number",
      "no", "way", "could", "people", "my", "than", "first", "water", "been", "call", "who", "oil", "its", "now",
      "find", "long", "down", "day", "did", "get", "come", "made", "may", "part", "land", "gatekeepers", "brings",
      "river", "morning", "remember", "because", "through", "mountain", "afternoon", "quietly", "strange", "light"};
  return w;
}

// Byte-level spelling of a raw string (the GPT-2 alphabet), for the synthetic vocabulary.
std::string byte_level(const std::string& raw) {
  std::string out;
  for (const unsigned char c : raw) {
    char32_t cp;
    if ((c >= '!' && c <= '~') || (c >= 0xA1 && c <= 0xAC) || c >= 0xAE) cp = c;
    else {
      int n = 0;
      for (int b = 0; b < c; ++b)
        if (!((b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE)) ++n;
      cp = static_cast<char32_t>(256 + n);
    }
    if (cp < 0x80) out += static_cast<char>(cp);
    else out += static_cast<char>(0xC0 | (cp >> 6)), out += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return out;
}

int make_words(const std::string& path, int n) {
  std::mt19937 rng(2024);
  json words = json::array();
  double t = 0.3;
  int made = 0;
  const char* ends[] = {".", "?", "!", "."};
  while (made < n) {
    const int len = std::min(n - made, 5 + static_cast<int>(rng() % 16));
    std::vector<std::string> ws;
    for (int i = 0; i < len; ++i) ws.push_back(word_list()[rng() % word_list().size()]);
    ws[0][0] = static_cast<char>(std::toupper(ws[0][0]));
    ws.back() += ends[rng() % 4];
    std::string sentence;
    std::vector<std::size_t> at;
    for (const auto& w : ws) {
      if (!sentence.empty()) sentence += ' ';
      at.push_back(sentence.size());
      sentence += w;
    }
    sentence += ' ';
    for (int i = 0; i < len; ++i) {
      const double dur = 0.2 + 0.01 * static_cast<double>(rng() % 20);
      words.push_back({{"text", ws[static_cast<std::size_t>(i)]}, {"start", std::round(t * 1000) / 1000}, {"duration", dur},
                       {"sentence", sentence}, {"sentence_char", at[static_cast<std::size_t>(i)]}});
      t += 0.4;
    }
    made += len;
  }
  io::write_text_file_atomic(path, json{{"words", words}}.dump());
  std::cout << json{{"command", "make-words"}, {"words", n}, {"seconds_of_speech", t}}.dump() << "\n";
  return 0;
}

int make_model(const fs::path& dir, int layers) {
  const std::int64_t H = 3072, I = 8192, V = 128256, heads = 24, kv = 8, hd = 128;
  fs::create_directories(dir);
  json config = {{"architectures", {"LlamaForCausalLM"}}, {"model_type", "llama"}, {"hidden_size", H},
                 {"intermediate_size", I}, {"num_hidden_layers", layers}, {"num_attention_heads", heads},
                 {"num_key_value_heads", kv}, {"head_dim", hd}, {"hidden_act", "silu"}, {"rms_norm_eps", 1e-5},
                 {"rope_theta", 500000.0}, {"max_position_embeddings", 131072}, {"tie_word_embeddings", true},
                 {"vocab_size", V}, {"attention_bias", false}, {"mlp_bias", false}, {"torch_dtype", "bfloat16"},
                 {"bos_token_id", 128000}, {"eos_token_id", 128001},
                 {"rope_scaling", {{"factor", 32.0}, {"high_freq_factor", 4.0}, {"low_freq_factor", 1.0},
                                   {"original_max_position_embeddings", 8192}, {"rope_type", "llama3"}}}};
  io::write_text_file_atomic(dir / "config.json", config.dump(1));
  // Tokenizer: the 256 byte symbols, every bench word with and without a leading space and with
  // its sentence punctuation, filler entries up to 128000, the 256 special tokens.
  json vocab = json::object();
  std::int64_t next = 0;
  auto add = [&](const std::string& t) {
    if (!vocab.contains(t)) vocab[t] = next++;
  };
  for (int b = 0; b < 256; ++b) add(byte_level(std::string(1, static_cast<char>(b))));
  for (std::string w : word_list()) {
    for (int cap = 0; cap < 2; ++cap) {
      if (cap) w[0] = static_cast<char>(std::toupper(w[0]));
      add(byte_level(w));
      add(byte_level(" " + w));
    }
  }
  while (next < 128000) add("<filler_" + std::to_string(next) + ">");
  json added = json::array();
  for (int i = 0; i < 256; ++i)
    added.push_back({{"id", 128000 + i}, {"content", "<|reserved_special_token_" + std::to_string(i) + "|>"}, {"special", true},
                     {"single_word", false}, {"lstrip", false}, {"rstrip", false}, {"normalized", false}});
  json tok = {{"version", "1.0"}, {"added_tokens", added}, {"normalizer", nullptr},
              {"pre_tokenizer", {{"type", "Sequence"}, {"pretokenizers", {{{"type", "Split"}, {"pattern", {{"Regex", text::kLlama3SplitRegex}}}, {"behavior", "Isolated"}, {"invert", false}},
                                                                           {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}, {"use_regex", false}}}}}},
              {"model", {{"type", "BPE"}, {"dropout", nullptr}, {"unk_token", nullptr}, {"ignore_merges", true}, {"byte_fallback", false},
                         {"vocab", vocab}, {"merges", json::array()}}}};
  io::write_text_file_atomic(dir / "tokenizer.json", tok.dump());
  // Weights: bf16 N(0, 0.02), norms 1, in two shards (layers split in half).
  std::mt19937_64 rng(1);
  auto random_bf16 = [&](Shape s) {
    Tensor t = Tensor::empty(DType::BF16, s);
    auto* p = static_cast<std::uint16_t*>(t.raw_mut());
    std::uint64_t x = rng();
    for (std::int64_t i = 0; i < t.numel(); ++i) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      // Sum of 4 uniforms ~ normal-ish, scaled to std 0.02.
      const double u = (static_cast<double>(x & 0xFFFF) + static_cast<double>((x >> 16) & 0xFFFF) +
                        static_cast<double>((x >> 32) & 0xFFFF) + static_cast<double>((x >> 48) & 0xFFFF)) / 65536.0 - 2.0;
      p[i] = f32_to_bf16(static_cast<float>(u * 0.02 * std::sqrt(3.0)));
    }
    return t;
  };
  auto ones = [&](std::int64_t n) {
    Tensor t = Tensor::empty(DType::BF16, {n});
    auto* p = static_cast<std::uint16_t*>(t.raw_mut());
    for (std::int64_t i = 0; i < n; ++i) p[i] = f32_to_bf16(1.0f);
    return t;
  };
  json weight_map = json::object();
  for (int shard = 0; shard < 2; ++shard) {
    std::vector<std::pair<std::string, Tensor>> ts;
    if (shard == 0) ts.emplace_back("model.embed_tokens.weight", random_bf16({V, H}));
    const int l0 = shard == 0 ? 0 : layers / 2, l1 = shard == 0 ? layers / 2 : layers;
    for (int l = l0; l < l1; ++l) {
      const std::string p = "model.layers." + std::to_string(l) + ".";
      ts.emplace_back(p + "input_layernorm.weight", ones(H));
      ts.emplace_back(p + "self_attn.q_proj.weight", random_bf16({heads * hd, H}));
      ts.emplace_back(p + "self_attn.k_proj.weight", random_bf16({kv * hd, H}));
      ts.emplace_back(p + "self_attn.v_proj.weight", random_bf16({kv * hd, H}));
      ts.emplace_back(p + "self_attn.o_proj.weight", random_bf16({H, heads * hd}));
      ts.emplace_back(p + "post_attention_layernorm.weight", ones(H));
      ts.emplace_back(p + "mlp.gate_proj.weight", random_bf16({I, H}));
      ts.emplace_back(p + "mlp.up_proj.weight", random_bf16({I, H}));
      ts.emplace_back(p + "mlp.down_proj.weight", random_bf16({H, I}));
    }
    if (shard == 1) ts.emplace_back("model.norm.weight", ones(H));
    const std::string file = "model-0000" + std::to_string(shard + 1) + "-of-00002.safetensors";
    for (const auto& [n, t] : ts) weight_map[n] = file;
    io::write_safetensors(dir / file, ts);
  }
  io::write_text_file_atomic(dir / "model.safetensors.index.json", json{{"metadata", json::object()}, {"weight_map", weight_map}}.dump(1));
  std::cout << json{{"command", "make-model"}, {"dir", dir.string()}, {"layers", layers}}.dump() << "\n";
  return 0;
}

std::vector<events::Word> load_words(const std::string& path, std::size_t first, std::size_t max_context_len) {
  auto words = events::read_words(path);
  events::add_context(words, max_context_len);  // contexts of the whole transcript, then the subset
  if (first < words.size()) words.resize(first);
  return words;
}

}  // namespace

int main(int argc, char** argv) try {
  if (argc < 3) {
    std::cerr << "usage: see the comment at the top of bench/text_bench.cpp\n";
    return 2;
  }
  const std::string cmd = argv[1];
  if (cmd == "make-words") return make_words(argv[2], std::stoi(arg(argc, argv, "--words", "1500")));
  if (cmd == "make-model") return make_model(argv[2], std::stoi(arg(argc, argv, "--layers", "28")));
  // --bf16: what `tribev2 --precision bf16` runs (bf16 products, float32 accumulation, in
  // core's AVX512-BF16/AMX kernels); --llama-bf16 adds --llama-precision bf16 (activations
  // rounded to bf16 as a bf16 PyTorch run stores them).
  const Context ctx(threads_from_env(0), flag(argc, argv, "--bf16") ? Precision::BF16 : Precision::F32);
  const double t_load = now_s();
  text::LlamaLoadOptions lo;
  if (flag(argc, argv, "--llama-bf16")) lo.compute = text::LlamaCompute::BF16;
  const text::LlamaModel model = text::LlamaModel::load(argv[2], lo);
  const double load_s = now_s() - t_load;
  if (cmd == "forward") {
    const std::int64_t T = std::stoll(arg(argc, argv, "--tokens", "128"));
    const std::int64_t P = std::stoll(arg(argc, argv, "--past", "0"));
    std::vector<std::int32_t> ids(static_cast<std::size_t>(P + T));
    for (std::size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<std::int32_t>(300 + i % 500);
    {
      // Warm-up (not timed): 16 tokens page the memory-mapped weights in and size the buffers,
      // as the PyTorch side has its weights in memory before its clock starts.
      text::KvCache warm;
      model.forward(ctx, std::span<const std::int32_t>(ids.data(), std::min<std::size_t>(16, ids.size())), warm, nullptr);
    }
    text::KvCache cache;
    if (P > 0) model.forward(ctx, std::span<const std::int32_t>(ids.data(), static_cast<std::size_t>(P)), cache, nullptr);
    const double t0 = now_s();
    model.forward(ctx, std::span<const std::int32_t>(ids.data() + P, static_cast<std::size_t>(T)), cache, nullptr);
    const double s = now_s() - t0;
    // Useful FLOPs of the forward (the extractor keeps hidden states: no LM head): the linear
    // layers, and causal attention over the P + i + 1 keys query i sees (scores and values).
    const auto& c = model.config();
    const double Td = static_cast<double>(T), H = static_cast<double>(c.hidden_size);
    const double q = static_cast<double>(c.q_dim()), kv = static_cast<double>(c.kv_dim());
    const double I = static_cast<double>(c.intermediate_size);
    const double keys = Td * static_cast<double>(P) + Td * (Td + 1) / 2;
    const double flops = c.n_layers * (2 * Td * H * (q + 2 * kv) + 2 * Td * q * H + 3 * 2 * Td * H * I + 4 * keys * q);
    std::cout << json{{"command", "forward"}, {"tokens", T}, {"past", P}, {"flops", flops},
                      {"gflop_per_s", flops / s / 1e9}, {"bf16", ctx.precision() == Precision::BF16},
                      {"llama_bf16", lo.compute == text::LlamaCompute::BF16},
                      {"threads", ctx.threads()}, {"seconds", s},
                      {"tokens_per_s", static_cast<double>(T) / s}, {"load_s", load_s}, {"peak_rss_gb", peak_rss_gb()},
                      {"kv_cache_gb", static_cast<double>(cache.bytes()) / 1e9}}
                     .dump()
              << "\n";
    return 0;
  }
  const std::size_t mcl = std::stoull(arg(argc, argv, "--max-context-len", "1024"));
  if (cmd == "plan") {
    const auto words = load_words(argv[3], std::stoull(arg(argc, argv, "--first", "1000000000")), mcl);
    const auto st = text::plan_word_features(model.tokenizer(), words);
    std::cout << json{{"command", "plan"}, {"words", st.words}, {"max_context_len", mcl}, {"tokens_naive", st.tokens_naive},
                      {"tokens_shared", st.tokens_computed}, {"longest_sequence", st.max_sequence}}
                     .dump()
              << "\n";
    return 0;
  }
  if (cmd == "words") {
    const std::size_t first = std::stoull(arg(argc, argv, "--first", "64"));
    const auto words = load_words(argv[3], first, mcl);
    text::WordFeatureOptions o;
    o.share_prefixes = !flag(argc, argv, "--per-word");
    const auto f = text::compute_word_features(ctx, model, words, o);
    const auto& st = f.stats;
    std::cout << json{{"command", "words"}, {"words", st.words}, {"per_word", !o.share_prefixes}, {"max_context_len", mcl},
                      {"threads", ctx.threads()},
                      {"seconds", st.seconds}, {"words_per_s", static_cast<double>(st.words) / st.seconds},
                      {"tokens_computed", st.tokens_computed}, {"tokens_naive", st.tokens_naive},
                      {"tokens_per_s", static_cast<double>(st.tokens_computed) / st.seconds}, {"load_s", load_s},
                      {"peak_rss_gb", peak_rss_gb()}}
                     .dump()
              << "\n";
    return 0;
  }
  if (cmd == "fidelity") {
    // --precision bf16 (and --llama-precision bf16) against f32 on the same checkpoint and words:
    // per feature (one of the [groups x hidden] values, over the words) Pearson r, and the
    // largest difference relative to max |f32|. The f32 side is this process's `model`
    // (start it without --bf16 / --llama-bf16).
    const std::size_t first = std::stoull(arg(argc, argv, "--first", "48"));
    const auto words = load_words(argv[3], first, mcl);
    const auto f32 = text::compute_word_features(ctx, model, words, {});
    text::LlamaLoadOptions lo16;
    lo16.compute = text::LlamaCompute::BF16;
    const text::LlamaModel model16 = text::LlamaModel::load(argv[2], lo16);
    json out = {{"command", "fidelity"}, {"words", words.size()}, {"threads", ctx.threads()}};
    for (const bool llama16 : {false, true}) {
      const Context c16(ctx.threads(), Precision::BF16);
      const auto b = text::compute_word_features(c16, llama16 ? model16 : model, words, {});
      const auto x = f32.features.f32(), y = b.features.f32();
      const std::size_t n = words.size(), m = x.size() / n;
      double max_abs = 0, max_diff = 0;
      std::vector<double> r;
      for (std::size_t j = 0; j < m; ++j) {
        double sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
        for (std::size_t i = 0; i < n; ++i) {
          const double a = x[i * m + j], bb = y[i * m + j];
          sa += a; sb += bb; saa += a * a; sbb += bb * bb; sab += a * bb;
          max_abs = std::max(max_abs, std::fabs(a));
          max_diff = std::max(max_diff, std::fabs(a - bb));
        }
        const double nn = static_cast<double>(n);
        r.push_back((sab - sa * sb / nn) / std::sqrt((saa - sa * sa / nn) * (sbb - sb * sb / nn)));
      }
      std::sort(r.begin(), r.end());
      out[llama16 ? "bf16_llama_bf16" : "bf16"] = {{"pearson_min", r.front()}, {"pearson_median", r[r.size() / 2]},
                                                   {"max_rel_error", max_diff / max_abs}};
    }
    std::cout << out.dump() << "\n";
    return 0;
  }
  std::cerr << "unknown command " << cmd << "\n";
  return 2;
} catch (const std::exception& e) {
  std::cerr << "text_bench: error: " << e.what() << "\n";
  return 1;
}

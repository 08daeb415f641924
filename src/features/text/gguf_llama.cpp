// Llama weights and vocabulary from GGUF files (llama.cpp names and layout), and the reverse
// conversion from a HuggingFace folder (for tests and for users who want a GGUF).
#include <cmath>
#include <cstring>
#include <set>

#include "tribev2/io/hash.hpp"
#include "tribev2/core/error.hpp"
#include "tribev2/features/text/gguf.hpp"
#include "tribev2/features/text/llama_model.hpp"
#include "tribev2/io/file.hpp"
#include "weight_ops.hpp"

namespace tribev2::text {

using io::Sha256;
using io::sha256_hex;

namespace fs = std::filesystem;

namespace {

constexpr std::int32_t kTokNormal = 1, kTokControl = 3, kTokUserDefined = 4, kTokUnused = 5;

int to_int(std::uint64_t v, const char* key, const std::string& name) {
  if (v == 0 || v > (1u << 24)) fail(name, ": metadata '", key, "' = ", v, " is out of range");
  return static_cast<int>(v);
}

WeightMatrix matrix(const gguf::File& f, const std::string& tname, std::int64_t rows, std::int64_t cols, bool* quantized) {
  const gguf::TensorInfo* t = f.tensor(tname);
  if (!t) fail(f.name(), ": tensor '", tname, "' is missing");
  if (t->ne.size() != 2 || t->ne[0] != static_cast<std::uint64_t>(cols) || t->ne[1] != static_cast<std::uint64_t>(rows))
    fail(f.name(), ": tensor '", tname, "' has ne [", t->ne[0], t->ne.size() > 1 ? ", " + std::to_string(t->ne[1]) : "",
         t->ne.size() > 2 ? ", ..." : "", "], expected [", cols, ", ", rows, "] from the metadata");
  WeightMatrix m;
  switch (t->type) {
    case static_cast<std::uint32_t>(gguf::TensorType::F32): m.type = WeightType::F32; break;
    case static_cast<std::uint32_t>(gguf::TensorType::F16): m.type = WeightType::F16; break;
    case static_cast<std::uint32_t>(gguf::TensorType::BF16): m.type = WeightType::BF16; break;
    case static_cast<std::uint32_t>(gguf::TensorType::Q8_0):
      m.type = WeightType::Q8_0;
      *quantized = true;
      break;
    default:
      fail(f.name(), ": tensor '", tname, "' has type ", gguf::tensor_type_name(t->type),
           "; supported GGUF tensor types are F32, F16, BF16 and Q8_0");
  }
  TRIBEV2_CHECK(t->data != nullptr, f.name(), ": tensor '", tname, "' has no data");
  m.data = t->data;
  m.rows = rows;
  m.cols = cols;
  return m;
}

std::vector<float> vector_f32(const gguf::File& f, const std::string& tname, std::int64_t n) {
  const gguf::TensorInfo* t = f.tensor(tname);
  if (!t) fail(f.name(), ": tensor '", tname, "' is missing");
  if (t->ne.size() != 1 || t->ne[0] != static_cast<std::uint64_t>(n))
    fail(f.name(), ": tensor '", tname, "' must be a vector of ", n, " values");
  std::vector<float> v(static_cast<std::size_t>(n));
  DType dt;
  switch (t->type) {
    case 0: dt = DType::F32; break;
    case 1: dt = DType::F16; break;
    case 30: dt = DType::BF16; break;
    default: fail(f.name(), ": tensor '", tname, "' has type ", gguf::tensor_type_name(t->type), "; expected F32, F16 or BF16");
  }
  convert_to_f32(dt, t->data, 0, n, v.data());
  return v;
}

// The vocabulary of a llama-bpe GGUF as a BpeSpec (nullopt with a reason otherwise).
std::optional<Tokenizer> gguf_tokenizer(const gguf::File& f, std::string& reason) {
  const gguf::Value* model = f.find("tokenizer.ggml.model");
  if (!model) {
    reason = "no tokenizer.ggml.model";
    return std::nullopt;
  }
  if (model->type != gguf::ValueType::String || model->s != "gpt2") {
    reason = "tokenizer.ggml.model is '" + model->s + "', not the byte-level BPE 'gpt2'";
    return std::nullopt;
  }
  const gguf::Value* pre = f.find("tokenizer.ggml.pre");
  if (!pre || pre->type != gguf::ValueType::String || (pre->s != "llama-bpe" && pre->s != "llama3")) {
    reason = "tokenizer.ggml.pre is '" + (pre ? pre->s : std::string()) + "', not Llama 3's 'llama-bpe'";
    return std::nullopt;
  }
  const gguf::Value* tokens = f.find("tokenizer.ggml.tokens");
  const gguf::Value* merges = f.find("tokenizer.ggml.merges");
  if (!tokens || tokens->type != gguf::ValueType::Array || tokens->elem != gguf::ValueType::String)
    fail(f.name(), ": tokenizer.ggml.tokens must be an array of strings");
  if (!merges || merges->type != gguf::ValueType::Array || merges->elem != gguf::ValueType::String)
    fail(f.name(), ": tokenizer.ggml.merges must be an array of strings");
  const gguf::Value* types = f.find("tokenizer.ggml.token_type");
  if (types && (types->type != gguf::ValueType::Array || types->ints.size() != tokens->strings.size()))
    fail(f.name(), ": tokenizer.ggml.token_type must be an integer array as long as tokenizer.ggml.tokens");
  BpeSpec spec;
  spec.source = f.name() + " (GGUF vocabulary)";
  spec.split_regex = kLlama3SplitRegex;
  spec.ignore_merges = true;
  for (std::size_t id = 0; id < tokens->strings.size(); ++id) {
    const std::int64_t type = types ? types->ints[id] : kTokNormal;
    const auto i32 = static_cast<std::int32_t>(id);
    if (type == kTokControl || type == kTokUserDefined) {
      AddedToken t;
      t.id = i32;
      t.content = tokens->strings[id];
      t.special = type == kTokControl;
      spec.added_tokens.push_back(std::move(t));
    } else if (type != kTokUnused) {
      spec.vocab.emplace_back(tokens->strings[id], i32);
    }
  }
  for (std::size_t r = 0; r < merges->strings.size(); ++r) {
    const std::string& m = merges->strings[r];
    const auto sp = m.find(' ');
    if (sp == std::string::npos || m.find(' ', sp + 1) != std::string::npos)
      fail(f.name(), ": tokenizer.ggml.merges[", r, "] = '", m, "' must be two tokens separated by one space");
    spec.merges.emplace_back(m.substr(0, sp), m.substr(sp + 1));
  }
  return Tokenizer::from_spec(std::move(spec));
}

}  // namespace

GgufLlama load_gguf_llama(const fs::path& path) {
  return load_gguf_llama(std::make_shared<const gguf::File>(gguf::File::open(path)));
}

GgufLlama load_gguf_llama(std::shared_ptr<const gguf::File> file) {
  TRIBEV2_CHECK(file != nullptr, "load_gguf_llama: no file");
  const gguf::File& f = *file;
  const std::string& name = f.name();
  const std::string arch = f.get_string("general.architecture");
  if (arch != "llama") fail(name, ": general.architecture is '", arch, "'; only 'llama' GGUF files are supported");
  GgufLlama out;
  LlamaWeights& w = out.weights;
  LlamaConfig& c = w.config;
  c.hidden_size = to_int(f.get_uint("llama.embedding_length"), "llama.embedding_length", name);
  c.intermediate_size = to_int(f.get_uint("llama.feed_forward_length"), "llama.feed_forward_length", name);
  c.n_layers = to_int(f.get_uint("llama.block_count"), "llama.block_count", name);
  c.n_heads = to_int(f.get_uint("llama.attention.head_count"), "llama.attention.head_count", name);
  c.n_kv_heads = to_int(f.get_uint_opt("llama.attention.head_count_kv").value_or(static_cast<std::uint64_t>(c.n_heads)),
                        "llama.attention.head_count_kv", name);
  TRIBEV2_CHECK(c.hidden_size % c.n_heads == 0 || f.find("llama.attention.key_length"), name,
                ": embedding_length is not a multiple of head_count and there is no llama.attention.key_length");
  c.head_dim = to_int(f.get_uint_opt("llama.attention.key_length").value_or(static_cast<std::uint64_t>(c.hidden_size / c.n_heads)),
                      "llama.attention.key_length", name);
  if (const auto vl = f.get_uint_opt("llama.attention.value_length"); vl && *vl != static_cast<std::uint64_t>(c.head_dim))
    fail(name, ": llama.attention.value_length ", *vl, " differs from key_length ", c.head_dim, " (not supported)");
  if (const auto rd = f.get_uint_opt("llama.rope.dimension_count"); rd && *rd != static_cast<std::uint64_t>(c.head_dim))
    fail(name, ": llama.rope.dimension_count ", *rd, " != head dimension ", c.head_dim, " (partial rotary is not supported)");
  c.rms_norm_eps = f.get_float("llama.attention.layer_norm_rms_epsilon");
  c.rope_theta = f.get_float_opt("llama.rope.freq_base").value_or(10000.0);
  c.max_position_embeddings = static_cast<std::int64_t>(f.get_uint_opt("llama.context_length").value_or(0));
  if (const gguf::Value* st = f.find("llama.rope.scaling.type")) {
    if (st->type != gguf::ValueType::String) fail(name, ": llama.rope.scaling.type must be a string");
    if (st->s == "linear") {
      c.rope_scaling.type = RopeScalingType::Linear;
      c.rope_scaling.factor = f.get_float("llama.rope.scaling.factor");
      TRIBEV2_CHECK(c.rope_scaling.factor > 0 && std::isfinite(c.rope_scaling.factor), name, ": bad llama.rope.scaling.factor");
    } else if (st->s != "none") {
      fail(name, ": llama.rope.scaling.type '", st->s, "' is not supported (none, linear, or llama3 via rope_freqs)");
    }
  }
  const gguf::TensorInfo* embd = f.tensor("token_embd.weight");
  if (!embd || embd->ne.size() != 2) fail(name, ": tensor 'token_embd.weight' is missing or not 2-D");
  c.vocab_size = static_cast<std::int64_t>(embd->ne[1]);
  c.validate(name);

  const std::int64_t H = c.hidden_size, I = c.intermediate_size;
  bool quantized = false;
  w.embed = matrix(f, "token_embd.weight", c.vocab_size, H, &quantized);
  std::set<std::string> used = {"token_embd.weight", "output_norm.weight", "output.weight", "rope_freqs.weight"};
  for (int l = 0; l < c.n_layers; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    LlamaLayerWeights L;
    L.attn_norm = vector_f32(f, p + "attn_norm.weight", H);
    L.q = matrix(f, p + "attn_q.weight", c.q_dim(), H, &quantized);
    L.k = matrix(f, p + "attn_k.weight", c.kv_dim(), H, &quantized);
    L.v = matrix(f, p + "attn_v.weight", c.kv_dim(), H, &quantized);
    L.o = matrix(f, p + "attn_output.weight", H, c.q_dim(), &quantized);
    L.mlp_norm = vector_f32(f, p + "ffn_norm.weight", H);
    L.gate = matrix(f, p + "ffn_gate.weight", I, H, &quantized);
    L.up = matrix(f, p + "ffn_up.weight", I, H, &quantized);
    L.down = matrix(f, p + "ffn_down.weight", H, I, &quantized);
    for (const char* s : {"attn_norm", "attn_q", "attn_k", "attn_v", "attn_output", "ffn_norm", "ffn_gate", "ffn_up", "ffn_down",
                          "attn_rot_embd"})
      used.insert(p + s + ".weight");
    w.layers.push_back(std::move(L));
  }
  w.final_norm = vector_f32(f, "output_norm.weight", H);
  for (const auto& t : f.tensors())
    if (!used.count(t.name)) fail(name, ": unexpected tensor '", t.name, "' for a llama GGUF with ", c.n_layers, " blocks");

  w.inv_freq = rope_inv_freq(c);
  if (f.tensor("rope_freqs.weight")) {  // llama3 scaling, baked by convert_hf_to_gguf.py
    const auto factors = vector_f32(f, "rope_freqs.weight", c.head_dim / 2);
    for (std::size_t i = 0; i < factors.size(); ++i) {
      TRIBEV2_CHECK(factors[i] > 0 && std::isfinite(factors[i]), name, ": rope_freqs.weight[", i, "] must be positive");
      w.inv_freq[i] = w.inv_freq[i] / factors[i];
    }
  }
  w.rope_layout = RopeLayout::Interleaved;
  w.keep_alive.push_back(file);
  w.description = name + " (GGUF v" + std::to_string(f.version()) + ", " + weight_type_name(w.layers[0].q.type) + ")";
  Sha256 fp;
  fp.field("gguf-llama/1");
  fp.update(f.header_bytes().data(), f.header_bytes().size());
  const auto all = f.bytes();
  constexpr std::size_t kSample = 4096;
  if (all.size() > kSample)
    for (std::size_t i = 0; i < 16; ++i) fp.update(all.data() + (all.size() - kSample) / 15 * i, kSample);
  w.fingerprint = fp.hex();
  out.quantized = quantized;
  out.tokenizer = gguf_tokenizer(f, out.tokenizer_note);
  return out;
}

// ---- conversion ------------------------------------------------------------------------------

namespace {

std::vector<std::byte> encode_rows(const WeightMatrix& m, WeightType type, const std::vector<std::int64_t>& row_order) {
  WeightMatrix shape{type, nullptr, m.rows, m.cols};
  std::vector<std::byte> out(static_cast<std::size_t>(m.rows) * shape.row_bytes());
  std::vector<float> row(static_cast<std::size_t>(m.cols));
  for (std::int64_t r = 0; r < m.rows; ++r) {
    m.row_to_f32(row_order.empty() ? r : row_order[static_cast<std::size_t>(r)], row.data());
    std::byte* dst = out.data() + static_cast<std::size_t>(r) * shape.row_bytes();
    for (std::int64_t c = 0; c < m.cols; ++c) {
      const float v = row[static_cast<std::size_t>(c)];
      if (type == WeightType::F32) {
        std::memcpy(dst + 4 * c, &v, 4);
      } else if (type == WeightType::F16 || type == WeightType::BF16) {
        const std::uint16_t h = type == WeightType::F16 ? f32_to_f16(v) : f32_to_bf16(v);
        std::memcpy(dst + 2 * c, &h, 2);
      }
    }
    if (type == WeightType::Q8_0) quantize_q8_0(row.data(), m.cols, dst);
  }
  return out;
}

// convert_hf_to_gguf.py's permute: within each head, row t*half + j moves to 2j + t.
std::vector<std::int64_t> permuted_rows(int heads, int head_dim) {
  std::vector<std::int64_t> order(static_cast<std::size_t>(heads) * static_cast<std::size_t>(head_dim));
  const int half = head_dim / 2;
  for (int h = 0; h < heads; ++h)
    for (int j = 0; j < half; ++j)
      for (int t = 0; t < 2; ++t)
        order[static_cast<std::size_t>(h * head_dim + 2 * j + t)] = h * head_dim + t * half + j;
  return order;
}

std::uint32_t ggml_type(WeightType t) {
  switch (t) {
    case WeightType::F32: return 0;
    case WeightType::F16: return 1;
    case WeightType::BF16: return 30;
    case WeightType::Q8_0: return 8;
  }
  return 0;
}

std::vector<std::byte> f32_bytes(const std::vector<float>& v) {
  std::vector<std::byte> out(v.size() * 4);
  std::memcpy(out.data(), v.data(), out.size());
  return out;
}

}  // namespace

void write_llama_gguf(const fs::path& hf_dir, const fs::path& out_path, WeightType type) {
  const LlamaWeights w = load_hf_llama_weights(hf_dir);
  const LlamaConfig& c = w.config;
  const fs::path tok_path = hf_dir / "tokenizer.json";
  const BpeSpec spec = parse_tokenizer_json(io::read_text_file(tok_path), tok_path.string());
  TRIBEV2_CHECK(type != WeightType::Q8_0 || (c.hidden_size % 32 == 0 && c.intermediate_size % 32 == 0 && c.q_dim() % 32 == 0),
                "Q8_0 needs every matrix row length to be a multiple of 32");
  gguf::Writer g;
  g.add_string("general.architecture", "llama");
  g.add_string("general.name", hf_dir.filename().string());
  g.add_u32("llama.block_count", static_cast<std::uint32_t>(c.n_layers));
  g.add_u32("llama.context_length", static_cast<std::uint32_t>(c.max_position_embeddings));
  g.add_u32("llama.embedding_length", static_cast<std::uint32_t>(c.hidden_size));
  g.add_u32("llama.feed_forward_length", static_cast<std::uint32_t>(c.intermediate_size));
  g.add_u32("llama.attention.head_count", static_cast<std::uint32_t>(c.n_heads));
  g.add_u32("llama.attention.head_count_kv", static_cast<std::uint32_t>(c.n_kv_heads));
  g.add_f32("llama.rope.freq_base", static_cast<float>(c.rope_theta));
  g.add_f32("llama.attention.layer_norm_rms_epsilon", static_cast<float>(c.rms_norm_eps));
  g.add_u32("llama.attention.key_length", static_cast<std::uint32_t>(c.head_dim));
  g.add_u32("llama.attention.value_length", static_cast<std::uint32_t>(c.head_dim));
  g.add_u32("llama.rope.dimension_count", static_cast<std::uint32_t>(c.head_dim));
  g.add_u32("llama.vocab_size", static_cast<std::uint32_t>(c.vocab_size));
  if (c.rope_scaling.type == RopeScalingType::Linear) {
    g.add_string("llama.rope.scaling.type", "linear");
    g.add_f32("llama.rope.scaling.factor", static_cast<float>(c.rope_scaling.factor));
  }
  // Vocabulary: every id below the embedding size, gaps as unused "[PAD<id>]" tokens.
  std::vector<std::string> tokens(static_cast<std::size_t>(c.vocab_size));
  std::vector<std::int32_t> types(tokens.size(), kTokUnused);
  for (std::size_t i = 0; i < tokens.size(); ++i) tokens[i] = "[PAD" + std::to_string(i) + "]";
  for (const auto& [tok, id] : spec.vocab)
    if (id < c.vocab_size) tokens[static_cast<std::size_t>(id)] = tok, types[static_cast<std::size_t>(id)] = kTokNormal;
  for (const auto& t : spec.added_tokens)
    if (t.id < c.vocab_size)
      tokens[static_cast<std::size_t>(t.id)] = t.content,
      types[static_cast<std::size_t>(t.id)] = t.special ? kTokControl : kTokUserDefined;
  std::vector<std::string> merges;
  for (const auto& [a, b] : spec.merges) merges.push_back(a + " " + b);
  g.add_string("tokenizer.ggml.model", "gpt2");
  g.add_string("tokenizer.ggml.pre", "llama-bpe");
  g.add_string_array("tokenizer.ggml.tokens", tokens);
  g.add_i32_array("tokenizer.ggml.token_type", types);
  g.add_string_array("tokenizer.ggml.merges", merges);
  if (c.bos_token_id) g.add_u32("tokenizer.ggml.bos_token_id", static_cast<std::uint32_t>(*c.bos_token_id));
  if (c.eos_token_id) g.add_u32("tokenizer.ggml.eos_token_id", static_cast<std::uint32_t>(*c.eos_token_id));

  const std::uint32_t gt = ggml_type(type);
  auto add_matrix = [&](const std::string& n, const WeightMatrix& m, const std::vector<std::int64_t>& order = {}) {
    g.add_tensor(n, {static_cast<std::uint64_t>(m.cols), static_cast<std::uint64_t>(m.rows)}, gt, encode_rows(m, type, order));
  };
  auto add_vector = [&](const std::string& n, const std::vector<float>& v) {
    g.add_tensor(n, {v.size()}, 0, f32_bytes(v));
  };
  add_matrix("token_embd.weight", w.embed);
  const auto q_order = permuted_rows(c.n_heads, c.head_dim), k_order = permuted_rows(c.n_kv_heads, c.head_dim);
  for (int l = 0; l < c.n_layers; ++l) {
    const auto& L = w.layers[static_cast<std::size_t>(l)];
    const std::string p = "blk." + std::to_string(l) + ".";
    add_vector(p + "attn_norm.weight", L.attn_norm);
    add_matrix(p + "attn_q.weight", L.q, q_order);
    add_matrix(p + "attn_k.weight", L.k, k_order);
    add_matrix(p + "attn_v.weight", L.v);
    add_matrix(p + "attn_output.weight", L.o);
    add_vector(p + "ffn_norm.weight", L.mlp_norm);
    add_matrix(p + "ffn_gate.weight", L.gate);
    add_matrix(p + "ffn_up.weight", L.up);
    add_matrix(p + "ffn_down.weight", L.down);
  }
  add_vector("output_norm.weight", w.final_norm);
  if (c.rope_scaling.type == RopeScalingType::Llama3) {
    // convert_hf_to_gguf.py: per-frequency divisors computed in float64 from the float32 base.
    const RopeScaling& s = c.rope_scaling;
    LlamaConfig base = c;
    base.rope_scaling = {};
    const auto freqs = rope_inv_freq(base);
    const double low_wl = s.original_max_position_embeddings / s.low_freq_factor;
    const double high_wl = s.original_max_position_embeddings / s.high_freq_factor;
    std::vector<float> factors;
    for (const float fr : freqs) {
      const double wl = 2 * M_PI / static_cast<double>(fr);
      if (wl < high_wl) factors.push_back(1.0f);
      else if (wl > low_wl) factors.push_back(static_cast<float>(s.factor));
      else {
        const double smooth = (s.original_max_position_embeddings / wl - s.low_freq_factor) / (s.high_freq_factor - s.low_freq_factor);
        factors.push_back(static_cast<float>(1.0 / ((1 - smooth) / s.factor + smooth)));
      }
    }
    add_vector("rope_freqs.weight", factors);
  }
  g.write(out_path);
}

}  // namespace tribev2::text

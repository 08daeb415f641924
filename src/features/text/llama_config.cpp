#include "tribev2/features/text/llama_config.hpp"

#include <cmath>
#include <nlohmann/json.hpp>

#include "tribev2/core/error.hpp"
#include "tribev2/io/file.hpp"
#include "tribev2/io/json.hpp"

namespace tribev2::text {

namespace {

using nlohmann::json;

std::int64_t get_int(const json& j, const char* key, const std::string& src, std::optional<std::int64_t> def = std::nullopt) {
  if (!j.contains(key) || j[key].is_null()) {
    if (def) return *def;
    fail(src, ": missing integer field '", key, "'");
  }
  if (!j[key].is_number_integer()) fail(src, ": field '", key, "' must be an integer, got ", j[key].dump());
  return j[key].get<std::int64_t>();
}

double get_num(const json& j, const char* key, const std::string& src, std::optional<double> def = std::nullopt) {
  if (!j.contains(key) || j[key].is_null()) {
    if (def) return *def;
    fail(src, ": missing number field '", key, "'");
  }
  if (!j[key].is_number()) fail(src, ": field '", key, "' must be a number, got ", j[key].dump());
  return j[key].get<double>();
}

int small_int(std::int64_t v, const char* key, const std::string& src) {
  if (v <= 0 || v > (1 << 20)) fail(src, ": field '", key, "' = ", v, " is out of range");
  return static_cast<int>(v);
}

RopeScaling parse_rope_scaling(const json& r, const std::string& src) {
  RopeScaling s;
  if (r.is_null()) return s;
  if (!r.is_object()) fail(src, ": rope_scaling must be an object or null");
  std::string type;
  if (r.contains("rope_type") && r["rope_type"].is_string()) type = r["rope_type"].get<std::string>();
  else if (r.contains("type") && r["type"].is_string()) type = r["type"].get<std::string>();
  else fail(src, ": rope_scaling has no 'rope_type'");
  const std::string where = src + ": rope_scaling";
  if (type == "default") return s;
  if (type == "linear") {
    s.type = RopeScalingType::Linear;
    s.factor = get_num(r, "factor", where);
  } else if (type == "llama3") {
    s.type = RopeScalingType::Llama3;
    s.factor = get_num(r, "factor", where);
    s.low_freq_factor = get_num(r, "low_freq_factor", where);
    s.high_freq_factor = get_num(r, "high_freq_factor", where);
    s.original_max_position_embeddings = get_num(r, "original_max_position_embeddings", where);
    if (!(s.high_freq_factor > s.low_freq_factor) || !(s.low_freq_factor > 0) || !(s.original_max_position_embeddings > 0))
      fail(where, ": llama3 needs high_freq_factor > low_freq_factor > 0 and original_max_position_embeddings > 0");
  } else {
    fail(where, ": rope type '", type, "' is not supported (supported: default, linear, llama3)");
  }
  if (!(s.factor > 0) || !std::isfinite(s.factor)) fail(where, ".factor must be a positive number");
  return s;
}

}  // namespace

void LlamaConfig::validate(const std::string& src) const {
  TRIBEV2_CHECK(hidden_size > 0 && intermediate_size > 0 && vocab_size > 0 && n_layers > 0, src,
                ": hidden_size, intermediate_size, vocab_size and num_hidden_layers must be positive");
  TRIBEV2_CHECK(n_heads > 0 && n_kv_heads > 0 && n_heads % n_kv_heads == 0, src, ": num_attention_heads (", n_heads,
                ") must be a positive multiple of num_key_value_heads (", n_kv_heads, ")");
  TRIBEV2_CHECK(head_dim > 0 && head_dim % 2 == 0, src, ": head_dim must be positive and even, got ", head_dim);
  TRIBEV2_CHECK(rms_norm_eps > 0 && std::isfinite(rms_norm_eps), src, ": rms_norm_eps must be positive");
  TRIBEV2_CHECK(rope_theta > 1 && std::isfinite(rope_theta), src, ": rope_theta must be > 1, got ", rope_theta);
  TRIBEV2_CHECK(hidden_size <= (1 << 20) && intermediate_size <= (1 << 22) && vocab_size <= (1 << 24), src,
                ": sizes are implausibly large (hidden ", hidden_size, ", intermediate ", intermediate_size, ", vocab ",
                vocab_size, ")");
}

LlamaConfig parse_llama_config(std::string_view text, const std::string& src) {
  const json j = io::parse_json_object(text, src);
  LlamaConfig c;
  try {
    if (j.contains("model_type") && j["model_type"] != "llama")
      fail(src, ": model_type is ", j["model_type"].dump(), ", expected \"llama\" (a Llama 3.x checkpoint)");
    if (j.contains("architectures") && j["architectures"].is_array())
      for (const auto& a : j["architectures"])
        if (!a.is_string() || (a != "LlamaForCausalLM" && a != "LlamaModel"))
          fail(src, ": architectures has ", a.dump(), "; only LlamaForCausalLM / LlamaModel are supported");
    const std::string act = j.value("hidden_act", std::string("silu"));
    if (act != "silu") fail(src, ": hidden_act '", act, "' is not supported (Llama uses silu)");
    for (const char* key : {"attention_bias", "mlp_bias"})
      if (j.contains(key) && j[key].is_boolean() && j[key].get<bool>())
        fail(src, ": ", key, "=true is not supported (Llama 3 has no biases)");
    if (j.contains("partial_rotary_factor") && get_num(j, "partial_rotary_factor", src) != 1.0)
      fail(src, ": partial_rotary_factor != 1 is not supported");
    c.hidden_size = get_int(j, "hidden_size", src);
    c.intermediate_size = get_int(j, "intermediate_size", src);
    c.n_layers = small_int(get_int(j, "num_hidden_layers", src), "num_hidden_layers", src);
    c.n_heads = small_int(get_int(j, "num_attention_heads", src), "num_attention_heads", src);
    c.n_kv_heads = small_int(get_int(j, "num_key_value_heads", src, c.n_heads), "num_key_value_heads", src);
    if (c.hidden_size % c.n_heads != 0 && !(j.contains("head_dim") && !j["head_dim"].is_null()))
      fail(src, ": hidden_size ", c.hidden_size, " is not divisible by num_attention_heads ", c.n_heads, " and no head_dim");
    c.head_dim = small_int(get_int(j, "head_dim", src, c.hidden_size / c.n_heads), "head_dim", src);
    c.vocab_size = get_int(j, "vocab_size", src);
    c.rms_norm_eps = get_num(j, "rms_norm_eps", src, 1e-6);
    // transformers >= 5 moves rope_theta and the scaling into `rope_parameters`.
    const json rope_params = j.contains("rope_parameters") && j["rope_parameters"].is_object() ? j["rope_parameters"] : json();
    if (!rope_params.is_null()) {
      c.rope_theta = get_num(rope_params, "rope_theta", src + ": rope_parameters", get_num(j, "rope_theta", src, 10000.0));
      c.rope_scaling = parse_rope_scaling(rope_params, src);
    } else {
      c.rope_theta = get_num(j, "rope_theta", src, 10000.0);
      c.rope_scaling = parse_rope_scaling(j.value("rope_scaling", json()), src);
    }
    c.tie_word_embeddings = j.contains("tie_word_embeddings") && j["tie_word_embeddings"].is_boolean() &&
                            j["tie_word_embeddings"].get<bool>();
    c.max_position_embeddings = get_int(j, "max_position_embeddings", src, 0);
    if (j.contains("bos_token_id") && j["bos_token_id"].is_number_integer()) c.bos_token_id = j["bos_token_id"].get<std::int64_t>();
    if (j.contains("eos_token_id") && j["eos_token_id"].is_number_integer()) c.eos_token_id = j["eos_token_id"].get<std::int64_t>();
  } catch (const json::exception& e) {
    fail(src, ": unexpected structure: ", e.what());
  }
  c.validate(src);
  return c;
}

LlamaConfig read_llama_config(const std::filesystem::path& path) {
  return parse_llama_config(io::read_text_file(path), path.string());
}

std::vector<float> rope_inv_freq(const LlamaConfig& c) {
  // transformers: inv_freq = 1 / base ** (arange(0, dim, 2).float() / dim), all in float32.
  const int half = c.head_dim / 2;
  std::vector<float> inv(static_cast<std::size_t>(half));
  const auto base = static_cast<float>(c.rope_theta);
  for (int i = 0; i < half; ++i) {
    const float e = static_cast<float>(2 * i) / static_cast<float>(c.head_dim);
    inv[static_cast<std::size_t>(i)] = 1.0f / std::pow(base, e);
  }
  const RopeScaling& s = c.rope_scaling;
  if (s.type == RopeScalingType::Linear) {
    for (auto& f : inv) f = f / static_cast<float>(s.factor);
  } else if (s.type == RopeScalingType::Llama3) {
    // _compute_llama3_parameters, tensor ops in float32 with Python scalars.
    const auto factor = static_cast<float>(s.factor);
    const auto low = static_cast<float>(s.low_freq_factor);
    const auto high = static_cast<float>(s.high_freq_factor);
    const auto old_len = static_cast<float>(s.original_max_position_embeddings);
    const double low_freq_wavelen = s.original_max_position_embeddings / s.low_freq_factor;
    const double high_freq_wavelen = s.original_max_position_embeddings / s.high_freq_factor;
    const float two_pi = static_cast<float>(2.0 * 3.141592653589793);
    for (auto& f : inv) {
      const float wavelen = two_pi / f;
      float llama = wavelen > low_freq_wavelen ? f / factor : f;
      const float smooth = (old_len / wavelen - low) / (high - low);
      const float smoothed = (1.0f - smooth) * llama / factor + smooth * llama;
      const bool medium = !(wavelen < high_freq_wavelen) && !(wavelen > low_freq_wavelen);
      if (medium) llama = smoothed;
      f = llama;
    }
  }
  return inv;
}

}  // namespace tribev2::text

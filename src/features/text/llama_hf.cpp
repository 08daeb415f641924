// A HuggingFace Llama checkpoint folder: config.json + model.safetensors, or shards listed in
// model.safetensors.index.json. Tensors stay memory-mapped (zero copy).
#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "tribev2/io/hash.hpp"
#include "tribev2/core/error.hpp"
#include "tribev2/features/text/llama_model.hpp"
#include "tribev2/io/file.hpp"
#include "tribev2/io/json.hpp"
#include "tribev2/io/safetensors.hpp"

namespace tribev2::text {

using io::Sha256;
using io::sha256_hex;

namespace fs = std::filesystem;

namespace {

// Cheap identity of a weights file: its size, its first MiB (the header) and 16 evenly spaced
// 4 KiB samples of the data. Hashing 6 GB on every run would cost seconds.
void fingerprint_file(Sha256& h, const io::MappedFile& m) {
  h.field(m.path().filename().string());
  h.field(std::to_string(m.size()));
  const std::size_t head = std::min<std::size_t>(m.size(), 1u << 20);
  h.update(m.data(), head);
  constexpr std::size_t kSample = 4096;
  if (m.size() > kSample)
    for (std::size_t i = 0; i < 16; ++i) {
      const std::size_t off = (m.size() - kSample) / 15 * i;
      h.update(m.data() + off, kSample);
    }
}

}  // namespace

LlamaWeights load_hf_llama_weights(const fs::path& dir) {
  LlamaWeights w;
  const fs::path config_path = dir / "config.json";
  if (!fs::exists(config_path)) fail(config_path.string(), ": missing (not a HuggingFace Llama checkpoint folder)");
  const std::string config_text = io::read_text_file(config_path);
  w.config = parse_llama_config(config_text, config_path.string());
  const LlamaConfig& c = w.config;

  // tensor name -> shard file
  std::map<std::string, fs::path> where;
  std::vector<fs::path> shards;
  const fs::path index_path = dir / "model.safetensors.index.json";
  if (fs::exists(index_path)) {
    const nlohmann::json idx = io::read_json_object(index_path);
    if (!idx.contains("weight_map") || !idx["weight_map"].is_object())
      fail(index_path.string(), ": expected {\"weight_map\": {tensor: file}}");
    std::set<std::string> files;
    for (const auto& [name, file] : idx["weight_map"].items()) {
      if (!file.is_string()) fail(index_path.string(), ": weight_map['", name, "'] must be a file name");
      const std::string f = file.get<std::string>();
      if (f.empty() || f.find('/') != std::string::npos || f.find('\\') != std::string::npos || f == "." || f == "..")
        fail(index_path.string(), ": weight_map['", name, "'] = '", f, "' must be a file name inside the folder");
      where[name] = dir / f;
      files.insert(f);
    }
    for (const auto& f : files) {
      if (!fs::exists(dir / f))
        fail(index_path.string(), ": shard '", f, "' is missing from ", dir.string(), " (listed in weight_map)");
      shards.push_back(dir / f);
    }
  } else if (fs::exists(dir / "model.safetensors")) {
    shards.push_back(dir / "model.safetensors");
  } else {
    fail(dir.string(), ": no model.safetensors or model.safetensors.index.json");
  }

  Sha256 fp;
  fp.field("hf-llama/1");
  fp.field(config_text);
  std::map<fs::path, io::SafetensorsFile> files;
  for (const auto& s : shards) {
    auto map = io::MappedFile::open(s);
    fingerprint_file(fp, *map);
    files.emplace(s, io::SafetensorsFile::parse(map->bytes(), s.string(), map));
    w.keep_alive.push_back(map);
  }
  if (where.empty())
    for (const auto& [path, f] : files)
      for (const auto& n : f.names()) where[n] = path;

  // The prefix used by the checkpoint: "model." (LlamaForCausalLM) or none (LlamaModel).
  const std::string prefix = where.count("model.embed_tokens.weight") ? "model." : "";
  std::set<std::string> used;
  auto get = [&](const std::string& short_name, const Shape& shape) -> const Tensor& {
    const std::string name = prefix + short_name;
    const auto it = where.find(name);
    if (it == where.end()) fail(dir.string(), ": tensor '", name, "' is missing from the checkpoint");
    const auto& f = files.at(it->second);
    if (!f.contains(name))
      fail(it->second.string(), ": tensor '", name, "' is not in this shard although the index lists it there");
    const Tensor& t = f.get(name);
    if (t.dtype() != DType::F32 && t.dtype() != DType::F16 && t.dtype() != DType::BF16)
      fail(it->second.string(), ": tensor '", name, "' has dtype ", dtype_name(t.dtype()), "; expected F32, F16 or BF16");
    if (t.shape() != shape)
      fail(it->second.string(), ": tensor '", name, "' has shape ", shape_str(t.shape()), ", expected ", shape_str(shape),
           " from config.json");
    used.insert(name);
    return t;
  };
  auto matrix = [&](const std::string& n, const Shape& s) {
    const Tensor& t = get(n, s);
    w.keep_alive.push_back(std::make_shared<Tensor>(t));
    const WeightType type = t.dtype() == DType::F32 ? WeightType::F32 : t.dtype() == DType::F16 ? WeightType::F16 : WeightType::BF16;
    return WeightMatrix{type, t.raw(), s[0], s[1]};
  };
  auto vec = [&](const std::string& n, const Shape& s) {
    const Tensor& t = get(n, s);
    std::vector<float> v(static_cast<std::size_t>(t.numel()));
    convert_to_f32(t, v);
    return v;
  };
  const std::int64_t H = c.hidden_size, I = c.intermediate_size;
  w.embed = matrix("embed_tokens.weight", {c.vocab_size, H});
  for (int l = 0; l < c.n_layers; ++l) {
    const std::string p = "layers." + std::to_string(l) + ".";
    LlamaLayerWeights L;
    L.attn_norm = vec(p + "input_layernorm.weight", {H});
    L.q = matrix(p + "self_attn.q_proj.weight", {c.q_dim(), H});
    L.k = matrix(p + "self_attn.k_proj.weight", {c.kv_dim(), H});
    L.v = matrix(p + "self_attn.v_proj.weight", {c.kv_dim(), H});
    L.o = matrix(p + "self_attn.o_proj.weight", {H, c.q_dim()});
    L.mlp_norm = vec(p + "post_attention_layernorm.weight", {H});
    L.gate = matrix(p + "mlp.gate_proj.weight", {I, H});
    L.up = matrix(p + "mlp.up_proj.weight", {I, H});
    L.down = matrix(p + "mlp.down_proj.weight", {H, I});
    w.layers.push_back(std::move(L));
  }
  w.final_norm = vec("norm.weight", {H});

  // Anything else must be a known leftover (the LM head, old rotary buffers).
  std::vector<std::string> unexpected;
  for (const auto& [name, file] : where) {
    if (used.count(name) || name == "lm_head.weight" || name.ends_with("rotary_emb.inv_freq")) continue;
    unexpected.push_back(name);
  }
  if (!unexpected.empty()) {
    std::string list;
    for (std::size_t i = 0; i < std::min<std::size_t>(unexpected.size(), 5); ++i) list += (i ? ", " : "") + unexpected[i];
    fail(dir.string(), ": ", unexpected.size(), " unexpected tensor(s) for a Llama checkpoint of this config: ", list,
         unexpected.size() > 5 ? ", ..." : "");
  }
  w.inv_freq = rope_inv_freq(c);
  w.rope_layout = RopeLayout::RotateHalf;
  w.description = dir.string() + " (HuggingFace safetensors, " + weight_type_name(w.embed.type) + ", " +
                  std::to_string(shards.size()) + " file(s))";
  w.fingerprint = fp.hex();
  return w;
}

}  // namespace tribev2::text

// config.yaml -> BrainConfig / DataConfig. Absent fields take the Python defaults; unknown
// keys are tolerated (listed as ignored); YAML tags such as !!python/tuple are read as plain
// sequences and never resolved.
#include <yaml-cpp/yaml.h>

#include <set>

#include "tribev2/core/error.hpp"
#include "tribev2/io/file.hpp"
#include "tribev2/model_io/load.hpp"

namespace tribev2::model_io {

using namespace tribev2::model;

namespace {

class Reader {
 public:
  explicit Reader(std::string file) : file_(std::move(file)) {}

  [[noreturn]] void bad(const std::string& key, const std::string& expected, const YAML::Node& n) const {
    std::string got = "null";
    try {
      if (n.IsScalar()) {
        got.assign(1, '\'');
        got.append(n.Scalar());
        got.push_back('\'');
      } else if (n.IsSequence()) {
        got = "a list";
      } else if (n.IsMap()) {
        got = "a mapping";
      }
    } catch (...) {
      got = "?";
    }
    fail(file_, ": ", key, ": expected ", expected, ", got ", got);
  }
  static bool is_null(const YAML::Node& n) { return !n || n.IsNull(); }
  std::int64_t integer(const YAML::Node& n, const std::string& key) const {
    try {
      if (n.IsScalar()) return n.as<std::int64_t>();
    } catch (const YAML::Exception&) {
    }
    bad(key, "an integer", n);
  }
  double number(const YAML::Node& n, const std::string& key) const {
    try {
      if (n.IsScalar()) return n.as<double>();
    } catch (const YAML::Exception&) {
    }
    bad(key, "a number", n);
  }
  bool boolean(const YAML::Node& n, const std::string& key) const {
    try {
      if (n.IsScalar()) return n.as<bool>();
    } catch (const YAML::Exception&) {
    }
    bad(key, "true or false", n);
  }
  std::string string(const YAML::Node& n, const std::string& key) const {
    if (n.IsScalar()) return n.Scalar();
    bad(key, "a string", n);
  }
  const std::string& file() const { return file_; }

 private:
  std::string file_;
};

// Calls fn(key, value) for each entry of a mapping; keys must be plain scalars (YAML allows
// lists or mappings as keys, which no config field is).
template <class Fn>
void for_each_key(const Reader& r, const YAML::Node& map, const std::string& where, Fn fn) {
  for (auto it = map.begin(); it != map.end(); ++it) {
    if (!it->first.IsScalar()) fail(r.file(), ": ", where, ": mapping keys must be strings, got a list or mapping");
    fn(it->first.Scalar(), it->second);
  }
}

MlpConfig parse_mlp(const Reader& r, const YAML::Node& n, const std::string& key) {
  if (!n.IsMap()) r.bad(key, "a mapping (an Mlp config) or null", n);
  MlpConfig m;  // class defaults: norm None, activation relu, bias True
  for_each_key(r, n, key, [&](const std::string& k, const YAML::Node& v) {
    const std::string kk = key + "." + k;
    if (k == "name") {
      const std::string name = r.string(v, kk);
      if (name != "Mlp") fail(r.file(), ": ", kk, ": '", name, "' projectors/combiners are not supported (only Mlp)");
    } else if (k == "hidden_sizes") {
      if (Reader::is_null(v)) return;
      if (!v.IsSequence()) r.bad(kk, "a list of integers or null", v);
      for (std::size_t i = 0; i < v.size(); ++i) m.hidden_sizes.push_back(r.integer(v[i], kk));
    } else if (k == "norm_layer") {
      if (Reader::is_null(v)) {
        m.norm = Norm::None;
        return;
      }
      const std::string s = r.string(v, kk);
      if (s == "layer") m.norm = Norm::Layer;
      else if (s == "unit") m.norm = Norm::Unit;
      else if (s == "batch" || s == "instance")
        fail(r.file(), ": ", kk, ": '", s, "' normalisation is not supported at inference (use layer, unit or null)");
      else r.bad(kk, "layer, unit or null", v);
    } else if (k == "activation_layer") {
      if (Reader::is_null(v)) {
        m.activation = Activation::Identity;
        return;
      }
      const std::string s = r.string(v, kk);
      if (s == "relu") m.activation = Activation::ReLU;
      else if (s == "gelu") m.activation = Activation::GELU;
      else if (s == "elu") m.activation = Activation::ELU;
      else if (s == "prelu") m.activation = Activation::PReLU;
      else r.bad(kk, "relu, gelu, elu, prelu or null", v);
    } else if (k == "bias") {
      m.bias = r.boolean(v, kk);
    } else if (k == "input_size") {
      if (!Reader::is_null(v)) m.input_size = r.integer(v, kk);
    }  // dropout and anything else: no effect at inference
  });
  return m;
}

EncoderConfig parse_encoder(const Reader& r, const YAML::Node& n) {
  if (!n.IsMap()) r.bad("brain_model_config.encoder", "a mapping or null", n);
  EncoderConfig e;
  for_each_key(r, n, "brain_model_config.encoder", [&](const std::string& k, const YAML::Node& v) {
    const std::string kk = "brain_model_config.encoder." + k;
    if (k == "heads") e.heads = static_cast<int>(r.integer(v, kk));
    else if (k == "depth") e.depth = static_cast<int>(r.integer(v, kk));
    else if (k == "ff_mult") e.ff_mult = static_cast<int>(r.integer(v, kk));
    else if (k == "use_scalenorm") e.use_scalenorm = r.boolean(v, kk);
    else if (k == "rotary_pos_emb") e.rotary_pos_emb = r.boolean(v, kk);
    else if (k == "scale_residual") e.scale_residual = r.boolean(v, kk);
    else if (k == "causal") e.causal = r.boolean(v, kk);
    else if (k == "name") {
      if (r.string(v, kk) != "TransformerEncoder") fail(r.file(), ": ", kk, ": only TransformerEncoder is supported");
    } else if (k == "use_rmsnorm" || k == "cross_attend" || k == "rel_pos_bias" || k == "alibi_pos_bias" ||
               k == "rotary_xpos" || k == "residual_attn") {
      if (r.boolean(v, kk)) fail(r.file(), ": ", kk, "=true is not supported by this engine");
    }  // dropouts, attn_flash: no effect at inference
  });
  if (e.heads <= 0 || e.depth < 0) fail(r.file(), ": brain_model_config.encoder: heads must be > 0 and depth >= 0");
  return e;
}

}  // namespace

namespace {
ParsedConfig parse_config_root(const YAML::Node& root, const std::string& name);
}  // namespace

ParsedConfig parse_config_yaml_text(const std::string& text, const std::string& name) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    fail(name, ": not valid YAML: ", e.what());
  }
  try {
    return parse_config_root(root, name);
  } catch (const YAML::Exception& e) {  // anything yaml-cpp throws on odd input, with the file named
    fail(name, ": unexpected YAML structure: ", e.what());
  }
}

namespace {

ParsedConfig parse_config_root(const YAML::Node& root, const std::string& name) {
  const Reader r(name);
  if (!root.IsMap()) fail(name, ": expected a mapping at the top level");
  ParsedConfig out;
  const YAML::Node bm = root["brain_model_config"];
  if (!bm || !bm.IsMap()) fail(name, ": missing the 'brain_model_config' mapping");
  auto& c = out.brain;
  static const std::set<std::string> no_effect = {"name", "dropout", "modality_dropout", "temporal_dropout"};
  for_each_key(r, bm, "brain_model_config", [&](const std::string& k, const YAML::Node& v) {
    const std::string kk = "brain_model_config." + k;
    if (k == "hidden") c.hidden = r.integer(v, kk);
    else if (k == "max_seq_len") c.max_seq_len = r.integer(v, kk);
    else if (k == "time_pos_embedding") c.time_pos_embedding = r.boolean(v, kk);
    else if (k == "linear_baseline") c.linear_baseline = r.boolean(v, kk);
    else if (k == "low_rank_head") c.low_rank_head = Reader::is_null(v) ? std::nullopt : std::optional(r.integer(v, kk));
    else if (k == "extractor_aggregation") {
      const std::string s = r.string(v, kk);
      if (s == "cat") c.extractor_aggregation = ExtractorAggregation::Cat;
      else if (s == "sum") c.extractor_aggregation = ExtractorAggregation::Sum;
      else if (s == "stack") c.extractor_aggregation = ExtractorAggregation::Stack;
      else r.bad(kk, "cat, sum or stack", v);
    } else if (k == "layer_aggregation") {
      const std::string s = r.string(v, kk);
      if (s == "cat") c.layer_aggregation = LayerAggregation::Cat;
      else if (s == "mean") c.layer_aggregation = LayerAggregation::Mean;
      else r.bad(kk, "cat or mean", v);
    } else if (k == "projector") {
      if (Reader::is_null(v)) fail(name, ": ", kk, " cannot be null");
      c.projector = parse_mlp(r, v, kk);
    } else if (k == "combiner") {
      c.combiner = Reader::is_null(v) ? std::nullopt : std::optional(parse_mlp(r, v, kk));
    } else if (k == "encoder") {
      c.encoder = Reader::is_null(v) ? std::nullopt : std::optional(parse_encoder(r, v));
    } else if (k == "subject_layers") {
      if (!v.IsMap()) r.bad(kk, "a mapping", v);
      for_each_key(r, v, kk, [&](const std::string& sk, const YAML::Node& sv) {
        const std::string sks = kk + "." + sk;
        if (sk == "n_subjects") c.subject_layers.n_subjects = r.integer(sv, sks);
        else if (sk == "bias") c.subject_layers.bias = r.boolean(sv, sks);
        else if (sk == "average_subjects") c.subject_layers.average_subjects = r.boolean(sv, sks);
        else if (sk == "subject_dropout")
          c.subject_layers.subject_dropout = Reader::is_null(sv) ? std::nullopt : std::optional(r.number(sv, sks));
        else if (sk != "name") out.ignored_keys.push_back(sks);  // listed like every other key we do not read
      });
    } else if (k == "temporal_smoothing") {
      if (Reader::is_null(v)) {
        c.temporal_smoothing.reset();
        return;
      }
      if (!v.IsMap()) r.bad(kk, "a mapping or null", v);
      TemporalSmoothingConfig ts;
      for_each_key(r, v, kk, [&](const std::string& sk, const YAML::Node& sv) {
        if (sk == "kernel_size") ts.kernel_size = static_cast<int>(r.integer(sv, kk + "." + sk));
        else if (sk == "sigma") ts.sigma = Reader::is_null(sv) ? std::nullopt : std::optional(r.number(sv, kk + "." + sk));
        else if (sk != "name") out.ignored_keys.push_back(kk + "." + sk);
      });
      c.temporal_smoothing = ts;
    } else if (k == "subject_embedding") {
      if (r.boolean(v, kk)) fail(name, ": ", kk, "=true is not supported (the released model does not use it)");
    } else if (!no_effect.count(k)) {
      out.ignored_keys.push_back(kk);
    }
  });

  if (const YAML::Node d = root["data"]; d && d.IsMap()) {
    if (d["frequency"] && !Reader::is_null(d["frequency"])) out.data.frequency = r.number(d["frequency"], "data.frequency");
    if (d["duration_trs"] && !Reader::is_null(d["duration_trs"])) out.data.duration_trs = r.integer(d["duration_trs"], "data.duration_trs");
    if (const YAML::Node n = d["neuro"]; n && n.IsMap()) {
      if (n["frequency"] && !Reader::is_null(n["frequency"])) out.data.neuro_frequency = r.number(n["frequency"], "data.neuro.frequency");
      if (n["offset"] && !Reader::is_null(n["offset"])) out.data.neuro_offset = r.number(n["offset"], "data.neuro.offset");
    }
    if (const YAML::Node f = d["features_to_use"]; f && f.IsSequence()) {
      out.data.features_to_use.clear();
      for (std::size_t i = 0; i < f.size(); ++i) out.data.features_to_use.push_back(r.string(f[i], "data.features_to_use"));
    }
  }
  if (out.data.frequency <= 0 || out.data.neuro_frequency <= 0 || out.data.duration_trs <= 0)
    fail(name, ": data.frequency, data.neuro.frequency and data.duration_trs must be positive");
  if (const YAML::Node a = root["average_subjects"]; a && !Reader::is_null(a))
    out.average_subjects_override = r.boolean(a, "average_subjects");
  return out;
}

}  // namespace

ParsedConfig parse_config_yaml(const std::filesystem::path& path) {
  return parse_config_yaml_text(io::read_text_file(path), path.string());
}

}  // namespace tribev2::model_io

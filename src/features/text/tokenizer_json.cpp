// tokenizer.json (HuggingFace `tokenizers` serialisation) -> BpeSpec. Only what Llama 3's
// tokenizer uses is accepted; everything else fails with the field that is unsupported.
#include <nlohmann/json.hpp>

#include "tribev2/core/error.hpp"
#include "tribev2/features/text/tokenizer.hpp"
#include "tribev2/io/file.hpp"
#include "tribev2/io/json.hpp"

namespace tribev2::text {

namespace {

using nlohmann::json;

const char* const kGpt2Regex = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

std::string type_of(const json& j) { return j.is_object() && j.contains("type") && j["type"].is_string() ? j["type"].get<std::string>() : ""; }

bool truthy(const json& j, const char* key) { return j.contains(key) && j[key].is_boolean() && j[key].get<bool>(); }

void parse_byte_level(const json& p, const std::string& where, BpeSpec& spec, bool allow_regex) {
  spec.byte_level_add_prefix_space = truthy(p, "add_prefix_space");
  const bool use_regex = !p.contains("use_regex") || truthy(p, "use_regex");
  if (use_regex) {
    if (!allow_regex)
      fail(where, ": ByteLevel with use_regex=true after a Split is not supported (Llama 3 uses use_regex=false)");
    spec.split_regex = kGpt2Regex;
  }
}

void parse_split(const json& p, const std::string& where, BpeSpec& spec) {
  const json& pat = p.value("pattern", json());
  if (pat.is_object() && pat.contains("Regex") && pat["Regex"].is_string()) {
    spec.split_regex = pat["Regex"].get<std::string>();
  } else if (pat.is_object() && pat.contains("String") && pat["String"].is_string()) {
    std::string lit;
    for (const char c : pat["String"].get<std::string>()) {
      if (std::string_view("\\^$.|?*+()[]{}").find(c) != std::string_view::npos) lit += '\\';
      lit += c;
    }
    spec.split_regex = lit;
  } else {
    fail(where, ".pattern: expected {\"Regex\": ...} or {\"String\": ...}");
  }
  const std::string behavior = p.value("behavior", std::string("Isolated"));
  if (behavior != "Isolated")
    fail(where, ".behavior: only \"Isolated\" (Llama 3) is supported, got \"", behavior, "\"");
  if (truthy(p, "invert")) fail(where, ".invert: true is not supported (Llama 3 uses false)");
}

void parse_pre_tokenizer(const json& p, const std::string& src, BpeSpec& spec) {
  const std::string where = src + ": pre_tokenizer";
  const std::string type = type_of(p);
  if (type == "ByteLevel") {
    parse_byte_level(p, where, spec, true);
    return;
  }
  if (type != "Sequence" || !p.contains("pretokenizers") || !p["pretokenizers"].is_array())
    fail(where, ": expected the Llama 3 form Sequence[Split, ByteLevel] (or ByteLevel), got type \"", type,
         "\": this is not a byte-level BPE tokenizer of the Llama 3 kind");
  const json& list = p["pretokenizers"];
  bool have_split = false, have_byte_level = false;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string w = where + ".pretokenizers[" + std::to_string(i) + "]";
    const std::string t = type_of(list[i]);
    if (t == "Split" && !have_split && !have_byte_level) {
      parse_split(list[i], w, spec);
      have_split = true;
    } else if (t == "ByteLevel" && !have_byte_level) {
      parse_byte_level(list[i], w, spec, !have_split);
      have_byte_level = true;
    } else {
      fail(w, ": unsupported pre-tokenizer \"", t, "\" here (supported: Split then ByteLevel, as in Llama 3)");
    }
  }
  if (!have_byte_level) fail(where, ": no ByteLevel step: this is not a byte-level BPE tokenizer");
  if (!have_split) spec.split_regex.clear();
}

}  // namespace

BpeSpec parse_tokenizer_json(std::string_view text, const std::string& src) {
  const json j = io::parse_json_object(text, src);
  BpeSpec spec;
  spec.source = src;
  try {
    if (!j.contains("model") || !j["model"].is_object()) fail(src, ": no \"model\" object: not a tokenizer.json");
    const json& m = j["model"];
    const std::string mtype = type_of(m);
    if (!mtype.empty() && mtype != "BPE")
      fail(src, ": model.type is \"", mtype, "\"; only byte-level BPE (Llama 3) tokenizers are supported");
    if (!m.contains("vocab") || !m["vocab"].is_object()) fail(src, ": model.vocab must be an object {token: id}");
    if (!m.contains("merges") || !m["merges"].is_array()) fail(src, ": model.merges must be a list");
    if (m.contains("dropout") && !m["dropout"].is_null() && !(m["dropout"].is_number() && m["dropout"].get<double>() == 0.0))
      fail(src, ": model.dropout must be null (dropout makes tokenization random)");
    for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"})
      if (m.contains(key) && !m[key].is_null() && !(m[key].is_string() && m[key].get<std::string>().empty()))
        fail(src, ": model.", key, " is not supported (byte-level BPE does not use it)");
    if (truthy(m, "byte_fallback"))
      fail(src, ": model.byte_fallback=true is a SentencePiece-style tokenizer (e.g. Llama 2), not Llama 3's byte-level BPE");
    if (m.contains("unk_token") && m["unk_token"].is_string()) spec.unk_token = m["unk_token"].get<std::string>();
    spec.ignore_merges = truthy(m, "ignore_merges");
    for (const auto& [tok, id] : m["vocab"].items()) {
      if (!id.is_number_integer()) fail(src, ": model.vocab['", tok, "'] must be an integer id");
      const auto v = id.get<std::int64_t>();
      if (v < 0 || v > INT32_MAX) fail(src, ": model.vocab['", tok, "'] = ", v, " is out of range");
      spec.vocab.emplace_back(tok, static_cast<std::int32_t>(v));
    }
    const json& merges = m["merges"];
    spec.merges.reserve(merges.size());
    for (std::size_t r = 0; r < merges.size(); ++r) {
      const json& e = merges[r];
      if (e.is_string()) {
        const std::string s = e.get<std::string>();
        const auto sp = s.find(' ');
        if (sp == std::string::npos || s.find(' ', sp + 1) != std::string::npos)
          fail(src, ": model.merges[", r, "] = \"", s, "\" must be two tokens separated by one space");
        spec.merges.emplace_back(s.substr(0, sp), s.substr(sp + 1));
      } else if (e.is_array() && e.size() == 2 && e[0].is_string() && e[1].is_string()) {
        spec.merges.emplace_back(e[0].get<std::string>(), e[1].get<std::string>());
      } else {
        fail(src, ": model.merges[", r, "] must be \"a b\" or [\"a\", \"b\"]");
      }
    }
    if (j.contains("normalizer") && !j["normalizer"].is_null())
      fail(src, ": normalizer \"", type_of(j["normalizer"]), "\" is not supported (Llama 3 has none)");
    if (!j.contains("pre_tokenizer") || j["pre_tokenizer"].is_null())
      fail(src, ": no pre_tokenizer: not a byte-level BPE tokenizer of the Llama 3 kind");
    parse_pre_tokenizer(j["pre_tokenizer"], src, spec);
    if (j.contains("added_tokens")) {
      const json& at = j["added_tokens"];
      if (!at.is_array()) fail(src, ": added_tokens must be a list");
      for (std::size_t i = 0; i < at.size(); ++i) {
        const json& e = at[i];
        if (!e.is_object() || !e.contains("id") || !e["id"].is_number_integer() || !e.contains("content") ||
            !e["content"].is_string())
          fail(src, ": added_tokens[", i, "] needs an integer id and a string content");
        AddedToken t;
        const auto id = e["id"].get<std::int64_t>();
        if (id < 0 || id > INT32_MAX) fail(src, ": added_tokens[", i, "].id = ", id, " is out of range");
        t.id = static_cast<std::int32_t>(id);
        t.content = e["content"].get<std::string>();
        t.special = truthy(e, "special");
        t.lstrip = truthy(e, "lstrip");
        t.rstrip = truthy(e, "rstrip");
        t.single_word = truthy(e, "single_word");
        // `normalized` does not matter: without a normalizer both matchings see the raw text.
        spec.added_tokens.push_back(std::move(t));
      }
    }
  } catch (const json::exception& e) {
    fail(src, ": unexpected structure: ", e.what());
  }
  return spec;
}

Tokenizer Tokenizer::from_json(std::string_view text, const std::string& src) {
  return from_spec(parse_tokenizer_json(text, src));
}

Tokenizer Tokenizer::from_json_file(const std::filesystem::path& path) {
  return from_json(io::read_text_file(path), path.string());
}

}  // namespace tribev2::text

// A predictor's saved state in DSPy's JSON shape (what `program.save()` writes per predictor).
#pragma once

#include <algorithm>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json.hpp>

#include "demo.hpp"
#include "error.hpp"
#include "predict.hpp"

namespace dspy {

/// dspy.signatures.signature.infer_prefix: "next_thought" -> "Next Thought", "HTMLParser" ->
/// "HTML Parser", "text2number" -> "Text 2 Number".
inline std::string infer_prefix(std::string_view name) {
  const auto upper = [](char c) { return c >= 'A' && c <= 'Z'; };
  const auto lower = [](char c) { return c >= 'a' && c <= 'z'; };
  const auto digit = [](char c) { return c >= '0' && c <= '9'; };
  const auto alpha = [&](char c) { return upper(c) || lower(c); };
  // The same four re.sub passes DSPy makes, each inserting '_' at word boundaries.
  std::string s(name), t;
  for (std::size_t i = 0; i < s.size(); ++i) {  // (.)([A-Z][a-z]+)
    if (i > 0 && upper(s[i]) && i + 1 < s.size() && lower(s[i + 1])) t += '_';
    t += s[i];
  }
  s.swap(t), t.clear();
  for (std::size_t i = 0; i < s.size(); ++i) {  // ([a-z0-9])([A-Z])
    if (i > 0 && upper(s[i]) && (lower(s[i - 1]) || digit(s[i - 1]))) t += '_';
    t += s[i];
  }
  s.swap(t), t.clear();
  for (std::size_t i = 0; i < s.size(); ++i) {  // ([a-zA-Z])(\d)
    if (i > 0 && digit(s[i]) && alpha(s[i - 1])) t += '_';
    t += s[i];
  }
  s.swap(t), t.clear();
  for (std::size_t i = 0; i < s.size(); ++i) {  // (\d)([a-zA-Z])
    if (i > 0 && alpha(s[i]) && digit(s[i - 1])) t += '_';
    t += s[i];
  }
  std::string out;
  std::size_t start = 0;
  for (;;) {
    const std::size_t end = std::min(t.find('_', start), t.size());
    std::string word = t.substr(start, end - start);
    const bool has_cased = std::any_of(word.begin(), word.end(), alpha);
    const bool is_upper = has_cased && std::none_of(word.begin(), word.end(), lower);
    if (!is_upper)  // str.capitalize(): first upper, rest lower
      for (std::size_t i = 0; i < word.size(); ++i)
        word[i] = i == 0 ? (lower(word[i]) ? static_cast<char>(word[i] - 'a' + 'A') : word[i]) : detail::ascii_lower(word[i]);
    if (start) out += ' ';
    out += word;
    if (end == t.size()) break;
    start = end + 1;
  }
  return out;
}

/// The predictor's state: demos, instructions and field prefixes/descriptions, `lm` (null: an
/// LM's own state is the LM client's business and never includes its key).
template <Signature Sig>
boost::json::object dump_state(const Predict<Sig>& p) {
  boost::json::array demos;
  for (const auto& d : p.demos) demos.push_back(demo_to_json(d));
  boost::json::array fields;
  const SignatureMeta& meta = signature_meta<Sig>();
  for (const auto* group : {&meta.inputs, &meta.outputs})
    for (const auto& f : *group)
      fields.push_back({{"prefix", infer_prefix(f.name) + ":"},
                        {"description", f.desc.empty() ? "${" + std::string(f.name) + "}" : std::string(f.desc)}});
  return {{"traces", boost::json::array{}},
          {"train", boost::json::array{}},
          {"demos", std::move(demos)},
          {"signature", {{"instructions", p.instructions()}, {"fields", std::move(fields)}}},
          {"lm", nullptr}};
}

/// Loads a state written by dump_state or by DSPy. All or nothing: on error the predictor is
/// unchanged and the message says which part of the state was wrong.
template <Signature Sig>
Result<void> load_state(Predict<Sig>& p, const boost::json::value& state) {
  const auto bad = [](std::string what) { return Error(Errc::parse_error, "predictor state: " + std::move(what)); };
  if (!state.is_object()) return bad("expected a JSON object");
  const auto& o = state.get_object();
  std::vector<Demo<Sig>> demos;
  if (const auto* d = o.if_contains("demos")) {
    if (!d->is_array()) return bad("`demos` must be an array");
    for (std::size_t i = 0; i < d->get_array().size(); ++i) {
      const auto& item = d->get_array()[i];
      if (!item.is_object()) return bad("`demos[" + std::to_string(i) + "]` must be an object");
      auto demo = demo_from_json<Sig>(item.get_object());
      if (!demo) return bad("`demos[" + std::to_string(i) + "]`: " + demo.error().message());
      demos.push_back(std::move(*demo));
    }
  }
  std::string instructions = p.instructions();
  if (const auto* s = o.if_contains("signature")) {
    if (!s->is_object()) return bad("`signature` must be an object");
    if (const auto* ins = s->get_object().if_contains("instructions")) {
      if (!ins->is_string()) return bad("`signature.instructions` must be a string");
      instructions = std::string(ins->get_string());
    }
    if (const auto* f = s->get_object().if_contains("fields")) {
      const std::size_t expected = signature_meta<Sig>().inputs.size() + signature_meta<Sig>().outputs.size();
      if (!f->is_array() || f->get_array().size() != expected)
        return bad("`signature.fields` must list the signature's " + std::to_string(expected) + " fields");
    }
  }
  p.demos = std::move(demos);
  if (instructions != p.instructions()) p.set_instructions(std::move(instructions));
  return {};
}

}  // namespace dspy

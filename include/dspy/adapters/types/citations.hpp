// dspy::Citations, DSPy's dspy.experimental.Citations: the passages of the input documents a reply
// cites. With an Anthropic model the field leaves the prompt and is read from the reply's own
// citations (Anthropic's Citations API); otherwise it is a JSON section of the reply.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

#include "../../detail/text/pytext.hpp"
#include "../../detail/text/tolerant.hpp"

namespace dspy {

struct Citation {
  std::string type = "char_location";
  std::string cited_text;
  int document_index = 0;
  std::optional<std::string> document_title{};
  int start_char_index = 0;
  int end_char_index = 0;
  std::optional<std::string> supported_text{};

  /// As DSPy's Citation.format: the title and supported text only when set.
  [[nodiscard]] boost::json::object to_json() const {
    boost::json::object o{{"type", type},
                          {"cited_text", cited_text},
                          {"document_index", document_index},
                          {"start_char_index", start_char_index},
                          {"end_char_index", end_char_index}};
    if (document_title && !document_title->empty()) o["document_title"] = *document_title;
    if (supported_text && !supported_text->empty()) o["supported_text"] = *supported_text;
    return o;
  }

  friend bool operator==(const Citation&, const Citation&) = default;
};

struct Citations {
  std::vector<Citation> citations{};

  static constexpr std::string_view type_name = "Citations";
  static constexpr std::string_view type_description =
      "Citations with quoted text and source references. Include the exact text being cited and information about "
      "its source.";

  /// The citation dicts (DSPy's model_dump of a Citations).
  [[nodiscard]] boost::json::value to_json() const {
    boost::json::array a;
    for (const auto& c : citations) a.push_back(c.to_json());
    return a;
  }
  /// In a prompt: the citation dicts as JSON.
  [[nodiscard]] std::string format() const { return detail::py_json(to_json()); }

  /// A list of citation dicts, `{"citations": [...]}`, or one citation (as DSPy accepts).
  static std::optional<std::string> from_json(const boost::json::value& v, Citations& out) {
    const boost::json::array* list = v.if_array();
    boost::json::array one;
    if (const auto* o = v.if_object()) {
      if (const auto* c = o->if_contains("citations")) list = c->if_array();
      else if (o->contains("cited_text")) one.push_back(*o), list = &one;
    }
    if (!list) return "expected citations (a list of `{\"cited_text\", \"document_index\", ...}`)";
    Citations result;
    for (std::size_t i = 0; i < list->size(); ++i) {
      const auto* c = (*list)[i].if_object();
      const auto where = "citations[" + std::to_string(i) + "]";
      if (!c) return where + ": expected an object";
      Citation cit;
      const auto text = [&](std::string_view key, std::string& into, bool required) -> std::optional<std::string> {
        const auto* x = c->if_contains(key);
        if (!x || x->is_null()) return required ? std::optional<std::string>(where + ": missing `" + std::string(key) + "`")
                                                : std::nullopt;
        if (!x->is_string()) return where + ": `" + std::string(key) + "` must be a string";
        into = x->get_string();
        return std::nullopt;
      };
      const auto number = [&](std::string_view key, int& into) -> std::optional<std::string> {
        const auto* x = c->if_contains(key);
        if (!x || !x->is_int64() || x->get_int64() < 0 || x->get_int64() > INT32_MAX)
          return where + ": `" + std::string(key) + "` must be a non-negative integer";
        into = static_cast<int>(x->get_int64());
        return std::nullopt;
      };
      std::string title, supported;
      if (auto e = text("cited_text", cit.cited_text, true)) return e;
      if (auto e = text("type", cit.type, false)) return e;
      if (auto e = number("document_index", cit.document_index)) return e;
      if (auto e = number("start_char_index", cit.start_char_index)) return e;
      if (auto e = number("end_char_index", cit.end_char_index)) return e;
      if (auto e = text("document_title", title, false)) return e;
      if (auto e = text("supported_text", supported, false)) return e;
      if (c->contains("document_title") && !c->at("document_title").is_null()) cit.document_title = title;
      if (c->contains("supported_text") && !c->at("supported_text").is_null()) cit.supported_text = supported;
      result.citations.push_back(std::move(cit));
    }
    out = std::move(result);
    return std::nullopt;
  }
  /// A JSON section of the reply.
  static std::optional<std::string> parse(std::string_view text, Citations& out) {
    boost::system::error_code ec;
    const boost::json::value v = boost::json::parse(detail::strip_code_fence(text), ec);
    if (ec) return "the citations are not JSON: " + std::string(text);
    return from_json(v, out);
  }

  friend bool operator==(const Citations&, const Citations&) = default;
};

}  // namespace dspy

// The bodies of citations.hpp: header-only, citations.hpp includes them; with DSPY_SEPARATE_COMPILATION,
// <dspy/src.hpp> compiles them once.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>
#include <boost/json.hpp>

#include "../../detail/text/pytext.hpp"
#include "../../detail/text/tolerant.hpp"
#include "citations.hpp"

namespace dspy {

DSPY_DECL boost::json::object Citation::to_json() const {
  boost::json::object o{{"type", type},
                        {"cited_text", cited_text},
                        {"document_index", document_index},
                        {"start_char_index", start_char_index},
                        {"end_char_index", end_char_index}};
  if (document_title && !document_title->empty()) o["document_title"] = *document_title;
  if (supported_text && !supported_text->empty()) o["supported_text"] = *supported_text;
  return o;
}

DSPY_DECL boost::json::value Citations::to_json() const {
  boost::json::array a;
  for (const auto& c : citations) a.push_back(c.to_json());
  return a;
}

DSPY_DECL std::optional<std::string> Citations::from_json(const boost::json::value& v, Citations& out) {
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

DSPY_DECL std::optional<std::string> Citations::parse(std::string_view text, Citations& out) {
  boost::system::error_code ec;
  const boost::json::value v = boost::json::parse(detail::strip_code_fence(text), ec);
  if (ec) return "the citations are not JSON: " + std::string(text);
  return from_json(v, out);
}

}  // namespace dspy

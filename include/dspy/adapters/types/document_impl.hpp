// The bodies of document.hpp: header-only, document.hpp includes them; with DSPY_SEPARATE_COMPILATION,
// <dspy/src.hpp> compiles them once.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <boost/json.hpp>

#include "document.hpp"
#include "media.hpp"

namespace dspy {

DSPY_DECL boost::json::array Document::format() const {
  boost::json::object part{{"type", "document"},
                           {"source", {{"type", "text"}, {"media_type", media_type}, {"data", data}}},
                           {"citations", {{"enabled", true}}}};
  if (title) part["title"] = *title;
  if (context) part["context"] = *context;
  return {std::move(part)};
}

DSPY_DECL std::optional<std::string> Document::from_json(const boost::json::value& v, Document& out) {
  if (v.is_string()) {
    const auto parts = detail::marked_parts(v.get_string());
    if (!parts || parts->empty() || !parts->front().is_object()) return "expected a Document";
    const auto& p = parts->front().get_object();
    const auto* source = p.if_contains("source");
    if (!source || !source->is_object()) return "a saved Document without a source";
    boost::json::object o{{"data", source->get_object().contains("data") ? source->at("data") : nullptr},
                          {"media_type", source->get_object().contains("media_type") ? source->at("media_type")
                                                                                     : boost::json::value("text/plain")}};
    if (p.contains("title")) o["title"] = p.at("title");
    if (p.contains("context")) o["context"] = p.at("context");
    return from_json(o, out);
  }
  const auto* o = v.if_object();
  if (!o || !o->contains("data") || !o->at("data").is_string()) return "a Document needs a string `data`";
  Document d;
  d.data = o->at("data").get_string();
  const auto text = [&](std::string_view key) -> std::optional<std::string> {
    const auto* x = o->if_contains(key);
    return x && x->is_string() ? std::optional<std::string>(x->get_string()) : std::nullopt;
  };
  d.title = text("title");
  d.context = text("context");
  if (auto m = text("media_type")) d.media_type = std::move(*m);
  out = std::move(d);
  return std::nullopt;
}

}  // namespace dspy

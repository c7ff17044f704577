// The bodies of reasoning.hpp: header-only, reasoning.hpp includes them; with DSPY_SEPARATE_COMPILATION,
// <dspy/src.hpp> compiles them once.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <boost/json.hpp>

#include "../../detail/text/tolerant.hpp"
#include "reasoning.hpp"

namespace dspy {

DSPY_DECL std::optional<std::string> Reasoning::parse(std::string_view text, Reasoning& out) {
  const std::string_view t = detail::trim(text);
  if (t.size() >= 2 && t.front() == '"' && t.back() == '"') {
    boost::system::error_code ec;
    const boost::json::value v = boost::json::parse(t, ec);
    if (!ec && v.is_string()) {
      out.content = v.get_string();
      return std::nullopt;
    }
  }
  out.content.assign(text);
  return std::nullopt;
}

DSPY_DECL std::optional<std::string> Reasoning::from_json(const boost::json::value& v, Reasoning& out) {
  if (v.is_string()) return out.content = v.get_string(), std::nullopt;
  if (const auto* o = v.if_object(); o && o->contains("content") && o->at("content").is_string())
    return out.content = o->at("content").get_string(), std::nullopt;
  return "expected a Reasoning (a string or `{\"content\": ...}`)";
}

}  // namespace dspy

// Exact-text redaction of a known secret (an LM's API key).
#pragma once

#include <string>
#include <string_view>

namespace dspy::detail {

/// `text` with every occurrence of `secret` replaced.
inline std::string redact(std::string text, std::string_view secret) {
  if (secret.empty()) return text;
  for (auto pos = text.find(secret); pos != std::string::npos; pos = text.find(secret, pos + 10))
    text.replace(pos, secret.size(), "[redacted]");
  return text;
}

}  // namespace dspy::detail

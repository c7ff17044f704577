// Reading the DSPy 3.3.1 vectors in tests/golden for the runners that have files of their own.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <dspy/all.hpp>

namespace golden {

/// tests/golden/<name>.json.
inline boost::json::object vector_named(const std::string& name) {
  auto text = dspy::detail::read_text_file(std::filesystem::path(DSPY_GOLDEN_DIR) / (name + ".json"));
  EXPECT_TRUE(text) << text.error().message();
  return text ? boost::json::parse(*text).as_object() : boost::json::object{};
}

/// A vector's `messages` (text contents) as the library's messages.
inline std::vector<dspy::Message> messages_of(const boost::json::value& messages) {
  std::vector<dspy::Message> out;
  for (const auto& m : messages.as_array())
    out.push_back({std::string(m.at("role").as_string()), std::string(m.at("content").as_string())});
  return out;
}

}  // namespace golden

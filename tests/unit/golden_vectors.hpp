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

/// An LM that reports a vector's capabilities (`lm`), keeps each request, and answers call i with
/// the i-th reply message of the vector (`response`, or each trace call's): its content, tool
/// calls, `reasoning_content` and LiteLLM's citations.
class TraceLM : public dspy::BaseLM {
 public:
  TraceLM(const boost::json::object& lm, std::vector<boost::json::object> replies)
      : model_(lm.at("model").as_string()), replies_(std::move(replies)) {
    set_capabilities({.function_calling = lm.at("supports_function_calling").as_bool(),
                      .reasoning = lm.at("supports_reasoning").as_bool(),
                      .response_schema = lm.at("supports_response_schema").as_bool()});
  }
  [[nodiscard]] std::string model() const override { return model_; }
  std::vector<dspy::LMRequest> requests;

 protected:
  boost::asio::awaitable<dspy::Result<dspy::LMResponse>> aforward(dspy::LMRequest request) override {
    const std::size_t i = requests.size();
    requests.push_back(std::move(request));
    if (i >= replies_.size()) co_return dspy::Error(dspy::Errc::config, "more calls than the vector has replies");
    const boost::json::object& reply = replies_[i];
    dspy::LMResponse r;
    r.model = model_;
    const auto* content = reply.if_contains("content");
    r.completions.push_back(content && content->is_string() ? std::string(content->get_string()) : std::string());
    if (const auto* reasoning = reply.if_contains("reasoning_content")) r.reasoning.emplace_back(reasoning->as_string());
    // LiteLLM's place for Anthropic's citations: a list per text block, flattened.
    if (const auto* fields = reply.if_contains("provider_specific_fields")) {
      boost::json::array flat;
      for (const auto& block : fields->at("citations").as_array())
        for (const auto& c : block.as_array()) flat.push_back(c);
      r.citations.push_back(std::move(flat));
    }
    if (const auto* calls = reply.if_contains("tool_calls")) {
      std::vector<dspy::MessageToolCall> out;
      for (const auto& c : calls->as_array())
        out.push_back({std::string(c.at("id").as_string()), std::string(c.at("function").at("name").as_string()),
                       std::string(c.at("function").at("arguments").as_string())});
      r.tool_calls.push_back(std::move(out));
    }
    co_return r;
  }

 private:
  std::string model_;
  std::vector<boost::json::object> replies_;
};

/// A trace vector's replies, call by call.
inline std::vector<boost::json::object> trace_replies(const boost::json::array& calls) {
  std::vector<boost::json::object> out;
  for (const auto& c : calls) out.push_back(c.at("response").as_object());
  return out;
}

}  // namespace golden

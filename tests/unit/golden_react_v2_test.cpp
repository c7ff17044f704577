// ReActV2: DSPy 3.3.1's react_v2_* traces (every request of the run, and the final result) with
// tools that are C++ callables, and what the traces do not show: parallel calls, tool errors as
// results, the forced submit, and the reasons a run ends.
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "golden_vectors.hpp"

namespace golden_react_v2_test {

namespace json = boost::json;
using golden::vector_named;

struct AnswerQuestion {
  static constexpr std::string_view instructions = "Answer the question using the tools.";
  struct Input {
    std::string question;
  };
  struct Output {
    std::string answer;
  };
};

struct CityArgs {
  std::string city;
};
struct CountryArgs {
  std::string country;
};

dspy::Tool current_weather() {
  return dspy::tool<"current_weather">([](CityArgs a) { return "Sunny, 21 °C in " + a.city; },
                                       "Return the current weather for a city.");
}
dspy::Tool lookup_capital() {
  return dspy::tool<"lookup_capital">([](CountryArgs a) { return a.country == "Peru" ? "Lima" : "unknown"; },
                                      "Return the capital city of a country.");
}

dspy::AdapterHandle adapter_of(const json::object& v) {
  const bool native = v.at("adapter_options").at("use_native_function_calling").as_bool();
  return dspy::ChatAdapter{.use_native_function_calling = native};
}


// DSPy's expected_fields write a Reasoning as {"content": ...}; the History here holds its text.
json::value reasoning_as_text(json::value v) {
  for (auto& turn : v.at("history").at("messages").as_array())
    if (auto* t = turn.as_object().if_contains("next_thought"); t && t->is_object()) *t = t->at("content");
  return v;
}

void check_trace(const std::string& name, std::vector<dspy::Tool> tools) {
  SCOPED_TRACE(name);
  const json::object v = vector_named(name);
  const auto& calls = v.at("calls").as_array();
  auto lm = std::make_shared<golden::TraceLM>(v.at("lm").as_object(), golden::trace_replies(calls));
  dspy::ReActV2<AnswerQuestion> agent(std::move(tools), v.at("module").at("max_iters").as_int64());
  agent.react.adapter = adapter_of(v);
  agent.react.set_lm(lm);

  // The module's tools (with `submit`) and step signature are DSPy's.
  const auto& module = v.at("module").as_object();
  ASSERT_EQ(agent.tools().size(), module.at("tools").as_array().size());
  for (std::size_t i = 0; i < agent.tools().size(); ++i) EXPECT_EQ(agent.tools()[i].to_json(), module.at("tools").at(i));
  EXPECT_EQ(agent.react.instructions(), module.at("react_signature").at("instructions").as_string());

  const auto result = agent({std::string(v.at("inputs").at("question").as_string())});
  ASSERT_EQ(lm->requests.size(), calls.size());
  for (std::size_t c = 0; c < calls.size(); ++c) {
    SCOPED_TRACE("call " + std::to_string(c));
    const auto& want = calls[c].at("messages").as_array();
    const auto& sent = lm->requests[c];
    ASSERT_EQ(sent.messages.size(), want.size());
    for (std::size_t i = 0; i < want.size(); ++i) EXPECT_EQ(json::value(dspy::detail::message_json(sent.messages[i])), want[i]) << i;
    const auto& kwargs = calls[c].at("lm_kwargs").as_object();
    EXPECT_EQ(json::value(sent.tools), kwargs.contains("tools") ? kwargs.at("tools") : json::value(json::array{}));
    EXPECT_EQ(sent.tool_choice, kwargs.contains("tool_choice") ? kwargs.at("tool_choice") : json::value());
  }
  ASSERT_TRUE(result) << result.error().message();
  const auto& out = **result;
  EXPECT_EQ(out.answer, v.at("expected").at("answer").as_string());
  EXPECT_EQ(out.termination_reason, v.at("expected").at("termination_reason").as_string());
  EXPECT_EQ(dspy::to_json(out.history), reasoning_as_text(v.at("expected_fields")).at("history"));
}

TEST(GoldenReActV2, NativeToolCallsTwoSteps) { check_trace("react_v2_step2_chat", {current_weather()}); }
TEST(GoldenReActV2, TextToolCallsTwoSteps) { check_trace("react_v2_step2_text_chat", {lookup_capital()}); }

}  // namespace golden_react_v2_test

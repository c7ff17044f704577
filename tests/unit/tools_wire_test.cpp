// Native tool calling over real HTTP on loopback: a ReActV2 run whose first step asks for two
// calls at once, against OpenAI chat completions, Anthropic Messages and the Responses API. The
// exact tool definitions, assistant tool calls and tool results each API receives; replies'
// calls read back; the forced submit's tool_choice; tool errors as results.
#include <sstream>
#include <string>
#include <vector>

#include <dspy/all.hpp>
#include <gtest/gtest.h>

#include "../support/http_test_server.hpp"

namespace tools_wire_test {

namespace json = boost::json;
using dspy::test::TestServer;

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

std::vector<dspy::Tool> tools() {
  return {dspy::tool<"current_weather">([](CityArgs a) { return "Sunny in " + a.city; }, "Return the weather."),
          dspy::tool<"lookup_capital">([](CountryArgs a) { return a.country == "Peru" ? "Lima" : "?"; },
                                       "Return a capital.")};
}

std::shared_ptr<dspy::LM> lm_for(const std::string& model, const TestServer& server, std::string model_type = "chat") {
  return std::make_shared<dspy::LM>(model, dspy::LMConfig{.api_base = server.base_url(),
                                                          .api_key = "sk-test-tools-wire-1",
                                                          .cache = false,
                                                          .capabilities = dspy::LMCapabilities{.function_calling = true},
                                                          .model_type = std::move(model_type)});
}

dspy::ReActV2<AnswerQuestion> agent(std::shared_ptr<dspy::LM> lm, std::size_t max_iters = 5) {
  dspy::ReActV2<AnswerQuestion> a(tools(), max_iters);
  a.react.adapter = dspy::ChatAdapter{.use_native_function_calling = true};
  a.react.set_lm(std::move(lm));
  return a;
}

constexpr std::string_view kThought = "[[ ## next_thought ## ]]\nLook both up.\n\n[[ ## completed ## ]]";

std::string openai_calls(std::string_view content, std::string_view calls) {
  return R"({"id":"x","object":"chat.completion","model":"m","choices":[{"index":0,"message":{"role":"assistant",)"
         R"("content":)" + std::string(content) + R"(,"tool_calls":)" + std::string(calls) +
         R"(},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15}})";
}

const std::string kParallelCalls =
    R"([{"id":"call_1","type":"function","function":{"name":"current_weather","arguments":"{\"city\":\"Zürich\"}"}},)"
    R"({"id":"call_2","type":"function","function":{"name":"lookup_capital","arguments":"{\"country\":\"Peru\"}"}}])";
const std::string kSubmit =
    R"([{"id":"call_3","type":"function","function":{"name":"submit","arguments":"{\"answer\":\"Lima; sunny\"}"}}])";

json::object body_of(const std::string& text) { return json::parse(text).as_object(); }

constexpr std::string_view kToolsOpenAI =
    R"([{"type":"function","function":{"name":"current_weather","parameters":{"type":"object","properties":)"
    R"({"city":{"type":"string"}},"required":["city"]},"description":"Return the weather."}},)"
    R"({"type":"function","function":{"name":"lookup_capital","parameters":{"type":"object","properties":)"
    R"({"country":{"type":"string"}},"required":["country"]},"description":"Return a capital."}},)"
    R"({"type":"function","function":{"name":"submit","parameters":{"type":"object","properties":)"
    R"({"answer":{"type":"string"}},"required":["answer"]},"description":"Submit the final outputs for the task."}}])";

TEST(ToolsWire, OpenAIGetsToolsThenTheCallsAndTheirResults) {
  TestServer server;
  server.push({.body = openai_calls(json::serialize(json::string(kThought)), kParallelCalls)});
  server.push({.body = openai_calls("null", kSubmit)});
  const auto r = agent(lm_for("openai/gpt-4o-mini", server))({"Capital of Peru, and the weather in Zürich?"});
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->answer, "Lima; sunny");
  EXPECT_EQ(r->termination_reason, "submit");
  const auto got = server.requests();
  ASSERT_EQ(got.size(), 2U);
  const json::object first = body_of(got[0].body), second = body_of(got[1].body);
  EXPECT_EQ(json::serialize(first.at("tools")), kToolsOpenAI);
  EXPECT_FALSE(first.contains("tool_choice"));
  const auto& messages = second.at("messages").as_array();
  ASSERT_EQ(messages.size(), 6U);  // system, the question, the calls, two results, the reminder
  EXPECT_EQ(json::serialize(messages[2]),
            R"({"role":"assistant","content":"[[ ## next_thought ## ]]\nLook both up.\n\n[[ ## completed ## ]]\n",)"
            R"("tool_calls":[{"type":"function","function":{"name":"current_weather","arguments":"{\"city\": \"Z\\u00fcrich\"}"},"id":"call_1"},)"
            R"({"type":"function","function":{"name":"lookup_capital","arguments":"{\"country\": \"Peru\"}"},"id":"call_2"}]})");
  EXPECT_EQ(json::serialize(messages[3]),
            R"({"role":"tool","content":"Sunny in Zürich","tool_call_id":"call_1","name":"current_weather"})");
  EXPECT_EQ(json::serialize(messages[4]), R"({"role":"tool","content":"Lima","tool_call_id":"call_2","name":"lookup_capital"})");
  // inspect_history shows the calls, as DSPy's does.
  std::ostringstream shown;
  dspy::inspect_history(1, shown);
  EXPECT_NE(shown.str().find("Assistant message:\n\n[[ ## next_thought ## ]]\nLook both up.\n\n[[ ## completed ## ]]\n"
                             "Tool calls:\ncurrent_weather: {\"city\": \"Zürich\"}\nlookup_capital: {\"country\": \"Peru\"}\n"),
            std::string::npos)
      << shown.str();
  EXPECT_NE(shown.str().find("Tool calls:\nsubmit: {\"answer\": \"Lima; sunny\"}\n"), std::string::npos) << shown.str();
  EXPECT_EQ(shown.str().find("Response:"), std::string::npos);
  // The history holds both turns, each call with its result.
  ASSERT_EQ(r->history.messages.size(), 2U);
  const auto& results = r->history.messages[0].at("tool_calls").at("tool_call_results").at("tool_call_results").as_array();
  ASSERT_EQ(results.size(), 2U);
  EXPECT_EQ(results[1].at("value"), "Lima");
}

TEST(ToolsWire, AnthropicGetsToolUseAndToolResultBlocks) {
  TestServer server;
  server.push({.body = R"({"id":"m1","type":"message","role":"assistant","model":"claude","content":[)"
                       R"({"type":"text","text":"[[ ## next_thought ## ]]\nLook both up.\n\n[[ ## completed ## ]]"},)"
                       R"({"type":"tool_use","id":"toolu_1","name":"current_weather","input":{"city":"Zürich"}},)"
                       R"({"type":"tool_use","id":"toolu_2","name":"lookup_capital","input":{"country":"Peru"}}],)"
                       R"("stop_reason":"tool_use","usage":{"input_tokens":10,"output_tokens":5}})"});
  server.push({.body = R"({"id":"m2","type":"message","role":"assistant","model":"claude","content":[)"
                       R"({"type":"tool_use","id":"toolu_3","name":"submit","input":{"answer":"Lima; sunny"}}],)"
                       R"("stop_reason":"tool_use","usage":{"input_tokens":10,"output_tokens":5}})"});
  const auto r = agent(lm_for("anthropic/claude-sonnet-4-5", server))({"Capital of Peru, and the weather in Zürich?"});
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->answer, "Lima; sunny");
  const auto got = server.requests();
  ASSERT_EQ(got.size(), 2U);
  const json::object first = body_of(got[0].body), second = body_of(got[1].body);
  EXPECT_EQ(json::serialize(first.at("tools").at(0)),
            R"({"name":"current_weather","description":"Return the weather.","input_schema":{"type":"object",)"
            R"("properties":{"city":{"type":"string"}},"required":["city"]}})");
  EXPECT_FALSE(first.contains("tool_choice"));
  const auto& messages = second.at("messages").as_array();
  ASSERT_EQ(messages.size(), 4U);  // the question, the calls, the results, the reminder (system apart)
  EXPECT_EQ(json::serialize(messages[1]),
            R"({"role":"assistant","content":[{"type":"text","text":"[[ ## next_thought ## ]]\nLook both up.\n\n[[ ## completed ## ]]\n"},)"
            R"({"type":"tool_use","id":"toolu_1","name":"current_weather","input":{"city":"Zürich"}},)"
            R"({"type":"tool_use","id":"toolu_2","name":"lookup_capital","input":{"country":"Peru"}}]})");
  EXPECT_EQ(json::serialize(messages[2]),
            R"({"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":"Sunny in Zürich"},)"
            R"({"type":"tool_result","tool_use_id":"toolu_2","content":"Lima"}]})");
}

TEST(ToolsWire, TheResponsesApiGetsFunctionCallItems) {
  TestServer server;
  server.push({.body = R"({"id":"r1","object":"response","output":[{"type":"message","role":"assistant","content":[)"
                       R"({"type":"output_text","text":"[[ ## next_thought ## ]]\nLook both up.\n\n[[ ## completed ## ]]"}]},)"
                       R"({"type":"function_call","id":"fc_1","call_id":"call_1","name":"current_weather","arguments":"{\"city\":\"Zürich\"}"},)"
                       R"({"type":"function_call","id":"fc_2","call_id":"call_2","name":"lookup_capital","arguments":"{\"country\":\"Peru\"}"}],)"
                       R"("usage":{"input_tokens":10,"output_tokens":5,"total_tokens":15}})"});
  server.push({.body = R"({"id":"r2","object":"response","output":[)"
                       R"({"type":"function_call","id":"fc_3","call_id":"call_3","name":"submit","arguments":"{\"answer\":\"Lima; sunny\"}"}],)"
                       R"("usage":{"input_tokens":10,"output_tokens":5,"total_tokens":15}})"});
  const auto r = agent(lm_for("openai/gpt-4o-mini", server, "responses"))({"Capital of Peru, and the weather in Zürich?"});
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->answer, "Lima; sunny");
  const auto got = server.requests();
  ASSERT_EQ(got.size(), 2U);
  const json::object first = body_of(got[0].body), second = body_of(got[1].body);
  EXPECT_EQ(json::serialize(first.at("tools").at(0)),
            R"({"type":"function","name":"current_weather","parameters":{"type":"object","properties":)"
            R"({"city":{"type":"string"}},"required":["city"]},"description":"Return the weather."})");
  const auto& input = second.at("input").as_array();
  ASSERT_EQ(input.size(), 8U);  // system, question, the thought, two calls, two outputs, reminder
  EXPECT_EQ(json::serialize(input[3]),
            R"({"type":"function_call","call_id":"call_1","name":"current_weather","arguments":"{\"city\": \"Z\\u00fcrich\"}"})");
  EXPECT_EQ(json::serialize(input[5]), R"({"type":"function_call_output","call_id":"call_1","output":"Sunny in Zürich"})");
  EXPECT_EQ(json::serialize(input[6]), R"({"type":"function_call_output","call_id":"call_2","output":"Lima"})");
}

TEST(ToolsWire, AfterMaxItersTheAgentIsMadeToSubmit) {
  TestServer server;
  server.push({.body = openai_calls(json::serialize(json::string(kThought)), kParallelCalls)});
  server.push({.body = openai_calls("null", kSubmit)});
  const auto r = agent(lm_for("openai/gpt-4o-mini", server), 1)({"Capital of Peru?"});
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->termination_reason, "forced_submit");
  EXPECT_EQ(r->answer, "Lima; sunny");
  const auto got = server.requests();
  ASSERT_EQ(got.size(), 2U);
  const json::object forced = body_of(got[1].body);
  EXPECT_EQ(json::serialize(forced.at("tool_choice")), R"({"type":"function","function":{"name":"submit"}})");
  EXPECT_FALSE(forced.contains("reasoning_effort"));
  // The forced call's ids are numbered after the last turn, as DSPy numbers them.
  EXPECT_EQ(r->history.messages.back().at("tool_calls").at("tool_calls").at(0).at("id"), "call_3");
}

TEST(ToolsWire, ToolErrorsAreResultsNotFailures) {
  TestServer server;
  server.push({.body = openai_calls(
                   "null", R"([{"id":"c1","type":"function","function":{"name":"nowhere","arguments":"{}"}},)"
                           R"({"id":"c2","type":"function","function":{"name":"current_weather","arguments":"{\"city\":[\"Oslo\"]}"}},)"
                           R"({"id":"c3","type":"function","function":{"name":"submit","arguments":"{}"}}])")});
  server.push({.body = openai_calls("null", kSubmit)});
  const auto r = agent(lm_for("openai/gpt-4o-mini", server))({"Capital of Peru?"});
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->termination_reason, "submit");
  const auto& results =
      r->history.messages[0].at("tool_calls").at("tool_call_results").at("tool_call_results").as_array();
  ASSERT_EQ(results.size(), 3U);
  EXPECT_EQ(results[0].at("value"), "Unknown tool: nowhere");
  EXPECT_TRUE(results[0].at("is_error").as_bool());
  EXPECT_TRUE(results[1].at("value").as_string().starts_with("Execution error in current_weather: "))
      << results[1].at("value");
  EXPECT_EQ(results[2].at("value"), "Execution error in submit: Missing required final output field(s): answer");
  // The results went back to the LM as tool messages.
  const json::object second = body_of(server.requests()[1].body);
  EXPECT_EQ(second.at("messages").at(3).at("content"), "Unknown tool: nowhere");
}

TEST(ToolsWire, AThrowingToolIsAnExecutionError) {
  const dspy::Tool broken = dspy::tool<"broken">([](CityArgs) -> std::string { throw std::runtime_error("no network"); });
  dspy::ToolCalls calls{{{"c1", "broken", {{"city", "Oslo"}}}}, std::nullopt};
  const auto results = calls.execute(std::vector<dspy::Tool>{broken});
  ASSERT_EQ(results.tool_call_results.size(), 1U);
  EXPECT_EQ(results.tool_call_results[0].value, "Execution error in broken: no network");
  EXPECT_TRUE(results.tool_call_results[0].is_error);
  EXPECT_EQ(results.tool_call_results[0].call_id, "c1");
  // A tool known only by its schema (saved state) has no function to run.
  const dspy::Tool described("broken", "Breaks.", {});
  EXPECT_TRUE(broken.callable());
  EXPECT_FALSE(described.callable());
  EXPECT_EQ(calls.execute(std::vector<dspy::Tool>{described}).tool_call_results.at(0).value,
            "Execution error in broken: the tool `broken` has no function");
}

TEST(ToolsWire, WithoutFunctionCallingTheToolsStayInThePrompt) {
  TestServer server;
  server.push({.body = dspy::test::openai_reply({"[[ ## next_thought ## ]]\nDone.\n\n[[ ## tool_calls ## ]]\n"
                                                 R"([{"name": "submit", "args": {"answer": "Lima"}}])"
                                                 "\n\n[[ ## completed ## ]]"})});
  auto lm = std::make_shared<dspy::LM>(
      "openai/gpt-4o-mini", dspy::LMConfig{.api_base = server.base_url(), .api_key = "sk-test-tools-wire-1", .cache = false,
                                           .capabilities = dspy::LMCapabilities{.function_calling = false}});
  const auto r = agent(lm)({"Capital of Peru?"});
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->answer, "Lima");
  const json::object body = body_of(server.requests()[0].body);
  EXPECT_FALSE(body.contains("tools"));
  EXPECT_NE(body.at("messages").at(1).at("content").as_string().find("submit, whose description is"), std::string::npos);
  EXPECT_EQ(r->history.messages[0].at("tool_calls").at("tool_calls").at(0).at("id"), "call_0_0");
}

// ---- streamed tool calls ----

struct DecideTools {
  static constexpr std::string_view instructions = "Decide which tools to call.";
  struct Input {
    std::string question;
    std::vector<dspy::Tool> tools;
  };
  struct Output {
    dspy::ToolCalls tool_calls;
  };
};

dspy::test::Reply sse(const std::vector<std::string>& events) {
  std::string body;
  for (const auto& e : events) body += e + "\n\n";
  return {.headers = {{"Content-Type", "text/event-stream"}}, .pieces = dspy::test::cut(body)};
}

void expect_streamed_calls(const std::string& model, const TestServer& server, std::string model_type = "chat") {
  dspy::Predict<DecideTools> p;
  p.adapter = dspy::ChatAdapter{.use_native_function_calling = true};
  p.set_lm(lm_for(model, server, std::move(model_type)));
  std::string text;
  const auto r = p.stream({"Weather in Oslo, capital of Peru?", tools()},
                          [&](const dspy::StreamChunk& c) { text += c.text; });
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(server.requests().at(0).json().at("stream"), true);
  const auto& calls = r->tool_calls.tool_calls;
  ASSERT_EQ(calls.size(), 2U);
  EXPECT_EQ(calls[0].name, "current_weather");
  EXPECT_EQ(calls[0].args, (json::object{{"city", "Oslo"}}));
  EXPECT_EQ(calls[1].name, "lookup_capital");
  EXPECT_EQ(calls[1].args, (json::object{{"country", "Peru"}}));
  const auto results = r->tool_calls.execute(tools());
  ASSERT_EQ(results.tool_call_results.size(), 2U);
  EXPECT_EQ(results.tool_call_results[0].value, "Sunny in Oslo");
  EXPECT_EQ(results.tool_call_results[0].call_id, calls[0].id);
}

TEST(ToolsWire, StreamedOpenAIToolCallsArriveInPieces) {
  TestServer server;
  server.push(sse({
      R"(data: {"choices":[{"index":0,"delta":{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"current_weather","arguments":""}}]}}]})",
      R"(data: {"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\":"}}]}}]})",
      R"(data: {"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"Oslo\"}"}}]}}]})",
      R"(data: {"choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_2","type":"function","function":{"name":"lookup_capital","arguments":"{\"country\":\"Peru\"}"}}]}}]})",
      R"(data: {"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]})",
      "data: [DONE]"}));
  expect_streamed_calls("openai/gpt-4o-mini", server);
}

TEST(ToolsWire, StreamedAnthropicToolUseArrivesAsInputJsonDeltas) {
  TestServer server;
  server.push(sse({
      "event: message_start\n" R"(data: {"type":"message_start","message":{"usage":{"input_tokens":10,"output_tokens":1}}})",
      "event: content_block_start\n" R"(data: {"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"toolu_1","name":"current_weather","input":{}}})",
      "event: content_block_delta\n" R"(data: {"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{\"city\":"}})",
      "event: content_block_delta\n" R"(data: {"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"\"Oslo\"}"}})",
      "event: content_block_stop\n" R"(data: {"type":"content_block_stop","index":0})",
      "event: content_block_start\n" R"(data: {"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_2","name":"lookup_capital","input":{}}})",
      "event: content_block_delta\n" R"(data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"country\":\"Peru\"}"}})",
      "event: content_block_stop\n" R"(data: {"type":"content_block_stop","index":1})",
      "event: message_delta\n" R"(data: {"type":"message_delta","delta":{"stop_reason":"tool_use"},"usage":{"output_tokens":9}})",
      "event: message_stop\n" R"(data: {"type":"message_stop"})"}));
  expect_streamed_calls("anthropic/claude-sonnet-4-5", server);
}

TEST(ToolsWire, StreamedResponsesFunctionCallsArriveWhenDone) {
  TestServer server;
  server.push(sse({
      "event: response.output_item.added\n" R"(data: {"type":"response.output_item.added","output_index":0,"item":{"type":"function_call","id":"fc_1","call_id":"call_1","name":"current_weather","arguments":""}})",
      "event: response.function_call_arguments.delta\n" R"(data: {"type":"response.function_call_arguments.delta","output_index":0,"item_id":"fc_1","delta":"{\"city\":"})",
      "event: response.output_item.done\n" R"(data: {"type":"response.output_item.done","output_index":0,"item":{"type":"function_call","id":"fc_1","call_id":"call_1","name":"current_weather","arguments":"{\"city\":\"Oslo\"}"}})",
      "event: response.output_item.done\n" R"(data: {"type":"response.output_item.done","output_index":1,"item":{"type":"function_call","id":"fc_2","call_id":"call_2","name":"lookup_capital","arguments":"{\"country\":\"Peru\"}"}})",
      "event: response.completed\n" R"(data: {"type":"response.completed","response":{"usage":{"input_tokens":10,"output_tokens":5,"total_tokens":15}}})"}));
  expect_streamed_calls("openai/gpt-4o-mini", server, "responses");
}

}  // namespace tools_wire_test

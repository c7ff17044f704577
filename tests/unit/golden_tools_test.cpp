// Native and text tool calling: DSPy 3.3.1's tools_native_* and tools_text_* vectors. The tools
// are C++ callables; their argument schemas, derived from the argument structs at compile time,
// must be DSPy's for the same Python functions.
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "golden_vectors.hpp"

namespace golden_tools_test {

namespace json = boost::json;
using golden::vector_named;

struct Location {
  std::string street;
  std::string city;
  std::string country;
};
struct Contact {
  std::string name;
  std::string email;
  Location location;
};

struct WeatherArgs {
  std::string city;
  dspy::Literal<"celsius", "fahrenheit"> unit = "celsius";
  static constexpr std::string_view defaults[] = {"unit"};
};
struct FlightArgs {
  std::string origin;
  std::string destination;
  double max_price = 0;
  bool nonstop = false;
  std::optional<std::vector<std::string>> airlines;
  static constexpr std::string_view defaults[] = {"nonstop"};
};
struct ContactArgs {
  Contact contact;
  std::vector<std::string> tags;
};

// The tools of the vectors, their descriptions as Python keeps the docstrings.
std::vector<dspy::Tool> vector_tools() {
  return {dspy::tool<"get_weather">([](WeatherArgs a) { return "18 degrees " + std::string(a.unit.value()) + " in " + a.city; },
                                    "Get the current weather for a city."),
          dspy::tool<"search_flights">([](FlightArgs) { return std::vector<std::string>{}; },
                                       "Search flights between two airports.\n\n    Returns at most ten offers, "
                                       "cheapest first.\n    "),
          dspy::tool<"save_contact">([](ContactArgs) { return "saved"; }, "Save a contact to the address book.")};
}

struct DecideTools {
  static constexpr std::string_view instructions = "Decide which tools to call to answer the question.";
  struct Input {
    std::string question;
    std::vector<dspy::Tool> tools;
  };
  struct Output {
    dspy::ToolCalls tool_calls;
  };
};

struct AnswerWithTools {
  static constexpr std::string_view instructions = "Answer the question, calling tools when needed.";
  struct Input {
    std::string question;
    std::vector<dspy::Tool> tools;
  };
  struct Output {
    std::string answer;
    dspy::ToolCalls tool_calls;
  };
};

dspy::AdapterHandle adapter_of(const json::object& v) {
  const auto& o = v.at("adapter_options").as_object();
  const bool native = o.at("use_native_function_calling").as_bool();
  std::optional<bool> parallel;
  if (const auto* p = o.if_contains("parallel_tool_calls")) parallel = p->as_bool();
  const std::string_view name = v.at("adapter").as_string();
  if (name == "json") return dspy::JSONAdapter{.use_native_function_calling = native, .parallel_tool_calls = parallel};
  if (name == "xml") return dspy::XMLAdapter{.use_native_function_calling = native, .parallel_tool_calls = parallel};
  return dspy::ChatAdapter{.use_native_function_calling = native, .parallel_tool_calls = parallel};
}


template <class Sig>
void check_vector(const std::string& name) {
  SCOPED_TRACE(name);
  const json::object v = vector_named(name);
  std::vector<json::object> replies;
  if (const auto* r = v.if_contains("response")) replies.push_back(r->as_object());
  auto lm = std::make_shared<golden::TraceLM>(v.at("lm").as_object(), replies);
  dspy::Predict<Sig> predict;
  predict.adapter = adapter_of(v);
  predict.set_lm(lm);
  typename Sig::Input input{};
  input.question = v.at("inputs").at("question").as_string();
  input.tools = vector_tools();
  // The compile-time schemas are DSPy's, tool by tool.
  const auto& want_tools = v.at("inputs").at("tools").as_array();
  ASSERT_EQ(want_tools.size(), input.tools.size());
  for (std::size_t i = 0; i < want_tools.size(); ++i) EXPECT_EQ(input.tools[i].to_json(), want_tools[i]) << i;

  const auto result = predict(input);
  ASSERT_GE(lm->requests.size(), 1U);  // a format vector's reply may not parse: the fallback asks again
  const dspy::LMRequest& sent = lm->requests.front();
  if (const auto* messages = v.if_contains("messages")) {
    const auto& want = messages->as_array();
    ASSERT_EQ(sent.messages.size(), want.size());
    for (std::size_t i = 0; i < want.size(); ++i) EXPECT_EQ(json::value(dspy::detail::message_json(sent.messages[i])), want[i]) << i;
    const auto& kwargs = v.at("lm_kwargs").as_object();
    EXPECT_EQ(json::value(sent.tools), kwargs.contains("tools") ? kwargs.at("tools") : json::value(json::array{}));
    EXPECT_EQ(sent.tool_choice, kwargs.contains("tool_choice") ? kwargs.at("tool_choice") : json::value());
    if (const auto* p = kwargs.if_contains("parallel_tool_calls")) {
      ASSERT_TRUE(sent.parallel_tool_calls);
      EXPECT_EQ(*sent.parallel_tool_calls, p->as_bool());
    } else {
      EXPECT_FALSE(sent.parallel_tool_calls);
    }
    if (const auto* f = kwargs.if_contains("response_format")) {
      // DSPy passes the pydantic class; the wire has its schema in OpenAI's json_schema wrapper.
      EXPECT_EQ(sent.response_format.at("json_schema").at("schema"), f->at("model_json_schema"));
    }
  }
  if (const auto* expected = v.if_contains("expected_fields")) {
    ASSERT_TRUE(result) << result.error().message();
    EXPECT_EQ(dspy::to_json(**result), *expected);
  }
}

TEST(GoldenTools, NativeChatFormat) { check_vector<DecideTools>("tools_native_chat_format"); }
TEST(GoldenTools, NativeJsonFormat) { check_vector<AnswerWithTools>("tools_native_json_format"); }
TEST(GoldenTools, NativeXmlFormat) { check_vector<DecideTools>("tools_native_xml_format"); }
TEST(GoldenTools, TextChatFormat) { check_vector<DecideTools>("tools_text_chat_format"); }
TEST(GoldenTools, NativeParseSingle) { check_vector<DecideTools>("tools_native_parse_single"); }
TEST(GoldenTools, NativeParseParallel) { check_vector<DecideTools>("tools_native_parse_parallel"); }
TEST(GoldenTools, NativeParseNested) { check_vector<DecideTools>("tools_native_parse_nested"); }
TEST(GoldenTools, TextChatParse) { check_vector<DecideTools>("tools_text_chat_parse"); }

}  // namespace golden_tools_test

// Native tool calling over real HTTP: the demo server serves scripted tool calls in OpenAI's and
// Anthropic's shapes, unstreamed and streamed, and dspy::LM (function calling on) reads them into
// a Predict's dspy::ToolCalls and runs a ReActV2 agent, whose later requests carry the tool
// messages back to the server.
#include <gtest/gtest.h>

#include <curl/curl.h>

#include <filesystem>
#include <fstream>
#include <map>

#include <dspy/all.hpp>
#include <dspy/detail/http/sse.hpp>

namespace demo_server_tools_test {

namespace fs = std::filesystem;
namespace json = boost::json;
using dspy::testing::DemoServer;

struct ConvertArgs {
  double value;
  std::string from;
  std::string to;
};
struct LookupArgs {
  std::string city;
};

std::vector<dspy::Tool> tools() {
  return {dspy::tool<"convert">([](ConvertArgs a) { return a.from == "km" && a.to == "mi" ? a.value * 0.621371 : a.value; },
                                "Converts a value between units."),
          dspy::tool<"lookup">([](LookupArgs a) { return "population of " + a.city + ": 436551"; },
                               "Looks up a city's population.")};
}

// A travel desk that may answer, call tools, or both.
struct TravelDesk {
  struct Input {
    std::string request;
    std::vector<dspy::Tool> tools;
  };
  struct Output {
    std::string answer;
    dspy::ToolCalls tool_calls;
  };
};

struct Trip {
  struct Input {
    std::string question;
  };
  struct Output {
    std::string answer;
  };
};

// Two parallel calls: one without an id (the server makes one up), one with; arguments as an
// object and as JSON text with a non-ASCII character.
constexpr std::string_view kParallel =
    R"({"tool_calls": [{"name": "convert", "arguments": {"value": 5, "from": "km", "to": "mi"}}, )"
    R"({"id": "given_7", "name": "lookup", "arguments": "{\"city\": \"Z\u00fcrich\"}"}]})";
constexpr std::string_view kTextAndCall =
    R"({"content": "[[ ## answer ## ]]\nchecking\n\n[[ ## completed ## ]]", "tool_calls": [{"name": "lookup", "arguments": {"city": "Bern"}}]})";

class DemoServerToolsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("dspy_demo_server_tools_test_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& name, const std::vector<std::string_view>& lines) {
    const std::string path = (dir_ / name).string();
    std::ofstream out(path);
    for (auto line : lines) out << line << "\n";
    return path;
  }

  static std::shared_ptr<dspy::LM> lm_of(const DemoServer& server, const std::string& model) {
    return std::make_shared<dspy::LM>(server.lm(
        model, {.num_retries = 0, .cache = false, .capabilities = dspy::LMCapabilities{.function_calling = true}}));
  }

  // A TravelDesk predictor calling tools natively.
  static dspy::Predict<TravelDesk> desk(std::shared_ptr<dspy::BaseLM> lm) {
    dspy::Predict<TravelDesk> out;
    out.adapter = dspy::ChatAdapter{.use_native_function_calling = true};
    out.set_lm(std::move(lm));
    return out;
  }

  fs::path dir_;
};

TEST_F(DemoServerToolsTest, PredictGetsTheScriptedParallelCallsInBothShapes) {
  const std::string replies = write("parallel.jsonl", {kParallel});
  for (const std::string provider : {"openai", "anthropic"}) {
    SCOPED_TRACE(provider);
    auto server = DemoServer::start(DSPY_DEMO_SERVER, {replies});  // a fresh server: ids count from 1
    ASSERT_TRUE(server) << server.error().message();
    const auto r = desk(lm_of(*server, provider + "/demo"))({"How far is 5 km in miles, and how many live in Zürich?", tools()});
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->answer, "");  // no text in the reply
    const auto& calls = r->tool_calls.tool_calls;
    ASSERT_EQ(calls.size(), 2U);
    EXPECT_EQ(calls[0].id, provider == "openai" ? "call_1" : "toolu_1");
    EXPECT_EQ(calls[0].name, "convert");
    EXPECT_EQ(calls[0].args, (json::object{{"value", 5}, {"from", "km"}, {"to", "mi"}}));
    EXPECT_EQ(calls[1].id, "given_7");
    EXPECT_EQ(calls[1].name, "lookup");
    EXPECT_EQ(calls[1].args, (json::object{{"city", "Zürich"}}));

    // The calls run against the tools they came from.
    const std::vector<dspy::Tool> available = tools();
    const dspy::ToolCallResults results = r->tool_calls.execute(available);
    ASSERT_EQ(results.tool_call_results.size(), 2U);
    EXPECT_FALSE(results.tool_call_results[0].is_error);
    EXPECT_NEAR(results.tool_call_results[0].value.to_number<double>(), 3.106855, 1e-9);
    EXPECT_EQ(results.tool_call_results[1].value, "population of Zürich: 436551");
  }
}

TEST_F(DemoServerToolsTest, TextAndCallsTogetherAndTextAlone) {
  const std::string replies =
      write("mixed.jsonl", {kTextAndCall, R"({"content": "[[ ## answer ## ]]\nBern\n\n[[ ## completed ## ]]"})"});
  for (const std::string provider : {"openai", "anthropic"}) {
    SCOPED_TRACE(provider);
    auto server = DemoServer::start(DSPY_DEMO_SERVER, {replies});
    ASSERT_TRUE(server) << server.error().message();
    const auto answer = desk(lm_of(*server, provider + "/demo"));
    const auto first = answer({"Which city is the capital?", tools()});
    ASSERT_TRUE(first) << first.error().message();
    EXPECT_EQ(first->answer, "checking");
    ASSERT_EQ(first->tool_calls.tool_calls.size(), 1U);
    EXPECT_EQ(first->tool_calls.tool_calls[0].args, (json::object{{"city", "Bern"}}));
    const auto second = answer({"Which city is the capital?", tools()});
    ASSERT_TRUE(second) << second.error().message();
    EXPECT_EQ(second->answer, "Bern");
    EXPECT_TRUE(second->tool_calls.tool_calls.empty());
  }
}

// A ReActV2 run: the second and third requests carry the assistant's tool calls and the tool
// results (OpenAI tool messages, Anthropic tool_use and tool_result blocks), which the server
// reads without failing.
TEST_F(DemoServerToolsTest, ReActV2RunsOverHttpInBothShapes) {
  const std::string replies = write(
      "agent.jsonl",
      {kParallel,
       R"({"content": "[[ ## next_thought ## ]]\nDone.\n\n[[ ## completed ## ]]", "tool_calls": [{"name": "submit", "arguments": {"answer": "3.1 miles; 436551 people"}}]})"});
  for (const std::string provider : {"openai", "anthropic"}) {
    SCOPED_TRACE(provider);
    auto server = DemoServer::start(DSPY_DEMO_SERVER, {replies});
    ASSERT_TRUE(server) << server.error().message();
    dspy::ReActV2<Trip> agent(tools(), 5);
    agent.react.adapter = dspy::ChatAdapter{.use_native_function_calling = true};
    dspy::set_lm(agent, lm_of(*server, provider + "/demo"));
    const auto r = agent({"How far is 5 km in miles, and how many live in Zürich?"});
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->termination_reason, "submit");
    EXPECT_EQ(r->answer, "3.1 miles; 436551 people");
    ASSERT_EQ(r->history.messages.size(), 2U);
    dspy::ToolCalls first;
    ASSERT_FALSE(dspy::from_json(r->history.messages[0].at("tool_calls"), first));
    ASSERT_TRUE(first.tool_call_results);
    EXPECT_EQ(first.tool_call_results->tool_call_results[1].value, "population of Zürich: 436551");
  }
}

// A route may answer with tool calls, in process and through the server.
TEST_F(DemoServerToolsTest, RoutesCarryToolCalls) {
  const std::string routes = write(
      "routes.jsonl",
      {R"({"regex": "Zürich", "tool_calls": [{"id": "r1", "name": "lookup", "arguments": {"city": "Zürich"}}]})",
       R"({"reply": {"answer": "no tools"}, "tool_calls": [{"name": "convert", "arguments": "{\"value\": 1, \"from\": \"km\", \"to\": \"mi\"}"}]})"});
  auto routed = std::make_shared<dspy::testing::RoutedLM>();
  ASSERT_TRUE(routed->load_routes(routes));
  routed->set_capabilities({.function_calling = true});
  auto server = DemoServer::start(DSPY_DEMO_SERVER, {"--routes", routes});
  ASSERT_TRUE(server) << server.error().message();
  for (const std::shared_ptr<dspy::BaseLM>& lm :
       {std::shared_ptr<dspy::BaseLM>(routed), std::shared_ptr<dspy::BaseLM>(lm_of(*server, "openai/demo"))}) {
    SCOPED_TRACE(lm->model());
    const auto answer = desk(lm);
    const auto zurich = answer({"How many live in Zürich?", tools()});
    ASSERT_TRUE(zurich) << zurich.error().message();
    ASSERT_EQ(zurich->tool_calls.tool_calls.size(), 1U);
    EXPECT_EQ(zurich->tool_calls.tool_calls[0].id, "r1");
    EXPECT_EQ(zurich->tool_calls.tool_calls[0].args, (json::object{{"city", "Zürich"}}));
    const auto other = answer({"How far is 1 km?", tools()});
    ASSERT_TRUE(other) << other.error().message();
    EXPECT_EQ(other->answer, "no tools");
    ASSERT_EQ(other->tool_calls.tool_calls.size(), 1U);
    EXPECT_EQ(other->tool_calls.tool_calls[0].name, "convert");
    EXPECT_EQ(other->tool_calls.tool_calls[0].args.at("value"), 1);
  }
}

// The body of a POST, read with libcurl.
std::string post(const std::string& url, const std::string& body) {
  CURL* curl = curl_easy_init();
  std::string out;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, +[](char* data, std::size_t, std::size_t n, void* sink) {
    static_cast<std::string*>(sink)->append(data, n);
    return n;
  });
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &out);
  const CURLcode rc = curl_easy_perform(curl);
  curl_easy_cleanup(curl);
  EXPECT_EQ(rc, CURLE_OK) << curl_easy_strerror(rc);
  return out;
}

// The streamed events' JSON data, in order (OpenAI's final [DONE] left out).
std::vector<json::object> events_of(const std::string& stream) {
  std::vector<json::object> out;
  dspy::detail::SseParser parser;
  parser.feed(stream, [&](const dspy::detail::SseEvent& e) {
    if (e.data != "[DONE]") out.push_back(json::parse(e.data).as_object());
    return true;
  });
  return out;
}

TEST_F(DemoServerToolsTest, StreamedToolCallsInBothShapes) {
  auto server = DemoServer::start(DSPY_DEMO_SERVER, {write("parallel.jsonl", {kParallel})});
  ASSERT_TRUE(server) << server.error().message();
  const std::string request = R"({"model": "demo", "stream": true, "messages": [{"role": "user", "content": "go"}]})";

  // OpenAI: each call opens with its id, type and name; its arguments then arrive in pieces.
  std::map<std::int64_t, json::object> calls;  // by index: id, name, arguments so far
  std::string finish;
  std::size_t argument_pieces = 0;
  for (const auto& e : events_of(post(server->api_base() + "/chat/completions", request))) {
    const auto& choice = e.at("choices").at(0).as_object();
    if (!choice.at("finish_reason").is_null()) finish = choice.at("finish_reason").as_string();
    const auto* deltas = choice.at("delta").as_object().if_contains("tool_calls");
    if (!deltas) continue;
    for (const auto& d : deltas->as_array()) {
      json::object& call = calls[d.at("index").as_int64()];
      const auto& f = d.at("function").as_object();
      if (const auto* id = d.as_object().if_contains("id")) {
        EXPECT_EQ(d.at("type"), "function");
        call["id"] = *id;
        call["name"] = f.at("name");
        call["arguments"] = f.at("arguments");
      } else {
        ++argument_pieces;
        call["arguments"] = std::string(call.at("arguments").as_string()) + std::string(f.at("arguments").as_string());
      }
    }
  }
  EXPECT_EQ(finish, "tool_calls");
  EXPECT_GT(argument_pieces, 2U);
  ASSERT_EQ(calls.size(), 2U);
  EXPECT_EQ(calls[0].at("id"), "call_1");
  EXPECT_EQ(calls[0].at("name"), "convert");
  EXPECT_EQ(json::parse(calls[0].at("arguments").as_string()), (json::object{{"value", 5}, {"from", "km"}, {"to", "mi"}}));
  EXPECT_EQ(calls[1].at("id"), "given_7");
  EXPECT_EQ(calls[1].at("arguments"), R"({"city": "Zürich"})");

  // Anthropic: a tool_use block per call, its input spelled out by input_json_delta pieces.
  std::vector<json::object> blocks;
  std::vector<std::string> inputs;
  std::string stop;
  for (const auto& e : events_of(post(server->api_base() + "/messages", request))) {
    const std::string_view type = e.at("type").as_string();
    if (type == "content_block_start") {
      EXPECT_EQ(e.at("index").as_int64(), static_cast<std::int64_t>(blocks.size()));
      blocks.push_back(e.at("content_block").as_object());
      inputs.emplace_back();
    } else if (type == "content_block_delta") {
      EXPECT_EQ(e.at("delta").at("type"), "input_json_delta");
      inputs.at(static_cast<std::size_t>(e.at("index").as_int64())) += e.at("delta").at("partial_json").as_string();
    } else if (type == "message_delta") {
      stop = e.at("delta").at("stop_reason").as_string();
    }
  }
  EXPECT_EQ(stop, "tool_use");
  ASSERT_EQ(blocks.size(), 2U);
  EXPECT_EQ(blocks[0].at("type"), "tool_use");
  EXPECT_EQ(blocks[0].at("id"), "toolu_2");
  EXPECT_EQ(blocks[0].at("name"), "convert");
  EXPECT_EQ(blocks[0].at("input"), json::object{});
  EXPECT_EQ(json::parse(inputs[0]), (json::object{{"value", 5}, {"from", "km"}, {"to", "mi"}}));
  EXPECT_EQ(blocks[1].at("id"), "given_7");
  EXPECT_EQ(json::parse(inputs[1]), (json::object{{"city", "Zürich"}}));
}

// The LM reads the streamed calls back: the same ToolCalls as unstreamed, the text streamed.
TEST_F(DemoServerToolsTest, StreamedCallsReachAStreamingPredict) {
  const std::string replies = write("mixed.jsonl", {kTextAndCall});
  for (const std::string provider : {"openai", "anthropic"}) {
    SCOPED_TRACE(provider);
    auto server = DemoServer::start(DSPY_DEMO_SERVER, {replies});
    ASSERT_TRUE(server) << server.error().message();
    const auto answer = desk(lm_of(*server, provider + "/demo"));
    std::string streamed;
    const auto r = answer.stream({"Which city is the capital?", tools()},
                                 [&](const dspy::StreamChunk& c) { streamed += c.text; });
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->answer, "checking");
    EXPECT_EQ(streamed, "checking");
    ASSERT_EQ(r->tool_calls.tool_calls.size(), 1U);
    EXPECT_EQ(r->tool_calls.tool_calls[0].id, provider == "openai" ? "call_1" : "toolu_1");
    EXPECT_EQ(r->tool_calls.tool_calls[0].args, (json::object{{"city", "Bern"}}));
  }
}

TEST_F(DemoServerToolsTest, MalformedScriptedCallsAreRefusedWithTheLine) {
  const std::string replies =
      write("bad.jsonl", {R"("fine")", R"({"tool_calls": [{"name": "lookup", "args": {"city": "Bern"}}]})"});
  const auto refused = DemoServer::start(DSPY_DEMO_SERVER, {replies});
  ASSERT_FALSE(refused);
  const std::string routes = write("bad_routes.jsonl", {R"({"tool_calls": [{"arguments": {}}]})"});
  dspy::testing::RoutedLM routed;
  const auto loaded = routed.load_routes(routes);
  ASSERT_FALSE(loaded);
  EXPECT_EQ(loaded.error().code(), dspy::Errc::parse_error);
  EXPECT_EQ(loaded.error().message(), routes + ":1: \"tool_calls\": call 0: the call has no \"name\"");

  // Anthropic's tool_use input must be an object: arguments text that is not one is a 400.
  auto server = DemoServer::start(DSPY_DEMO_SERVER, {write("text.jsonl", {R"({"tool_calls": [{"name": "f", "arguments": "[1"}]})"})});
  ASSERT_TRUE(server) << server.error().message();
  const std::string reply = post(server->api_base() + "/messages", R"({"model": "demo", "messages": []})");
  EXPECT_NE(reply.find("are not a JSON object"), std::string::npos) << reply;
  // OpenAI carries the text as it is: broken arguments reach the client.
  const json::value openai = json::parse(post(server->api_base() + "/chat/completions", R"({"model": "demo", "messages": []})"));
  EXPECT_EQ(openai.at("choices").at(0).at("message").at("tool_calls").at(0).at("function").at("arguments"), "[1");
}

struct LengthArgs {
  double value;
  std::string unit = "km";
  static constexpr std::string_view defaults[] = {"unit"};
};

// Python fills a left-out argument from its default; a typed tool fills it from its initializer.
TEST(TypedToolDefaults, ALeftOutArgumentTakesItsInitializer) {
  const std::vector<dspy::Tool> length = {
      dspy::tool<"length">([](LengthArgs a) { return std::to_string(static_cast<int>(a.value)) + " " + a.unit; })};
  dspy::ToolCalls calls;
  calls.tool_calls = {{std::nullopt, "length", {{"value", 3}}},
                      {std::nullopt, "length", {{"value", 4}, {"unit", "mi"}}},
                      {std::nullopt, "length", {{"unit", "mi"}}}};
  const auto results = calls.execute(length).tool_call_results;
  ASSERT_EQ(results.size(), 3U);
  EXPECT_EQ(results[0].value, "3 km");
  EXPECT_EQ(results[1].value, "4 mi");
  EXPECT_TRUE(results[2].is_error);  // no default: still required
  EXPECT_NE(results[2].value.as_string().find("value"), std::string::npos) << results[2].value;
}

}  // namespace demo_server_tools_test

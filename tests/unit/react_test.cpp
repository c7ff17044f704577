// Typed tools and dspy::ReAct: DSPy's printed tools, instructions and trajectory, the agent loop
// (tool calls, errors as observations, finish, max_iters, context-window truncation), save/load.
#include <gtest/gtest.h>

#include <chrono>
#include <stdexcept>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/describe/class.hpp>

#include <boost/describe/enum.hpp>

#include <dspy/all.hpp>

namespace react_test {

namespace asio = boost::asio;
namespace json = boost::json;
using dspy::testing::ScriptedLM;

struct TravelQA {
  struct Input {
    std::string question;
  };
  struct Output {
    std::string answer;
  };
  static constexpr auto docs = dspy::docs({{"question", "a question about a trip"}, {"answer", "a short answer"}});
};

struct SearchArgs {
  std::string query;
  std::optional<int> limit;
  static constexpr auto docs = dspy::docs({{"query", "what to look up"}});
};

struct AddArgs {
  double a;
  double b;
};

std::vector<std::string> search_facts(const SearchArgs& args) {
  if (args.query == "Atlantis") throw std::runtime_error("no such city: Atlantis");
  std::vector<std::string> facts = {args.query + " is in France.", args.query + " has 2.1 million people."};
  facts.resize(std::min<std::size_t>(facts.size(), static_cast<std::size_t>(args.limit.value_or(2))));
  return facts;
}

auto make_search() {
  return dspy::tool<"search">(&search_facts, "Looks up facts about a city.\nReturns short snippets.");
}
auto make_add() {
  return dspy::tool<"add">([](AddArgs x) { return x.a + x.b; });
}

using Agent = dspy::ReAct<TravelQA, decltype(make_search()), decltype(make_add())>;

Agent make_agent(const std::shared_ptr<ScriptedLM>& lm) {
  Agent agent = dspy::react<TravelQA>(make_search(), make_add());
  dspy::set_lm(agent, lm);
  return agent;
}

std::string decision(std::string_view thought, std::string_view tool, std::string_view args) {
  return "[[ ## next_thought ## ]]\n" + std::string(thought) + "\n\n[[ ## next_tool_name ## ]]\n" + std::string(tool) +
         "\n\n[[ ## next_tool_args ## ]]\n" + std::string(args) + "\n\n[[ ## completed ## ]]";
}

std::string extraction(std::string_view reasoning, std::string_view answer) {
  return "[[ ## reasoning ## ]]\n" + std::string(reasoning) + "\n\n[[ ## answer ## ]]\n" + std::string(answer) +
         "\n\n[[ ## completed ## ]]";
}

// The tool lines below are what DSPy 3.3.1's str(Tool) prints for
//   def search(query: str, limit: Optional[int] = None)  (arg_desc={"query": "what to look up"})
//   def add(a: float, b: float)                          (no docstring)
// with pydantic 2's schemas, and for ReAct's own `finish`.
constexpr std::string_view kSearchLine =
    "search, whose description is <desc>Looks up facts about a city.  Returns short snippets.</desc>. It takes "
    "arguments {'query': {'type': 'string', 'description': 'what to look up'}, 'limit': {'anyOf': [{'type': "
    "'integer'}, {'type': 'null'}], 'default': None}}.";
constexpr std::string_view kAddLine = "add. It takes arguments {'a': {'type': 'number'}, 'b': {'type': 'number'}}.";
constexpr std::string_view kFinishLine =
    "finish, whose description is <desc>Marks the task as complete. That is, signals that all information for "
    "producing the outputs, i.e. `answer`, are now available to be extracted.</desc>. It takes arguments {}.";

TEST(Tool, PrintsAsDSPyPrintsTools) {
  EXPECT_EQ(make_search().format(), kSearchLine);
  EXPECT_EQ(make_add().format(), kAddLine);
  EXPECT_EQ(decltype(make_search())::name, "search");
  EXPECT_EQ(make_search().desc(), "Looks up facts about a city.\nReturns short snippets.");
}

enum class Unit { celsius, fahrenheit };
BOOST_DESCRIBE_ENUM(Unit, celsius, fahrenheit)

struct Place {
  std::string city;
  std::optional<std::string> country;
};

struct WeatherArgs {
  Place place;
  std::vector<Unit> units;
  std::map<std::string, int> days;
  float ratio;
};

// pydantic's schemas with references inlined (DSPy's _resolve_json_schema_reference), keys sorted
// except a model's properties, for def weather(place: Place, units: list[Unit], days: dict[str, int],
// ratio: float) with Place(BaseModel) {city: str, country: Optional[str] = None}.
TEST(Tool, NestedArgumentSchemasInlineTheirDefinitions) {
  const auto weather = dspy::tool<"weather">([](const WeatherArgs&) { return std::string("sunny"); });
  EXPECT_EQ(weather.format(),
            "weather. It takes arguments {'place': {'properties': {'city': {'title': 'City', 'type': 'string'}, "
            "'country': {'anyOf': [{'type': 'string'}, {'type': 'null'}], 'default': None, 'title': 'Country'}}, "
            "'required': ['city'], 'title': 'Place', 'type': 'object'}, 'units': {'items': {'enum': ['celsius', "
            "'fahrenheit'], 'title': 'Unit', 'type': 'string'}, 'type': 'array'}, 'days': {'additionalProperties': "
            "{'type': 'integer'}, 'type': 'object'}, 'ratio': {'type': 'number'}}.");
}

template <class T>
asio::awaitable<void> store_outcome(const T* tool, json::object args, dspy::ToolOutcome* out) {
  auto pending = tool->acall(std::move(args));
  *out = co_await std::move(pending);
}

template <class T>
dspy::ToolOutcome run_tool(const T& tool, json::object args) {
  asio::io_context io;
  dspy::ToolOutcome out;
  asio::co_spawn(io, store_outcome(&tool, std::move(args), &out), asio::detached);
  io.run();
  return out;
}

asio::awaitable<std::string> slow_lookup(SearchArgs args) {
  asio::steady_timer timer(co_await asio::this_coro::executor, std::chrono::milliseconds(1));
  co_await timer.async_wait(asio::use_awaitable);
  if (args.query.empty()) throw std::invalid_argument("empty query");
  co_return "found " + args.query;
}

dspy::Result<int> checked_count(SearchArgs args) {
  if (args.query == "none") return dspy::Error(dspy::Errc::config, "nothing to count");
  return static_cast<int>(args.query.size());
}

TEST(Tool, CallsConvertArgumentsAndReportErrors) {
  const auto search = make_search();
  auto ok = run_tool(search, {{"query", "Paris"}, {"limit", 1}});
  ASSERT_FALSE(ok.error);
  EXPECT_EQ(ok.value, (json::value{"Paris is in France."}));

  EXPECT_EQ(run_tool(search, {{"query", "Atlantis"}}).error, "no such city: Atlantis");
  EXPECT_EQ(run_tool(search, {{"query", "x"}, {"top_k", 3}}).error, "Arg top_k is not in the tool's args.");
  EXPECT_EQ(run_tool(search, {{"limit", 3}}).error, "`query`: missing field");
  EXPECT_EQ(run_tool(search, {{"query", {1, 2}}}).error, "`query`: expected a string, got an array [1,2]");

  const auto lookup = dspy::tool<"lookup">(&slow_lookup, "Looks it up slowly.");
  EXPECT_EQ(run_tool(lookup, {{"query", "Rome"}}).value, json::value("found Rome"));
  EXPECT_EQ(run_tool(lookup, {{"query", ""}}).error, "empty query");

  const auto count = dspy::tool<"count">(&checked_count);
  EXPECT_EQ(run_tool(count, {{"query", "four"}}).value, json::value(4));
  EXPECT_EQ(run_tool(count, {{"query", "none"}}).error, "nothing to count");

  const auto now = dspy::TypedTool<"now">([] { return 42; }, "Current hour.");
  EXPECT_EQ(now.format(), "now, whose description is <desc>Current hour.</desc>. It takes arguments {}.");
  EXPECT_EQ(run_tool(now, {}).value, json::value(42));
}

const std::string kReactInstructions = std::string(
    "Given the fields `question`, produce the fields `answer`.\n\n"
    "You are an Agent. In each episode, you will be given the fields `question` as input. And you can see your "
    "past trajectory so far.\n"
    "Your goal is to use one or more of the supplied tools to collect any necessary information for producing "
    "`answer`.\n\n"
    "To do this, you will interleave next_thought, next_tool_name, and next_tool_args in each turn, and also when "
    "finishing the task.\n"
    "After each tool call, you receive a resulting observation, which gets appended to your trajectory.\n\n"
    "When writing next_thought, you may reason about the current situation and plan for future steps.\n"
    "When selecting the next_tool_name and its next_tool_args, the tool must be one of:\n\n") +
    "(1) " + std::string(kSearchLine) + "\n(2) " + std::string(kAddLine) + "\n(3) " + std::string(kFinishLine) +
    "\nWhen providing `next_tool_args`, the value inside the field must be in JSON format";

// DSPy's ChatAdapter prompt for ReAct's react_signature: TravelQA's inputs (with their docs) plus
// `trajectory`, the three next_* outputs, and the instructions above dedented and indented by 8. DSPy
// joins the field lines and strips the whole, so only the last line of each group loses the space
// after an empty description.
TEST(ReAct, ReactPromptIsDSPys) {
  const Agent agent = make_agent(std::make_shared<ScriptedLM>());
  EXPECT_EQ(agent.react.instructions(), kReactInstructions);
  const auto messages = agent.format({.question = "How far is Paris from Lyon?"});
  ASSERT_EQ(messages.size(), 2U);
  EXPECT_EQ(messages[0].role, "system");
  EXPECT_EQ(messages[0].content.text(),
            "Your input fields are:\n1. `question` (str): a question about a trip\n2. `trajectory` (str):\n"
            "Your output fields are:\n1. `next_thought` (str): \n2. `next_tool_name` (Literal['search', 'add', "
            "'finish']): \n3. `next_tool_args` (dict[str, Any]):\n"
            "All interactions will be structured in the following way, with the appropriate values filled in.\n\n"
            "[[ ## question ## ]]\n{question}\n\n[[ ## trajectory ## ]]\n{trajectory}\n\n"
            "[[ ## next_thought ## ]]\n{next_thought}\n\n"
            "[[ ## next_tool_name ## ]]\n{next_tool_name}        # note: the value you produce must exactly match "
            "(no extra characters) one of: search; add; finish\n\n"
            "[[ ## next_tool_args ## ]]\n{next_tool_args}        # note: the value you produce must adhere to the "
            "JSON schema: {\"type\": \"object\", \"additionalProperties\": true}\n\n"
            "[[ ## completed ## ]]\n"
            "In adhering to this structure, your objective is: \n"
            "        Given the fields `question`, produce the fields `answer`.\n"
            "        \n"
            "        You are an Agent. In each episode, you will be given the fields `question` as input. And you "
            "can see your past trajectory so far.\n"
            "        Your goal is to use one or more of the supplied tools to collect any necessary information for "
            "producing `answer`.\n"
            "        \n"
            "        To do this, you will interleave next_thought, next_tool_name, and next_tool_args in each turn, "
            "and also when finishing the task.\n"
            "        After each tool call, you receive a resulting observation, which gets appended to your "
            "trajectory.\n"
            "        \n"
            "        When writing next_thought, you may reason about the current situation and plan for future "
            "steps.\n"
            "        When selecting the next_tool_name and its next_tool_args, the tool must be one of:\n"
            "        \n"
            "        (1) " + std::string(kSearchLine) + "\n        (2) " + std::string(kAddLine) +
            "\n        (3) " + std::string(kFinishLine) +
            "\n        When providing `next_tool_args`, the value inside the field must be in JSON format");
  EXPECT_EQ(messages[1].content.text(),
            "[[ ## question ## ]]\nHow far is Paris from Lyon?\n\n[[ ## trajectory ## ]]\n\n\n"
            "Respond with the corresponding output fields, starting with the field `[[ ## next_thought ## ]]`, then "
            "`[[ ## next_tool_name ## ]]` (must be formatted as a valid Python Literal['search', 'add', 'finish']), "
            "then `[[ ## next_tool_args ## ]]` (must be formatted as a valid Python dict[str, Any]), and then "
            "ending with the marker for `[[ ## completed ## ]]`.");

  // The extractor: TravelQA's inputs + trajectory -> reasoning, answer, with TravelQA's instructions.
  const auto& extract = agent.extract.predict.signature();
  ASSERT_EQ(extract.inputs.size(), 2U);
  EXPECT_EQ(extract.inputs[1].name, "trajectory");
  ASSERT_EQ(extract.outputs.size(), 2U);
  EXPECT_EQ(extract.outputs[0].name, "reasoning");
  EXPECT_EQ(extract.outputs[1].desc, "a short answer");
  EXPECT_EQ(agent.extract.predict.instructions(), "Given the fields `question`, produce the fields `answer`.");
}

constexpr std::string_view kTwoStepTrajectory =
    "[[ ## thought_0 ## ]]\nLook up Paris.\n\n[[ ## tool_name_0 ## ]]\nsearch\n\n"
    "[[ ## tool_args_0 ## ]]\n{\"query\": \"Paris\", \"limit\": 2}\n\n"
    "[[ ## observation_0 ## ]]\n[1] «Paris is in France.»\n[2] «Paris has 2.1 million people.»\n\n"
    "[[ ## thought_1 ## ]]\nAdd the distances.\n\n[[ ## tool_name_1 ## ]]\nadd\n\n"
    "[[ ## tool_args_1 ## ]]\n{\"a\": 2, \"b\": 3.5}\n\n[[ ## observation_1 ## ]]\n5.5";

TEST(ReAct, TwoToolCallsThenFinishThenExtract) {
  auto lm = std::make_shared<ScriptedLM>();
  const auto with_usage = [](std::string text, std::int64_t tokens) {
    dspy::LMResponse r;
    r.completions = {std::move(text)};
    r.usage = {tokens, 1, tokens + 1};
    r.model = "scripted/lm";
    return r;
  };
  lm->push(with_usage(decision("Look up Paris.", "search", R"({"query": "Paris", "limit": 2})"), 10));
  lm->push(with_usage(decision("Add the distances.", "add", R"({"a": 2, "b": 3.5})"), 20));
  lm->push(with_usage(decision("I know enough.", "finish", "{}"), 30));
  lm->push(with_usage(extraction("Paris is in France; 2 + 3.5 = 5.5.", "5.5 km"), 40));
  const Agent agent = make_agent(lm);

  const auto r = agent({.question = "How far?"});
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->answer, "5.5 km");
  EXPECT_EQ(r->reasoning, "Paris is in France; 2 + 3.5 = 5.5.");
  const dspy::Trajectory& t = r->trajectory;
  ASSERT_EQ(t.size(), 3U);
  EXPECT_EQ(t[0].tool_name, "search");
  EXPECT_EQ(t[0].tool_args, (json::object{{"query", "Paris"}, {"limit", 2}}));
  EXPECT_EQ(t[0].observation, (json::value{"Paris is in France.", "Paris has 2.1 million people."}));
  EXPECT_EQ(t[1].observation, json::value(5.5));
  EXPECT_EQ(t[2].thought, "I know enough.");
  EXPECT_EQ(t[2].observation, json::value("Completed."));
  EXPECT_EQ(r.value().usage().prompt_tokens, 100);
  EXPECT_EQ(r.value().usage().total_tokens, 104);

  const auto requests = lm->requests();
  ASSERT_EQ(requests.size(), 4U);
  EXPECT_EQ(requests[0].messages.back().content.text().find("[[ ## trajectory ## ]]\n\n\nRespond"), 31U);
  // The extractor sees the whole trajectory, written as DSPy's format_user_message_content does.
  EXPECT_EQ(requests[3].messages.back().content.text(),
            "[[ ## question ## ]]\nHow far?\n\n[[ ## trajectory ## ]]\n" + std::string(kTwoStepTrajectory) +
                "\n\n[[ ## thought_2 ## ]]\nI know enough.\n\n[[ ## tool_name_2 ## ]]\nfinish\n\n"
                "[[ ## tool_args_2 ## ]]\n{}\n\n[[ ## observation_2 ## ]]\nCompleted.\n\n"
                "Respond with the corresponding output fields, starting with the field `[[ ## reasoning ## ]]`, "
                "then `[[ ## answer ## ]]`, and then ending with the marker for `[[ ## completed ## ]]`.");
  EXPECT_NE(requests[2].messages.back().content.text().find(kTwoStepTrajectory), std::string::npos);
}

TEST(ReAct, ToolErrorsAndBadArgumentsBecomeObservations) {
  auto lm = std::make_shared<ScriptedLM>(std::vector<std::string>{
      decision("Try Atlantis.", "search", R"({"query": "Atlantis"})"),
      decision("Add words.", "add", R"({"a": "two", "b": 3})"),
      decision("Forgot b.", "add", R"({"a": 1})"),
      decision("Wrong name.", "add", R"({"a": 1, "c": 2})"),
      decision("Done.", "finish", R"({"why": "done"})"),
      extraction("Nothing worked.", "unknown"),
  });
  const Agent agent = make_agent(lm);
  const auto r = agent({.question = "Where is Atlantis?"});
  ASSERT_TRUE(r) << r.error().message();
  const dspy::Trajectory& t = r->trajectory;
  ASSERT_EQ(t.size(), 5U);
  EXPECT_EQ(t[0].observation, json::value("Execution error in search: no such city: Atlantis"));
  EXPECT_TRUE(t[1].observation.as_string().starts_with(
      "Execution error in add: `a`: 1 validation error for float\n  Input should be a valid number"));
  EXPECT_EQ(t[2].observation, json::value("Execution error in add: `b`: missing field"));
  EXPECT_EQ(t[3].observation, json::value("Execution error in add: Arg c is not in the tool's args."));
  // `finish` takes no arguments; as in DSPy, the episode still ends.
  EXPECT_EQ(t[4].observation, json::value("Execution error in finish: Arg why is not in the tool's args."));
  EXPECT_EQ(r->answer, "unknown");
  EXPECT_EQ(lm->calls(), 6U);
}

TEST(ReAct, StopsAfterMaxItersThenExtracts) {
  auto lm = std::make_shared<ScriptedLM>(std::vector<std::string>{
      decision("Search.", "search", R"({"query": "Lyon", "limit": 1})"),
      decision("Search again.", "search", R"({"query": "Nice", "limit": 1})"),
      extraction("Out of steps.", "Lyon"),
  });
  Agent agent = make_agent(lm);
  agent.max_iters = 2;
  const auto r = agent({.question = "Which city?"});
  ASSERT_TRUE(r) << r.error().message();
  ASSERT_EQ(r->trajectory.size(), 2U);
  EXPECT_EQ(r->trajectory[1].observation, (json::value{"Nice is in France."}));
  EXPECT_EQ(r->answer, "Lyon");
  EXPECT_EQ(lm->calls(), 3U);
  // A single list item is written without a number, as DSPy's _format_input_list_field_value does.
  EXPECT_NE(lm->requests()[2].messages.back().content.text().find("[[ ## observation_1 ## ]]\n«Nice is in France.»"),
            std::string::npos);
  EXPECT_EQ(Agent(make_search(), make_add()).max_iters, 20U);
}

TEST(ReAct, LMErrorsEndTheRunButContextOverflowTruncates) {
  {
    auto lm = std::make_shared<ScriptedLM>();
    lm->push(dspy::Error(dspy::Errc::server, "503 after retries"));
    const auto r = make_agent(lm)({.question = "q"});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), dspy::Errc::server);
  }
  {
    // The oldest step is dropped and the call retried; the steps kept keep their numbers.
    auto lm = std::make_shared<ScriptedLM>();
    lm->push(decision("Search Paris.", "search", R"({"query": "Paris", "limit": 1})"));
    lm->push(decision("Search Lyon.", "search", R"({"query": "Lyon", "limit": 1})"));
    lm->push(dspy::Error(dspy::Errc::context_window, "prompt too long"));
    lm->push(decision("Done.", "finish", "{}"));
    lm->push(extraction("Short.", "France"));
    const auto r = make_agent(lm)({.question = "q"});
    ASSERT_TRUE(r) << r.error().message();
    ASSERT_EQ(r->trajectory.size(), 2U);
    EXPECT_EQ(r->trajectory[0].thought, "Search Lyon.");
    EXPECT_EQ(r->trajectory[1].tool_name, "finish");
    const auto requests = lm->requests();
    ASSERT_EQ(requests.size(), 5U);
    EXPECT_NE(requests[2].messages.back().content.text().find("[[ ## thought_0 ## ]]"), std::string::npos);
    EXPECT_EQ(requests[3].messages.back().content.text().find("[[ ## thought_0 ## ]]"), std::string::npos);
    EXPECT_NE(requests[3].messages.back().content.text().find("[[ ## trajectory ## ]]\n[[ ## thought_1 ## ]]\nSearch Lyon."),
              std::string::npos);
    EXPECT_NE(requests[4].messages.back().content.text().find("[[ ## thought_2 ## ]]\nDone."), std::string::npos);
  }
  {
    // One step cannot be dropped: as in DSPy, the trajectory ends there and the extractor answers.
    auto lm = std::make_shared<ScriptedLM>();
    lm->push(decision("Search Paris.", "search", R"({"query": "Paris", "limit": 1})"));
    lm->push(dspy::Error(dspy::Errc::context_window, "prompt too long"));
    lm->push(extraction("Short.", "France"));
    const auto r = make_agent(lm)({.question = "q"});
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->trajectory.size(), 1U);
    EXPECT_EQ(lm->calls(), 3U);
  }
  {
    // Nothing left to drop: the trajectory ends and the extractor still answers.
    auto lm = std::make_shared<ScriptedLM>();
    lm->push(dspy::Error(dspy::Errc::context_window, "prompt too long"));
    lm->push(extraction("No tools.", "unknown"));
    const auto r = make_agent(lm)({.question = "q"});
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_TRUE(r->trajectory.empty());
    EXPECT_EQ(lm->calls(), 2U);
  }
}

TEST(ReAct, AsyncToolsRunInsideTheAgent) {
  auto lm = std::make_shared<ScriptedLM>(std::vector<std::string>{
      decision("Ask slowly.", "lookup", R"({"query": "Rome"})"),
      decision("Ask with nothing.", "lookup", R"({"query": ""})"),
      decision("Done.", "finish", "{}"),
      extraction("Found it.", "Rome"),
  });
  auto agent = dspy::react<TravelQA>(dspy::tool<"lookup">(&slow_lookup, "Looks it up slowly."));
  dspy::set_lm(agent, lm);
  const auto r = agent({.question = "Capital of Italy?"});
  ASSERT_TRUE(r) << r.error().message();
  ASSERT_EQ(r->trajectory.size(), 3U);
  EXPECT_EQ(r->trajectory[0].observation, json::value("found Rome"));
  EXPECT_EQ(r->trajectory[1].observation, json::value("Execution error in lookup: empty query"));
}

TEST(ReAct, TrajectoryFormatsPerAdapter) {
  const dspy::Trajectory t = {
      {"Think.", "search", {{"query", "x"}}, json::value{"line one\nline two", "b"}},
      {"Again.", "add", {}, json::array{}},
  };
  EXPECT_EQ(dspy::format_trajectory(t, dspy::ChatAdapter{}),
            "[[ ## thought_0 ## ]]\nThink.\n\n[[ ## tool_name_0 ## ]]\nsearch\n\n[[ ## tool_args_0 ## ]]\n"
            "{\"query\": \"x\"}\n\n[[ ## observation_0 ## ]]\n[1] «««\n    line one\n    line two\n»»»\n[2] «b»\n\n"
            "[[ ## thought_1 ## ]]\nAgain.\n\n[[ ## tool_name_1 ## ]]\nadd\n\n[[ ## tool_args_1 ## ]]\n{}\n\n"
            "[[ ## observation_1 ## ]]\nN/A");
  EXPECT_EQ(dspy::format_trajectory({t[1]}, dspy::XMLAdapter{}, 4),
            "<thought_4>\nAgain.\n</thought_4>\n\n<tool_name_4>\nadd\n</tool_name_4>\n\n<tool_args_4>\n{}\n"
            "</tool_args_4>\n\n<observation_4>\nN/A\n</observation_4>");
  EXPECT_EQ(dspy::format_trajectory({}, dspy::JSONAdapter{}), "");
}

struct TripPlanner {
  Agent agent;
  dspy::Predict<TravelQA> summarize;
};
BOOST_DESCRIBE_STRUCT(TripPlanner, (), (agent, summarize))

TEST(ReAct, PredictorPathsAndSaveLoad) {
  Agent agent = make_agent(std::make_shared<ScriptedLM>());
  std::vector<std::string> paths;
  for (const auto& [path, p] : dspy::named_predictors(agent)) paths.push_back(path);
  EXPECT_EQ(paths, (std::vector<std::string>{"react", "extract.predict"}));

  TripPlanner planner{make_agent(std::make_shared<ScriptedLM>()), {}};
  paths.clear();
  for (const auto& [path, p] : dspy::named_predictors(planner)) paths.push_back(path);
  EXPECT_EQ(paths, (std::vector<std::string>{"agent.react", "agent.extract.predict", "summarize"}));

  agent.react.set_instructions("Be brief.");
  agent.extract.predict.demos.push_back({.input = {{"Where?"}, {"[[ ## thought_0 ## ]]\nhm"}},
                                         .output = {{"Because."}, {"Here."}}});
  const std::string saved = dspy::save_string(agent);
  const json::value state = json::parse(saved);
  ASSERT_TRUE(state.as_object().contains("react"));
  const auto& fields = state.at("react").at("signature").at("fields").as_array();
  ASSERT_EQ(fields.size(), 5U);
  EXPECT_EQ(fields[1].at("prefix"), "Trajectory:");
  EXPECT_EQ(fields[3].at("prefix"), "Next Tool Name:");
  EXPECT_EQ(fields[0].at("description"), "a question about a trip");
  EXPECT_EQ(state.at("extract.predict").at("demos").as_array().size(), 1U);

  Agent loaded = make_agent(std::make_shared<ScriptedLM>());
  ASSERT_TRUE(dspy::load_string(loaded, saved));
  EXPECT_EQ(loaded.react.instructions(), "Be brief.");
  ASSERT_EQ(loaded.extract.predict.demos.size(), 1U);
  EXPECT_EQ(loaded.extract.predict.demos[0].output.answer, "Here.");
  EXPECT_EQ(loaded.extract.predict.demos[0].input.trajectory, "[[ ## thought_0 ## ]]\nhm");
}

}  // namespace react_test

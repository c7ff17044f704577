// A native tool-calling agent (dspy::ReActV2) with two typed tools: C++ functions whose argument
// structs give the JSON schemas the provider receives, derived at compile time. Each step the
// model asks for tool calls (several at once when it can), the agent runs them and sends the
// results back as tool messages, until the model calls `submit` with the typed outputs. Offline
// against the demo server's scripted tool calls, or with DSPY_LM set to a real model (one whose
// family calls functions natively, e.g. openai/gpt-4o-mini or anthropic/claude-sonnet-4-5;
// others get the tools written into the prompt instead).
#include <cmath>
#include <iostream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

#include <dspy/all.hpp>

#include "example_lm.hpp"

struct TripQuestion {
  static constexpr std::string_view instructions = "Answer travel questions, using the tools for road distances and units.";
  struct Input {
    std::string question;
  };
  struct Output {
    std::string answer;
    double total_miles;
  };
  static constexpr auto docs = dspy::docs({{"answer", "one short sentence"}});
};

struct DistanceArgs {
  std::string from;
  std::string to;
  static constexpr auto docs = dspy::docs({{"from", "a city name, e.g. Lisbon"}, {"to", "another city name"}});
};

using Unit = dspy::Literal<"km", "mi">;

struct ConvertArgs {
  double value;
  Unit from = "km";
  Unit to = "mi";
  // Arguments whose initializer is their default: the schema says so, and the model may leave them out.
  static constexpr std::string_view defaults[] = {"from", "to"};
};

// Road distances in km, either way round.
int distance_km(const DistanceArgs& a) {
  static const std::map<std::pair<std::string, std::string>, int> table = {
      {{"Lisbon", "Porto"}, 313}, {{"Porto", "Madrid"}, 561}, {{"Lisbon", "Madrid"}, 625}, {{"Madrid", "Barcelona"}, 621}};
  for (const auto& key : {std::pair{a.from, a.to}, std::pair{a.to, a.from}})
    if (const auto it = table.find(key); it != table.end()) return it->second;
  throw std::invalid_argument("no road distance on record between " + a.from + " and " + a.to);  // the model sees it
}

double convert(const ConvertArgs& a) {
  constexpr double km_per_mile = 1.609344;
  const double km = a.from == "km" ? a.value : a.value * km_per_mile;
  return std::round((a.to == "km" ? km : km / km_per_mile) * 10) / 10;
}

// JSON as people read it: numbers as C++ prints them (543.1, where boost::json writes 5.431E2).
std::string shown(const boost::json::value& v) {
  if (v.is_double()) {
    std::ostringstream out;
    out << v.get_double();
    return out.str();
  }
  if (!v.is_object()) return boost::json::serialize(v);
  std::string out;
  for (const auto& kv : v.get_object())
    out += (out.empty() ? "{" : ", ") + boost::json::serialize(boost::json::string(kv.key())) + ": " + shown(kv.value());
  return out.empty() ? "{}" : out + "}";
}

int main(int argc, char** argv) {
  const std::string question =
      argc > 1 ? argv[1] : "I drive from Lisbon to Porto, then on to Madrid. How many miles is that in total?";
  auto lm = example_lm("tool_agent");
  // Offline: the demo server calls functions whatever the model's name says, and it replies in
  // script order, so no step may come from the cache (a cached first step would leave the
  // script's first reply to answer the second). Online, the model's family tells the LM whether
  // it calls functions natively.
  if (lm.offline())
    lm.lm = std::make_shared<dspy::LM>(
        lm.server->lm("openai/demo", {.cache = false, .capabilities = dspy::LMCapabilities{.function_calling = true}}));

  dspy::ReActV2<TripQuestion> agent({dspy::tool<"distance">(&distance_km, "The road distance between two cities, in km."),
                                     dspy::tool<"convert">(&convert, "Converts a distance between km and miles.")},
                                    /*max_iters=*/6);
  agent.react.adapter = dspy::ChatAdapter{.use_native_function_calling = true};
  dspy::set_lm(agent, lm.lm);

  const bool native = lm.lm->capabilities().function_calling;
  std::cout << (native ? "native tool calls; the tools sent to the model:\n"
                       : "text tool calls; the tools written into the prompt:\n");
  for (const auto& tool : agent.tools())
    std::cout << "  " << (native ? boost::json::serialize(tool.function_schema()) : tool.format()) << "\n";

  std::cout << "\nquestion: " << question << "\n";
  const auto r = dspy::call(agent, {question});
  if (!r) {
    std::cerr << "error (" << dspy::to_string(r.error().code()) << "): " << r.error().message() << "\n";
    return 1;
  }
  // Each turn of the trajectory holds the step's thought, its calls and their results.
  for (std::size_t i = 0; i < r->history.messages.size(); ++i) {
    const auto& turn = r->history.messages[i];
    std::cout << "step " << i + 1 << ": " << boost::json::value_to<std::string>(turn.at("next_thought")) << "\n";
    dspy::ToolCalls calls;
    if (auto err = dspy::from_json(turn.at("tool_calls"), calls)) {
      std::cerr << "unreadable step: " << *err << "\n";
      return 1;
    }
    for (std::size_t c = 0; c < calls.tool_calls.size(); ++c) {
      const auto& call = calls.tool_calls[c];
      const auto& result = calls.tool_call_results->tool_call_results.at(c);
      std::cout << "  " << call.name << shown(call.args) << (result.is_error ? " failed: " : " -> ") << shown(result.value)
                << "\n";
    }
  }
  std::cout << "\nended by: " << r->termination_reason << "\nanswer:   " << r->answer
            << "\nmiles:    " << r->total_miles << "\n";
  return r->termination_reason == "submit" || r->termination_reason == "forced_submit" ? 0 : 1;
}

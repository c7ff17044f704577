// A ReAct agent with two typed tools. A tool is a callable taking a described struct: its name,
// description and argument schema are what the LM sees, and the LM's JSON arguments are converted
// (or rejected with a message the agent reads as an observation) before the call.
#include <iostream>
#include <map>
#include <stdexcept>

#include <boost/describe/class.hpp>
#include <dspy/all.hpp>

#include "example_lm.hpp"

struct CityQuestion {
  static constexpr std::string_view instructions = "Answer questions about cities, using the tools for facts and arithmetic.";
  struct Input {
    std::string question;
  };
  struct Output {
    std::string answer;
  };
  static constexpr auto docs = dspy::docs({{"answer", "one short sentence with the number"}});
};

struct PopulationArgs {
  std::string city;
  static constexpr auto docs = dspy::docs({{"city", "an English city name, e.g. Tokyo"}});
};

struct ArithmeticArgs {
  double a;
  double b;
  dspy::Literal<"+", "-", "*", "/"> op;
};

long long population(const PopulationArgs& args) {
  static const std::map<std::string, long long> table = {
      {"Tokyo", 37'115'000}, {"Paris", 11'277'000}, {"Lagos", 16'637'000}, {"Lima", 11'283'000}};
  const auto it = table.find(args.city);
  if (it == table.end()) throw std::invalid_argument("no population on record for " + args.city);
  return it->second;
}

double calculate(const ArithmeticArgs& x) {
  if (x.op == "+") return x.a + x.b;
  if (x.op == "-") return x.a - x.b;
  if (x.op == "*") return x.a * x.b;
  if (x.b == 0) throw std::domain_error("division by zero");
  return x.a / x.b;
}

int main(int argc, char** argv) {
  const std::string question = argc > 1 ? argv[1] : "How many more people live in Tokyo than in Paris?";
  auto lm = example_lm("agent");

  auto agent = dspy::react<CityQuestion>(
      dspy::tool<"population">(&population, "The metropolitan population of a city."),
      dspy::tool<"calculate">(&calculate, "Applies +, -, * or / to two numbers."));
  agent.max_iters = 6;
  dspy::set_lm(agent, lm.lm);

  std::cout << "tools the LM sees:\n" << agent.react.instructions().substr(agent.react.instructions().find("(1)")) << "\n\n";
  const auto r = dspy::call(agent, {question});
  if (!r) {
    std::cerr << "error (" << dspy::to_string(r.error().code()) << "): " << r.error().message() << "\n";
    return 1;
  }
  for (std::size_t i = 0; i < r->trajectory.size(); ++i) {
    const auto& step = r->trajectory[i];
    std::cout << "step " << i << ": " << step.thought << "\n  -> " << step.tool_name
              << boost::json::serialize(step.tool_args) << " = " << boost::json::serialize(step.observation) << "\n";
  }
  std::cout << "\nanswer:    " << r->answer << "\nreasoning: " << r->reasoning << "\n";
}

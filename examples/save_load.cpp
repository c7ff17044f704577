// Save, then load, a tuned program: demos and instructions go to DSPy's state JSON (a program
// tuned in Python DSPy loads the same way), and a fresh program picks them up and answers with them.
#include <filesystem>
#include <iostream>

#include <dspy/all.hpp>

#include "example_lm.hpp"

struct QA {
  static constexpr std::string_view instructions = "Answer questions with short factoid answers.";
  struct Input {
    std::string question;
  };
  struct Output {
    std::string answer;
  };
  static constexpr auto docs = dspy::docs({{"answer", "often between 1 and 5 words"}});
};

int main() {
  dspy::ChainOfThought<QA> tuned;
  // What an optimizer leaves behind: better instructions and bootstrapped demos.
  tuned.predict.set_instructions("Answer with the name only.");
  tuned.predict.demos.push_back({.input = {"Capital of Italy?"}, .output = {dspy::ChainOfThoughtReasoning{"Rome is Italy's capital."}, {"Rome"}},
                                 .augmented = true});
  tuned.predict.demos.push_back({.input = {"Largest planet?"}, .output = {dspy::ChainOfThoughtReasoning{"Jupiter is largest."}, {"Jupiter"}}});

  const auto path = std::filesystem::temp_directory_path() / "dspy_tuned_qa.json";
  if (auto saved = dspy::save(tuned, path); !saved) {
    std::cerr << saved.error().message() << "\n";
    return 1;
  }
  std::cout << "saved " << path << ":\n" << dspy::save_string(tuned) << "\n\n";

  dspy::ChainOfThought<QA> fresh;
  if (auto loaded = dspy::load(fresh, path); !loaded) {
    std::cerr << loaded.error().message() << "\n";
    return 1;
  }
  const bool same = fresh.format({"Capital of Peru?"}) == tuned.format({"Capital of Peru?"});
  std::cout << "loaded: " << fresh.predict.demos.size() << " demos, instructions \"" << fresh.predict.instructions()
            << "\"; prompts identical: " << std::boolalpha << same << "\n";
  std::filesystem::remove(path);
  if (!same) return 1;

  // The loaded program answers with its demos in the prompt.
  auto lm = example_lm("save_load");
  dspy::set_lm(fresh, lm.lm);
  const auto r = dspy::call(fresh, {"Capital of Peru?"});
  if (!r) {
    std::cerr << "error: " << r.error().message() << "\n";
    return 1;
  }
  std::cout << "answer: " << r->answer << " (reasoning: " << r->reasoning << ")\n";
}

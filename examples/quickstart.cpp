// Quickstart: a typed signature, the exact prompt Predict sends, and the typed result.
// The LM here is scripted (in-process), so this runs anywhere without a network.
#include <iostream>

#include <boost/describe/enum.hpp>
#include <dspy/dspy.hpp>
#include <dspy/testing.hpp>  // the scripted LM this example answers with

enum class Confidence { low, medium, high };
BOOST_DESCRIBE_ENUM(Confidence, low, medium, high)

struct QA {
  static constexpr std::string_view instructions = "Answer questions with short factoid answers.";
  struct Input {
    std::string question;
  };
  struct Output {
    std::string answer;
    Confidence confidence;
    std::vector<std::string> sources;
  };
  static constexpr auto docs = dspy::docs({{"answer", "often between 1 and 5 words"}});
};

void show(const dspy::Result<dspy::Predicted<QA::Output>>& r) {
  if (!r) {
    std::cout << "error (" << dspy::to_string(r.error().code()) << "): " << r.error().message() << "\n";
    return;
  }
  std::cout << "answer:     " << r->answer << "\n"
            << "confidence: " << dspy::enum_name(r->confidence) << "\n"
            << "sources:    " << r->sources.size() << "\n"
            << "adapter:    " << r.value().adapter() << ", tokens: " << r.value().usage().total_tokens << "\n";
  for (const auto& note : r.value().parse_notes()) std::cout << "note:       " << note.field << ": " << note.note << "\n";
}

int main() {
  auto lm = std::make_shared<dspy::testing::ScriptedLM>();
  dspy::LMResponse clean;
  clean.completions = {
      "[[ ## answer ## ]]\nParis\n\n[[ ## confidence ## ]]\nhigh\n\n[[ ## sources ## ]]\n[\"encyclopedia\"]\n\n"
      "[[ ## completed ## ]]"};
  clean.usage = {182, 24, 206};
  lm->push(clean);
  // What LMs also send: wrapped values, a fenced list, a capitalised enum.
  lm->push("[[ ## answer ## ]]\nCanberra\n\n[[ ## confidence ## ]]\n**Medium**\n\n[[ ## sources ## ]]\n```json\n"
           "[\"atlas\", \"gazetteer\"]\n```\n\n[[ ## completed ## ]]");
  // And a reply that is not in the format at all: the ChatAdapter's parse fails, Predict retries
  // once with the JSONAdapter, whose reply parses.
  lm->push("The answer is Ottawa, I am fairly sure.");
  lm->push("{\"answer\": \"Ottawa\", \"confidence\": \"medium\", \"sources\": []}");
  dspy::configure({.lm = lm});

  dspy::Predict<QA> qa;
  std::cout << "=== the prompt ===\n";
  for (const auto& m : qa.format({.question = "What is the capital of France?"}))
    std::cout << "--- " << m.role << " ---\n" << m.content.text() << "\n";

  std::cout << "\n=== a clean reply ===\n";
  show(qa({.question = "What is the capital of France?"}));
  std::cout << "\n=== a sloppy reply ===\n";
  show(qa({.question = "What is the capital of Australia?"}));
  std::cout << "\n=== a reply in the wrong format ===\n";
  show(qa({.question = "What is the capital of Canada?"}));
  std::cout << "\n=== no reply left: a typed error ===\n";
  show(qa({.question = "What is the capital of Peru?"}));
}

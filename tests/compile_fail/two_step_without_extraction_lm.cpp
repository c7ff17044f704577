// expect-error: dspy::TwoStepAdapter needs the LM that extracts the outputs: write dspy::TwoStepAdapter
// expect-single-error
#include <memory>

#include <dspy/predict/predict.hpp>
#include <dspy/testing/scripted_lm.hpp>

struct QA {
  struct Input {
    std::string question;
  };
  struct Output {
    int answer;
  };
};

int main() {
  dspy::Predict<QA> qa;
#ifdef DSPY_COMPILE_FAIL_CONTROL
  qa.adapter = dspy::TwoStepAdapter{std::make_shared<dspy::testing::ScriptedLM>()};
#else
  qa.adapter = dspy::TwoStepAdapter{};  // which LM reads the main LM's answer?
#endif
  return qa.demo_count() == 0 ? 0 : 1;
}

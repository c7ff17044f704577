// expect-error: SIMBA: the metric must be callable as metric\(example, prediction, trace\)
#include <dspy/predict/predict.hpp>
#include <dspy/teleprompt/simba.hpp>

struct QA {
  struct Input {
    std::string question;
  };
  struct Output {
    std::string answer;
  };
};

int main() {
  dspy::Predict<QA> program;
  const std::vector<dspy::Example<QA>> trainset;
#ifdef DSPY_COMPILE_FAIL_CONTROL
  const auto metric = [](const dspy::Example<QA>& e, const dspy::Predicted<QA::Output>& p) {
    return e.labels.answer == p->answer;
  };
#else
  // The metric takes the labels, not the example.
  const auto metric = [](const QA::Output& labels, const dspy::Predicted<QA::Output>& p) {
    return labels.answer == p->answer;
  };
#endif
  return dspy::SIMBA(metric).compile(program, trainset) ? 0 : 1;
}

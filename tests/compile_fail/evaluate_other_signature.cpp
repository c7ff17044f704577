// expect-error: the program's Input must be the examples' Sig::Input
#include <dspy/evaluate/evaluate.hpp>
#include <dspy/evaluate/metrics.hpp>
#include <dspy/predict/predict.hpp>

struct QA {
  struct Input {
    std::string question;
  };
  struct Output {
    std::string answer;
  };
};

struct Summarize {
  struct Input {
    std::string text;
  };
  struct Output {
    std::string answer;
  };
};

int main() {
#ifdef DSPY_COMPILE_FAIL_CONTROL
  dspy::Predict<QA> program;
#else
  dspy::Predict<Summarize> program;
#endif
  const std::vector<dspy::Example<QA>> devset;
  return dspy::evaluate(program, devset, dspy::answer_exact_match).rows.empty() ? 0 : 1;
}

// expect-error: BootstrapFewShot: the program's Input must be the examples' Sig::Input
#include <dspy/evaluate/metrics.hpp>
#include <dspy/predict/predict.hpp>
#include <dspy/teleprompt/bootstrap.hpp>

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
  const std::vector<dspy::Example<QA>> trainset;
  return dspy::BootstrapFewShot(dspy::answer_exact_match).compile(program, trainset) ? 0 : 1;
}

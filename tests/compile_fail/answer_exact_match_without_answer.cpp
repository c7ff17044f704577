// expect-error: answer_exact_match needs an output field named `answer`
#include <dspy/evaluate/metrics.hpp>

struct Sig {
  struct Input {
    std::string question;
  };
  struct Output {
#ifdef DSPY_COMPILE_FAIL_CONTROL
    std::string answer;
#else
    std::string response;
#endif
  };
};

int main() {
  const dspy::Example<Sig> example{.input = {"q"}, .labels = {"a"}};
  return dspy::answer_exact_match(example, Sig::Output{"a"}) ? 0 : 1;
}

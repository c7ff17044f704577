// expect-error: RoutedLM::when<Sig>\(field, value, output\): the field must be a member of Sig::Input
// expect-single-error
#include <dspy/testing/routed_lm.hpp>

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
    std::string summary;
  };
};

int main() {
  dspy::testing::RoutedLM lm;
#ifdef DSPY_COMPILE_FAIL_CONTROL
  lm.when<Summarize>(&Summarize::Input::text, "a long text", Summarize::Output{"short"});
#else
  lm.when<Summarize>(&QA::Input::question, "a long text", Summarize::Output{"short"});  // QA's field
#endif
  return 0;
}

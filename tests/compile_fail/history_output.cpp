// expect-error: FieldName = [^;]*"history"[^;]*; Type = dspy::History\]
// expect-single-error
#include <dspy/dspy.hpp>

// A History is the conversation so far, an input; a reply cannot hold one.
struct Sig {
  struct Input {
    std::string question;
  };
  struct Output {
    std::string answer;
#ifndef DSPY_COMPILE_FAIL_CONTROL
    dspy::History history;
#endif
  };
};

int main() { return dspy::Predict<Sig>{}.format({"Hi?"}).size() == 2 ? 0 : 1; }

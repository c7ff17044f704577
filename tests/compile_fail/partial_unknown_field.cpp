// expect-error: Partial<Output>::get<Name>: Output has no field of that name
// expect-error: anwser
// expect-single-error
#include <dspy/adapters/streaming.hpp>
#include <dspy/predict/predict.hpp>

struct QA {
  struct Input {
    std::string question;
  };
  struct Output {
    std::string answer;
  };
};

int main() {
  dspy::Predict<QA> qa;
#ifdef DSPY_COMPILE_FAIL_CONTROL
  auto r = qa.stream({.question = "q"}, [](const dspy::Partial<QA::Output>& p) { (void)p.get<"answer">(); });
#else
  auto r = qa.stream({.question = "q"}, [](const dspy::Partial<QA::Output>& p) { (void)p.get<"anwser">(); });
#endif
  return r ? 0 : 1;
}

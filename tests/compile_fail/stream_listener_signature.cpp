// expect-error: the listener must be callable as f.const dspy::StreamChunk&.
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
  auto r = qa.stream({.question = "q"}, [](const dspy::StreamChunk& c) { (void)c.text; });
#else
  auto r = qa.stream({.question = "q"}, [](std::string_view text) { (void)text; });
#endif
  return r ? 0 : 1;
}

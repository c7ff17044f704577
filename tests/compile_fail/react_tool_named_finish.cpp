// expect-error: `finish` is ReAct's own tool
#include <dspy/predict/react.hpp>
#include <dspy/adapters/types/tool.hpp>

struct QA {
  struct Input {
    std::string question;
  };
  struct Output {
    std::string answer;
  };
};

struct Args {
  std::string text;
};

int main() {
#ifdef DSPY_COMPILE_FAIL_CONTROL
  auto done = dspy::tool<"done">([](Args a) { return a.text; });
#else
  auto done = dspy::tool<"finish">([](Args a) { return a.text; });
#endif
  auto agent = dspy::react<QA>(done);
  return agent.max_iters == 20 ? 0 : 1;
}

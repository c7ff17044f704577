// expect-error: dspy: not an adapter. Pass dspy::ChatAdapter
#include <dspy/adapters/adapter.hpp>

struct QA {
  struct Input {
    std::string question;
  };
  struct Output {
    std::string answer;
  };
};

struct Lines {  // neither derived from dspy::Adapter nor naming one
  bool numbered = false;
};

int main() {
#ifdef DSPY_COMPILE_FAIL_CONTROL
  auto r = dspy::parse_completion<QA>(dspy::ChatAdapter{}, "[[ ## answer ## ]]\nParis");
#else
  auto r = dspy::parse_completion<QA>(Lines{}, "[[ ## answer ## ]]\nParis");
#endif
  return r ? 0 : 1;
}

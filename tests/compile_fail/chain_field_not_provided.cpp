// expect-error: no earlier stage .nor the chain.s input. provides this input field
#include <dspy/all.hpp>

struct Draft {
  struct Input {
    std::string topic;
  };
  struct Output {
    std::string draft;
  };
};

struct Polish {
  struct Input {
#ifdef DSPY_COMPILE_FAIL_CONTROL
    std::string draft;
#else
    std::string drafts;  // nothing outputs `drafts`
#endif
  };
  struct Output {
    std::string text;
  };
};

int main() {
  auto c = dspy::chain(dspy::Predict<Draft>{}, dspy::Predict<Polish>{});
  return dspy::named_predictors(c).size() == 2 ? 0 : 1;
}

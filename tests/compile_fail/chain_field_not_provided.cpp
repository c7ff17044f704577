// expect-error: dspy: chain: no earlier stage .nor the chain.s input. provides this input field
// expect-error: chain_input_not_provided.*(Stage = 1; FieldName = Name<NameStorage<6>{"drafts"}>|<1UL, dspy::detail::Name<'d', 'r', 'a', 'f', 't', 's'>>)
// expect-single-error
#include <dspy/predict/chain.hpp>
#include <dspy/predict/predict.hpp>

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

// expect-error: this module member holds a predictor but is not described
#include <dspy/all.hpp>

struct QA {
  struct Input {
    std::string question;
  };
  struct Output {
    std::string answer;
  };
};

struct TwoStep {
  dspy::Predict<QA> draft;
  dspy::Predict<QA> refine;  // forgotten in the description below
};
#ifdef DSPY_COMPILE_FAIL_CONTROL
BOOST_DESCRIBE_STRUCT(TwoStep, (), (draft, refine))
#else
BOOST_DESCRIBE_STRUCT(TwoStep, (), (draft))
#endif

int main() {
  TwoStep m;
  return dspy::named_predictors(m).size() == 2 ? 0 : 1;
}

// expect-error: dspy: this module member holds a predictor but is not described
// expect-error: undescribed_predictor_member.*(Module = TwoStep; MemberName = Name<NameStorage<6>{"refine"}>|<TwoStep, dspy::detail::Name<'r', 'e', 'f', 'i', 'n', 'e'>>)
// expect-single-error
// Walking the module (named_predictors; also optimizers, save/load, set_lm).
#include "two_step_module.hpp"

int main() {
  TwoStep m;
  return dspy::named_predictors(m).size() == 2 ? 0 : 1;
}

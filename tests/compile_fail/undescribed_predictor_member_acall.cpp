// expect-error: dspy: this module member holds a predictor but is not described
// expect-error: undescribed_predictor_member.*(Module = TwoStep; MemberName = Name<NameStorage<6>{"refine"}>|<TwoStep, dspy::detail::Name<'r', 'e', 'f', 'i', 'n', 'e'>>)
// expect-single-error
// Calling the module with dspy::acall, which never walks it, still checks its description.
#include "two_step_module.hpp"

int main() {
  const TwoStep m;
  auto pending = dspy::acall(m, {.question = "q"});
  return pending.valid() ? 0 : 1;
}

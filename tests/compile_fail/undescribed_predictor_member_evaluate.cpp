// expect-error: dspy: this module member holds a predictor but is not described
// expect-error: undescribed_predictor_member.*(Module = TwoStep; MemberName = Name<NameStorage<6>{"refine"}>|<TwoStep, dspy::detail::Name<'r', 'e', 'f', 'i', 'n', 'e'>>)
// expect-single-error
// Calling the module with dspy::evaluate, which never walks it, still checks its description.
#include <dspy/evaluate/evaluate.hpp>

#include "two_step_module.hpp"

int main() {
  const TwoStep m;
  const std::vector<dspy::Example<QA>> devset{{.input = {"q"}, .labels = {"a"}}};
  const auto metric = [](const dspy::Example<QA>& e, const dspy::Predicted<QA::Output>& p) {
    return e.labels.answer == p->answer;
  };
  return dspy::evaluate(m, devset, metric).rows.size() == 1 ? 0 : 1;
}

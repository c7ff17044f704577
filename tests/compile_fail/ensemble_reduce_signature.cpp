// expect-error: dspy::Ensemble: reduce_fn must take std::vector<value_type>
#include <dspy/predict/predict.hpp>
#include <dspy/teleprompt/ensemble.hpp>

struct Sig {
  struct Input {
    std::string question;
  };
  struct Output {
    std::string answer;
  };
};

using Out = dspy::Predicted<Sig::Output>;

int main() {
  std::vector<dspy::Predict<Sig>> programs(3);
#ifdef DSPY_COMPILE_FAIL_CONTROL
  auto reduce = [](std::vector<Out> outs) -> dspy::Result<Out> { return std::move(outs.front()); };
#else
  auto reduce = [](const Sig::Output& out) { return out.answer; };  // one output, not the members' outputs
#endif
  const auto ensemble = dspy::Ensemble{}.compile(programs, reduce);
  return ensemble.programs.size() == 3 ? 0 : 1;
}

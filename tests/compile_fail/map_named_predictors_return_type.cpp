// expect-error: dspy::map_named_predictors: the function must return a predictor of the type it is given
// expect-single-error
#include <string>

#include <boost/describe/class.hpp>
#include <dspy/predict/predict.hpp>
#include <dspy/primitives/module.hpp>

struct Sig {
  struct Input {
    std::string question;
  };
  struct Output {
    std::string answer;
  };
};

struct Program {
  dspy::Predict<Sig> answer;
};
BOOST_DESCRIBE_STRUCT(Program, (), (answer))

int main() {
  Program program;
#ifdef DSPY_COMPILE_FAIL_CONTROL
  dspy::map_named_predictors(program, [](const std::string&, const auto& p) { return p; });
#else
  dspy::map_named_predictors(program, [](const std::string&, const auto& p) { return p.instructions(); });
#endif
  return program.answer.instructions().empty() ? 1 : 0;
}

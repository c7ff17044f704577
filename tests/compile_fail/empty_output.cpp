// expect-error: Sig::Output has no fields
#include <dspy/predict/predict.hpp>

struct Sig {
  struct Input {
    std::string question;
  };
#ifdef DSPY_COMPILE_FAIL_CONTROL
  struct Output {
    std::string answer;
  };
#else
  struct Output {};
#endif
};

int main() { return dspy::Predict<Sig>{}.format({"q"}).size() == 2 ? 0 : 1; }

// expect-error: Sig::Input must be an aggregate struct
#include <dspy/predict/predict.hpp>

struct Sig {
#ifdef DSPY_COMPILE_FAIL_CONTROL
  struct Input {
    std::string question;
  };
#else
  struct Input {
    explicit Input(std::string q) : question(std::move(q)) {}
    std::string question;
  };
#endif
  struct Output {
    std::string answer;
  };
};

int main() { return dspy::Predict<Sig>{}.format(Sig::Input{"q"}).size() == 2 ? 0 : 1; }

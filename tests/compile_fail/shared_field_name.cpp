// expect-error: the same field name is in both Sig::Input and Sig::Output
// expect-single-error
#include <dspy/predict/predict.hpp>

struct Sig {
  struct Input {
    std::string text;
  };
  struct Output {
#ifdef DSPY_COMPILE_FAIL_CONTROL
    std::string summary;
#else
    std::string text;
#endif
  };
};

int main() { return dspy::Predict<Sig>{}.format({"q"}).size() == 2 ? 0 : 1; }

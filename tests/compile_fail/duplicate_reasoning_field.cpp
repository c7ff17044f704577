// expect-error: a field name appears twice in Sig::Input or Sig::Output
// expect-single-error
#include <dspy/predict/chain_of_thought.hpp>

struct Explain {
  struct Input {
    std::string question;
  };
  struct Output {
#ifdef DSPY_COMPILE_FAIL_CONTROL
    std::string explanation;
#else
    std::string reasoning;  // ChainOfThought adds its own `reasoning`
#endif
    std::string answer;
  };
};

int main() { return dspy::ChainOfThought<Explain>{}.format({"q"}).size() == 2 ? 0 : 1; }

// expect-error: Sig::docs describes a field that is not in Sig::Input or Sig::Output
#include <dspy/all.hpp>

struct Sig {
  struct Input {
    std::string question;
  };
  struct Output {
    std::string answer;
  };
#ifdef DSPY_COMPILE_FAIL_CONTROL
  static constexpr auto docs = dspy::docs({{"answer", "often between 1 and 5 words"}});
#else
  static constexpr auto docs = dspy::docs({{"anwser", "often between 1 and 5 words"}});
#endif
};

int main() { return dspy::Predict<Sig>{}.format({"q"}).size() == 2 ? 0 : 1; }

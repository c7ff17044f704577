// expect-error: dspy: Sig::docs describes a field that is not in Sig::Input or Sig::Output
// expect-error: docs_key_is_not_a_field.*Name<(NameStorage<6>{"anwser"}|'a', 'n', 'w', 's', 'e', 'r')>
// expect-single-error
#include <dspy/predict/predict.hpp>

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

// expect-error: Demo::omit<Name>.. names a field that is not in Sig::Input or Sig::Output
// expect-single-error
#include <dspy/signatures/demo.hpp>

struct Sig {
  struct Input {
    std::string question;
  };
  struct Output {
    std::string reasoning;
    std::string answer;
  };
};

int main() {
  dspy::Demo<Sig> demo{.input = {"q"}, .output = {"", "a"}};
#ifdef DSPY_COMPILE_FAIL_CONTROL
  demo.omit<"reasoning">();
#else
  demo.omit<"reasonning">();
#endif
  return demo.has_output(0) ? 1 : 0;
}

// expect-error: Example::has_label<Name>.. / unlabel<Name>.. names a field that is not in Sig::Output
// expect-single-error
#include <dspy/signatures/example.hpp>

struct Sig {
  struct Input {
    std::string question;
  };
  struct Output {
    std::string answer;
  };
};

int main() {
  dspy::Example<Sig> example{.input = {"q"}, .labels = {"a"}};
#ifdef DSPY_COMPILE_FAIL_CONTROL
  return example.has_label<"answer">() ? 0 : 1;
#else
  return example.has_label<"answr">() ? 0 : 1;
#endif
}

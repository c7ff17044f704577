// expect-error: a Signature is a struct with nested structs `?Input`? and `?Output`?
// expect-single-error
#include <dspy/signatures/signature.hpp>

#ifdef DSPY_COMPILE_FAIL_CONTROL
struct QA {
  struct Input {
    std::string question;
  };
  struct Output {
    std::string answer;
  };
};
#else
struct QA {
  std::string question;
  std::string answer;
};
#endif

int main() { return dspy::validate_signature<QA>() ? 0 : 1; }

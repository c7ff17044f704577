// expect-error: input_only_type_as_output\(\) \[with Owner = Sig::Output; FieldName = [^;]*"caption"[^;]*; Type = dspy::Image\]
// expect-single-error
// expect-error: cannot be an output field
#include <dspy/dspy.hpp>

// An Image is something a prompt shows, never something a reply holds (as in DSPy).
struct Sig {
  struct Input {
    std::string description;
  };
  struct Output {
#ifdef DSPY_COMPILE_FAIL_CONTROL
    std::string caption;
#else
    dspy::Image caption;
#endif
  };
};

int main() { return dspy::Predict<Sig>{}.format({"a cat"}).size() == 2 ? 0 : 1; }

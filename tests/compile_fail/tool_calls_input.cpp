// expect-error: output_only_type_as_input\(\) \[with Owner = Sig::Input; FieldName = [^;]*"calls"[^;]*; Type = dspy::ToolCalls\]
// expect-single-error
// expect-error: cannot be an input field
#include <dspy/dspy.hpp>

// ToolCalls are what an LM asks for; past calls reach it as a History turn (as in DSPy).
struct Sig {
  struct Input {
    std::string question;
#ifdef DSPY_COMPILE_FAIL_CONTROL
    dspy::History calls;
#else
    dspy::ToolCalls calls;
#endif
  };
  struct Output {
    std::string answer;
  };
};

int main() { return dspy::Predict<Sig>{}.format({"Hi?", {}}).size() >= 2 ? 0 : 1; }

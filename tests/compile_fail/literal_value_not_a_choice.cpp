// expect-error: literal_value_is_not_one_of_the_choices
#include <dspy/primitives/literal.hpp>

using Answer = dspy::Literal<"yes", "no">;

#ifdef DSPY_COMPILE_FAIL_CONTROL
constexpr Answer answer = "no";
#else
constexpr Answer answer = "maybe";
#endif

int main() { return answer.index() == 1 ? 0 : 1; }

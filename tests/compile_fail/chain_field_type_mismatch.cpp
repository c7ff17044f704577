// expect-error: dspy: chain: an earlier stage provides this input field with another type
// expect-error: chain_input_type_mismatch.*(Stage = 1; FieldName = Name<NameStorage<5>{"words"}>; Provided = int; Expected = std::__cxx11::basic_string<char>|<1UL, dspy::detail::Name<'w', 'o', 'r', 'd', 's'>, int, std::basic_string<char>>)
// expect-single-error
#include <dspy/predict/chain.hpp>
#include <dspy/predict/predict.hpp>

struct Count {
  struct Input {
    std::string text;
  };
  struct Output {
    int words;
  };
};

struct Report {
  struct Input {
#ifdef DSPY_COMPILE_FAIL_CONTROL
    int words;
#else
    std::string words;  // Count outputs `words` as an int
#endif
  };
  struct Output {
    std::string report;
  };
};

int main() {
  const auto c = dspy::chain(dspy::Predict<Count>{}, dspy::Predict<Report>{});
  return c({.text = "one two"}) ? 0 : 1;
}

// expect-error: an earlier stage provides this input field with another type
#include <dspy/all.hpp>

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
  auto c = dspy::chain(dspy::Predict<Count>{}, dspy::Predict<Report>{});
  return dspy::named_predictors(c).size() == 2 ? 0 : 1;
}

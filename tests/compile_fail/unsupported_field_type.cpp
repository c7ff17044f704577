// expect-error: dspy: unsupported field type
#include <set>

#include <dspy/all.hpp>

struct Sig {
  struct Input {
    std::string text;
  };
  struct Output {
#ifdef DSPY_COMPILE_FAIL_CONTROL
    std::vector<std::string> tags;
#else
    std::set<std::string> tags;
#endif
  };
};

int main() { return dspy::Predict<Sig>{}.format({"q"}).size() == 2 ? 0 : 1; }

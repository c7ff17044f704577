// expect-error: the tool's argument must be an aggregate struct of its arguments
// expect-single-error
#include <dspy/adapters/types/tool.hpp>

struct SearchArgs {
  std::string query;
};

int main() {
#ifdef DSPY_COMPILE_FAIL_CONTROL
  auto search = dspy::tool<"search">([](SearchArgs a) { return a.query; }, "Looks up a fact.");
#else
  auto search = dspy::tool<"search">([](std::string query) { return query; }, "Looks up a fact.");
#endif
  return search.format().empty() ? 1 : 0;
}

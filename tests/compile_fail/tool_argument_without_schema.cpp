// expect-error: a field of the tool's argument struct has a type dspy cannot read from JSON
// expect-single-error
#include <dspy/adapters/types/tool.hpp>

#include <functional>

// A tool's arguments come from the LM as JSON, described by a schema derived from the struct:
// every argument needs a type with a JSON schema.
struct SearchArgs {
  std::string query;
#ifdef DSPY_COMPILE_FAIL_CONTROL
  int limit = 5;
#else
  std::function<bool(int)> filter;
#endif
};

int main() {
  dspy::Tool search = dspy::tool<"search">([](SearchArgs a) { return a.query; }, "Looks up a fact.");
  return search.format().empty() ? 1 : 0;
}

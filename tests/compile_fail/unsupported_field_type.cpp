// expect-error: dspy: unsupported field type
// expect-error: unsupported_field_type.*(Owner = Sig::Output; FieldName = Name<NameStorage<4>{"tags"}>; Type = std::set<|<Sig::Output, dspy::detail::Name<'t', 'a', 'g', 's'>, std::set<)
// expect-single-error
#include <set>

#include <dspy/predict/predict.hpp>

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

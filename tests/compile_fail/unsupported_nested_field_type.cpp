// expect-error: dspy: unsupported field type
// expect-error: unsupported_field_type.*(Owner = Address; FieldName = Name<NameStorage<9>{"postcodes"}>; Type = std::set<|<Address, dspy::detail::Name<'p', 'o', 's', 't', 'c', 'o', 'd', 'e', 's'>, std::set<)
// expect-single-error
#include <set>

#include <dspy/predict/predict.hpp>

struct Address {
  std::string city;
#ifdef DSPY_COMPILE_FAIL_CONTROL
  std::vector<std::string> postcodes;
#else
  std::set<std::string> postcodes;
#endif
};

struct Customer {
  std::string name;
  std::vector<Address> addresses;
};

struct Sig {
  struct Input {
    std::string ticket;
  };
  struct Output {
    Customer customer;
  };
};

int main() { return dspy::Predict<Sig>{}.format({"q"}).size() == 2 ? 0 : 1; }

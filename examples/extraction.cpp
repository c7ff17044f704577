// Extraction into a nested struct: the prompt carries the pydantic-style JSON schema of the
// type, and the reply is read back into it (optional fields, lists of structs).
#include <iostream>

#include <dspy/dspy.hpp>

#include "example_lm.hpp"

struct Address {
  std::string street;
  std::string city;
  std::string postal_code;
};

struct Customer {
  std::string full_name;
  std::optional<std::string> email;
  std::vector<Address> addresses;
  bool vip;
};

struct ExtractCustomer {
  static constexpr std::string_view instructions = "Extract the customer record from the message.";
  struct Input {
    std::string message;
  };
  struct Output {
    Customer customer;
  };
};

int main() {
  auto lm = example_lm("extraction");
  dspy::Predict<ExtractCustomer> extract;
  extract.set_lm(lm.lm);

  const ExtractCustomer::Input input{"Hi, this is Ada Lovelace (12 St James's Square, London SW1Y 4JH). "
                                     "Gold member since 1843."};
  std::cout << "--- system prompt ---\n" << extract.format(input).front().content.text() << "\n\n";
  const auto r = extract(input);
  if (!r) {
    std::cerr << "error: " << r.error().message() << "\n";
    return 1;
  }
  const Customer& c = r->customer;
  std::cout << "name:  " << c.full_name << "\nemail: " << c.email.value_or("(none)") << "\nvip:   " << std::boolalpha
            << c.vip << "\n";
  for (const auto& a : c.addresses) std::cout << "address: " << a.street << ", " << a.city << " " << a.postal_code << "\n";
  for (const auto& n : r.value().parse_notes()) std::cout << "note: " << n.field << ": " << n.note << "\n";
}

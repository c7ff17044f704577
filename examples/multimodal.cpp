// Multimodal extraction: an image in, a typed struct out. The image becomes an image part of the
// user message (OpenAI `image_url`, Anthropic `image` block); the reply is read into `Receipt`.
// Run with a path or URL of your own receipt as the argument, and DSPY_LM set to a vision model
// (e.g. openai/gpt-4o-mini), or offline against the demo server.
#include <cmath>
#include <iostream>
#include <string>

#include <dspy/dspy.hpp>

#include "example_lm.hpp"

struct LineItem {
  std::string name;
  int quantity;
  double price;
};

struct Receipt {
  std::string merchant;
  std::string date;
  std::vector<LineItem> items;
  double total;
  std::string currency;
};

struct ReadReceipt {
  static constexpr std::string_view instructions = "Read the receipt in the photo.";
  struct Input {
    dspy::Image photo;
  };
  struct Output {
    Receipt receipt;
  };
  static constexpr auto docs = dspy::docs({{"receipt", "prices are line totals; currency as an ISO 4217 code"}});
};

int main(int argc, char** argv) {
  const std::string source = argc > 1 ? argv[1] : DSPY_EXAMPLES_DATA "/receipt.png";
  auto photo = source.starts_with("http") ? dspy::Image::from_url(source) : dspy::Image::from_path(source);
  if (!photo) {
    std::cerr << "error: " << photo.error().message() << "\n";
    return 1;
  }
  auto lm = example_lm("multimodal");
  dspy::Predict<ReadReceipt> read;
  read.set_lm(lm.lm);

  // The user message is text, the image, then text again.
  const auto messages = read.format({*photo});
  for (const auto& part : messages.back().content.parts())
    std::cout << "part: " << std::string_view(part.at("type").as_string()) << "\n";
  const auto r = read({*photo});
  if (!r) {
    std::cerr << "error: " << r.error().message() << "\n";
    return 1;
  }
  const Receipt& receipt = r->receipt;
  std::cout << receipt.merchant << ", " << receipt.date << "\n";
  double sum = 0;
  for (const auto& item : receipt.items) {
    std::cout << "  " << item.quantity << " x " << item.name << "  " << item.price << "\n";
    sum += item.price;
  }
  const bool adds_up = std::abs(sum - receipt.total) < 0.005;
  std::cout << "total " << receipt.total << " " << receipt.currency << (adds_up ? " (the items add up)" : " (the items do not add up)")
            << "\n";
  return 0;
}

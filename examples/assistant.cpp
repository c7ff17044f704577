// A multi-turn assistant: each call carries the conversation so far as a dspy::History, which the
// adapter writes as user/assistant turns between the instructions and the new message. Offline
// against the demo server, or with DSPY_LM set to a real model.
#include <iostream>
#include <string>
#include <vector>

#include <dspy/dspy.hpp>

#include "example_lm.hpp"

struct Assistant {
  static constexpr std::string_view instructions =
      "You are a concise travel assistant. Answer the user's latest message in two sentences at most, "
      "using the conversation so far.";
  struct Input {
    std::string message;
    dspy::History history;
  };
  struct Output {
    std::string reply;
  };
};

int main() {
  auto lm = example_lm("assistant");
  dspy::Predict<Assistant> chat;
  chat.set_lm(lm.lm);

  dspy::History history;
  const std::vector<std::string> turns = {"I have three days in Lisbon in May. What should I see first?",
                                          "Where can I eat near there?", "And how do I get there from the airport?"};
  for (const auto& message : turns) {
    const Assistant::Input input{message, history};
    const auto r = chat(input);
    if (!r) {
      std::cerr << "error: " << r.error().message() << "\n";
      return 1;
    }
    std::cout << "user:      " << message << "\nassistant: " << r->reply << "\n";
    history.add<Assistant>(input, **r);
  }
  // The last request: system, then a user/assistant pair per earlier turn, then the new message.
  std::cout << "\nthe last request held " << chat.format({turns.back(), history}).size() << " messages\n";
  return 0;
}

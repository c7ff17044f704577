// A chat message, as sent to an LM.
#pragma once

#include <string>

namespace dspy {

struct Message {
  std::string role{};  ///< "system", "user" or "assistant"
  std::string content{};
  friend bool operator==(const Message&, const Message&) = default;
};

}  // namespace dspy

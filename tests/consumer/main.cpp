#include <dspy/dspy.hpp>

#include <iostream>
#include <string>

struct QA {
  struct Input {
    std::string question;
  };
  struct Output {
    std::string answer;
  };
};

int main() {
  const auto size = dspy::Predict<QA>{}.format({.question = "hi"}).size();
  std::cout << size << '\n';
  return size == 2 ? 0 : 1;
}

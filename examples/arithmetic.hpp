// The signature of the shipped arithmetic word problems (examples/data/arithmetic.jsonl), shared
// by the harness and the optimizer example.
#pragma once

#include <string>
#include <string_view>

#include <dspy/all.hpp>

struct Arithmetic {
  static constexpr std::string_view instructions = "Solve the arithmetic word problem.";
  struct Input {
    std::string question;
  };
  struct Output {
    long long answer;
  };
  static constexpr auto docs = dspy::docs({{"answer", "the number only"}});
};

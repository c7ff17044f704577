// The arithmetic task the optimizer tests share: its signature, a two-predictor pipeline over it,
// the shipped dataset split into train and dev, and the dev score on the simulated model.
#pragma once

#include <mutex>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <dspy/all.hpp>

namespace test_support {

struct Arithmetic {
  static constexpr std::string_view instructions = "Solve the word problem.";
  struct Input {
    std::string question;
  };
  struct Output {
    int answer;
  };
};

struct Rewrite {
  struct Input {
    std::string question;
  };
  struct Output {
    std::string query;
  };
};

// Two predictors: the question is rewritten (the simulated model echoes it), then solved.
struct Pipeline {
  using Input = Arithmetic::Input;
  dspy::Predict<Rewrite> rewrite;
  dspy::Predict<Arithmetic> solve;

  boost::asio::awaitable<dspy::Result<dspy::Predicted<Arithmetic::Output>>> forward(Input in) const {
    auto q_pending = rewrite.acall({std::move(in.question)});
    auto q = co_await std::move(q_pending);
    if (!q) co_return std::move(q).error();
    auto a_pending = solve.acall({q->query});
    co_return co_await std::move(a_pending);
  }
};
BOOST_DESCRIBE_STRUCT(Pipeline, (), (rewrite, solve))

/// The simulated model, keeping each request it gets (e.g. a prompt model whose prompts a test reads).
class RecordingLM : public dspy::BaseLM {
 public:
  std::mutex mutex;
  std::vector<dspy::LMRequest> requests;

  [[nodiscard]] std::string model() const override { return "recording-model"; }

 protected:
  boost::asio::awaitable<dspy::Result<dspy::LMResponse>> aforward(dspy::LMRequest request) override {
    co_return answer(request);
  }
  dspy::Result<dspy::LMResponse> forward(const dspy::LMRequest& request) override { return answer(request); }

 private:
  dspy::Result<dspy::LMResponse> answer(const dspy::LMRequest& request) {
    {
      std::lock_guard lock(mutex);
      requests.push_back(request);
    }
    return lm_.reply(request);
  }
  dspy::testing::SimulatedLM lm_;
};

/// All 300 items of examples/data/arithmetic.jsonl; a load error fails the calling test.
inline std::vector<dspy::Example<Arithmetic>> arithmetic_examples() {
  auto r = dspy::load_jsonl<Arithmetic>(DSPY_EXAMPLES_DATA "/arithmetic.jsonl");
  EXPECT_TRUE(r) << r.error().message();
  return r ? *std::move(r) : std::vector<dspy::Example<Arithmetic>>{};
}

struct Data {
  std::vector<dspy::Example<Arithmetic>> train, dev;
};

/// Items 0-39 to train on, 100-299 to score on.
inline Data arithmetic_data() {
  const auto all = arithmetic_examples();
  if (all.size() < 300) return {};
  return {{all.begin(), all.begin() + 40}, {all.begin() + 100, all.begin() + 300}};
}

/// Percent of `set` answered exactly.
inline double score(const auto& program, const std::vector<dspy::Example<Arithmetic>>& set) {
  return dspy::evaluate(program, set, dspy::answer_exact_match, {.progress = false}).score;
}

}  // namespace test_support

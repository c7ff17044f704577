// dspy::chain: fields flow by name from the input and earlier outputs; the chain is a module.
#include <gtest/gtest.h>

#include "golden_signatures.hpp"

namespace chain_test {

using namespace golden;
using dspy::testing::ScriptedLM;

struct GenerateQuery {
  struct Input {
    std::string question;
  };
  struct Output {
    std::string query;
  };
};

struct Search {  // a plain module: no LM
  struct Input {
    std::string query;
  };
  struct Passages {
    std::vector<std::string> context;
  };
  boost::asio::awaitable<dspy::Result<Passages>> forward(Input in) const {
    co_return Passages{{"passage about " + in.query}};
  }
};

struct Answer {  // needs `context` (from Search) and `question` (from the chain's input)
  struct Input {
    std::vector<std::string> context;
    std::string question;
  };
  struct Output {
    std::string answer;
  };
};

TEST(Chain, FillsEachStageByNameAndIsAModule) {
  auto lm = std::make_shared<ScriptedLM>(std::vector<std::string>{
      "[[ ## query ## ]]\ncapital of France", "[[ ## reasoning ## ]]\nsaid so\n\n[[ ## answer ## ]]\nParis"});
  auto pipeline = dspy::chain(dspy::Predict<GenerateQuery>{}, Search{}, dspy::ChainOfThought<Answer>{});
  dspy::set_lm(pipeline, lm);

  std::vector<std::string> paths;
  for (const auto& [path, p] : dspy::named_predictors(pipeline)) paths.push_back(path);
  EXPECT_EQ(paths, (std::vector<std::string>{"stages[0]", "stages[2].predict"}));

  const auto r = pipeline({"What is the capital of France?"});
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->answer, "Paris");
  EXPECT_EQ(r->reasoning, "said so");
  const auto requests = lm->requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_NE(requests[1].messages.back().content.text().find("[\"passage about capital of France\"]"), std::string::npos);
  EXPECT_NE(requests[1].messages.back().content.text().find("What is the capital of France?"), std::string::npos);

  // An error in a stage stops the chain and comes back as the chain's error.
  const auto failed = pipeline({"again"});
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code(), dspy::Errc::config);

  // Saveable like any module.
  auto copy = pipeline;
  ASSERT_TRUE(dspy::load_string(copy, dspy::save_string(pipeline)));
}

}  // namespace chain_test

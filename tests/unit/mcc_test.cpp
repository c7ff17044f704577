// MultiChainComparison: DSPy's prompt for a small signature, attempt texts, parse of rationale
// and outputs.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include <dspy/all.hpp>

namespace mcc_test {

using dspy::testing::ScriptedLM;

struct QA {
  struct Input {
    std::string question;
  };
  struct Output {
    std::string answer;
  };
};

static_assert(dspy::field_names<dspy::ReasoningAttempts<12>>[11] == "reasoning_attempt_12");

TEST(MultiChainComparison, PromptAsDspyBuildsIt) {
  dspy::MultiChainComparison<QA> mcc;
  dspy::MultiChainComparison<QA>::Input input{{"What is 2+2?"}, {{"a1", "a2", "a3"}}};
  const auto messages = mcc.format(input);
  ASSERT_EQ(messages.size(), 2U);
  EXPECT_EQ(messages[0].content.text(),
            "Your input fields are:\n"
            "1. `question` (str): \n"
            "2. `reasoning_attempt_1` (str): ${reasoning attempt}\n"
            "3. `reasoning_attempt_2` (str): ${reasoning attempt}\n"
            "4. `reasoning_attempt_3` (str): ${reasoning attempt}\n"
            "Your output fields are:\n"
            "1. `rationale` (str): ${corrected reasoning}\n"
            "2. `answer` (str):\n"
            "All interactions will be structured in the following way, with the appropriate values filled in.\n\n"
            "[[ ## question ## ]]\n{question}\n\n"
            "[[ ## reasoning_attempt_1 ## ]]\n{reasoning_attempt_1}\n\n"
            "[[ ## reasoning_attempt_2 ## ]]\n{reasoning_attempt_2}\n\n"
            "[[ ## reasoning_attempt_3 ## ]]\n{reasoning_attempt_3}\n\n"
            "[[ ## rationale ## ]]\n{rationale}\n\n"
            "[[ ## answer ## ]]\n{answer}\n\n"
            "[[ ## completed ## ]]\n"
            "In adhering to this structure, your objective is: \n"
            "        Given the fields `question`, produce the fields `answer`.");
  EXPECT_EQ(messages[1].content.text(),
            "[[ ## question ## ]]\nWhat is 2+2?\n\n"
            "[[ ## reasoning_attempt_1 ## ]]\na1\n\n"
            "[[ ## reasoning_attempt_2 ## ]]\na2\n\n"
            "[[ ## reasoning_attempt_3 ## ]]\na3\n\n"
            "Respond with the corresponding output fields, starting with the field `[[ ## rationale ## ]]`, then "
            "`[[ ## answer ## ]]`, and then ending with the marker for `[[ ## completed ## ]]`.");
  EXPECT_EQ(mcc.predict.config.temperature, 0.7);
  EXPECT_EQ(dspy::named_predictors(mcc)[0].first, "predict");
}

TEST(MultiChainComparison, AttemptsFromCompletionsAndParsedAnswer) {
  auto lm = std::make_shared<ScriptedLM>(std::vector<std::string>{
      "[[ ## rationale ## ]]\nAll three agree.\n\n[[ ## answer ## ]]\n4\n\n[[ ## completed ## ]]"});
  dspy::MultiChainComparison<QA> mcc;
  mcc.predict.set_lm(lm);
  using CoTOut = dspy::ChainOfThought<QA>::Output;
  const std::vector<CoTOut> completions{{{"  add two and two\nthen check"}, {"4"}},
                                        {{"count"}, {" four \n(4)"}},
                                        {{"guess"}, {"5"}}};
  auto r = mcc(std::span<const CoTOut>(completions), {"What is 2+2?"});
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->rationale, "All three agree.");
  EXPECT_EQ(r->answer, "4");
  const auto request = lm->requests().at(0);
  EXPECT_EQ(request.config.temperature, 0.7);
  const std::string& user = request.messages.back().content.text();
  EXPECT_NE(user.find("[[ ## reasoning_attempt_1 ## ]]\n\u00abI'm trying to add two and two I'm not sure but my "
                      "prediction is 4\u00bb\n\n[[ ## reasoning_attempt_2 ## ]]\n\u00abI'm trying to count I'm not "
                      "sure but my prediction is four\u00bb"),
            std::string::npos)
      << user;
}

TEST(MultiChainComparison, WrongNumberOfAttemptsIsAnError) {
  dspy::MultiChainComparison<QA, 2> mcc;
  struct Attempt {
    std::string rationale;
    std::string answer;
  };
  const std::vector<Attempt> three{{"a", "1"}, {"b", "2"}, {"c", "3"}};
  auto r = dspy::MultiChainComparison<QA, 2>::make_input(three, {"q"});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), dspy::Errc::config);
  auto two = dspy::MultiChainComparison<QA, 2>::make_input(std::vector<Attempt>{{"a", "1"}, {"b", "2"}}, {"q"});
  ASSERT_TRUE(two);
  EXPECT_EQ(two->attempts[1], "\u00abI'm trying to b I'm not sure but my prediction is 2\u00bb");
  EXPECT_EQ(mcc.format(*two).back().content.text().find("reasoning_attempt_3"), std::string::npos);
}

}  // namespace mcc_test

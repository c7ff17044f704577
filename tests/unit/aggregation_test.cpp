// normalize_text against DSPy's definition (expected values from Python's normalize_text), and
// dspy::majority.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include <dspy/all.hpp>

namespace aggregation_test {

struct NormalizeCase {
  const char* input;
  const char* expected;
};

TEST(NormalizeText, MatchesDspyOnTrickyInputs) {
  // Each expected value is what dspy.evaluate.metrics.normalize_text returns (Python 3.11).
  const NormalizeCase cases[] = {
      {"The,  Eiffel  Tower!", "eiffel tower"},
      {"Caf\u00e9", "cafe\u0301"},                      // NFD splits the accent off
      {"th\u00e9\u00e2tre", "\u0301 \u0302tre"},         // "the" and "a" end where a combining mark starts
      {"An apple a day", "apple day"},
      {"a_b the_end", "ab theend"},                      // '_' is punctuation, removed before articles
      {"\u0130stanbul", "i\u0307stanbul"},               // İ lowers to two code points
      {"\u00c5NGSTR\u00d6M", "\u030angstro\u0308m"},     // Å decomposes, then "a" is an article
      {"the\u00a0end\u3000now", "end now"},              // Unicode whitespace separates
      {"x\u0307\u0323", "x\u0323\u0307"},                // combining marks in canonical order
      {"\ud55c\uad6d", "\u1112\u1161\u11ab\u1100\u116e\u11a8"},  // Hangul decomposes
      {"\u0391\u0398\u0397\u039d\u0391", "\u03b1\u03b8\u03b7\u03bd\u03b1"},
      {"\u00bd the pie", "\u00bd pie"},
      {"don't\u2014stop", "dont\u2014stop"},             // only ASCII punctuation goes
      {"\uff21\uff22\uff23 the", "\uff41\uff42\uff43"},  // fullwidth letters lower too
      {"a1 an2 the3 a", "a1 an2 the3"},                  // digits are word characters
      {"\tThe\n", ""},
      {"THE END", "end"},
      {"\u0661\u0662 the", "\u0661\u0662"},
      {"...", ""},
      {"\u01c5", "\u01c6"},                              // titlecase digraph
  };
  for (const auto& c : cases) EXPECT_EQ(dspy::normalize_text(c.input), c.expected) << c.input;
}

TEST(NormalizeText, IllFormedUtf8ReadsAsReplacementCharacter) {
  EXPECT_EQ(dspy::normalize_text("ab\xff" "cd"), "ab\ufffdcd");
  EXPECT_EQ(dspy::normalize_text("\xc0\xaf"), "\ufffd\ufffd");  // overlong '/'
}

struct Out {
  std::string reasoning;
  std::string answer;
};

TEST(Majority, VotesOnTheLastFieldAfterNormalization) {
  const std::vector<Out> completions{{"r1", "Paris"}, {"r2", "London"}, {"r3", "the paris!"}, {"r4", "London"},
                                     {"r5", "PARIS"}};
  auto winner = dspy::majority(completions);
  ASSERT_TRUE(winner);
  EXPECT_EQ(winner->reasoning, "r1");  // the first completion holding the winning value
}

TEST(Majority, EarlierValueWinsTies) {
  const std::vector<Out> completions{{"r1", "Y"}, {"r2", "X"}, {"r3", "x"}, {"r4", "y"}};
  EXPECT_EQ(dspy::majority(completions)->reasoning, "r1");
  const std::vector<Out> swapped{{"r1", "X"}, {"r2", "Y"}, {"r3", "y"}, {"r4", "x"}};
  EXPECT_EQ(dspy::majority(swapped)->reasoning, "r1");
}

TEST(Majority, EmptyValuesDoNotVoteUnlessAllAreEmpty) {
  const std::vector<Out> completions{{"r1", "the"}, {"r2", "!!"}, {"r3", "Rome"}, {"r4", "a"}};
  EXPECT_EQ(dspy::majority(completions)->reasoning, "r3");
  const std::vector<Out> all_empty{{"r1", "..."}, {"r2", "the"}};
  EXPECT_EQ(dspy::majority(all_empty)->reasoning, "r1");
}

TEST(Majority, NamedFieldAndCustomNormalize) {
  const std::vector<Out> completions{{"x", "1"}, {"y", "2"}, {"y", "3"}};
  EXPECT_EQ(dspy::majority<"reasoning">(completions)->answer, "2");
  // An identity normalization: case now matters.
  const std::vector<Out> cased{{"r1", "a"}, {"r2", "A"}, {"r3", "A"}};
  auto identity = [](std::string_view s) { return std::optional<std::string>(std::string(s)); };
  EXPECT_EQ(dspy::majority(cased, identity)->reasoning, "r2");
  EXPECT_EQ(dspy::majority(cased)->reasoning, "r1");  // the default drops "a"/"A" as articles: all empty
}

TEST(Majority, NonStringFieldVotesOnItsRendering) {
  struct Count {
    int n;
  };
  const std::vector<Count> completions{{1}, {2}, {2}};
  EXPECT_EQ(dspy::majority(completions)->n, 2);
}

TEST(Majority, NoCompletionsIsAnError) {
  const std::vector<Out> none;
  auto r = dspy::majority(none);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), dspy::Errc::config);
}

struct QA {
  struct Input {
    std::string question;
  };
  struct Output {
    std::string answer;
  };
};

TEST(Majority, OverAPredictionsCompletions) {
  auto lm = std::make_shared<dspy::testing::ScriptedLM>();
  dspy::LMResponse reply;
  for (const char* a : {"Lyon", "Paris", "paris.", "Lyon"})
    reply.completions.push_back(std::string("[[ ## answer ## ]]\n") + a + "\n\n[[ ## completed ## ]]");
  lm->push(reply);
  dspy::Predict<QA> qa;
  qa.set_lm(lm);
  auto r = qa({.question = "?"}, {.n = 4});
  ASSERT_TRUE(r) << r.error().message();
  auto winner = dspy::majority(*r);
  ASSERT_TRUE(winner);
  EXPECT_EQ(winner->answer, "Lyon");  // 2-2 tie: Lyon was seen first
}

}  // namespace aggregation_test

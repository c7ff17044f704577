// dspy::Ensemble on the simulated LM: a majority of three members with independent errors beats
// every member, a sampled subset is seeded, and failing members do not lose the call.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include <dspy/all.hpp>

#include "../support/arithmetic.hpp"

namespace ensemble_test {

using dspy::testing::SimulatedLM;

using test_support::Arithmetic;
using test_support::score;

using Program = dspy::Predict<Arithmetic>;
using Out = dspy::Predicted<Arithmetic::Output>;

// DSPy's reduce_fn=dspy.majority.
const dspy::MajorityVote vote{};

// Member i asks a simulated model of its own seed, so the members err on different items.
std::vector<Program> members(std::size_t n) {
  std::vector<Program> out(n);
  for (std::size_t i = 0; i < n; ++i)
    out[i].set_lm(std::make_shared<SimulatedLM>(dspy::testing::SimulatedLMOptions{.seed = i + 1}));
  return out;
}

TEST(Ensemble, MajorityOfMembersBeatsEachMember) {
  const auto set = test_support::arithmetic_data().dev;
  const auto programs = members(3);
  const auto ensemble = dspy::Ensemble{}.compile(programs, vote);
  const double together = score(ensemble, set);
  for (const auto& p : programs) EXPECT_GT(together, score(p, set) + 5.0) << "member " << score(p, set);
}

TEST(Ensemble, SampledSubsetIsSeeded) {
  // Members that fail tell which ran: member i fails with an error naming i.
  struct Named {
    using Input = Arithmetic::Input;
    std::size_t id;
    boost::asio::awaitable<dspy::Result<Out>> forward(Input) const {
      co_return dspy::Error(dspy::Errc::network, "member " + std::to_string(id));
    }
  };
  const std::vector<Named> named{{0}, {1}, {2}, {3}, {4}};
  auto trace = [&](std::uint64_t seed) {
    const auto e = dspy::Ensemble{.size = 1, .seed = seed}.compile(named, vote);
    std::vector<std::string> which;
    for (int i = 0; i < 12; ++i) which.push_back(e({"What is 1 + 1?"}).error().message());
    return which;
  };
  const auto a = trace(3);
  EXPECT_EQ(a, trace(3));
  EXPECT_GT(std::set<std::string>(a.begin(), a.end()).size(), 1u);  // sampled afresh per call
}

TEST(Ensemble, FailingMembersDoNotLoseTheCall) {
  const auto set = test_support::arithmetic_data().dev;
  auto programs = members(3);
  const auto down = [] {
    auto lm = std::make_shared<dspy::testing::ScriptedLM>();
    lm->push(dspy::Error(dspy::Errc::network, "down")).repeat_last();
    return lm;
  };
  programs[1].set_lm(down());
  const auto ensemble = dspy::Ensemble{}.compile(programs, vote);
  const auto r = ensemble(set[0].input);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_GE(score(ensemble, set), score(programs[0], set) - 1e-9);

  programs[0].set_lm(down());
  programs[2].set_lm(down());
  const auto none = dspy::Ensemble{}.compile(programs, vote)(set[0].input);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code(), dspy::Errc::network);
  EXPECT_FALSE(dspy::Ensemble{}.compile(std::vector<Program>{}, vote)(set[0].input));
}

TEST(Ensemble, MajorityVoteReturnsAMemberThatGaveTheMostCommonAnswer) {
  // Members answer 8, 7, 7 (a scripted model each): the vote is 7; a reducer of one's own sees
  // every member's prediction in member order.
  std::vector<Program> programs(3);
  for (std::size_t i = 0; i < programs.size(); ++i) {
    auto lm = std::make_shared<dspy::testing::ScriptedLM>();
    lm->push(std::string("[[ ## answer ## ]]\n") + (i == 0 ? "8" : "7")).repeat_last();
    programs[i].set_lm(lm);
  }
  const auto r = dspy::Ensemble{}.compile(programs, vote)({"What is 3 + 4?"});
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r.value()->answer, 7);
  const auto first = dspy::Ensemble{}.compile(programs, [](std::vector<Out> outs) -> dspy::Result<Out> {
    return std::move(outs.front());
  })({"What is 3 + 4?"});
  ASSERT_TRUE(first);
  EXPECT_EQ(first.value()->answer, 8);
  EXPECT_FALSE(vote(std::vector<Out>{}));  // nothing to vote on
}

}  // namespace ensemble_test

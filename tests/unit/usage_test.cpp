// Usage tracking: per-model totals, nested scopes, cache hits, and scopes across threads.
#include <gtest/gtest.h>

#include <dspy/clients/usage.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace usage_test {

dspy::LMResponse call(std::int64_t prompt, std::int64_t completion, bool cache_hit = false) {
  return {.completions = {"x"},
          .usage = {prompt, completion, prompt + completion},
          .model = "served",
          .cache_hit = cache_hit};
}

TEST(UsageTracker, TotalsPerModel) {
  dspy::UsageTracker t;
  t.add("openai/gpt-4o-mini", {100, 20, 120});
  t.add("openai/gpt-4o-mini", {50, 5, 55});
  t.add("anthropic/claude-sonnet-4-5", {7, 3, 10});
  const auto totals = t.totals();
  ASSERT_EQ(totals.size(), 2U);
  EXPECT_EQ(totals.at("openai/gpt-4o-mini"), (dspy::Usage{150, 25, 175}));
  EXPECT_EQ(totals.at("anthropic/claude-sonnet-4-5"), (dspy::Usage{7, 3, 10}));
  EXPECT_EQ(t.total(), (dspy::Usage{157, 28, 185}));
}

TEST(UsageScope, CountsCallsMadeWhileOpenUnderTheLmModel) {
  dspy::record_usage("m", call(1, 1));  // no scope open: goes nowhere
  auto usage = dspy::track_usage();
  dspy::record_usage("openai/gpt-4o-mini", call(10, 2));
  dspy::record_usage("openai/gpt-4o-mini", call(5, 1));
  const auto totals = usage.totals();
  ASSERT_EQ(totals.size(), 1U);
  EXPECT_EQ(totals.at("openai/gpt-4o-mini"), (dspy::Usage{15, 3, 18}));
}

TEST(UsageScope, CacheHitsAreNotCounted) {
  auto usage = dspy::track_usage();
  dspy::record_usage("m", call(10, 2));
  dspy::record_usage("m", call(0, 0, /*cache_hit=*/true));
  dspy::record_usage("other", call(0, 0, /*cache_hit=*/true));
  EXPECT_EQ(usage.total(), (dspy::Usage{10, 2, 12}));
  EXPECT_EQ(usage.totals().count("other"), 0U);
}

TEST(UsageScope, NestedScopesEachSeeTheirCalls) {
  auto outer = dspy::track_usage();
  dspy::record_usage("m", call(1, 0));
  {
    auto inner = dspy::track_usage();
    dspy::record_usage("m", call(10, 0));
    {
      auto innermost = dspy::track_usage();
      dspy::record_usage("m", call(100, 0));
      EXPECT_EQ(innermost.total().prompt_tokens, 100);
    }
    dspy::record_usage("m", call(1000, 0));
    EXPECT_EQ(inner.total().prompt_tokens, 1110);
  }
  dspy::record_usage("m", call(10000, 0));
  EXPECT_EQ(outer.total().prompt_tokens, 11111);
  EXPECT_FALSE(dspy::UsageContext::current().empty());
}

TEST(UsageScope, ClosedScopeStopsCounting) {
  EXPECT_TRUE(dspy::UsageContext::current().empty());
  std::optional<dspy::UsageScope> scope;
  scope.emplace();
  dspy::record_usage("m", call(3, 0));
  const auto before = scope->total();
  scope.reset();
  EXPECT_TRUE(dspy::UsageContext::current().empty());
  EXPECT_EQ(before.prompt_tokens, 3);
}

TEST(UsageScope, ThreadsScopesAreTheirOwn) {
  constexpr int threads = 8;
  constexpr int calls = 500;
  std::vector<dspy::Usage> seen(threads);
  auto outer = dspy::track_usage();  // not adopted by the workers: sees none of their calls
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      auto mine = dspy::track_usage();
      for (int i = 0; i < calls; ++i) dspy::record_usage("m", call(t + 1, 1));
      seen[static_cast<std::size_t>(t)] = mine.total();
    });
  for (auto& th : pool) th.join();
  for (int t = 0; t < threads; ++t)
    EXPECT_EQ(seen[static_cast<std::size_t>(t)], (dspy::Usage{calls * (t + 1), calls, calls * (t + 2)})) << t;
  EXPECT_EQ(outer.total(), dspy::Usage{});
}

TEST(UsageScope, AdoptedContextCollectsWorkersCallsConcurrently) {
  constexpr int threads = 8;
  constexpr int calls = 1000;
  auto outer = dspy::track_usage();
  const auto context = dspy::UsageContext::current();
  std::vector<dspy::Usage> nested(threads);
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      dspy::AdoptUsageContext adopt(context);
      for (int i = 0; i < calls; ++i) dspy::record_usage(t % 2 ? "odd" : "even", call(2, 1));
      auto inner = dspy::track_usage();  // nests inside the adopted scope
      dspy::record_usage("inner", call(5, 5));
      nested[static_cast<std::size_t>(t)] = inner.total();
    });
  for (auto& th : pool) th.join();
  const auto totals = outer.totals();
  EXPECT_EQ(totals.at("even"), (dspy::Usage{2 * calls * threads / 2, calls * threads / 2, 3 * calls * threads / 2}));
  EXPECT_EQ(totals.at("odd"), totals.at("even"));
  EXPECT_EQ(totals.at("inner"), (dspy::Usage{5 * threads, 5 * threads, 10 * threads}));
  for (const auto& u : nested) EXPECT_EQ(u, (dspy::Usage{5, 5, 10}));
}

TEST(UsageScope, AdoptionEndsWithItsGuard) {
  auto outer = dspy::track_usage();
  const auto context = dspy::UsageContext::current();
  std::thread worker([&] {
    {
      dspy::AdoptUsageContext adopt(context);
      dspy::record_usage("m", call(1, 0));
    }
    EXPECT_TRUE(dspy::UsageContext::current().empty());
    dspy::record_usage("m", call(100, 0));
  });
  worker.join();
  EXPECT_EQ(outer.total().prompt_tokens, 1);
}

TEST(UsageContext, CapturedContextRecordsAfterTheThreadMovesOn) {
  // An async LM captures the context when its call starts and records when it completes.
  auto usage = dspy::track_usage();
  const auto captured = dspy::UsageContext::current();
  std::thread completion([&] { captured.record("m", call(4, 2)); });
  completion.join();
  EXPECT_EQ(usage.total(), (dspy::Usage{4, 2, 6}));
}

}  // namespace usage_test

// dspy::benchmark, compare and merge: a program against two demo-server models of different
// error rates over real HTTP, the full report (JSON, CSV, SVG, HTML read back with an XML
// reader), the comparison that finds the better model, and shard reports that merge into the
// unsharded report exactly.
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <dspy/all.hpp>
#include <dspy/detail/text/xml.hpp>

#include "../support/arithmetic.hpp"

namespace benchmark_test {

using test_support::Arithmetic;

std::vector<dspy::Example<Arithmetic>> arithmetic(std::size_t n) {
  auto r = dspy::load_jsonl<Arithmetic>(DSPY_EXAMPLES_DATA "/arithmetic.jsonl");
  EXPECT_TRUE(r) << r.error().message();
  if (!r) return {};
  r->resize(std::min(n, r->size()));
  return *r;
}

std::filesystem::path temp_dir(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / ("dspy_benchmark_test_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

// Every element of the tree, depth first.
void walk(const dspy::detail::XmlElement& e, const std::function<void(const dspy::detail::XmlElement&)>& f) {
  f(e);
  for (const auto& c : e.children) walk(c, f);
}

std::size_t count_tag(const dspy::detail::XmlElement& root, std::string_view tag) {
  std::size_t n = 0;
  walk(root, [&](const auto& e) { n += e.tag == tag; });
  return n;
}

// The page parsed as XML (it is written to be well-formed), without its doctype.
std::optional<dspy::detail::XmlElement> parse_page(const std::string& html) {
  constexpr std::string_view doctype = "<!DOCTYPE html>\n";
  EXPECT_TRUE(html.starts_with(doctype));
  dspy::detail::XmlReader reader(std::string_view(html).substr(doctype.size()));
  auto root = reader.parse_root();
  EXPECT_TRUE(root) << reader.error();
  return root;
}

TEST(BenchmarkShard, ParsesAndSlicesRoundRobin) {
  const auto s = dspy::Shard::parse("1/3");
  ASSERT_TRUE(s);
  EXPECT_EQ(*s, (dspy::Shard{1, 3}));
  EXPECT_TRUE(s->holds(4));
  EXPECT_FALSE(s->holds(3));
  for (const char* bad : {"3/3", "1", "a/2", "1/0", "-1/2", "1/2x", ""}) {
    const auto r = dspy::Shard::parse(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_NE(r.error().message().find("expected I/N"), std::string::npos);
  }
}

TEST(BenchmarkPrices, LongestPrefixFromJsonAndCsv) {
  const auto json = dspy::PriceTable::from_json(
      boost::json::parse(R"({"openai/gpt-4o": {"input": 2.5, "output": 10}, "openai/gpt-4o-mini": {"input": 0.15, "output": 0.6}})"));
  ASSERT_TRUE(json) << json.error().message();
  EXPECT_EQ(json->find("openai/gpt-4o-mini-2024-07-18"), (dspy::Price{0.15, 0.6}));
  EXPECT_EQ(json->find("openai/gpt-4o-2024"), (dspy::Price{2.5, 10}));
  EXPECT_FALSE(json->find("anthropic/claude"));
  const auto csv = dspy::PriceTable::from_csv("model,input,output\nopenai/gpt-4o-mini,0.15,0.60\n");
  ASSERT_TRUE(csv) << csv.error().message();
  EXPECT_EQ(csv->find("openai/gpt-4o-mini"), (dspy::Price{0.15, 0.6}));
  const auto negative = dspy::PriceTable::from_json(boost::json::parse(R"({"m": {"input": -1, "output": 1}})"), "p.json");
  ASSERT_FALSE(negative);
  EXPECT_NE(negative.error().message().find("p.json: `m`"), std::string::npos) << negative.error().message();
  const auto bad_csv = dspy::PriceTable::from_csv("model,input,output\nm,cheap,1\n", "p.csv");
  ASSERT_FALSE(bad_csv);
  EXPECT_NE(bad_csv.error().message().find("p.csv:2"), std::string::npos) << bad_csv.error().message();
  // The shipped table loads.
  const auto shipped = dspy::PriceTable::load(DSPY_EXAMPLES_DATA "/prices.json");
  ASSERT_TRUE(shipped) << shipped.error().message();
  EXPECT_TRUE(shipped->find("openai/gpt-4o-mini"));
}

TEST(BenchmarkStatistics, McNemarExactAndChiSquare) {
  EXPECT_DOUBLE_EQ(dspy::detail::mcnemar_p(0, 0), 1.0);
  EXPECT_DOUBLE_EQ(dspy::detail::mcnemar_p(5, 5), 1.0);
  EXPECT_NEAR(dspy::detail::mcnemar_p(0, 10), 2.0 / 1024, 1e-12);  // 2 * 0.5^10
  EXPECT_NEAR(dspy::detail::mcnemar_p(2, 10), 0.0385742, 1e-6);    // 2 * P(X <= 2), X ~ B(12, 1/2)
  EXPECT_NEAR(dspy::detail::mcnemar_p(10, 30), 0.0026631, 1e-6);   // chi2 = (|10-30|-1)^2/40 = 9.025, 1 df
}

TEST(BenchmarkStatistics, BootstrapAndPercentiles) {
  EXPECT_EQ(dspy::detail::bootstrap_mean({50, 50, 50}, 200, 1), (dspy::Interval{50, 50}));
  std::vector<double> coin;
  for (int i = 0; i < 400; ++i) coin.push_back(i % 2 ? 100 : 0);
  const auto ci = dspy::detail::bootstrap_mean(coin, 2000, 7);
  EXPECT_LT(ci.low, 50);
  EXPECT_GT(ci.high, 50);
  EXPECT_NEAR(ci.high - ci.low, 2 * 1.96 * 50 / 20, 1.5);  // the normal interval's width, 9.8
  EXPECT_EQ(ci, dspy::detail::bootstrap_mean(coin, 2000, 7));  // seeded
  EXPECT_EQ(dspy::detail::nearest_rank({1, 2, 3, 4}, 50), 2);
  EXPECT_EQ(dspy::detail::nearest_rank({1, 2, 3, 4}, 99), 4);
}

// The done-when: a program against two demo-server models that differ in error rate, over HTTP.
TEST(Benchmark, TwoModelsOverHttpFullReportAndComparison) {
  auto good = dspy::testing::DemoServer::start(DSPY_DEMO_SERVER, {"--simulate", "--error-rate", "0.1"});
  auto bad = dspy::testing::DemoServer::start(DSPY_DEMO_SERVER, {"--simulate", "--error-rate", "0.4"});
  ASSERT_TRUE(good) << good.error().message();
  ASSERT_TRUE(bad) << bad.error().message();
  const auto dev = arithmetic(200);
  auto prices = dspy::PriceTable({{"openai/sim-good", {0.40, 1.60}}, {"openai/sim-bad", {0.15, 0.60}}});
  const std::vector<dspy::BenchmarkModel> models{
      {"bad", bad->lm("openai/sim-bad", {.cache = false})},
      {"good", good->lm("openai/sim-good", {.cache = false})},
  };
  const dspy::Predict<Arithmetic> program;
  const auto ran = dspy::benchmark(program, dev, dspy::answer_exact_match, models,
                                   {.name = "arithmetic / predict", .dataset = "arithmetic.jsonl", .prices = prices,
                                    .evaluate = {.concurrency = 8, .progress = false}});
  ASSERT_TRUE(ran) << ran.error().message();
  const auto& report = *ran;
  ASSERT_EQ(report.models.size(), 2u);
  const auto s = report.summaries();
  // The simulated models are wrong on a hash-chosen share: about 40% and 10% of 200.
  EXPECT_NEAR(s[0].accuracy, 60, 8);
  EXPECT_NEAR(s[1].accuracy, 90, 6);
  for (const auto& m : s) {
    EXPECT_EQ(m.examples, 200u);
    EXPECT_LE(m.accuracy_ci.low, m.accuracy);
    EXPECT_GE(m.accuracy_ci.high, m.accuracy);
    EXPECT_GT(m.accuracy_ci.high - m.accuracy_ci.low, 2);
    EXPECT_EQ(m.calls.calls, 200u);
    EXPECT_EQ(m.calls.cache_hits, 0u);
    EXPECT_GT(m.calls.tokens_in, 200 * 20);
    EXPECT_GT(m.calls.tokens_out, 0);
    ASSERT_TRUE(m.cost_usd);
    EXPECT_GT(m.latency_p50_ms, 0);
    EXPECT_LE(m.latency_p50_ms, m.latency_p90_ms);
    EXPECT_LE(m.latency_p99_ms, m.latency_max_ms);
    EXPECT_EQ(m.failed, 0u);
    EXPECT_GT(m.throughput, 0);
  }
  EXPECT_DOUBLE_EQ(*s[1].cost_usd, (static_cast<double>(s[1].calls.tokens_in) * 0.40 +
                                    static_cast<double>(s[1].calls.tokens_out) * 1.60) / 1e6);

  // The comparison finds the better model, with an interval away from zero.
  const auto c = dspy::compare(report.models[0], report.models[1]);
  EXPECT_EQ(c.paired, 200u);
  EXPECT_NEAR(c.delta, s[1].accuracy - s[0].accuracy, 1e-9);
  EXPECT_GT(c.delta, 15);
  EXPECT_GT(c.delta_ci.low, 0);
  EXPECT_LT(c.delta_ci.low, c.delta);
  EXPECT_GT(c.delta_ci.high, c.delta);
  EXPECT_TRUE(c.significant());
  EXPECT_FALSE(c.regression());
  EXPECT_LT(c.p_value, 1e-6);
  // A lower error rate gets a subset of the same items wrong: nothing regresses.
  EXPECT_GT(c.improved.size(), 30u);
  EXPECT_TRUE(c.regressed.empty());
  EXPECT_EQ(c.verdict().rfind("good is better than bad by", 0), 0u) << c.verdict();
  const auto back = dspy::compare(report.models[1], report.models[0]);
  EXPECT_TRUE(back.regression());
  EXPECT_EQ(back.regressed.size(), c.improved.size());

  // Every rendering, written and read back.
  const auto dir = temp_dir("http");
  const auto written = dspy::save_report(report, dir, "arith");
  ASSERT_TRUE(written) << written.error().message();
  EXPECT_EQ(written->size(), 7u);
  const auto loaded = dspy::BenchmarkReport::load_json(dir / "arith.json");
  ASSERT_TRUE(loaded) << loaded.error().message();
  EXPECT_EQ(*loaded, report);
  const std::string table = dspy::to_table(report);
  EXPECT_NE(table.find("accuracy"), std::string::npos);
  EXPECT_NE(table.find("95% CI"), std::string::npos);
  EXPECT_NE(dspy::to_table(c).find("McNemar"), std::string::npos);
  const auto rows = dspy::detail::csv::parse(dspy::rows_csv(report), "rows");
  ASSERT_TRUE(rows);
  EXPECT_EQ(rows->size(), 1 + 2 * 200u);
  const auto summary = dspy::detail::csv::parse(dspy::summary_csv(report), "summary");
  ASSERT_TRUE(summary);
  EXPECT_EQ(summary->size(), 3u);

  const auto html = dspy::detail::read_text_file(dir / "arith.html");
  ASSERT_TRUE(html);
  const auto page = parse_page(*html);
  ASSERT_TRUE(page);
  EXPECT_EQ(count_tag(*page, "svg"), 3u);      // accuracy-cost, latency, scores
  EXPECT_GE(count_tag(*page, "table"), 3u);     // summary, comparison, examples
  EXPECT_EQ(count_tag(*page, "script"), 0u);
  EXPECT_EQ(count_tag(*page, "link"), 0u);      // no external stylesheet
  EXPECT_EQ(count_tag(*page, "img"), 0u);
  EXPECT_NE(html->find("good against bad"), std::string::npos);
  EXPECT_NE(html->find("good is better than bad"), std::string::npos);
  EXPECT_EQ(html->find("http://127.0.0.1"), std::string::npos);  // nothing fetched from anywhere
  // The examples table: a header and a line per example.
  std::size_t example_lines = 0;
  walk(*page, [&](const auto& e) {
    if (e.tag == "table" && e.raw.find("<th>example</th>") != std::string::npos && e.raw.find("<th>bad</th>") != std::string::npos)
      example_lines = count_tag(e, "tr");
  });
  EXPECT_EQ(example_lines, 201u);
  for (const char* svg : {"arith-latency.svg", "arith-scores.svg", "arith-accuracy-cost.svg"}) {
    const auto text = dspy::detail::read_text_file(dir / svg);
    ASSERT_TRUE(text);
    dspy::detail::XmlReader reader(*text);
    const auto root = reader.parse_root();
    ASSERT_TRUE(root) << svg << ": " << reader.error();
    EXPECT_EQ(count_tag(*root, "svg"), 1u);
  }
  const auto standalone = parse_page(dspy::to_html(c));
  ASSERT_TRUE(standalone);
  EXPECT_EQ(count_tag(*standalone, "table"), 2u);  // the figures and the improved examples (none regressed)
  std::filesystem::remove_all(dir);
}

TEST(BenchmarkDemoServer, ErrorRateMustBeAShare) {
  for (const char* bad : {"1.5", "-0.1", "often"}) {
    const auto server = dspy::testing::DemoServer::start(DSPY_DEMO_SERVER, {"--simulate", "--error-rate", bad});
    ASSERT_FALSE(server) << bad;
    EXPECT_NE(server.error().message().find("exited before printing its port"), std::string::npos)
        << server.error().message();
  }
  // Either order of the options.
  EXPECT_TRUE(dspy::testing::DemoServer::start(DSPY_DEMO_SERVER, {"--simulate", "--error-rate", "0.2", "--latency-ms", "1"}));
}

dspy::BenchmarkReport run_sim(const std::vector<dspy::Example<Arithmetic>>& dev, dspy::Shard shard) {
  const dspy::Predict<Arithmetic> program;
  const std::vector<dspy::BenchmarkModel> models{
      {"zero-shot", dspy::testing::SimulatedLM({.model = "sim/a"})},
      {"careful", dspy::testing::SimulatedLM({.error_rate = [](const auto&) { return 0.12; }, .model = "sim/b"})},
  };
  auto report = dspy::benchmark(program, dev, dspy::answer_exact_match, models,
                                {.name = "sharded", .dataset = "arithmetic.jsonl", .repeats = 2, .shard = shard,
                                 .prices = dspy::PriceTable({{"sim/", {1, 2}}}), .evaluate = {.concurrency = 4, .progress = false}});
  EXPECT_TRUE(report) << report.error().message();
  return report ? std::move(*report) : dspy::BenchmarkReport{};
}

// Wall-clock fields: the only ones two runs of the same work may differ in.
void clear_clock(dspy::BenchmarkReport& r) {
  for (auto& m : r.models) {
    m.wall_s = 0;
    for (auto& rep : m.repeats)
      for (auto& row : rep.rows) row.latency_s = 0;
  }
}

TEST(BenchmarkMerge, ShardReportsMergeIntoTheUnshardedReport) {
  const auto dev = arithmetic(37);  // not a multiple of the shard count
  auto whole = run_sim(dev, {});
  const auto dir = temp_dir("shards");
  std::vector<dspy::BenchmarkReport> shards;
  for (std::size_t i : {2u, 0u, 1u}) {  // any order
    auto shard = run_sim(dev, {i, 3});
    EXPECT_EQ(shard.models[0].repeats[0].rows.size(), i == 0 ? 13u : 12u);
    const auto path = dir / ("shard-" + std::to_string(i) + ".json");
    ASSERT_TRUE(shard.save_json(path));
    auto loaded = dspy::BenchmarkReport::load_json(path);
    ASSERT_TRUE(loaded) << loaded.error().message();
    shards.push_back(std::move(*loaded));
  }
  auto merged = dspy::merge(shards);
  ASSERT_TRUE(merged) << merged.error().message();
  clear_clock(whole);
  clear_clock(*merged);
  EXPECT_EQ(*merged, whole);
  EXPECT_EQ(dspy::detail::py_json(merged->to_json()), dspy::detail::py_json(whole.to_json()));
  EXPECT_EQ(dspy::to_html(*merged), dspy::to_html(whole));
  EXPECT_NE(dspy::to_html(whole).find("<dt>runs</dt>"), std::string::npos);  // each repeat's accuracy
  const auto a = merged->summaries(), b = whole.summaries();
  ASSERT_EQ(a.size(), 2u);
  for (std::size_t m = 0; m < 2; ++m) {
    EXPECT_EQ(a[m].accuracy, b[m].accuracy);
    EXPECT_EQ(a[m].accuracy_ci, b[m].accuracy_ci);
    EXPECT_EQ(a[m].cost_usd, b[m].cost_usd);
    EXPECT_EQ(a[m].calls, b[m].calls);
  }
  std::filesystem::remove_all(dir);
}

TEST(BenchmarkMerge, SplitRunMergesBackToTheBitWallTimeTheLongestShards) {
  const auto dev = arithmetic(20);
  const auto whole = run_sim(dev, {});
  // The run's own rows dealt into 4 shards, with its latencies: the merge gives it back whole.
  std::vector<dspy::BenchmarkReport> shards;
  for (std::size_t i = 0; i < 4; ++i) {
    auto s = whole;
    s.shard = {i, 4};
    for (auto& m : s.models) {
      m.calls = {};
      m.wall_s = 0.5 + static_cast<double>(i);
      for (auto& rep : m.repeats) std::erase_if(rep.rows, [&](const auto& row) { return !s.shard.holds(row.index); });
    }
    s.models[0].calls = whole.models[0].calls;  // counts add up over shards
    s.models[1].calls = i == 3 ? whole.models[1].calls : dspy::CallCounts{};
    shards.push_back(std::move(s));
  }
  auto merged = dspy::merge(shards);
  ASSERT_TRUE(merged) << merged.error().message();
  for (const auto& m : merged->models) EXPECT_EQ(m.wall_s, 3.5);
  auto expected = whole;
  for (auto& m : expected.models) m.wall_s = 3.5;
  for (std::size_t m = 0; m < 2; ++m)
    for (std::size_t r = 0; r < 2; ++r) EXPECT_EQ(merged->models[m].repeats[r], expected.models[m].repeats[r]);
  expected.models[0].calls.calls *= 4;
  expected.models[0].calls.cache_hits *= 4;
  expected.models[0].calls.tokens_in *= 4;
  expected.models[0].calls.tokens_out *= 4;
  for (auto& [code, n] : expected.models[0].calls.errors) n *= 4;
  EXPECT_EQ(*merged, expected);
}

TEST(BenchmarkMerge, RefusesMissingDuplicateAndForeignShards) {
  const auto dev = arithmetic(6);
  const auto s0 = run_sim(dev, {0, 3}), s1 = run_sim(dev, {1, 3}), s2 = run_sim(dev, {2, 3});
  const auto missing = dspy::merge({s0, s2});
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message().find("missing shards 1/3"), std::string::npos) << missing.error().message();
  const auto twice = dspy::merge({s0, s1, s1});
  ASSERT_FALSE(twice);
  EXPECT_NE(twice.error().message().find("given twice"), std::string::npos) << twice.error().message();
  auto other = s2;
  other.name = "another";
  const auto foreign = dspy::merge({s0, s1, other});
  ASSERT_FALSE(foreign);
  EXPECT_NE(foreign.error().message().find("another benchmark"), std::string::npos) << foreign.error().message();
  EXPECT_FALSE(dspy::merge({}));
}

TEST(BenchmarkReport, LoadRejectsWhatIsNotAReport) {
  const auto wrong = dspy::BenchmarkReport::from_json(boost::json::parse(R"({"score": 1, "rows": []})"), "x.json");
  ASSERT_FALSE(wrong);
  EXPECT_NE(wrong.error().message().find("x.json: format"), std::string::npos) << wrong.error().message();
  auto report = run_sim(arithmetic(4), {});
  auto v = report.to_json();
  v["models"].as_array()[1].as_object()["calls"].as_object()["tokens_in"] = -3;
  auto huge = report.to_json();
  huge["bootstrap"].as_object()["samples"] = 1'000'000'000'000ULL;
  const auto too_many = dspy::BenchmarkReport::from_json(huge, "h.json");
  ASSERT_FALSE(too_many);
  EXPECT_NE(too_many.error().message().find("h.json: bootstrap"), std::string::npos) << too_many.error().message();
  const auto negative = dspy::BenchmarkReport::from_json(v, "r.json");
  ASSERT_FALSE(negative);
  EXPECT_NE(negative.error().message().find("r.json: models[1].calls"), std::string::npos) << negative.error().message();
}

TEST(BenchmarkReport, CountsCacheHitsAndErrorsByType) {
  // A cached LM on its second repeat: every call a hit, no tokens spent.
  auto lm = std::make_shared<dspy::testing::SimulatedLM>(dspy::testing::SimulatedLMOptions{.model = "sim/cached"});
  lm->set_cache(true, std::make_shared<dspy::Cache>(dspy::CacheOptions{.enable_disk = false}));
  const auto dev = arithmetic(10);
  const dspy::Predict<Arithmetic> program;
  const auto report = dspy::benchmark(program, dev, dspy::answer_exact_match, {{"", lm}},
                                      {.repeats = 2, .evaluate = {.concurrency = 2, .progress = false}})
                          .value();
  const auto s = report.summary(report.models[0]);
  EXPECT_EQ(s.label, "sim/cached");
  EXPECT_EQ(s.calls.calls, 20u);
  EXPECT_EQ(s.calls.cache_hits, 10u);
  EXPECT_EQ(s.repeat_accuracy.size(), 2u);
  EXPECT_EQ(s.repeat_accuracy[0], s.repeat_accuracy[1]);

  // An LM that fails: the examples fail with its error, counted by type.
  struct Down : dspy::BaseLM {
    std::string model() const override { return "down/lm"; }
    boost::asio::awaitable<dspy::Result<dspy::LMResponse>> aforward(dspy::LMRequest) override {
      co_return dspy::Error(dspy::Errc::rate_limited, "429 after retries");
    }
  };
  const auto failed = dspy::benchmark(program, dev, dspy::answer_exact_match, {{"down", std::make_shared<Down>()}},
                                      {.evaluate = {.concurrency = 2, .progress = false}})
                          .value();
  const auto f = failed.summary(failed.models[0]);
  EXPECT_EQ(f.failed, 10u);
  EXPECT_EQ(f.errors.at("rate_limited"), 10u);
  EXPECT_EQ(f.calls.errors.at("rate_limited"), 10u);
  EXPECT_EQ(f.accuracy, 0);
  EXPECT_NE(dspy::to_table(failed).find("rate_limited 10"), std::string::npos);
  EXPECT_NE(dspy::to_html(failed).find("Errors by type"), std::string::npos);

  // Replies that took transport retries: counted, kept in the JSON, summed by a merge.
  struct Flaky : dspy::BaseLM {
    std::string model() const override { return "flaky/lm"; }
    boost::asio::awaitable<dspy::Result<dspy::LMResponse>> aforward(dspy::LMRequest) override {
      co_return dspy::LMResponse{.completions = {"[[ ## answer ## ]]\n0"}, .model = "flaky/lm", .retries = 2};
    }
  };
  const auto flaky = dspy::benchmark(program, dev, dspy::answer_exact_match, {{"flaky", std::make_shared<Flaky>()}},
                                     {.evaluate = {.concurrency = 2, .progress = false}})
                         .value();
  const auto fs = flaky.summary(flaky.models[0]);
  EXPECT_EQ(fs.calls.retries, 20u);
  const auto back = dspy::BenchmarkReport::from_json(flaky.to_json());
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(back->summary(back->models[0]).calls.retries, 20u);
  EXPECT_NE(dspy::summary_csv(flaky).find(",retries,"), std::string::npos);
}

TEST(Benchmark, RefusesBadOptionsAndRunsAProgramAsConfigured) {
  const auto dev = arithmetic(6);
  const dspy::Predict<Arithmetic> program;
  const dspy::BenchmarkModel sim{"sim", dspy::testing::SimulatedLM()};
  const auto bad_shard = dspy::benchmark(program, dev, dspy::answer_exact_match, {sim}, {.shard = {3, 3}});
  ASSERT_FALSE(bad_shard);
  EXPECT_NE(bad_shard.error().message().find("shard 3/3"), std::string::npos) << bad_shard.error().message();
  const auto no_runs = dspy::benchmark(program, dev, dspy::answer_exact_match, {sim}, {.repeats = 0});
  ASSERT_FALSE(no_runs);
  EXPECT_NE(no_runs.error().message().find("repeats"), std::string::npos);
  // No LM: the program as configured, here by the settings; the program itself is left alone.
  const auto scope = dspy::context({.lm = dspy::testing::SimulatedLM({.model = "sim/settings"})});
  const auto as_is = dspy::benchmark(program, dev, dspy::answer_exact_match, {{}, sim},
                                     {.evaluate = {.concurrency = 2, .progress = false}});
  ASSERT_TRUE(as_is) << as_is.error().message();
  EXPECT_EQ(as_is->models[0].label, "sim/settings");
  EXPECT_EQ(as_is->models[0].calls.calls, 6u);
  EXPECT_EQ(as_is->models[1].label, "sim");
  EXPECT_EQ(as_is->models[1].model, "simulated/lm");
  EXPECT_FALSE(program.get_lm());
}

}  // namespace benchmark_test

// GEPA on the simulated LM, in process: a reflection model reading traces and metric feedback
// raises the dev-set score above the unoptimized program, reproducibly, within the metric-call
// budget, without touching the student; the Pareto parent choice, the minibatches, the merge and
// the reading of the reflection reply, each on hand-made inputs.
#include <atomic>

#include <gtest/gtest.h>

#include <dspy/all.hpp>

#include "../support/arithmetic.hpp"

namespace gepa_test {

using dspy::testing::SimulatedLM;

using test_support::Arithmetic;
using test_support::score;

// The reflection model: the simulated model, keeping each request it gets.
using ReflectionModel = test_support::RecordingLM;

// A metric with feedback, as GEPA wants one: what was wrong and the worked solution. Counts its calls.
struct FeedbackMetric {
  std::shared_ptr<std::atomic<std::size_t>> calls = std::make_shared<std::atomic<std::size_t>>(0);

  dspy::MetricResult operator()(const dspy::Example<Arithmetic>& e, const dspy::Predicted<Arithmetic::Output>& p,
                                const dspy::Trace* /*trace*/) const {
    ++*calls;
    const std::string expected = std::to_string(e.labels.answer);
    if (p.value().answer == e.labels.answer) return {1.0, "The answer " + expected + " is correct."};
    const auto worked = dspy::testing::solve_arithmetic(e.input.question);
    return {0.0, "The answer " + std::to_string(p.value().answer) + " is wrong; the expected answer is " + expected +
                     ". " + (worked ? worked->reasoning : std::string())};
  }
};

// Train on items 0-39, track the Pareto front on items 40-69, score on items 100-299.
struct Sets {
  std::vector<dspy::Example<Arithmetic>> train, val, dev;
};
Sets sets() {
  const auto all = test_support::arithmetic_examples();
  if (all.size() < 300) return {};
  return {{all.begin(), all.begin() + 40}, {all.begin() + 40, all.begin() + 70}, {all.begin() + 100, all.begin() + 300}};
}

dspy::GEPAOptions options(std::uint64_t seed = 0) {
  return {.auto_mode = dspy::GEPAAuto::light, .seed = seed, .progress = {.stream = nullptr}};
}

TEST(GEPA, ReflectionOnFeedbackRaisesTheDevScoreReproducibly) {
  const Sets s = sets();
  dspy::Predict<Arithmetic> student;
  student.set_lm(std::make_shared<SimulatedLM>());
  const double before = score(student, s.dev);
  const boost::json::object student_state = dspy::dump_state(student);

  const FeedbackMetric metric;
  auto reflection = std::make_shared<ReflectionModel>();
  auto result = dspy::GEPA(metric, reflection, options()).compile(student, s.train, s.val);
  ASSERT_TRUE(result) << result.error().message();
  const double after = score(result->program, s.dev);
  std::printf("GEPA dev score: %.1f -> %.1f over %zu candidates; instruction: %s\n", before, after,
              result->candidates.size(), result->program.instructions().c_str());
  EXPECT_GE(after, before + 12.0);  // 15.5 to 23.5 points with seeds 0-7
  EXPECT_GT(dspy::testing::rules_named(result->program.instructions(), dspy::testing::arithmetic_task), 0u);
  EXPECT_EQ(dspy::dump_state(student), student_state);

  // auto light: DSPy's budget for one predictor, six candidates and 30 validation examples.
  const std::size_t budget = dspy::gepa_auto_budget(1, 6, s.val.size());
  EXPECT_EQ(budget, 500u);
  const std::size_t spent = result->spent.at("metric_calls").to_number<std::size_t>();
  EXPECT_EQ(spent, metric.calls->load());
  EXPECT_LE(spent, budget);
  ASSERT_TRUE(result->stopped);
  EXPECT_NE(result->stopped->find("max_metric_calls 500"), std::string::npos) << *result->stopped;

  // The log: the student first, every pool member scored on the whole valset; the result is the best.
  ASSERT_FALSE(result->candidates.empty());
  const auto& seed = result->candidates.front();
  EXPECT_EQ(seed.kind, "full");
  EXPECT_EQ(seed.params.at("instructions").at("self").as_string(), "Solve the word problem.");
  double best = 0;
  std::size_t pool = 0, accepted = 0;
  for (std::size_t i = 0; i < result->candidates.size(); ++i) {
    const auto& c = result->candidates[i];
    EXPECT_EQ(c.index, i);
    if (c.kind == "full") {
      EXPECT_EQ(c.params.at("candidate").to_number<std::size_t>(), pool++);
      EXPECT_EQ(c.subscores.size(), s.val.size());
      best = std::max(best, *c.score);
    } else if (c.kind == "minibatch" && c.params.at("accepted").as_bool()) {
      ++accepted;
      EXPECT_EQ(c.subscores.size(), 3u);
      ASSERT_EQ(result->candidates[i + 1].params.at("parents").as_array().size(), 1u);
      EXPECT_EQ(result->candidates[i + 1].params.at("parents").at(0), c.params.at("parent"));
    }
  }
  EXPECT_GT(accepted, 0u);
  EXPECT_DOUBLE_EQ(result->score, best);

  // gepa's prompt, one user message, with the traces and the metric's feedback.
  ASSERT_FALSE(reflection->requests.empty());
  const auto& first = reflection->requests.front();
  ASSERT_EQ(first.messages.size(), 1u);
  EXPECT_EQ(first.messages[0].role, "user");
  for (const char* part : {"I provided an assistant with the following instructions to perform a task for me:\n```\n"
                           "Solve the word problem.\n```",
                           "# Example 1\n## Inputs\n### question\n", "## Generated Outputs\n### answer\n",
                           "## Feedback\nThe answer ", "Provide the new instructions within ``` blocks."})
    EXPECT_NE(first.messages[0].content.text().find(part), std::string::npos) << part << " in " << first.messages[0].content.text();
  EXPECT_NE(reflection->requests.back().config.rollout_id, first.config.rollout_id);

  // current_best: the parent is always the best candidate so far.
  auto greedy = options();
  greedy.candidate_selection_strategy = dspy::CandidateSelection::current_best;
  auto chain = dspy::GEPA(FeedbackMetric{}, std::make_shared<ReflectionModel>(), greedy).compile(student, s.train, s.val);
  ASSERT_TRUE(chain) << chain.error().message();
  std::printf("GEPA current_best dev score: %.1f\n", score(chain->program, s.dev));
  EXPECT_GE(score(chain->program, s.dev), before + 12.0);
  std::vector<double> pool_scores;
  for (const auto& c : chain->candidates) {
    if (c.kind == "full") {
      pool_scores.push_back(*c.score);
    } else if (c.params.contains("parent")) {
      EXPECT_EQ(c.params.at("parent").to_number<std::size_t>(),
                static_cast<std::size_t>(std::max_element(pool_scores.begin(), pool_scores.end()) - pool_scores.begin()));
    }
  }

  // Same seed, same run.
  auto again = dspy::GEPA(FeedbackMetric{}, std::make_shared<ReflectionModel>(), options()).compile(student, s.train, s.val);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->program.instructions(), result->program.instructions());
  EXPECT_EQ(again->log_json(), result->log_json());
}

// Two predictors, each answering half of the questions. In this world a rule in the instruction
// also makes the model over-apply it on a tenth of the questions, so a child does not dominate its
// parent: siblings stay on the Pareto front and merges have two descendants to combine.
struct Routed {
  using Input = Arithmetic::Input;
  dspy::Predict<Arithmetic> even;
  dspy::Predict<Arithmetic> odd;

  boost::asio::awaitable<dspy::Result<dspy::Predicted<Arithmetic::Output>>> forward(Input in) const {
    const auto& p = in.question.size() % 2 == 0 ? even : odd;
    auto pending = p.acall(std::move(in));
    co_return co_await std::move(pending);
  }
};
BOOST_DESCRIBE_STRUCT(Routed, (), (even, odd))

TEST(GEPA, MergesTheInstructionsTwoDescendantsChanged) {
  const Sets s = sets();
  dspy::testing::SimulatedLMOptions world;
  world.error_rate = [](const dspy::testing::ChatPrompt& p) {
    const std::string* q = p.input("question");
    if (q && dspy::testing::rules_named(p.instructions, dspy::testing::arithmetic_task) > 0 &&
        dspy::testing::unit_hash(*q, 99) < 0.1)
      return 1.0;
    return dspy::testing::default_error_rate(p);
  };
  Routed student;
  dspy::set_lm(student, std::make_shared<SimulatedLM>(world));
  auto o = options(1);
  o.auto_mode.reset();
  o.max_metric_calls = 800;
  auto result = dspy::GEPA(FeedbackMetric{}, std::make_shared<ReflectionModel>(), o).compile(student, s.train, s.val);
  ASSERT_TRUE(result) << result.error().message();
  std::size_t merges = 0, combined = 0;
  std::vector<boost::json::object> pool;  // instructions per candidate
  for (std::size_t i = 0; i < result->candidates.size(); ++i) {
    const auto& c = result->candidates[i];
    if (c.kind == "full") pool.push_back(c.params.at("instructions").as_object());
    if (c.kind != "merge") continue;
    ++merges;
    EXPECT_EQ(c.subscores.size(), 5u);  // scored on a subsample of the valset first
    if (c.params.at("accepted").as_bool()) {
      ASSERT_LT(i + 1, result->candidates.size());
      EXPECT_EQ(result->candidates[i + 1].kind, "full");
      EXPECT_EQ(result->candidates[i + 1].params.at("parents"), c.params.at("parents"));
      EXPECT_EQ(result->candidates[i + 1].params.at("instructions"), c.params.at("instructions"));
    }
    // Per predictor: the instruction of the descendant that changed it from the common ancestor.
    const auto& ancestor = pool.at(c.params.at("ancestor").to_number<std::size_t>());
    const auto& a = pool.at(c.params.at("parents").at(0).to_number<std::size_t>());
    const auto& b = pool.at(c.params.at("parents").at(1).to_number<std::size_t>());
    for (const char* name : {"even", "odd"}) {
      const auto& merged = c.params.at("instructions").at(name);
      if (a.at(name) != b.at(name) && (a.at(name) == ancestor.at(name) || b.at(name) == ancestor.at(name))) {
        EXPECT_EQ(merged, a.at(name) == ancestor.at(name) ? b.at(name) : a.at(name)) << name;
        ++combined;
      }
    }
  }
  EXPECT_GT(merges, 0u);  // 1 to 4 with seeds 0-7
  EXPECT_GT(combined, 0u);
  EXPECT_LE(result->spent.at("metric_calls").to_number<std::size_t>(), 800u);
  EXPECT_EQ(student.even.instructions(), "Solve the word problem.");
}

TEST(GEPA, ParetoParentsAreTheUndominatedWeightedByTheExamplesTheyWin) {
  // Rows: candidates; columns: validation examples.
  const std::vector<std::vector<double>> scores = {{1, 0, 0, 0}, {1, 1, 0, 0}, {0, 0, 1, 0}, {0, 1, 1, 1}};
  const std::vector<double> aggregate = {0.25, 0.5, 0.25, 0.75};
  const auto fronts = dspy::detail::pareto_fronts(scores);
  EXPECT_EQ(fronts, (dspy::detail::ParetoFronts{{0, 1}, {1, 3}, {2, 3}, {3}}));
  // 0 shares its only front with 1, 2 with 3: both go; 1 is then alone on example 0.
  EXPECT_EQ(dspy::detail::remove_dominated(fronts, aggregate), (dspy::detail::ParetoFronts{{1}, {1, 3}, {3}, {3}}));
  EXPECT_EQ(dspy::detail::pareto_dominators(scores, aggregate), (std::vector<std::size_t>{1, 3}));
  std::mt19937_64 rng(7);
  std::array<std::size_t, 4> picks{};
  for (int i = 0; i < 10000; ++i) ++picks[dspy::detail::select_pareto_parent(scores, aggregate, rng)];
  EXPECT_EQ(picks[0] + picks[2], 0u);
  EXPECT_NEAR(static_cast<double>(picks[1]) / 10000, 0.4, 0.03);  // on 2 of the 5 front places
}

TEST(GEPA, MinibatchesCoverEachEpochAndMergePlansTakeTheChangedInstructions) {
  dspy::detail::EpochSampler sampler(3);
  std::mt19937_64 rng(3);
  std::vector<std::size_t> seen;
  for (std::size_t i = 0; i < 3; ++i) {
    const auto batch = sampler.next(i, 7, rng);
    ASSERT_EQ(batch.size(), 3u);
    seen.insert(seen.end(), batch.begin(), batch.end());
  }
  std::sort(seen.begin(), seen.end());
  seen.erase(std::unique(seen.begin(), seen.end()), seen.end());
  EXPECT_EQ(seen.size(), 7u);  // 7 ids padded to 9: every id in the first epoch

  // The Pipeline's predictors: 1 changed `rewrite`, 2 changed `solve`, both from the student 0.
  const std::vector<std::vector<std::string>> programs = {{"r0", "s0"}, {"r1", "s0"}, {"r0", "s2"}};
  const std::vector<std::vector<std::size_t>> parents = {{}, {0}, {0}};
  const std::vector<double> aggregate = {0.5, 0.6, 0.7};
  dspy::detail::MergeHistory history;
  const auto plan = dspy::detail::plan_merge(programs, parents, aggregate, {1, 2}, history, rng);
  ASSERT_TRUE(plan);
  EXPECT_EQ(plan->instructions, (std::vector<std::string>{"r1", "s2"}));
  EXPECT_EQ(plan->first, 1u);
  EXPECT_EQ(plan->second, 2u);
  EXPECT_EQ(plan->ancestor, 0u);
  EXPECT_FALSE(dspy::detail::plan_merge(programs, parents, aggregate, {1, 2}, history, rng));  // tried already
  // An ancestor better than a descendant, or a descendant of the other, gives no merge.
  dspy::detail::MergeHistory fresh;
  EXPECT_FALSE(dspy::detail::plan_merge(programs, parents, {0.8, 0.6, 0.7}, {1, 2}, fresh, rng));
  EXPECT_FALSE(dspy::detail::plan_merge(programs, {{}, {0}, {1}}, aggregate, {1, 2}, fresh, rng));

  const auto sub = dspy::detail::merge_subsample({1, 1, 0, 0, 1, 0}, {0, 1, 1, 0, 0, 1}, 5, rng);
  EXPECT_EQ(sub.size(), 5u);
}

TEST(GEPA, ReadsTheInstructionOutOfTheReply) {
  using dspy::detail::fenced_instruction;
  EXPECT_EQ(fenced_instruction("Here it is:\n```\nAdd the numbers.\n```\nGood luck."), "Add the numbers.");
  EXPECT_EQ(fenced_instruction("```text\nAdd the numbers.\n```"), "Add the numbers.");
  EXPECT_EQ(fenced_instruction("```\nAdd the numbers."), "Add the numbers.");
  EXPECT_EQ(fenced_instruction("Add the numbers.\n```"), "Add the numbers.");
  EXPECT_EQ(fenced_instruction("  Add the numbers.  "), "Add the numbers.");

  // gepa's rendering of the reflective dataset, and the simulated model's answer to it.
  const std::vector<dspy::detail::ReflectiveExample> dataset = {
      {{{"question", "Ann has 5 apples and buys 7 more. How many?"}}, {{"answer", 11}},
       "The answer 11 is wrong; the expected answer is 12. Start with 5. buys 7: 5 + 7 = 12."}};
  const std::string prompt = dspy::detail::reflection_prompt("Solve it.", dataset);
  EXPECT_NE(prompt.find("```\n# Example 1\n## Inputs\n### question\nAnn has 5 apples and buys 7 more. How many?\n\n"
                        "## Generated Outputs\n### answer\n11\n\n## Feedback\nThe answer 11 is wrong; the expected "
                        "answer is 12. Start with 5. buys 7: 5 + 7 = 12.\n\n\n```"),
            std::string::npos)
      << prompt;
  const std::string reply = dspy::testing::simulate_reply({{"user", prompt}});
  EXPECT_TRUE(reply.starts_with("```\nSolve it.") && reply.ends_with("\n```")) << reply;

  EXPECT_EQ(dspy::gepa_auto_budget(2, 12, 100), 1740u);  // DSPy's auto_budget(2, 12, 100)
  EXPECT_EQ(dspy::gepa_auto_budget(1, 18, 50), 1385u);
}

TEST(GEPA, BadOptionsAndFailingModelsAreReported) {
  const Sets s = sets();
  dspy::Predict<Arithmetic> student;
  student.set_lm(std::make_shared<SimulatedLM>());
  const auto fails = [&](dspy::GEPAOptions o, std::string_view what, const std::vector<dspy::Example<Arithmetic>>& train,
                         const std::vector<dspy::Example<Arithmetic>>& val, dspy::LMHandle lm) {
    auto r = dspy::GEPA(FeedbackMetric{}, lm, o).compile(student, train, val);
    ASSERT_FALSE(r) << what;
    EXPECT_EQ(r.error().code(), dspy::Errc::config);
    EXPECT_NE(r.error().message().find(what), std::string::npos) << r.error().message();
  };
  const auto lm = std::make_shared<ReflectionModel>();
  auto o = options();
  o.auto_mode.reset();
  fails(o, "exactly one of", s.train, s.val, lm);
  o.max_metric_calls = 100;
  o.max_full_evals = 2;
  fails(o, "exactly one of", s.train, s.val, lm);
  o.max_full_evals.reset();
  o.reflection_minibatch_size = 0;
  fails(o, "reflection_minibatch_size", s.train, s.val, lm);
  fails(options(), "trainset is empty", {}, s.val, lm);
  fails(options(), "valset is empty", s.train, {}, lm);
  fails(options(), "no reflection LM", s.train, s.val, {});
  o = options();
  o.auto_mode.reset();
  o.max_metric_calls = 20;
  fails(o, "below the valset size 30", s.train, s.val, lm);

  // A budget with room for the student only: it comes back, scored, with the reason.
  o.max_metric_calls = 50;
  auto small = dspy::GEPA(FeedbackMetric{}, lm, o).compile(student, s.train, s.val);
  ASSERT_TRUE(small) << small.error().message();
  EXPECT_EQ(small->candidates.size(), 1u);
  EXPECT_EQ(small->spent.at("metric_calls").to_number<std::size_t>(), 30u);
  ASSERT_TRUE(small->stopped);
  EXPECT_NE(small->stopped->find("max_metric_calls 50 reached"), std::string::npos) << *small->stopped;

  // No reflection model reachable: every proposal fails (logged), the student comes back.
  auto down = std::make_shared<dspy::testing::ScriptedLM>();
  down->push(dspy::Error(dspy::Errc::network, "reflection model down")).repeat_last();
  o.max_metric_calls = 100;
  auto result = dspy::GEPA(FeedbackMetric{}, down, o).compile(student, s.train, s.val);
  ASSERT_TRUE(result) << result.error().message();
  EXPECT_EQ(result->program.instructions(), "Solve the word problem.");
  ASSERT_GT(result->candidates.size(), 1u);
  EXPECT_EQ(result->candidates[1].kind, "proposal");
  ASSERT_TRUE(result->candidates[1].error);
  EXPECT_NE(result->candidates[1].error->find("reflection model down"), std::string::npos);
  EXPECT_LE(result->spent.at("metric_calls").to_number<std::size_t>(), 100u);

  // No task model reachable: every example fails, the run still ends with the student, scored 0.
  dspy::Predict<Arithmetic> broken;
  auto task_down = std::make_shared<dspy::testing::ScriptedLM>();
  task_down->push(dspy::Error(dspy::Errc::network, "task model down")).repeat_last();
  broken.set_lm(task_down);
  auto lost = dspy::GEPA(FeedbackMetric{}, lm, o).compile(broken, s.train, s.val);
  ASSERT_TRUE(lost) << lost.error().message();
  EXPECT_EQ(lost->score, 0.0);
  EXPECT_EQ(lost->program.instructions(), "Solve the word problem.");
  ASSERT_GT(lost->candidates.size(), 1u);
  EXPECT_TRUE(lost->candidates[1].error);

  // A plain metric: the reflection reads DSPy's score line as feedback.
  auto plain_lm = std::make_shared<ReflectionModel>();
  o.max_metric_calls = 80;
  ASSERT_TRUE(dspy::GEPA(dspy::answer_exact_match, plain_lm, o).compile(student, s.train, s.val));
  ASSERT_FALSE(plain_lm->requests.empty());
  EXPECT_NE(plain_lm->requests[0].messages[0].content.text().find("## Feedback\nThis trajectory got a score of 0.0."),
            std::string::npos);
}

}  // namespace gepa_test

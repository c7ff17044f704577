// Optimizers on the simulated LM, in process: LabeledFewShot, BootstrapFewShot and
// BootstrapFewShotWithRandomSearch raise the dev-set score above the unoptimized program,
// reproducibly, without touching the student, never showing an example as its own demo, and
// surviving LM and metric errors up to max_errors.
#include <atomic>
#include <mutex>
#include <set>
#include <stdexcept>

#include <gtest/gtest.h>

#include <dspy/all.hpp>

#include "../support/arithmetic.hpp"

namespace optimizers_test {

namespace asio = boost::asio;
using dspy::testing::SimulatedLM;

using test_support::Arithmetic;
using test_support::Pipeline;
using test_support::score;

// The simulated model behind a recorder: it counts calls, keeps each call's config, fails the
// questions `fails` picks, and notes any prompt that shows its own question in a demo turn.
class Recorder : public dspy::BaseLM {
 public:
  explicit Recorder(dspy::testing::SimulatedLMOptions options = {}) : lm_(std::move(options)) {}
  std::function<bool(const std::string& question)> fails = [](const std::string&) { return false; };
  std::atomic<int> calls{0};
  std::atomic<int> leaks{0};
  std::mutex mutex;
  std::vector<dspy::CallConfig> configs;

  [[nodiscard]] std::string model() const override { return "recorder"; }

 protected:
  asio::awaitable<dspy::Result<dspy::LMResponse>> aforward(dspy::LMRequest request) override { co_return answer(request); }
  dspy::Result<dspy::LMResponse> forward(const dspy::LMRequest& request) override { return answer(request); }

 private:
  dspy::Result<dspy::LMResponse> answer(const dspy::LMRequest& request) {
    ++calls;
    {
      std::lock_guard lock(mutex);
      configs.push_back(request.config);
    }
    const auto prompt = dspy::testing::read_chat_prompt(request.messages);
    const std::string* q = prompt.input("question");
    if (q) {
      const std::string block = "[[ ## question ## ]]\n" + *q + "\n";
      for (std::size_t i = 1; i + 1 < request.messages.size(); ++i)
        if (request.messages[i].content.text().find(block) != std::string::npos) ++leaks;
      if (fails(*q)) return dspy::Error(dspy::Errc::network, "simulated outage");
    }
    return lm_.reply(request);
  }
  SimulatedLM lm_;
};

template <class M>
std::size_t demo_total(M& m) {
  std::size_t n = 0;
  dspy::for_each_predictor(m, [&](const std::string&, const dspy::PredictorBase& p) { n += p.demo_count(); });
  return n;
}

// The seam the optimizers find: a demo of the same task cuts the simulated model's error rate to
// a third; a demo of another signature does not count.
TEST(SimulatedLM, ADemoOfTheSameTaskMakesItMoreAccurate) {
  const auto d = test_support::arithmetic_data();
  const auto& train = d.train;
  const auto& dev = d.dev;
  dspy::Predict<Arithmetic> predict;
  const auto zero = dspy::testing::read_chat_prompt(predict.format(dev[0].input));
  EXPECT_EQ(zero.same_kind_demos, 0u);
  EXPECT_DOUBLE_EQ(dspy::testing::default_error_rate(zero), 0.30);
  predict.demos = {train[0].demo(), train[1].demo()};
  const auto two = dspy::testing::read_chat_prompt(predict.format(dev[0].input));
  EXPECT_EQ(two.same_kind_demos, 2u);
  EXPECT_EQ(two.worked_demos, 2u);  // a labeled example is every output of Predict
  EXPECT_DOUBLE_EQ(dspy::testing::default_error_rate(two), 0.05);
  // ChainOfThought: a labeled example lacks the reasoning; a worked demo has it.
  dspy::ChainOfThought<Arithmetic> cot;
  const auto rate = [&] { return dspy::testing::default_error_rate(dspy::testing::read_chat_prompt(cot.predict.format(dev[0].input))); };
  EXPECT_DOUBLE_EQ(rate(), 0.15);
  cot = dspy::LabeledFewShot{.k = 2}.compile(cot, train);
  EXPECT_DOUBLE_EQ(rate(), 0.05);
  cot.predict.demos[1].output.reasoning = "Start with 50. gives 8: 50 - 8 = 42.";
  cot.predict.demos[1].missing = 0;
  EXPECT_DOUBLE_EQ(rate(), 0.025);

  auto messages = predict.format(dev[0].input);
  messages[1].content = "[[ ## passage ## ]]\nSome text.";  // a demo turn of another task
  const auto other = dspy::testing::read_chat_prompt(messages);
  EXPECT_EQ(other.demos, 2u);
  EXPECT_EQ(other.same_kind_demos, 1u);
  EXPECT_EQ(other.worked_demos, 1u);
  EXPECT_EQ(other.inputs.front().second, dev[0].input.question);
}

TEST(LabeledFewShot, RaisesTheScoreReproduciblyOnACopy) {
  const auto d = test_support::arithmetic_data();
  const auto& train = d.train;
  const auto& dev = d.dev;
  dspy::Predict<Arithmetic> student;
  student.set_lm(std::make_shared<SimulatedLM>());
  const double before = score(student, dev);

  const auto tuned = dspy::LabeledFewShot{.k = 3}.compile(student, train);
  EXPECT_TRUE(student.demos.empty());  // the original is untouched
  ASSERT_EQ(tuned.demos.size(), 3u);
  const double after = score(tuned, dev);
  EXPECT_LT(before, 80.0);
  EXPECT_GT(after, before + 10.0);

  // Same seed, same demos; another seed, another sample; sample = false takes the first k.
  EXPECT_EQ(dspy::LabeledFewShot{.k = 3}.compile(student, train).demos, tuned.demos);
  EXPECT_NE((dspy::LabeledFewShot{.k = 3, .seed = 1}.compile(student, train).demos), tuned.demos);
  const auto first = dspy::LabeledFewShot{.k = 2, .sample = false}.compile(student, train);
  ASSERT_EQ(first.demos.size(), 2u);
  EXPECT_EQ(first.demos[0], train[0].demo());
  EXPECT_EQ(first.demos[1], train[1].demo());
  // k larger than the trainset: all of it, each once.
  const std::vector<dspy::Example<Arithmetic>> few(train.begin(), train.begin() + 5);
  const auto all = dspy::LabeledFewShot{.k = 16}.compile(student, few);
  EXPECT_EQ(all.demos.size(), 5u);
  std::set<std::string> questions;
  for (const auto& d : all.demos) questions.insert(d.input.question);
  EXPECT_EQ(questions.size(), 5u);
}

TEST(LabeledFewShot, FillsPredictorsOfOtherSignaturesByFieldName) {
  const auto d = test_support::arithmetic_data();
  const auto& train = d.train;
  dspy::ChainOfThought<Arithmetic> cot;
  const auto tuned = dspy::LabeledFewShot{.k = 4}.compile(cot, train);
  ASSERT_EQ(tuned.predict.demos.size(), 4u);
  for (const auto& d : tuned.predict.demos) {
    EXPECT_FALSE(d.has_output(0));  // no reasoning label
    EXPECT_TRUE(d.has_output(1));
  }
}

TEST(BootstrapFewShot, RaisesTheScoreWithPassingTracesOnACopy) {
  const auto d = test_support::arithmetic_data();
  const auto& train = d.train;
  const auto& dev = d.dev;
  auto lm = std::make_shared<Recorder>();
  dspy::ChainOfThought<Arithmetic> student;
  student.predict.set_lm(lm);
  dspy::Demo<dspy::WithReasoning<Arithmetic>> own{.input = train[39].input};
  own.output.reasoning = "Given.";
  own.output.answer = train[39].labels.answer;
  student.predict.demos.push_back(own);  // compile starts from a reset copy
  const auto original = dspy::dump_state(student);
  dspy::ChainOfThought<Arithmetic> zero_shot = student;
  dspy::reset(zero_shot);
  const double before = score(zero_shot, dev);
  EXPECT_LT(before, 90.0);

  // The teacher gets every train example as a demo, so each would leak without the filter.
  const dspy::BootstrapFewShot bootstrap(dspy::answer_exact_match,
                                         {.max_bootstrapped_demos = 4, .max_labeled_demos = 40});
  lm->calls = 0;
  auto tuned = bootstrap.compile(student, train);
  ASSERT_TRUE(tuned) << tuned.error().message();
  EXPECT_EQ(lm->leaks, 0);
  EXPECT_EQ(dspy::dump_state(student), original);
  EXPECT_LE(lm->calls, 8);  // no more teacher runs than needed for 4 passes at this accuracy

  const auto& demos = tuned->predict.demos;
  ASSERT_EQ(demos.size(), 40u);  // 4 bootstrapped + 36 labeled
  for (std::size_t i = 0; i < demos.size(); ++i) EXPECT_EQ(demos[i].augmented, i < 4) << i;
  std::set<std::string> questions;
  for (std::size_t i = 0; i < 4; ++i) {
    // A bootstrapped demo carries the teacher's reasoning and a correct answer.
    EXPECT_TRUE(demos[i].has_output(0));
    EXPECT_FALSE(demos[i].output.reasoning.empty());
    const auto it = std::find_if(train.begin(), train.end(),
                                 [&](const auto& e) { return e.input.question == demos[i].input.question; });
    ASSERT_NE(it, train.end());
    EXPECT_EQ(demos[i].output.answer, it->labels.answer);
    questions.insert(demos[i].input.question);
  }
  // Labeled demos come only from examples that gave no bootstrapped demo, each once.
  for (std::size_t i = 4; i < demos.size(); ++i) EXPECT_TRUE(questions.insert(demos[i].input.question).second) << i;

  EXPECT_GT(score(*tuned, dev), before + 10.0);
  // Its bootstrapped reasoning beats labeled examples alone.
  EXPECT_GT(score(*tuned, dev), score(dspy::LabeledFewShot{.k = 40}.compile(student, train), dev) + 2.0);
  // Reproducible.
  auto again = bootstrap.compile(student, train);
  ASSERT_TRUE(again);
  EXPECT_EQ(dspy::dump_state(*again), dspy::dump_state(*tuned));
}

TEST(BootstrapFewShot, TracesEveryPredictorOfAProgram) {
  const auto d = test_support::arithmetic_data();
  const auto& train = d.train;
  const auto& dev = d.dev;
  Pipeline student;
  dspy::set_lm(student, std::make_shared<SimulatedLM>());
  const double before = score(student, dev);
  auto tuned = dspy::BootstrapFewShot(dspy::answer_exact_match, {.max_bootstrapped_demos = 3, .max_labeled_demos = 3})
                   .compile(student, train);
  ASSERT_TRUE(tuned) << tuned.error().message();
  EXPECT_EQ(demo_total(student), 0u);
  ASSERT_EQ(tuned->rewrite.demos.size(), 3u);
  ASSERT_EQ(tuned->solve.demos.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_TRUE(tuned->rewrite.demos[i].augmented);
    EXPECT_EQ(tuned->rewrite.demos[i].output.query, tuned->rewrite.demos[i].input.question);
    EXPECT_TRUE(tuned->solve.demos[i].augmented);
    // The same run fed both predictors.
    EXPECT_EQ(tuned->solve.demos[i].input.question, tuned->rewrite.demos[i].input.question);
  }
  EXPECT_GT(score(*tuned, dev), before + 10.0);
}

TEST(BootstrapFewShot, LaterRoundsAskForFreshSamples) {
  const auto d = test_support::arithmetic_data();
  const auto& train = d.train;
  auto lm = std::make_shared<Recorder>();
  // The first try of every example fails, so each example needs its second round.
  std::mutex m;
  std::set<std::string> seen;
  lm->fails = [&](const std::string& q) {
    std::lock_guard lock(m);
    return seen.insert(q).second;
  };
  dspy::Predict<Arithmetic> student;
  student.set_lm(lm);
  auto tuned = dspy::BootstrapFewShot(dspy::answer_exact_match, {.max_bootstrapped_demos = 2,
                                                                 .max_labeled_demos = 2,
                                                                 .max_rounds = 2,
                                                                 .max_errors = 100,
                                                                 .concurrency = 1})
                   .compile(student, train);
  ASSERT_TRUE(tuned) << tuned.error().message();
  EXPECT_EQ(tuned->demos.size(), 2u);
  EXPECT_TRUE(tuned->demos[0].augmented);
  ASSERT_GE(lm->configs.size(), 4u);
  EXPECT_FALSE(lm->configs[0].rollout_id);
  EXPECT_EQ(lm->configs[1].rollout_id, 1);
  EXPECT_EQ(lm->configs[1].temperature, 1.0);
}

TEST(BootstrapFewShot, ErrorsBelowMaxErrorsDoNotLoseTheRun) {
  const auto d = test_support::arithmetic_data();
  const auto& train = d.train;
  auto lm = std::make_shared<Recorder>();
  lm->fails = [&](const std::string& q) { return q == train[0].input.question || q == train[2].input.question; };
  dspy::Predict<Arithmetic> student;
  student.set_lm(lm);
  // A metric that throws on one example: an error like the LM's.
  const auto metric = [&](const dspy::Example<Arithmetic>& e, const dspy::Predicted<Arithmetic::Output>& p) {
    if (e.input.question == train[1].input.question) throw std::runtime_error("bad metric");
    return e.labels.answer == p->answer;
  };
  const dspy::BootstrapFewShotOptions options{.max_bootstrapped_demos = 3, .max_labeled_demos = 3, .max_errors = 4};
  auto tuned = dspy::BootstrapFewShot(metric, options).compile(student, train);
  ASSERT_TRUE(tuned) << tuned.error().message();
  ASSERT_EQ(tuned->demos.size(), 3u);
  for (const auto& d : tuned->demos) {
    EXPECT_TRUE(d.augmented);
    for (int i = 0; i < 3; ++i) EXPECT_NE(d.input.question, train[static_cast<std::size_t>(i)].input.question);
  }

  // The third error is the last allowed with max_errors 3: it is returned, typed.
  auto stopped = dspy::BootstrapFewShot(metric, {.max_bootstrapped_demos = 3, .max_labeled_demos = 3, .max_errors = 3})
                     .compile(student, train);
  ASSERT_FALSE(stopped);
  EXPECT_EQ(stopped.error().code(), dspy::Errc::network);
  EXPECT_NE(stopped.error().message().find("train example 2"), std::string::npos) << stopped.error().message();
  auto metric_stop = dspy::BootstrapFewShot(metric, {.max_bootstrapped_demos = 3, .max_labeled_demos = 3, .max_errors = 2})
                         .compile(student, train);
  ASSERT_FALSE(metric_stop);
  EXPECT_EQ(metric_stop.error().code(), dspy::Errc::metric);
}

TEST(BootstrapFewShot, BudgetsAndThresholds) {
  const auto d = test_support::arithmetic_data();
  const auto& train = d.train;
  auto lm = std::make_shared<Recorder>();
  dspy::Predict<Arithmetic> student;
  student.set_lm(lm);
  // Nothing passes a threshold above the metric's range: every example is tried once, no demos
  // are bootstrapped, and the labeled demos fill up to max_labeled_demos.
  auto none = dspy::BootstrapFewShot(dspy::answer_exact_match, {.metric_threshold = 2.0, .max_labeled_demos = 5})
                  .compile(student, train);
  ASSERT_TRUE(none);
  EXPECT_EQ(lm->calls, static_cast<int>(train.size()));
  ASSERT_EQ(none->demos.size(), 5u);
  for (const auto& d : none->demos) EXPECT_FALSE(d.augmented);
  // max_bootstrapped_demos = 0: no teacher runs at all.
  lm->calls = 0;
  auto labeled = dspy::BootstrapFewShot(dspy::answer_exact_match, {.max_bootstrapped_demos = 0, .max_labeled_demos = 2})
                     .compile(student, train);
  ASSERT_TRUE(labeled);
  EXPECT_EQ(lm->calls, 0);
  EXPECT_EQ(labeled->demos.size(), 2u);
  // Tries after a passing one are not made.
  auto right = std::make_shared<Recorder>(dspy::testing::SimulatedLMOptions{.error_rate = [](const auto&) { return 0.0; }});
  dspy::Predict<Arithmetic> sure;
  sure.set_lm(right);
  auto three = dspy::BootstrapFewShot(dspy::answer_exact_match, {.max_bootstrapped_demos = 3, .max_rounds = 3})
                   .compile(student, train, &sure);
  ASSERT_TRUE(three);
  EXPECT_EQ(right->calls, 3);  // one try for each of 3 examples
  EXPECT_EQ(three->demos.size(), 16u);
  // max_labeled_demos below the bootstrapped count: bootstrapped demos still all count.
  auto only_boot = dspy::BootstrapFewShot(dspy::answer_exact_match, {.max_bootstrapped_demos = 2, .max_labeled_demos = 0})
                       .compile(student, train);
  ASSERT_TRUE(only_boot);
  ASSERT_EQ(only_boot->demos.size(), 2u);
  EXPECT_TRUE(only_boot->demos[1].augmented);
}

TEST(BootstrapFewShot, UsesAGivenTeacher) {
  const auto d = test_support::arithmetic_data();
  const auto& train = d.train;
  dspy::Predict<Arithmetic> student;
  student.set_lm(std::make_shared<SimulatedLM>());
  // A teacher that is always right: every one of the first examples passes.
  dspy::Predict<Arithmetic> teacher;
  teacher.set_lm(std::make_shared<SimulatedLM>(
      dspy::testing::SimulatedLMOptions{.error_rate = [](const auto&) { return 0.0; }}));
  auto tuned = dspy::BootstrapFewShot(dspy::answer_exact_match, {.max_bootstrapped_demos = 4, .max_labeled_demos = 4})
                   .compile(student, train, &teacher);
  ASSERT_TRUE(tuned);
  ASSERT_EQ(tuned->demos.size(), 4u);
  for (std::size_t i = 0; i < 4; ++i) EXPECT_EQ(tuned->demos[i].input.question, train[i].input.question);
  EXPECT_TRUE(teacher.demos.empty());
}

TEST(BootstrapFewShotWithRandomSearch, KeepsTheBestCandidateAndLogsAll) {
  const auto d = test_support::arithmetic_data();
  const auto& train = d.train;
  const auto& dev = d.dev;
  const std::vector<dspy::Example<Arithmetic>> val(dev.begin(), dev.begin() + 100);
  // ChainOfThought: bootstrapped demos carry reasoning, which the simulated model rewards.
  dspy::ChainOfThought<Arithmetic> student;
  student.predict.set_lm(std::make_shared<SimulatedLM>());
  const dspy::BootstrapFewShotWithRandomSearch search(
      dspy::answer_exact_match, {.max_bootstrapped_demos = 3, .max_labeled_demos = 3, .num_candidate_programs = 4});
  const auto r = search.compile(student, train, val);
  EXPECT_TRUE(student.predict.demos.empty());
  ASSERT_EQ(r.candidates.size(), 7u);
  double best = 0;
  for (std::size_t i = 0; i < r.candidates.size(); ++i) {
    const auto& c = r.candidates[i];
    EXPECT_EQ(c.seed, static_cast<std::int64_t>(i) - 3);
    ASSERT_TRUE(c.score) << i;
    EXPECT_EQ(c.subscores.size(), val.size());
    best = std::max(best, *c.score);
  }
  EXPECT_TRUE(r.candidates[0].state.at("predict").at("demos").as_array().empty());  // zero-shot
  EXPECT_EQ(r.score, best);
  EXPECT_GT(r.score, *r.candidates[0].score + 10.0);
  EXPECT_GE(r.seed, -1);  // a bootstrapped candidate beats labeled demos alone
  EXPECT_GT(r.score, *r.candidates[1].score);
  // The returned program is the logged best, and scores as logged.
  const auto at = std::find_if(r.candidates.begin(), r.candidates.end(), [&](const auto& c) { return c.seed == r.seed; });
  ASSERT_NE(at, r.candidates.end());
  EXPECT_EQ(dspy::dump_state(r.program), at->state);
  EXPECT_EQ(score(r.program, val), r.score);
  EXPECT_GT(score(r.program, dev), score(student, dev) + 10.0);
  // Reproducible, and the log is JSON.
  EXPECT_EQ(search.compile(student, train, val).log_json(), r.log_json());
  EXPECT_EQ(r.log_json().at("candidates").as_array().size(), 7u);

  // stop_at_score ends the search at the first candidate that reaches it.
  const auto early = dspy::BootstrapFewShotWithRandomSearch(
                         dspy::answer_exact_match,
                         {.max_bootstrapped_demos = 3, .num_candidate_programs = 4, .stop_at_score = 90.0})
                         .compile(student, train, val);
  EXPECT_EQ(early.candidates.size(), 2u);  // zero-shot is below 90; labeled-only is above
  EXPECT_GE(early.score, 90.0);
}

}  // namespace optimizers_test

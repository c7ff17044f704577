// The simulated LM: it reads real ChatAdapter prompts, solves the shipped datasets, and is wrong
// exactly on the items its hash picks for the prompt's error rate.
#include <set>

#include <gtest/gtest.h>

#include <dspy/all.hpp>

#include "../support/arithmetic.hpp"

namespace simulated_lm_test {

using dspy::testing::SimulatedLM;

using test_support::Arithmetic;

struct Factoid {
  struct Input {
    std::string passage;
    std::string question;
  };
  struct Output {
    std::string answer;
  };
};

struct FromContext {
  struct Input {
    std::vector<std::string> context;
    std::string question;
  };
  struct Output {
    std::string answer;
  };
};

std::vector<dspy::Example<Factoid>> factoid() {
  auto r = dspy::load_jsonl<Factoid>(DSPY_EXAMPLES_DATA "/factoid.jsonl");
  EXPECT_TRUE(r) << r.error().message();
  return r ? *r : std::vector<dspy::Example<Factoid>>{};
}

TEST(SimulatedLM, ReadsChatAdapterPrompts) {
  dspy::ChainOfThought<Factoid> cot;
  dspy::Demo<dspy::WithReasoning<Factoid>> demo{.input = {"P.", "Q?"}};
  demo.output.reasoning = "because";
  demo.output.answer = "A";
  cot.predict.demos.push_back(demo);
  const auto p = dspy::testing::read_chat_prompt(cot.format({"The capital of Oz is Emerald.", "What is the capital of Oz?"}));
  EXPECT_EQ(p.input_fields, (std::vector<std::string>{"passage", "question"}));
  EXPECT_EQ(p.output_fields, (std::vector<std::string>{"reasoning", "answer"}));
  ASSERT_NE(p.input("passage"), nullptr);
  EXPECT_EQ(*p.input("passage"), "The capital of Oz is Emerald.");
  EXPECT_EQ(*p.input("question"), "What is the capital of Oz?");
  EXPECT_EQ(p.demos, 1u);
  EXPECT_NE(p.instructions.find("Given the fields `passage`, `question`"), std::string::npos);
}

TEST(SimulatedLM, SolvesEveryShippedProblem) {
  for (const auto& e : test_support::arithmetic_examples()) {
    const auto s = dspy::testing::solve_arithmetic(e.input.question);
    ASSERT_TRUE(s) << e.input.question;
    EXPECT_EQ(s->answer, std::to_string(e.labels.answer)) << e.input.question << "\n" << s->reasoning;
    const auto slipped = dspy::testing::solve_arithmetic(e.input.question, 12345);
    ASSERT_TRUE(slipped);
    EXPECT_NE(slipped->answer, s->answer);
  }
  for (const auto& e : factoid()) {
    const auto s = dspy::testing::solve_from_passages({e.input.passage}, e.input.question);
    ASSERT_TRUE(s) << e.input.question;
    EXPECT_EQ(s->answer, e.labels.answer) << e.input.question << "\n" << e.input.passage;
    const auto slipped = dspy::testing::solve_from_passages({e.input.passage}, e.input.question, 1);
    if (slipped) {
      EXPECT_NE(slipped->answer, e.labels.answer) << e.input.question;
    }
  }
}

// The items the simulated model gets wrong at `rate`, by its documented rule.
std::set<std::size_t> expected_wrong(const std::vector<std::string>& questions, double rate) {
  std::set<std::size_t> out;
  for (std::size_t i = 0; i < questions.size(); ++i)
    if (dspy::testing::unit_hash(questions[i]) < rate) out.insert(i);
  return out;
}

std::set<std::size_t> wrong_rows(const dspy::EvaluationResult& r) {
  std::set<std::size_t> out;
  for (const auto& row : r.rows)
    if (row.score != 1.0) out.insert(row.index);
  return out;
}

TEST(SimulatedLM, WrongExactlyOnHashChosenItems) {
  const auto dev = test_support::arithmetic_examples();
  std::vector<std::string> questions;
  for (const auto& e : dev) questions.push_back(e.input.question);
  dspy::Predict<Arithmetic> predict;
  predict.set_lm(std::make_shared<SimulatedLM>());
  dspy::ChainOfThought<Arithmetic> cot;
  dspy::set_lm(cot, std::make_shared<SimulatedLM>());
  const auto p = dspy::evaluate(predict, dev, dspy::answer_exact_match, {.progress = false});
  const auto c = dspy::evaluate(cot, dev, dspy::answer_exact_match, {.progress = false});
  EXPECT_EQ(p.errors(), 0u);
  EXPECT_EQ(wrong_rows(p), expected_wrong(questions, 0.30));
  EXPECT_EQ(wrong_rows(c), expected_wrong(questions, 0.15));
  // A lower rate gets a subset of the same items wrong, and the rates are roughly honoured.
  const auto pw = wrong_rows(p), cw = wrong_rows(c);
  EXPECT_TRUE(std::includes(pw.begin(), pw.end(), cw.begin(), cw.end()));
  EXPECT_NEAR(static_cast<double>(pw.size()) / 300, 0.30, 0.07);
  EXPECT_NEAR(static_cast<double>(cw.size()) / 300, 0.15, 0.06);
  // The reasoning shows the steps.
  ASSERT_TRUE(c.rows[0].prediction);
  EXPECT_NE(c.rows[0].prediction->at("reasoning").as_string().find("Start with"), std::string::npos);
}

TEST(SimulatedLM, DemoServerSimulatesOverHttp) {
  auto dev = test_support::arithmetic_examples();
  dev.resize(80);
  auto server = dspy::testing::DemoServer::start(DSPY_DEMO_SERVER, {"--simulate", "--latency-ms", "2"});
  ASSERT_TRUE(server) << server.error().message();
  dspy::ChainOfThought<Arithmetic> cot;
  dspy::set_lm(cot, server->lm("openai/demo", {.cache = false}));  // every call reaches this server
  const auto result = dspy::evaluate(cot, dev, dspy::answer_exact_match, {.concurrency = 8, .progress = false});
  ASSERT_EQ(result.rows.size(), 80u);
  EXPECT_EQ(result.errors(), 0u);
  std::vector<std::string> questions;
  for (const auto& e : dev) questions.push_back(e.input.question);
  EXPECT_EQ(wrong_rows(result), expected_wrong(questions, 0.15));
  EXPECT_GT(result.rows[0].usage.prompt_tokens, 0);  // the server's estimate, through the HTTP reply
  EXPECT_TRUE(server->stop());
}

TEST(SimulatedLM, ErrorRateIsASeamOverWhatThePromptCarries) {
  auto dev = factoid();
  dev.resize(60);
  // A model that is always right once it is shown a demo, and always wrong without one.
  auto lm = std::make_shared<SimulatedLM>(dspy::testing::SimulatedLMOptions{
      .error_rate = [](const dspy::testing::ChatPrompt& p) { return p.demos > 0 ? 0.0 : 1.0; }});
  dspy::Predict<Factoid> predict;
  predict.set_lm(lm);
  const auto without = dspy::evaluate(predict, dev, dspy::answer_exact_match, {.progress = false});
  EXPECT_EQ(without.score, 0.0);
  predict.demos.push_back(dev[0].demo());
  const auto with = dspy::evaluate(predict, dev, dspy::answer_exact_match, {.progress = false});
  EXPECT_EQ(with.score, 100.0);
}

TEST(SimulatedLM, AnswersFromAListOfPassagesAndWritesQueries) {
  dspy::Predict<FromContext> answer;
  answer.set_lm(std::make_shared<SimulatedLM>(dspy::testing::SimulatedLMOptions{.error_rate = [](const auto&) { return 0.0; }}));
  const auto r = answer({{"Nothing to see here. The sky is blue.", "The capital of Oz is Emerald City. Oz has a wizard."},
                         "What is the capital of Oz?"});
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->answer, "Emerald City");

  struct GenerateQuery {
    struct Input {
      std::string question;
    };
    struct Output {
      std::string query;
    };
  };
  dspy::Predict<GenerateQuery> query;
  query.set_lm(std::make_shared<SimulatedLM>());
  const auto q = query({"Who founded the Oz Library?"});
  ASSERT_TRUE(q) << q.error().message();
  EXPECT_EQ(q->query, "Who founded the Oz Library?");
  EXPECT_GT(q.value().usage().prompt_tokens, 0);
}

TEST(SimulatedLM, InstructionsNamingTheRuleLowerTheErrorRate) {
  auto dev = test_support::arithmetic_examples();
  dev.resize(200);
  const auto lm = std::make_shared<SimulatedLM>();
  dspy::Predict<Arithmetic> plain;
  plain.set_lm(lm);
  dspy::Predict<Arithmetic> told(
      "Solve the word problem. Work through the problem step by step, one number at a time. Each number after the "
      "first is added, taken away, multiplied or divided as the cue word before it says. Give the answer as a whole "
      "number only.");
  told.set_lm(lm);
  const auto rate = [](const auto& p, const auto& input) {
    return dspy::testing::default_error_rate(dspy::testing::read_chat_prompt(p.format(input)));
  };
  EXPECT_DOUBLE_EQ(rate(plain, dev[0].input), 0.30);
  EXPECT_NEAR(rate(told, dev[0].input), 0.30 * 0.6 * 0.6 * 0.6, 1e-12);
  EXPECT_EQ(dspy::testing::rules_named(told.instructions(), dspy::testing::arithmetic_task), 3u);
  // The factoid rules do not help arithmetic.
  EXPECT_EQ(dspy::testing::rules_named("Find the sentence that shares the most words.", dspy::testing::arithmetic_task), 0u);
  const auto before = dspy::evaluate(plain, dev, dspy::answer_exact_match, {.progress = false});
  const auto after = dspy::evaluate(told, dev, dspy::answer_exact_match, {.progress = false});
  EXPECT_GT(after.score, before.score + 15) << before.score << " -> " << after.score;
}

// A prompting model: the instruction it proposes keeps the current one and adds the task's rules
// it notices; grounded prompts (worked examples) let it notice more.
struct ProposeInstruction {
  static constexpr std::string_view instructions = "Propose a better instruction for the task.";
  struct Input {
    std::string basic_instruction;
    std::string examples;
  };
  struct Output {
    std::string proposed_instruction;
  };
};

TEST(SimulatedLM, ProposesInstructionsThatNameRulesItNotices) {
  dspy::Predict<ProposeInstruction> propose;
  propose.set_lm(std::make_shared<SimulatedLM>());
  std::size_t grounded = 0, blind = 0;
  std::set<std::string> distinct;
  for (std::int64_t rollout = 1; rollout <= 40; ++rollout) {
    const auto with = propose({"Solve the word problem.", "Question: Ann has 3 apples and buys 4. Reasoning: Start with 3. buys 4: 3 + 4 = 7."},
                              {.temperature = 1.0, .rollout_id = rollout});
    const auto without = propose({"Solve the word problem.", "(none)"}, {.temperature = 1.0, .rollout_id = rollout});
    ASSERT_TRUE(with) << with.error().message();
    ASSERT_TRUE(without) << without.error().message();
    EXPECT_TRUE(with->proposed_instruction.starts_with("Solve the word problem."));
    grounded += dspy::testing::rules_named(with->proposed_instruction, dspy::testing::arithmetic_task);
    blind += dspy::testing::rules_named(without->proposed_instruction, dspy::testing::arithmetic_task);
    distinct.insert(with->proposed_instruction);
  }
  EXPECT_GT(grounded, 2 * blind) << grounded << " vs " << blind;
  EXPECT_GT(distinct.size(), 3u);  // samples differ by rollout id
  // The same call gives the same proposal.
  const auto a = propose({"Solve the word problem.", "(none)"}, {.temperature = 1.0, .rollout_id = 7});
  const auto b = propose({"Solve the word problem.", "(none)"}, {.temperature = 1.0, .rollout_id = 7});
  EXPECT_EQ(a->proposed_instruction, b->proposed_instruction);
}

}  // namespace simulated_lm_test

// Modules: the predictor walk with DSPy's paths, set_lm/get_lm, value semantics, save/load,
// ChainOfThought, and a user module's forward.
#include <filesystem>
#include <fstream>

#include <boost/describe/class.hpp>
#include <gtest/gtest.h>

#include "golden_signatures.hpp"

namespace module_test {

using namespace golden;
using dspy::testing::ScriptedLM;
namespace asio = boost::asio;

struct GenerateQuery {
  struct Input {
    std::string question;
  };
  struct Output {
    std::string query;
  };
};

struct AnswerFromContext {
  static constexpr std::string_view instructions = "Answer the question using only the given context.";
  struct Input {
    std::vector<std::string> context;
    std::string question;
  };
  struct Output {
    std::string answer;
  };
};

struct Retriever {  // not a predictor: the walk skips it
  std::vector<std::string> passages;
};

struct Pipeline {
  dspy::Predict<GenerateQuery> generate_query;
  dspy::ChainOfThought<AnswerFromContext> answer;
  Retriever search;
  std::vector<dspy::Predict<QA>> hops;
  std::map<std::string, dspy::Predict<QA>> experts;
  std::optional<dspy::Predict<QA>> fallback;

  using Input = QA::Input;
  asio::awaitable<dspy::Result<std::string>> forward(Input in) const {
    auto q_pending = generate_query.acall({in.question});
    auto query = co_await std::move(q_pending);
    if (!query) co_return query.error();
    auto a_pending = answer.forward({search.passages, query->query});
    auto reply = co_await std::move(a_pending);
    if (!reply) co_return reply.error();
    co_return reply->answer + " (because " + reply->reasoning + ")";
  }
};
BOOST_DESCRIBE_STRUCT(Pipeline, (), (generate_query, answer, search, hops, experts, fallback))

Pipeline make_pipeline() {
  Pipeline p;
  p.search.passages = {"Paris is in France."};
  p.hops.resize(2);
  p.experts["math"];
  p.experts["geo"];
  return p;
}

TEST(Module, NamedPredictorsUseDSPyPaths) {
  Pipeline p = make_pipeline();
  std::vector<std::string> paths;
  for (const auto& [path, pred] : dspy::named_predictors(p)) paths.push_back(path);
  EXPECT_EQ(paths, (std::vector<std::string>{"generate_query", "answer.predict", "hops[0]", "hops[1]",
                                             "experts['geo']", "experts['math']"}));
  p.fallback.emplace();
  EXPECT_EQ(dspy::named_predictors(p).back().first, "fallback");
  EXPECT_EQ(dspy::predictors(p).size(), 7u);

  dspy::Predict<QA> bare;
  EXPECT_EQ(dspy::named_predictors(bare).at(0).first, "self");
  dspy::ChainOfThought<QA> cot;
  EXPECT_EQ(dspy::named_predictors(cot).at(0).first, "predict");
}

TEST(Module, SetLmReachesEveryPredictorAndGetLmChecksTheyAgree) {
  Pipeline p = make_pipeline();
  auto lm = std::make_shared<ScriptedLM>();
  dspy::set_lm(p, lm);
  for (auto* pred : dspy::predictors(p)) EXPECT_EQ(pred->get_lm().get(), lm.get());
  auto same = dspy::get_lm(p);
  ASSERT_TRUE(same);
  EXPECT_EQ(same.value().get(), lm.get());
  p.hops[1].set_lm(std::make_shared<ScriptedLM>());
  const auto differ = dspy::get_lm(p);
  ASSERT_FALSE(differ);
  EXPECT_NE(differ.error().message().find("'hops[1]'"), std::string::npos) << differ.error().message();
}

TEST(Module, CopiesAreDeepAndIndependent) {
  Pipeline a = make_pipeline();
  a.hops[0].demos.push_back({.input = {"q"}, .output = {"a"}});
  Pipeline b = a;
  b.hops[0].demos.clear();
  b.answer.predict.set_instructions("changed");
  b.experts["math"].set_instructions("math only");
  EXPECT_EQ(a.hops[0].demos.size(), 1u);
  EXPECT_EQ(a.answer.predict.instructions(), "Answer the question using only the given context.");
  EXPECT_NE(a.experts["math"].instructions(), "math only");
  dspy::reset(a);
  EXPECT_EQ(a.hops[0].demo_count(), 0u);
}

TEST(Module, SaveThenLoadRestoresDemosAndInstructions) {
  Pipeline a = make_pipeline();
  a.hops[1].demos.push_back({.input = {"Capital of Italy?"}, .output = {"Rome"}, .augmented = true});
  a.answer.predict.demos.push_back(
      {.input = {{"Oslo is in Norway."}, "Where is Oslo?"}, .output = {dspy::ChainOfThoughtReasoning{"Stated."}, {"Norway"}}});
  a.generate_query.set_instructions("Write a search query.");
  const auto file = std::filesystem::temp_directory_path() / ("dspy_module_test_" + std::to_string(::getpid()) + ".json");
  ASSERT_TRUE(dspy::save(a, file));

  Pipeline b = make_pipeline();
  ASSERT_TRUE(dspy::load(b, file));
  EXPECT_EQ(b.generate_query.instructions(), "Write a search query.");
  ASSERT_EQ(b.hops[1].demos.size(), 1u);
  EXPECT_TRUE(b.hops[1].demos[0].augmented);
  ASSERT_EQ(b.answer.predict.demos.size(), 1u);
  EXPECT_EQ(b.answer.predict.demos[0].output.reasoning, "Stated.");
  EXPECT_EQ(b.answer.predict.demos[0].output.answer, "Norway");
  EXPECT_EQ(dspy::save_string(a), dspy::save_string(b));

  // DSPy's layout: the entry's demo keys and metadata.
  const auto saved = boost::json::parse(dspy::save_string(a)).as_object();
  EXPECT_TRUE(saved.contains("metadata"));
  EXPECT_EQ(saved.at("answer.predict").at("demos").at(0).at("reasoning"), "Stated.");
  EXPECT_EQ(saved.at("answer.predict").at("signature").at("fields").at(2).at("prefix"), "Reasoning:");
  std::filesystem::remove(file);
}

TEST(Module, LoadingIsAllOrNothing) {
  Pipeline a = make_pipeline();
  a.hops[0].demos.push_back({.input = {"q"}, .output = {"a"}});
  boost::json::object state = dspy::dump_state(a);

  Pipeline b = make_pipeline();
  auto unknown = state;
  unknown["hops[7]"] = state.at("hops[0]");
  auto r = dspy::load_state(b, unknown);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("unknown predictor path 'hops[7]'"), std::string::npos) << r.error().message();

  auto missing = state;
  missing.erase("experts['geo']");
  r = dspy::load_state(b, missing);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().field(), "experts['geo']");

  auto bad_demo = state;
  bad_demo["answer.predict"].as_object()["demos"] = boost::json::array{{{"context", 5}, {"question", "q"}}};
  r = dspy::load_state(b, bad_demo);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("answer.predict"), std::string::npos);
  EXPECT_NE(r.error().message().find("context"), std::string::npos) << r.error().message();
  EXPECT_NE(r.error().message().find("`demos[0]`"), std::string::npos) << r.error().message();

  // The last error came after hops[0] had loaded into the copy: b itself is untouched.
  EXPECT_EQ(b.hops[0].demo_count(), 0u);
  ASSERT_TRUE(dspy::load_state(b, state));
  EXPECT_EQ(b.hops[0].demo_count(), 1u);
  EXPECT_FALSE(dspy::load_string(b, "{not json"));
}

TEST(Module, StateNeverContainsAnApiKey) {
  Pipeline a = make_pipeline();
  dspy::set_lm(a, std::make_shared<ScriptedLM>(std::vector<std::string>{}, "openai/sk-should-not-appear"));
  EXPECT_EQ(dspy::save_string(a).find("sk-"), std::string::npos);
}

TEST(ChainOfThought, PrependsReasoningAndKeepsEveryOutputField) {
  auto lm = std::make_shared<ScriptedLM>(
      std::vector<std::string>{"[[ ## reasoning ## ]]\nIt is stated.\n\n[[ ## answer ## ]]\nParis\n\n[[ ## completed ## ]]"});
  dspy::ChainOfThought<QA> cot;
  cot.predict.set_lm(lm);
  const auto r = cot({.question = "Capital of France?"});
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->reasoning, "It is stated.");
  EXPECT_EQ(r->answer, "Paris");
  const auto& meta = cot.predict.signature();
  ASSERT_EQ(meta.outputs.size(), 2u);
  EXPECT_EQ(meta.outputs[0].name, "reasoning");
  EXPECT_EQ(meta.outputs[1].desc, "often between 1 and 5 words");
  EXPECT_EQ(cot.predict.instructions(), "Answer questions with short factoid answers.");
  // Default instructions stay the original signature's, as DSPy's prepend keeps them.
  EXPECT_EQ(dspy::ChainOfThought<DefaultInstructions>{}.predict.instructions(),
            "Given the fields `question`, produce the fields `answer`.");
}

TEST(Module, ForwardComposesPredictorsAndRunsSyncOrAsync) {
  Pipeline p = make_pipeline();
  auto lm = std::make_shared<ScriptedLM>(std::vector<std::string>{
      "[[ ## query ## ]]\ncapital France", "[[ ## reasoning ## ]]\nthe passage\n\n[[ ## answer ## ]]\nParis"});
  dspy::set_lm(p, lm);
  const auto r = dspy::call(p, {"What is the capital of France?"});
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(*r, "Paris (because the passage)");
  const auto requests = lm->requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_NE(requests[1].messages.back().content.text().find("capital France"), std::string::npos);
  EXPECT_NE(requests[1].messages.back().content.text().find("[\"Paris is in France.\"]"), std::string::npos);

  const auto failed = dspy::call(p, {"again"});  // no replies left: the error comes through
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code(), dspy::Errc::config);
}

}  // namespace module_test

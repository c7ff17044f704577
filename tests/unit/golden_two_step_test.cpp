// TwoStepAdapter: DSPy 3.3.1's two_step_chat trace (every request of both LMs, byte for byte,
// and the result), on the blocking and the async path, and what the trace does not show: the
// JSONAdapter retry of the extraction, its errors, several completions, usage per model.
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "../support/http_test_server.hpp"
#include "golden_vectors.hpp"

namespace golden_two_step_test {

namespace json = boost::json;
using dspy::testing::ScriptedLM;
using golden::vector_named;

struct SolveArithmetic {
  static constexpr std::string_view instructions = "Solve the arithmetic word problem.";
  struct Input {
    std::string problem;
  };
  struct Output {
    int answer;
    std::vector<std::string> steps;
  };
  static constexpr auto docs = dspy::docs({{"answer", "the final number"}});
};
using Sig = SolveArithmetic;

// The two LMs of a trace, each scripted with the replies the trace gives it, in order.
struct TraceLMs {
  std::shared_ptr<ScriptedLM> main;
  std::shared_ptr<ScriptedLM> extraction;
  std::vector<const ScriptedLM*> order;  // which LM each call goes to
};

TraceLMs scripted(const json::object& v) {
  TraceLMs lms{std::make_shared<ScriptedLM>(std::vector<std::string>{}, std::string(v.at("lm").at("model").as_string())),
               std::make_shared<ScriptedLM>(std::vector<std::string>{},
                                            std::string(v.at("extraction_lm").at("model").as_string())),
               {}};
  for (const auto& call : v.at("calls").as_array()) {
    ScriptedLM& lm = call.at("lm").as_string() == "main" ? *lms.main : *lms.extraction;
    lm.push(std::string(call.at("response").at("content").as_string()));
    lms.order.push_back(&lm);
  }
  return lms;
}

// Each call's request is the trace's: messages byte for byte, no LM kwargs.
void expect_requests(const json::object& v, const TraceLMs& lms) {
  const auto main = lms.main->requests();
  const auto extraction = lms.extraction->requests();
  ASSERT_EQ(main.size() + extraction.size(), v.at("calls").as_array().size());
  std::size_t m = 0;
  std::size_t e = 0;
  for (std::size_t i = 0; i < lms.order.size(); ++i) {
    const dspy::LMRequest& request = lms.order[i] == lms.main.get() ? main.at(m++) : extraction.at(e++);
    const auto& call = v.at("calls").as_array()[i].as_object();
    EXPECT_EQ(request.messages, golden::messages_of(call.at("messages"))) << "call " << i;
    EXPECT_TRUE(call.at("lm_kwargs").as_object().empty());
    EXPECT_TRUE(request.response_format.is_null()) << "call " << i;
    EXPECT_FALSE(request.config.n || request.config.temperature || request.config.max_tokens) << "call " << i;
  }
}

dspy::Predict<Sig> predictor(const json::object& v, const TraceLMs& lms) {
  dspy::Predict<Sig> predict;
  for (const auto& d : v.at("demos").as_array()) {
    auto demo = dspy::demo_from_json<Sig>(d.as_object());
    EXPECT_TRUE(demo) << demo.error().message();
    if (demo) predict.demos.push_back(*demo);
  }
  predict.set_lm(lms.main);
  predict.adapter = dspy::TwoStepAdapter{lms.extraction};
  return predict;
}

Sig::Input input_of(const json::object& v) {
  Sig::Input input{};
  EXPECT_FALSE(dspy::from_json(v.at("inputs"), input).has_value());
  return input;
}

TEST(TwoStepGolden, TraceBlocking) {
  const auto v = vector_named("two_step_chat");
  ASSERT_EQ(v.at("kind").as_string(), "trace");
  const TraceLMs lms = scripted(v);
  const auto predict = predictor(v, lms);
  const auto result = predict(input_of(v));
  ASSERT_TRUE(result) << result.error().message();
  EXPECT_EQ(dspy::to_json(**result), v.at("expected"));
  EXPECT_EQ((*result).adapter(), "TwoStepAdapter");
  expect_requests(v, lms);
  // Predict::format shows the main LM's request.
  EXPECT_EQ(predict.format(input_of(v)), lms.main->requests().at(0).messages);
}

TEST(TwoStepGolden, TraceAsync) {
  const auto v = vector_named("two_step_chat");
  const TraceLMs lms = scripted(v);
  const auto predict = predictor(v, lms);
  const auto result = dspy::detail::sync_wait(predict.acall(input_of(v)));
  ASSERT_TRUE(result) << result.error().message();
  EXPECT_EQ(dspy::to_json(**result), v.at("expected"));
  expect_requests(v, lms);
}

constexpr std::string_view kAnswer = "3 + 4 = 7, doubled: 14.";

TEST(TwoStepAdapter, ExtractionRetriesWithTheJSONAdapter) {
  auto main = std::make_shared<ScriptedLM>(std::vector<std::string>{std::string(kAnswer)}, "main/lm");
  auto extraction = std::make_shared<ScriptedLM>(
      std::vector<std::string>{"[[ ## answer ## ]]\nfourteen\n\n[[ ## completed ## ]]",
                               R"({"answer": 14, "steps": ["3 + 4 = 7", "7 * 2 = 14"]})"},
      "extraction/lm");
  dspy::Predict<Sig> predict;
  predict.set_lm(main);
  predict.adapter = dspy::TwoStepAdapter{extraction};
  const auto result = predict({"Add 3 and 4, then double the result."});
  ASSERT_TRUE(result) << result.error().message();
  EXPECT_EQ(result->answer, 14);
  EXPECT_EQ(result->steps.size(), 2u);
  ASSERT_EQ(extraction->calls(), 2u);
  const auto retry = extraction->requests()[1];
  EXPECT_FALSE(retry.response_format.is_null());  // the JSONAdapter asks for structured output
  EXPECT_EQ(retry.messages.back().content.text().rfind("[[ ## text ## ]]\n" + std::string(kAnswer), 0), 0u);
  ASSERT_FALSE((*result).parse_notes().empty());
  EXPECT_NE((*result).parse_notes().front().note.find("retried with the JSONAdapter"), std::string::npos);
}

TEST(TwoStepAdapter, AnExtractionThatDoesNotParseIsAParseErrorOfTheTwoStepAdapter) {
  auto main = std::make_shared<ScriptedLM>(std::vector<std::string>{std::string(kAnswer)}, "main/lm");
  auto extraction = std::make_shared<ScriptedLM>(std::vector<std::string>{"no idea", "still no idea"}, "extraction/lm");
  dspy::Predict<Sig> predict;
  predict.set_lm(main);
  predict.adapter = dspy::TwoStepAdapter{extraction};
  const auto result = predict({"Add 3 and 4."});
  ASSERT_FALSE(result);
  EXPECT_TRUE(dspy::is_parse_error(result.error().code()));
  const std::string& msg = result.error().message();
  EXPECT_EQ(msg.rfind("Failed to parse response from the original completion: ", 0), 0u) << msg;
  EXPECT_NE(msg.find("Adapter JSONAdapter failed to parse the LM response. \n\nLM Response: still no idea"),
            std::string::npos)
      << msg;
  EXPECT_NE(msg.find("Adapter TwoStepAdapter failed to parse the LM response. \n\nLM Response: " + std::string(kAnswer) +
                     " \n\nExpected to find output fields in the LM response: [answer, steps] \n\n"),
            std::string::npos)
      << msg;
  EXPECT_EQ(result.error().raw_response(), kAnswer);
  EXPECT_EQ(main->calls(), 1u);  // no retry of the main call: the TwoStepAdapter has no fallback
  EXPECT_EQ(extraction->calls(), 2u);
}

TEST(TwoStepAdapter, ExtractionLMErrorsKeepTheirKindAndNameTheStep) {
  auto main = std::make_shared<ScriptedLM>(std::vector<std::string>{std::string(kAnswer)}, "main/lm");
  auto extraction = std::make_shared<ScriptedLM>(std::vector<std::string>{}, "extraction/lm");
  extraction->push(dspy::Error(dspy::Errc::rate_limited, "429 Too Many Requests"));
  dspy::Predict<Sig> predict;
  predict.set_lm(main);
  predict.adapter = dspy::TwoStepAdapter{extraction};
  const auto result = predict({"Add 3 and 4."});
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), dspy::Errc::rate_limited);
  EXPECT_EQ(result.error().message(),
            "TwoStepAdapter's extraction step: the extraction LM failed: 429 Too Many Requests");
  EXPECT_EQ(extraction->calls(), 1u);  // LM errors are not retried with the JSONAdapter
}

TEST(TwoStepAdapter, EachCompletionIsExtractedAndUsageIsPerModel) {
  auto main = std::make_shared<ScriptedLM>(std::vector<std::string>{}, "main/lm");
  dspy::LMResponse two;
  two.model = "main/lm";
  two.completions = {"The answer is 14.", "The answer is 15."};
  two.usage = {10, 20, 30};
  main->push(two);
  auto extraction = std::make_shared<ScriptedLM>(std::vector<std::string>{}, "extraction/lm");
  for (const char* reply : {"[[ ## answer ## ]]\n14\n\n[[ ## steps ## ]]\n[]", "[[ ## answer ## ]]\n15\n\n[[ ## steps ## ]]\n[]"}) {
    dspy::LMResponse r;
    r.model = "extraction/lm";
    r.completions = {reply};
    r.usage = {1, 2, 3};
    extraction->push(r);
  }
  dspy::Predict<Sig> predict;
  predict.set_lm(main);
  predict.adapter = dspy::TwoStepAdapter{extraction};
  const auto scope = dspy::context({.track_usage = true});
  const auto result = predict({"Add 3 and 4."}, {.n = 2});
  ASSERT_TRUE(result) << result.error().message();
  ASSERT_EQ((*result).completions().size(), 2u);
  EXPECT_EQ((*result).completions()[0].answer, 14);
  EXPECT_EQ((*result).completions()[1].answer, 15);
  ASSERT_EQ(extraction->calls(), 2u);
  EXPECT_NE(extraction->requests()[1].messages.back().content.text().find("The answer is 15."), std::string::npos);
  ASSERT_TRUE((*result).lm_usage());
  EXPECT_EQ((*result).lm_usage()->at("main/lm").total_tokens, 30);
  EXPECT_EQ((*result).lm_usage()->at("extraction/lm").total_tokens, 6);
}

TEST(TwoStepAdapter, WithoutAnExtractionLMTheCallIsAConfigError) {
  auto main = std::make_shared<ScriptedLM>(std::vector<std::string>{std::string(kAnswer)}, "main/lm");
  dspy::Predict<Sig> predict;
  predict.set_lm(main);
  predict.adapter = dspy::TwoStepAdapter{dspy::LMHandle{}};
  const auto result = predict({"Add 3 and 4."});
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), dspy::Errc::config);
  EXPECT_NE(result.error().message().find("dspy::TwoStepAdapter{extraction_lm}"), std::string::npos);

  // Parsing needs the extraction LM's call, which only a predictor makes.
  const auto parsed = dspy::parse_completion<Sig>(dspy::TwoStepAdapter{main}, kAnswer);
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error().code(), dspy::Errc::config);
}

// The trace over real HTTP: each LM a dspy::LM on a loopback server of its own; each server gets
// exactly the trace's messages in its request body.
TEST(TwoStepGolden, TraceOverLoopbackHttp) {
  const auto v = vector_named("two_step_chat");
  dspy::test::TestServer main_server;
  dspy::test::TestServer extraction_server;
  const auto& calls = v.at("calls").as_array();
  main_server.push({.body = dspy::test::openai_reply({std::string(calls[0].at("response").at("content").as_string())})});
  extraction_server.push(
      {.body = dspy::test::openai_reply({std::string(calls[1].at("response").at("content").as_string())})});
  dspy::Predict<Sig> predict;
  for (const auto& d : v.at("demos").as_array()) predict.demos.push_back(*dspy::demo_from_json<Sig>(d.as_object()));
  predict.set_lm(dspy::LM("openai/o3-mini", {.api_base = main_server.base_url(), .api_key = "k1", .cache = false}));
  predict.adapter = dspy::TwoStepAdapter{
      dspy::LM("openai/gpt-4o-mini", {.api_base = extraction_server.base_url(), .api_key = "k2", .cache = false})};
  const auto result = dspy::detail::sync_wait(predict.acall(input_of(v)));
  ASSERT_TRUE(result) << result.error().message();
  EXPECT_EQ(dspy::to_json(**result), v.at("expected"));
  for (const auto& [server, i] : {std::pair{&main_server, 0}, std::pair{&extraction_server, 1}}) {
    const auto got = server->requests();
    ASSERT_EQ(got.size(), 1u) << "call " << i;
    const auto body = json::parse(got[0].body).as_object();
    EXPECT_EQ(body.at("model"), i == 0 ? "o3-mini" : "gpt-4o-mini");
    EXPECT_EQ(body.at("messages"), calls[static_cast<std::size_t>(i)].at("messages")) << "call " << i;
    EXPECT_FALSE(body.contains("response_format"));
  }

  // The extraction LM refuses the key: the call's error is the LM's (auth), from the extraction step.
  dspy::test::TestServer refusing;
  main_server.push({.body = dspy::test::openai_reply({"14"})});
  refusing.push({.status = 401, .body = R"({"error": {"message": "bad key"}})"});
  predict.adapter = dspy::TwoStepAdapter{
      dspy::LM("openai/gpt-4o-mini", {.api_base = refusing.base_url(), .api_key = "k3", .cache = false})};
  const auto refused = predict(input_of(v));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), dspy::Errc::auth);
  EXPECT_EQ(refused.error().message().rfind("TwoStepAdapter's extraction step: the extraction LM failed: ", 0), 0u)
      << refused.error().message();
}

}  // namespace golden_two_step_test

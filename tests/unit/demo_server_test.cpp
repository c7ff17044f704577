// Modules over real HTTP: the shipped demo server runs as a child process (dspy::testing::DemoServer)
// and dspy::LM talks to it on loopback, through Predict, ChainOfThought, a two-stage module and batch.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <boost/describe/class.hpp>

#include <dspy/all.hpp>

namespace demo_server_test {

namespace fs = std::filesystem;
using dspy::testing::DemoServer;

struct Query {
  struct Input {
    std::string question;
  };
  struct Output {
    std::string query;
  };
};

struct Answer {
  struct Input {
    std::string query;
    std::string question;
  };
  struct Output {
    std::string answer;
    int year;
  };
};

// Two stages, the second fed by the first: a module whose predictors both call the server.
struct TwoStep {
  dspy::Predict<Query> rewrite;
  dspy::ChainOfThought<Answer> answer;

  using Input = Query::Input;
  boost::asio::awaitable<dspy::Result<dspy::Predicted<dspy::ChainOfThought<Answer>::Output>>> forward(Input in) const {
    auto first = rewrite.acall(in);
    auto q = co_await std::move(first);
    if (!q) co_return q.error();
    auto second = answer.forward({q->query, in.question});
    co_return co_await std::move(second);
  }
};
BOOST_DESCRIBE_STRUCT(TwoStep, (), (rewrite, answer))

// Every reply carries every field, so whichever stage a reply reaches (calls interleave under
// batch), it parses; the ChatAdapter ignores fields its signature does not have.
constexpr std::string_view kReply =
    "[[ ## query ## ]]\nmoon landing year\n\n[[ ## reasoning ## ]]\nApollo 11 landed in 1969.\n\n"
    "[[ ## answer ## ]]\nApollo 11\n\n[[ ## year ## ]]\n1969\n\n[[ ## completed ## ]]";

class DemoServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("dspy_demo_server_test_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    replies_ = (dir_ / "replies.jsonl").string();
    std::ofstream(replies_) << boost::json::serialize(boost::json::value(kReply)) << "\n";
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path dir_;
  std::string replies_;
};

TEST_F(DemoServerTest, PredictAndChainOfThoughtOverHttp) {
  auto server = DemoServer::start(DSPY_DEMO_SERVER, {replies_});
  ASSERT_TRUE(server) << server.error().message();
  EXPECT_EQ(server->api_base(), "http://127.0.0.1:" + std::to_string(server->port()) + "/v1");

  for (const char* model : {"openai/demo", "anthropic/demo"}) {
    SCOPED_TRACE(model);
    // No cache: every call must reach this run's server.
    auto lm = std::make_shared<dspy::LM>(server->lm(model, {.cache = false}));
    dspy::ChainOfThought<Answer> cot;
    dspy::set_lm(cot, lm);
    const auto r = cot({"moon landing", std::string("When did people first land on the moon? ") + model});
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->answer, "Apollo 11");
    EXPECT_EQ(r->year, 1969);
    EXPECT_EQ(r->reasoning, "Apollo 11 landed in 1969.");
    EXPECT_GT(r.value().usage().prompt_tokens, 0);
  }
}

TEST_F(DemoServerTest, BatchOfAModuleKeepsEveryInputInOrder) {
  auto server = DemoServer::start(DSPY_DEMO_SERVER, {replies_});
  ASSERT_TRUE(server) << server.error().message();
  TwoStep program;
  dspy::set_lm(program, std::make_shared<dspy::LM>(server->lm("openai/demo", {.cache = false})));

  std::vector<TwoStep::Input> inputs;
  for (int i = 0; i < 60; ++i) inputs.push_back({"question number " + std::to_string(i)});
  const auto results = dspy::batch(program, inputs, {.concurrency = 8, .progress = false});
  ASSERT_EQ(results.size(), inputs.size());
  for (const auto& r : results) {
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->year, 1969);
  }
}

TEST_F(DemoServerTest, StoppedServerGivesATypedNetworkError) {
  auto server = DemoServer::start(DSPY_DEMO_SERVER, {replies_});
  ASSERT_TRUE(server) << server.error().message();
  auto lm = std::make_shared<dspy::LM>(server->lm("openai/demo", {.num_retries = 0, .cache = false}));
  EXPECT_TRUE(server->stop());  // SIGTERM: the server exits cleanly

  dspy::Predict<Query> p;
  p.set_lm(lm);
  const auto r = p({"anything"});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), dspy::Errc::network) << r.error().message();
}

TEST_F(DemoServerTest, StartFailuresAreTypedErrors) {
  const auto missing = DemoServer::start((dir_ / "no_such_program").string(), {replies_});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), dspy::Errc::config);
  EXPECT_NE(missing.error().message().find("no_such_program"), std::string::npos) << missing.error().message();

  // The server refuses a replies file that does not exist, and exits before printing a port.
  const auto refused = DemoServer::start(DSPY_DEMO_SERVER, {(dir_ / "absent.jsonl").string()});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), dspy::Errc::network);
  EXPECT_NE(refused.error().message().find("exited before printing its port"), std::string::npos)
      << refused.error().message();
}

}  // namespace demo_server_test

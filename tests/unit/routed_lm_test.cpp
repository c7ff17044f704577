// RoutedLM and the demo server's routes file: replies picked by the request's content, so a
// three-stage module batched at concurrency 8 gets every stage's answer for its own input, in
// process and over HTTP.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <boost/describe/class.hpp>

#include <dspy/all.hpp>

namespace routed_lm_test {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using dspy::testing::RoutedLM;

struct Classify {
  struct Input {
    std::string ticket;
  };
  struct Output {
    std::string product;
    int priority;
  };
};

struct Assign {
  struct Input {
    std::string product;
    int priority;
  };
  struct Output {
    std::string team;
  };
};

struct Respond {
  struct Input {
    std::string team;
    std::string ticket;
  };
  struct Output {
    std::string reply;
  };
};

// Each stage's input comes from the stage before: a reply routed to the wrong input shows.
struct Triage {
  dspy::Predict<Classify> classify;
  dspy::Predict<Assign> assign;
  dspy::Predict<Respond> respond;

  using Input = Classify::Input;
  asio::awaitable<dspy::Result<dspy::Predicted<Respond::Output>>> forward(Input in) const {
    auto classifying = classify.acall(in);
    auto c = co_await std::move(classifying);
    if (!c) co_return c.error();
    auto assigning = assign.acall(Assign::Input{c->product, c->priority});
    auto a = co_await std::move(assigning);
    if (!a) co_return a.error();
    auto responding = respond.acall(Respond::Input{a->team, in.ticket});
    co_return co_await std::move(responding);
  }
};
BOOST_DESCRIBE_STRUCT(Triage, (), (classify, assign, respond))

// What each stage answers for ticket i ("ticket 3: printer 21 is jammed").
std::string ticket(int i) {
  return "ticket " + std::to_string(i) + ": printer " + std::to_string(i * 7) + " is jammed";
}
int priority(int i) { return i % 4; }
int priority(const std::string& ticket) { return priority(std::stoi(ticket.substr(7))); }
std::string product(const std::string& ticket) {
  const std::size_t number = ticket.find("printer ") + 8;
  return "printer-" + ticket.substr(number, ticket.find(" is") - number);
}
std::string team(const std::string& product, int priority) { return product + "-team-p" + std::to_string(priority); }
std::string reply(const std::string& team, const std::string& ticket) { return team + " takes \"" + ticket + "\""; }

std::vector<Triage::Input> tickets(int n) {
  std::vector<Triage::Input> out;
  for (int i = 0; i < n; ++i) out.push_back({ticket(i)});
  return out;
}

// Every result is the answer to its own input's chain.
void expect_all_answered(const std::vector<dspy::Result<dspy::Predicted<Respond::Output>>>& results, int n) {
  ASSERT_EQ(results.size(), static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    ASSERT_TRUE(results[i]) << i << ": " << results[i].error().message();
    EXPECT_EQ(results[i]->reply, reply(team(product(ticket(i)), priority(i)), ticket(i))) << i;
  }
}

// The routes file of the first n tickets: a route per ticket and stage, replies given by field.
std::string routes_file(int n) {
  std::string out;
  for (int i = 0; i < n; ++i) {
    const std::string t = ticket(i);
    const std::string p = product(t);
    const std::string tm = team(p, priority(i));
    const auto line = [&](boost::json::value route) { out += boost::json::serialize(route) + "\n"; };
    // Respond has a `ticket` input too: the signature tells the stages apart.
    line({{"signature", "ticket -> product, priority"},
          {"match", {{"ticket", t}}},
          {"reply", {{"product", p}, {"priority", priority(i)}}}});
    line({{"match", {{"product", p}, {"priority", std::to_string(priority(i))}}}, {"reply", {{"team", tm}}}});
    line({{"signature", "team, ticket -> reply"},
          {"match", {{"team", tm}, {"ticket", t}}},
          {"reply", {{"reply", reply(tm, t)}}}});
  }
  return out;
}

class RoutedLMTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("dspy_routed_lm_test_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& text) {
    const fs::path p = dir_ / name;
    std::ofstream(p, std::ios::binary) << text;
    return p.string();
  }
  fs::path dir_;
};

constexpr int kTickets = 20;

TEST_F(RoutedLMTest, ThreeStagesAtConcurrency8AnswerEachInputByContent) {
  auto lm = std::make_shared<RoutedLM>();
  lm->route<Classify>([](const Classify::Input& in) {
       return Classify::Output{product(in.ticket), priority(in.ticket)};
     })
      .route<Assign>([](const Assign::Input& in) { return Assign::Output{team(in.product, in.priority)}; })
      .route<Respond>([](const Respond::Input& in) { return Respond::Output{reply(in.team, in.ticket)}; })
      .delay(std::chrono::milliseconds(1));  // calls overlap: arrival order is not input order
  Triage program;
  dspy::set_lm(program, lm);
  const auto results = dspy::batch(program, tickets(kTickets), {.concurrency = 8, .progress = false});
  expect_all_answered(results, kTickets);
  EXPECT_EQ(lm->calls(), 3U * kTickets);
}

TEST_F(RoutedLMTest, TheRoutesFileAnswersInProcessAsOverHttp) {
  const std::string routes = write("routes.jsonl", routes_file(kTickets));
  auto lm = std::make_shared<RoutedLM>();
  ASSERT_TRUE(lm->load_routes(routes));
  Triage program;
  dspy::set_lm(program, lm);
  expect_all_answered(dspy::batch(program, tickets(kTickets), {.concurrency = 8, .progress = false}), kTickets);

  auto server = dspy::testing::DemoServer::start(DSPY_DEMO_SERVER, {"--routes", routes});
  ASSERT_TRUE(server) << server.error().message();
  dspy::set_lm(program, std::make_shared<dspy::LM>(server->lm("openai/demo", {.num_retries = 0, .cache = false})));
  expect_all_answered(dspy::batch(program, tickets(kTickets), {.concurrency = 8, .progress = false}), kTickets);

  // A request no route matches: the server says which inputs it had and why each route declined.
  const auto unmatched = program.classify({"ticket 99: no route"});
  ASSERT_FALSE(unmatched);
  EXPECT_EQ(unmatched.error().code(), dspy::Errc::bad_request) << unmatched.error().message();
  const std::string expected = "no route matches a ChatAdapter request of \"ticket -> product, priority\" "
                               "with inputs `ticket` = \"ticket 99: no route\"";
  EXPECT_NE(unmatched.error().message().find(expected), std::string::npos) << unmatched.error().message();
  EXPECT_NE(unmatched.error().message().find("routes.jsonl:2: the request has no input `product`"), std::string::npos)
      << unmatched.error().message();
}

TEST_F(RoutedLMTest, TypedRepliesAreWrittenInTheRequestsAdapterFormat) {
  auto lm = std::make_shared<RoutedLM>();
  lm->route<Classify>([](const Classify::Input&) -> std::optional<Classify::Output> { return std::nullopt; })
      .when<Classify>(&Classify::Input::ticket, ticket(1), Classify::Output{"printer-7", 3})
      .when<Classify>([](const Classify::Input& in) { return in.ticket.ends_with("!"); }, {"urgent", 0})
      .route<Classify>([](const Classify::Input& in) -> dspy::Result<Classify::Output> {
        return dspy::Error(dspy::Errc::server, "no product in " + in.ticket);
      });
  dspy::Predict<Classify> classify;
  classify.set_lm(lm);
  for (const dspy::AdapterHandle& adapter : {dspy::AdapterHandle(dspy::ChatAdapter{.use_json_adapter_fallback = false}),
                                            dspy::AdapterHandle(dspy::JSONAdapter{}),
                                            dspy::AdapterHandle(dspy::XMLAdapter{})}) {
    SCOPED_TRACE(adapter->name());
    classify.adapter = adapter;
    const auto first = classify({ticket(1)});
    ASSERT_TRUE(first) << first.error().message();
    EXPECT_EQ(first->product, "printer-7");
    EXPECT_EQ(first->priority, 3);
    const auto urgent = classify({"help\nnow!"});  // a value over several lines
    ASSERT_TRUE(urgent) << urgent.error().message();
    EXPECT_EQ(urgent->product, "urgent");
    const auto failed = classify({"unknown"});  // the first route declines, the last one fails
    ASSERT_FALSE(failed);
    EXPECT_EQ(failed.error().code(), dspy::Errc::server);
    EXPECT_EQ(failed.error().message(), "no product in unknown");
  }
}

TEST_F(RoutedLMTest, RequestPredicatesRegexesAndTheDefault) {
  RoutedLM lm;
  lm.when_request([](const dspy::LMRequest& r) { return r.config.temperature == 0.5; }, "by predicate", "warm")
      .when_user_message("printer [0-9]+ is", "by regex");
  const auto ask = [&](std::string user, std::optional<double> temperature = {}) {
    return lm.call({.messages = {{"user", std::move(user)}}, .config = {.temperature = temperature}});
  };
  EXPECT_EQ(ask("anything", 0.5).value().completions, std::vector<std::string>{"by predicate"});
  EXPECT_EQ(ask("the printer 12 is jammed").value().completions, std::vector<std::string>{"by regex"});

  const auto unrouted = ask("something else");
  ASSERT_FALSE(unrouted);
  EXPECT_EQ(unrouted.error().code(), dspy::Errc::config);
  EXPECT_NE(unrouted.error().message().find("no route matches a request without input fields; the routes:\n"
                                            "  warm: the predicate is false\n"
                                            "  the regex /printer [0-9]+ is/ over the last user message: no match"),
            std::string::npos)
      << unrouted.error().message();

  lm.otherwise(dspy::Error(dspy::Errc::server, "the default"));
  EXPECT_EQ(ask("something else").error().message(), "the default");
}

TEST_F(RoutedLMTest, AMalformedRoutesFileIsATypedErrorNamingTheLine) {
  const auto refused = [&](const std::string& second_line) {
    RoutedLM lm;
    const std::string first_line = R"({"match": {"ticket": "a"}, "reply": "x"})";
    const std::string path = write("bad.jsonl", first_line + "\n" + second_line + "\n");
    auto loaded = lm.load_routes(path);
    EXPECT_FALSE(loaded) << second_line;
    if (loaded) return std::string();
    return std::string(dspy::to_string(loaded.error().code())) + " " + loaded.error().message();
  };
  EXPECT_NE(refused(R"({"match": {"ticket": 3}, "reply": "x"})").find("parse_error " + (dir_ / "bad.jsonl").string() +
                                                                   ":2: \"match\".ticket must be a string"),
            std::string::npos);
  EXPECT_NE(refused(R"({"regex": "(", "reply": "x"})").find(":2: \"regex\" is not a valid ECMAScript regex"),
            std::string::npos);
  EXPECT_NE(refused(R"({"match": {}, "reply": 1})").find(":2: \"reply\" must be a string"), std::string::npos);
  EXPECT_NE(refused(R"({"match": {}})").find(":2: the route has no \"reply\""), std::string::npos);
  EXPECT_NE(refused(R"({"signature": "a, -> b", "reply": "x"})").find(":2: \"signature\" must be a string of field"),
            std::string::npos);
  EXPECT_NE(refused(R"({"mach": {}, "reply": "x"})").find(":2: unknown key \"mach\""), std::string::npos);
  EXPECT_NE(refused(R"({"match": )").find(":2:11: invalid JSON"), std::string::npos);

  // The demo server refuses it too, before printing its port.
  const auto server = dspy::testing::DemoServer::start(DSPY_DEMO_SERVER, {"--routes", (dir_ / "bad.jsonl").string()});
  EXPECT_FALSE(server);
}

}  // namespace routed_lm_test

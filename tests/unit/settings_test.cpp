// Settings: scoped overrides for blocking code and for coroutines (across co_await and threads),
// callbacks on every step of a prediction, and the JSONL log of LM calls.
#include <filesystem>
#include <fstream>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <gtest/gtest.h>

#include "golden_signatures.hpp"

namespace settings_test {

using namespace golden;
using dspy::testing::ScriptedLM;
namespace asio = boost::asio;

std::shared_ptr<ScriptedLM> answering(const std::string& answer) {
  auto lm = std::make_shared<ScriptedLM>();
  lm->push("[[ ## answer ## ]]\n" + answer).repeat_last().delay(std::chrono::milliseconds(2));
  return lm;
}

TEST(Settings, ContextOverridesForBlockingCodeAndNests) {
  auto global = answering("global");
  auto scoped = answering("scoped");
  auto inner = answering("inner");
  dspy::configure({.lm = global});
  dspy::Predict<QA> qa;
  EXPECT_EQ(qa({"q"})->answer, "global");
  {
    auto scope = dspy::context({.lm = scoped});
    EXPECT_EQ(qa({"q"})->answer, "scoped");
    {
      auto nested = dspy::context({.adapter = dspy::ChatAdapter{.use_json_adapter_fallback = false}});
      EXPECT_EQ(qa({"q"})->answer, "scoped");  // the LM of the enclosing scope stays
      auto in_module = dspy::call(qa, {"q"});  // and reaches coroutines started here
      EXPECT_EQ(in_module->answer, "scoped");
      auto scope2 = dspy::context({.lm = inner});
      EXPECT_EQ(qa({"q"})->answer, "inner");
    }
    EXPECT_EQ(qa({"q"})->answer, "scoped");
  }
  EXPECT_EQ(qa({"q"})->answer, "global");
  dspy::configure({});
}

asio::awaitable<std::vector<std::string>> ask_three(const dspy::Predict<QA>* qa) {
  std::vector<std::string> answers;
  for (int i = 0; i < 3; ++i) {
    auto pending = qa->acall({"q"});
    auto r = co_await std::move(pending);
    answers.push_back(r ? r->answer : r.error().message());
  }
  co_return answers;
}

asio::awaitable<void> run_with(const dspy::Predict<QA>* qa, std::shared_ptr<ScriptedLM> lm,
                               std::vector<std::string>* out) {
  auto pending = dspy::with_context({.lm = lm}, ask_three(qa));
  *out = co_await std::move(pending);
}

TEST(Settings, WithContextFollowsEachCoroutineAcrossAwaitsAndThreads) {
  dspy::configure({.lm = answering("global")});
  dspy::Predict<QA> qa;
  asio::thread_pool pool(2);
  constexpr int kTasks = 8;
  std::vector<std::vector<std::string>> answers(kTasks);
  for (int t = 0; t < kTasks; ++t)  // interleaved on two threads, each with its own LM
    asio::co_spawn(asio::make_strand(pool), run_with(&qa, answering("lm" + std::to_string(t)), &answers[t]),
                   asio::detached);
  pool.join();
  for (int t = 0; t < kTasks; ++t)
    EXPECT_EQ(answers[t], std::vector<std::string>(3, "lm" + std::to_string(t))) << t;
  dspy::configure({});
}

struct Recorder : dspy::Callback {
  std::vector<std::string> events;
  std::uint64_t id = 0;
  void on_module_start(const dspy::CallInfo& c, std::string_view m, const boost::json::value& in) override {
    id = c.id;
    events.push_back("module_start " + std::string(m) + " " + boost::json::serialize(in));
  }
  void on_module_end(const dspy::CallInfo& c, const boost::json::value& out, const dspy::Error* e) override {
    EXPECT_EQ(c.id, id);
    events.push_back("module_end " + (e ? std::string(dspy::to_string(e->code())) : boost::json::serialize(out)));
  }
  void on_adapter_format_start(const dspy::CallInfo&, std::string_view a, const boost::json::value&) override {
    events.push_back("format_start " + std::string(a));
  }
  void on_adapter_format_end(const dspy::CallInfo&, const std::vector<dspy::Message>& m) override {
    events.push_back("format_end " + std::to_string(m.size()));
  }
  void on_lm_start(const dspy::CallInfo&, std::string_view model, const dspy::LMRequest&) override {
    events.push_back("lm_start " + std::string(model));
  }
  void on_lm_end(const dspy::CallInfo&, const dspy::Result<dspy::LMResponse>& r, std::chrono::nanoseconds) override {
    events.push_back(std::string("lm_end ") + (r ? "ok" : "error"));
  }
  void on_adapter_parse_start(const dspy::CallInfo&, std::string_view a, std::string_view) override {
    events.push_back("parse_start " + std::string(a));
  }
  void on_adapter_parse_end(const dspy::CallInfo&, const boost::json::value&, const dspy::Error* e) override {
    events.push_back(std::string("parse_end ") + (e ? "error" : "ok"));
  }
};

TEST(Settings, CallbacksSeeEveryStepIncludingAFallback) {
  auto recorder = std::make_shared<Recorder>();
  auto lm = std::make_shared<ScriptedLM>(std::vector<std::string>{"no markers", "{\"answer\": \"Paris\"}"});
  dspy::Predict<QA> qa;
  qa.set_lm(lm);
  auto scope = dspy::context({.callbacks = std::vector<std::shared_ptr<dspy::Callback>>{recorder}});
  ASSERT_TRUE(qa({"Capital of France?"}));
  EXPECT_EQ(recorder->events,
            (std::vector<std::string>{"module_start Predict<QA> {\"question\":\"Capital of France?\"}",
                                      "format_start ChatAdapter", "format_end 2", "lm_start scripted/lm",
                                      "lm_end ok", "parse_start ChatAdapter", "parse_end error",
                                      "format_start JSONAdapter", "format_end 2", "lm_start scripted/lm", "lm_end ok",
                                      "parse_start JSONAdapter", "parse_end ok", "module_end {\"answer\":\"Paris\"}"}));
}

TEST(Settings, JsonlLogCapturesEveryLmCall) {
  const auto path = std::filesystem::temp_directory_path() / ("dspy_calls_" + std::to_string(::getpid()) + ".jsonl");
  std::filesystem::remove(path);
  auto log = std::make_shared<dspy::JsonlLog>(path);
  ASSERT_TRUE(log->ok());
  auto lm = std::make_shared<ScriptedLM>(std::vector<std::string>{"[[ ## answer ## ]]\nParis"});
  lm->push(dspy::Error(dspy::Errc::rate_limited, "slow down"));
  dspy::Predict<QA> qa;
  qa.set_lm(lm);
  qa.config.temperature = 0.2;
  {
    auto scope = dspy::context({.callbacks = std::vector<std::shared_ptr<dspy::Callback>>{log}});
    ASSERT_TRUE(qa({"q1"}));
    ASSERT_FALSE(qa({"q2"}));
  }
  std::ifstream in(path);
  std::vector<boost::json::value> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(boost::json::parse(line));
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].at("model"), "scripted/lm");
  EXPECT_EQ(lines[0].at("messages").as_array().size(), 2u);
  EXPECT_EQ(lines[0].at("config").at("temperature"), 0.2);
  EXPECT_EQ(lines[0].at("completions").at(0), "[[ ## answer ## ]]\nParis");
  EXPECT_EQ(lines[1].at("error").at("code"), "rate_limited");
  std::filesystem::remove(path);
}

}  // namespace settings_test

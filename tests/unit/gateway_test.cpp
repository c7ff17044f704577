// The module gateway (DSPy's Module.__call__): a three-level module tree run through call and
// batch; the call tree the callbacks see, usage per module call, a module's own callbacks, the
// caller stack, errors and exceptions, named_sub_modules and map_named_predictors.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stop_token>
#include <thread>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>

#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/describe/class.hpp>
#include <gtest/gtest.h>

#include <dspy/all.hpp>

namespace gateway_test {

using dspy::testing::ScriptedLM;
namespace asio = boost::asio;

struct Classify {
  struct Input {
    std::string text;
  };
  struct Output {
    std::string label;
  };
};
struct Summarize {
  struct Input {
    std::string text;
  };
  struct Output {
    std::string summary;
  };
};
struct Answer {
  struct Input {
    std::string text;
    std::string label;
    std::string summary;
  };
  struct Output {
    std::string answer;
  };
};

// A result that can hold its call's usage (as DSPy's Prediction).
struct Analysis {
  std::string label;
  std::string summary;
  std::optional<dspy::LMUsage> lm_usage;
  void set_lm_usage(dspy::LMUsage u) { lm_usage = std::move(u); }
};

// The middle level: a predictor and a sub-module (ChainOfThought, called through the gateway).
struct Analyze {
  dspy::Predict<Classify> classify;
  dspy::ChainOfThought<Summarize> summarize;

  using Input = Classify::Input;
  asio::awaitable<dspy::Result<Analysis>> forward(Input in) const {
    auto c_pending = classify.acall({in.text});
    auto c = co_await std::move(c_pending);
    if (!c) co_return c.error();
    auto s_pending = dspy::acall(summarize, {in.text});
    auto s = co_await std::move(s_pending);
    if (!s) co_return s.error();
    co_return Analysis{c->label, s->summary, std::nullopt};
  }
};
BOOST_DESCRIBE_STRUCT(Analyze, (), (classify, summarize))

struct Reply {
  std::string answer;
  std::optional<dspy::LMUsage> lm_usage;
  void set_lm_usage(dspy::LMUsage u) { lm_usage = std::move(u); }
};

// The root: a sub-module and a predictor, and callbacks of its own.
struct Support {
  Analyze analyze;
  dspy::Predict<Answer> answer;
  std::vector<std::shared_ptr<dspy::Callback>> callbacks;
  bool fail = false;

  using Input = Classify::Input;
  asio::awaitable<dspy::Result<Reply>> forward(Input in) const {
    if (fail) throw std::runtime_error("forward threw");
    auto a_pending = dspy::acall(analyze, in);
    auto a = co_await std::move(a_pending);
    if (!a) co_return a.error();
    auto r_pending = answer.acall({in.text, a->label, a->summary});
    auto r = co_await std::move(r_pending);
    if (!r) co_return r.error();
    co_return Reply{r->answer, std::nullopt};
  }
};
BOOST_DESCRIBE_STRUCT(Support, (), (analyze, answer))

// One reply that every predictor of the tree parses (each reads its own fields), with usage.
dspy::LMResponse reply(std::int64_t prompt = 10, std::int64_t completion = 5) {
  dspy::LMResponse r;
  r.model = "scripted/lm";
  r.completions = {
      "[[ ## reasoning ## ]]\nr\n\n[[ ## label ## ]]\nbilling\n\n[[ ## summary ## ]]\nshort\n\n"
      "[[ ## answer ## ]]\nrefund\n\n[[ ## completed ## ]]"};
  r.usage = {prompt, completion, prompt + completion};
  return r;
}

std::shared_ptr<ScriptedLM> lm_answering_all() {
  auto lm = std::make_shared<ScriptedLM>();
  lm->push(reply()).repeat_last();
  return lm;
}

struct Event {
  std::string kind;  // "module" or "lm"
  std::uint64_t id;
  std::uint64_t parent;
  std::string path;
  std::string module;
  std::optional<dspy::LMUsage> usage;  // at the end of a module call
  bool error = false;
};

// Records every start and end with its place in the tree; thread-safe (batch).
struct TreeRecorder : dspy::Callback {
  std::mutex mutex;
  std::vector<Event> starts;
  std::vector<Event> ends;
  void on_module_start(const dspy::CallInfo& c, std::string_view m, const boost::json::value&) override {
    std::lock_guard lock(mutex);
    starts.push_back({"module", c.id, c.parent_id, std::string(c.path), std::string(m), std::nullopt});
  }
  void on_module_end(const dspy::CallInfo& c, const boost::json::value&, const dspy::Error* e) override {
    std::lock_guard lock(mutex);
    Event ev{"module", c.id, c.parent_id, std::string(c.path), "", std::nullopt, e != nullptr};
    if (c.usage) ev.usage = *c.usage;
    ends.push_back(std::move(ev));
  }
  void on_lm_start(const dspy::CallInfo& c, std::string_view model, const dspy::LMRequest&) override {
    std::lock_guard lock(mutex);
    starts.push_back({"lm", c.id, c.parent_id, std::string(c.path), std::string(model), std::nullopt});
  }
  const Event& start_at(const std::string& kind, const std::string& path) {
    auto it = std::find_if(starts.begin(), starts.end(), [&](const Event& e) { return e.kind == kind && e.path == path; });
    EXPECT_NE(it, starts.end()) << kind << " " << path;
    return *it;
  }
};

Support make_support(std::shared_ptr<ScriptedLM> lm) {
  Support s;
  dspy::set_lm(s, lm);
  return s;
}

TEST(Gateway, CallbacksSeeTheCallTreeWithDSPyPaths) {
  auto rec = std::make_shared<TreeRecorder>();
  auto scope = dspy::context({.callbacks = std::vector<std::shared_ptr<dspy::Callback>>{rec}});
  const Support support = make_support(lm_answering_all());
  const auto r = dspy::call(support, {"I was charged twice"});
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->answer, "refund");

  std::vector<std::string> paths;
  for (const auto& e : rec->starts)
    if (e.kind == "module") paths.push_back(e.path);
  EXPECT_EQ(paths, (std::vector<std::string>{"self", "self.analyze", "self.analyze.classify", "self.analyze.summarize",
                                             "self.analyze.summarize.predict", "self.answer"}));
  const Event& root = rec->start_at("module", "self");
  EXPECT_EQ(root.parent, 0u);
  EXPECT_EQ(root.module, "Support");
  const Event& analyze = rec->start_at("module", "self.analyze");
  EXPECT_EQ(analyze.parent, root.id);
  EXPECT_EQ(analyze.module, "Analyze");
  const Event& classify = rec->start_at("module", "self.analyze.classify");
  EXPECT_EQ(classify.parent, analyze.id);
  EXPECT_EQ(classify.module, "Predict<Classify>");
  const Event& cot = rec->start_at("module", "self.analyze.summarize");
  EXPECT_EQ(cot.parent, analyze.id);
  EXPECT_EQ(rec->start_at("module", "self.analyze.summarize.predict").parent, cot.id);
  EXPECT_EQ(rec->start_at("module", "self.answer").parent, root.id);
  // Each LM call hangs under the predictor that made it.
  EXPECT_EQ(rec->start_at("lm", "self.analyze.classify").parent, classify.id);
  EXPECT_EQ(rec->start_at("lm", "self.answer").parent, rec->start_at("module", "self.answer").id);
  EXPECT_EQ(rec->ends.size(), 6u);
  for (const auto& e : rec->ends) EXPECT_FALSE(e.error) << e.path;
  EXPECT_EQ(rec->ends.back().id, root.id);  // the root ends last
}

TEST(Gateway, EvaluateRunsEachExampleAsARootCall) {
  auto rec = std::make_shared<TreeRecorder>();
  auto scope = dspy::context({.callbacks = std::vector<std::shared_ptr<dspy::Callback>>{rec}, .track_usage = true});
  const Support support = make_support(lm_answering_all());
  struct Ticket {
    using Input = Support::Input;
    struct Output {
      std::string answer;
    };
  };
  const std::vector<dspy::Example<Ticket>> devset(3, {.input = {"t"}, .labels = {.answer = "refund"}});
  const auto metric = [](const dspy::Example<Ticket>& ex, const Reply& out) { return ex.labels.answer == out.answer; };
  const auto report = dspy::evaluate(support, devset, metric, {.concurrency = 2, .progress = false});
  EXPECT_DOUBLE_EQ(report.score, 100.0);
  std::size_t roots = 0;
  for (const auto& e : rec->starts)
    if (e.kind == "module" && e.parent == 0) {
      ++roots;
      EXPECT_EQ(e.path, "self");  // the program, not evaluate's runner
      EXPECT_EQ(e.module, "Support");
    }
  EXPECT_EQ(roots, devset.size());
  for (const auto& e : rec->ends)
    if (e.path == "self") {
      EXPECT_EQ(e.usage->at("scripted/lm").total_tokens, 45);
    }
}

TEST(Gateway, UsagePerModuleCallIsTheSumOfItsLmCalls) {
  auto rec = std::make_shared<TreeRecorder>();
  auto scope = dspy::context({.callbacks = std::vector<std::shared_ptr<dspy::Callback>>{rec}, .track_usage = true});
  auto lm = std::make_shared<ScriptedLM>();
  lm->push(reply(100, 1)).push(reply(20, 2)).push(reply(3, 30));  // classify, summarize, answer
  const Support support = make_support(lm);
  const auto r = dspy::call(support, {"I was charged twice"});
  ASSERT_TRUE(r) << r.error().message();
  ASSERT_TRUE(r->lm_usage);
  const dspy::Usage total = r->lm_usage->at("scripted/lm");
  EXPECT_EQ(total, (dspy::Usage{123, 33, 156}));

  std::map<std::string, dspy::Usage> by_path;
  for (const auto& e : rec->ends) {
    ASSERT_TRUE(e.usage) << e.path;
    by_path[e.path] = e.usage->empty() ? dspy::Usage{} : e.usage->at("scripted/lm");
  }
  EXPECT_EQ(by_path["self"], total);
  EXPECT_EQ(by_path["self.analyze"], (dspy::Usage{120, 3, 123}));
  EXPECT_EQ(by_path["self.analyze.classify"], (dspy::Usage{100, 1, 101}));
  EXPECT_EQ(by_path["self.analyze.summarize"], (dspy::Usage{20, 2, 22}));
  EXPECT_EQ(by_path["self.answer"], (dspy::Usage{3, 30, 33}));
}

TEST(Gateway, UsageOfAPredictorCallAndCacheHitsCountingZero) {
  auto scope = dspy::context({.track_usage = true});
  auto lm = lm_answering_all();
  lm->set_cache(true, std::make_shared<dspy::Cache>(dspy::CacheOptions{.enable_disk = false}));
  dspy::Predict<Classify> classify;
  classify.set_lm(lm);
  const auto first = classify({"same text"});
  ASSERT_TRUE(first) << first.error().message();
  ASSERT_TRUE(first.value().lm_usage());
  EXPECT_EQ(first.value().lm_usage()->at("scripted/lm"), (dspy::Usage{10, 5, 15}));
  const auto hit = classify({"same text"});
  ASSERT_TRUE(hit);
  EXPECT_TRUE(hit.value().cache_hit());
  ASSERT_TRUE(hit.value().lm_usage());
  EXPECT_TRUE(hit.value().lm_usage()->empty());

  const Support support = make_support(lm);
  const auto a = dspy::call(support, {"other text"});
  const auto b = dspy::call(support, {"other text"});  // every LM call answered by the cache
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->lm_usage->at("scripted/lm").total_tokens, 45);
  EXPECT_TRUE(b->lm_usage->empty());
}

TEST(Gateway, UnobservedCallsCarryNothing) {
  const Support support = make_support(lm_answering_all());
  const auto r = dspy::call(support, {"x"});
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->lm_usage);
  dspy::Predict<Classify> classify;
  classify.set_lm(lm_answering_all());
  const auto p = classify({"x"});
  ASSERT_TRUE(p);
  EXPECT_FALSE(p.value().lm_usage());
}

TEST(Gateway, BatchKeepsEachInputsTreeAndUsageApart) {
  auto rec = std::make_shared<TreeRecorder>();
  auto scope = dspy::context({.callbacks = std::vector<std::shared_ptr<dspy::Callback>>{rec}, .track_usage = true});
  auto lm = lm_answering_all();
  lm->delay(std::chrono::milliseconds(2));  // the inputs' calls interleave on the batch's thread
  const Support support = make_support(lm);
  std::vector<Support::Input> inputs(12, Support::Input{"t"});
  const auto results = dspy::batch(support, inputs, {.concurrency = 6, .progress = false});
  ASSERT_EQ(results.size(), inputs.size());
  for (const auto& r : results) {
    ASSERT_TRUE(r) << r.error().message();
    ASSERT_TRUE(r->lm_usage);
    EXPECT_EQ(r->lm_usage->at("scripted/lm"), (dspy::Usage{30, 15, 45}));  // its own 3 calls, no other's
  }
  std::map<std::uint64_t, const Event*> by_id;
  for (const auto& e : rec->starts) by_id[e.id] = &e;
  std::size_t roots = 0;
  for (const auto& e : rec->starts) {
    if (e.path == "self") {
      ++roots;
      EXPECT_EQ(e.parent, 0u);
      continue;
    }
    ASSERT_TRUE(by_id.count(e.parent)) << e.path;
    const Event& parent = *by_id[e.parent];
    // The parent's path is a prefix of the child's (an LM call shares its predictor's path).
    EXPECT_EQ(e.path.rfind(parent.path, 0), 0u) << e.path << " under " << parent.path;
  }
  EXPECT_EQ(roots, inputs.size());
}

TEST(Gateway, ModuleCallbacksAndErrorsReachOnModuleEnd) {
  auto own = std::make_shared<TreeRecorder>();
  Support support = make_support(lm_answering_all());
  support.callbacks = {own};
  auto ok = dspy::call(support, {"x"});
  ASSERT_TRUE(ok);
  // The module's own callbacks see its calls only (as DSPy's instance callbacks).
  ASSERT_EQ(own->starts.size(), 1u);
  EXPECT_EQ(own->starts[0].path, "self");
  ASSERT_EQ(own->ends.size(), 1u);

  support.fail = true;
  const auto thrown = dspy::call(support, {"x"});
  ASSERT_FALSE(thrown);
  EXPECT_NE(thrown.error().message().find("forward threw"), std::string::npos);
  ASSERT_EQ(own->ends.size(), 2u);
  EXPECT_TRUE(own->ends[1].error);

  support.fail = false;
  auto empty = std::make_shared<ScriptedLM>();  // no reply: the error comes back typed
  dspy::set_lm(support, empty);
  const auto failed = dspy::call(support, {"x"});
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().module(), "self.analyze.classify");  // observed at the root only (its own callbacks)
  ASSERT_EQ(own->ends.size(), 3u);
  EXPECT_TRUE(own->ends[2].error);

  auto mine = std::make_shared<TreeRecorder>();  // a predictor's own callbacks
  dspy::Predict<Classify> classify;
  classify.set_lm(lm_answering_all());
  classify.callbacks = {mine};
  ASSERT_TRUE(classify({"x"}));
  ASSERT_EQ(mine->starts.size(), 1u);
  EXPECT_EQ(mine->starts[0].path, "self");
}

struct Inspect {
  dspy::Predict<Classify> classify;
  using Input = Classify::Input;
  asio::awaitable<dspy::Result<std::vector<std::string>>> forward(Input) const {
    const auto settings = dspy::settings_of(co_await asio::this_coro::executor);
    std::vector<std::string> stack;
    for (const dspy::ModuleCall* c : dspy::caller_modules(*settings)) stack.push_back(c->module + " " + c->path);
    co_return stack;
  }
};
BOOST_DESCRIBE_STRUCT(Inspect, (), (classify))

struct Outer {
  Inspect inner;
  using Input = Classify::Input;
  asio::awaitable<dspy::Result<std::vector<std::string>>> forward(Input in) const {
    auto pending = dspy::acall(inner, in);
    co_return co_await std::move(pending);
  }
};
BOOST_DESCRIBE_STRUCT(Outer, (), (inner))

TEST(Gateway, AnUnobservedErrorNamesTheModuleWhereItArose) {
  // Nothing observes: the error still names the predictor's path from the root, in a call, in a
  // batch (as failed_inputs reports it), and for a predictor called alone.
  auto lm = std::make_shared<ScriptedLM>();
  lm->push(reply()).push(reply()).push(dspy::Error(dspy::Errc::server, "upstream 503"));  // classify, summarize, answer
  const Support support = make_support(lm);
  const auto once = dspy::call(support, {"t"});
  ASSERT_FALSE(once);
  EXPECT_EQ(once.error().module(), "self.answer");

  auto lm2 = std::make_shared<ScriptedLM>();
  lm2->push(reply()).push(reply()).push(reply()).push(dspy::Error(dspy::Errc::server, "upstream 503"));
  const Support support2 = make_support(lm2);
  const auto results = dspy::batch(support2, std::vector<Support::Input>(2, {"t"}), {.concurrency = 1, .progress = false});
  const auto failed = dspy::failed_inputs(results);
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0].index, 1u);
  EXPECT_EQ(failed[0].error->module(), "self.analyze.classify");

  dspy::Predict<Classify> alone;
  alone.set_lm(std::make_shared<ScriptedLM>());  // no reply
  const auto bare = alone({"x"});
  ASSERT_FALSE(bare);
  EXPECT_EQ(bare.error().module(), "self");
}

TEST(Gateway, CallerModulesIsTheStackFromTheRoot) {
  auto scope = dspy::context({.track_usage = true});  // observed: the stack is kept
  const auto stack = dspy::call(Outer{}, {"x"});
  ASSERT_TRUE(stack);
  EXPECT_EQ(*stack, (std::vector<std::string>{"Outer self", "Inspect self.inner"}));
}

// Waits on a timer, so a later handler resumes it, before calling its sub-module.
struct Pause {
  Inspect inner;
  using Input = Classify::Input;
  asio::awaitable<dspy::Result<std::vector<std::string>>> forward(Input in) const {
    asio::steady_timer timer(co_await asio::this_coro::executor, std::chrono::milliseconds(1));
    co_await timer.async_wait(asio::use_awaitable);
    auto pending = dspy::acall(inner, in);
    co_return co_await std::move(pending);
  }
};
BOOST_DESCRIBE_STRUCT(Pause, (), (inner))

TEST(Gateway, InterleavedCallsEachSeeTheirOwnSettings) {
  // Observed and unobserved runs take turns on one thread: each module call is judged by the
  // settings of the run it belongs to, also after its coroutine was suspended and resumed.
  auto rec = std::make_shared<TreeRecorder>();
  const Pause program;
  asio::io_context io;
  using Stack = dspy::Result<std::vector<std::string>>;
  std::vector<std::optional<Stack>> observed(3), plain(3);
  for (int i = 0; i < 3; ++i) {
    auto told = dspy::with_context({.callbacks = std::vector<std::shared_ptr<dspy::Callback>>{rec}},
                                   dspy::acall(program, {"x"}));
    asio::co_spawn(io, dspy::detail::store_result(std::move(told), &observed[i]), asio::detached);
    asio::co_spawn(io, dspy::detail::store_result(dspy::acall(program, {"y"}), &plain[i]), asio::detached);
  }
  io.run();
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(observed[i] && *observed[i]);
    EXPECT_EQ(**observed[i], (std::vector<std::string>{"Pause self", "Inspect self.inner"}));
    ASSERT_TRUE(plain[i] && *plain[i]);
    EXPECT_TRUE((*plain[i])->empty());
  }
  ASSERT_EQ(rec->starts.size(), 6u);
  std::set<std::uint64_t> roots;
  for (const auto& e : rec->starts)
    if (e.path == "self") roots.insert(e.id);
  ASSERT_EQ(roots.size(), 3u);
  for (const auto& e : rec->starts) {
    if (e.path == "self.inner") {
      EXPECT_TRUE(roots.count(e.parent)) << e.id;
    }
  }
}

asio::awaitable<dspy::Result<Reply>> traced_support(const Support* s, std::shared_ptr<dspy::TraceLog> log) {
  auto pending = dspy::with_context({.trace = log}, dspy::acall(*s, {"I was charged twice"}));
  co_return co_await std::move(pending);
}

TEST(Gateway, TraceNamesEachPredictorCallAsNamedPredictorsDoes) {
  const Support support = make_support(lm_answering_all());
  auto log = std::make_shared<dspy::TraceLog>();
  const auto r = dspy::detail::sync_wait(traced_support(&support, log));
  ASSERT_TRUE(r) << r.error().message();
  std::vector<std::string> names;
  for (const auto& e : log->entries()) names.push_back(e.module_name);
  EXPECT_EQ(names, (std::vector<std::string>{"analyze.classify", "analyze.summarize.predict", "answer"}));
  const auto entries = log->entries();
  EXPECT_EQ(boost::json::serialize(entries[0].inputs), R"({"text":"I was charged twice"})");
  EXPECT_EQ(boost::json::serialize(entries[0].outputs), R"({"label":"billing"})");
  EXPECT_EQ(entries[2].inputs.at("summary"), "short");

  dspy::Predict<Classify> bare;  // a traced predictor called alone is "self"
  bare.set_lm(lm_answering_all());
  auto own = std::make_shared<dspy::TraceLog>();
  auto scope = dspy::context({.trace = own});
  ASSERT_TRUE(bare({"x"}));
  ASSERT_EQ(own->entries().size(), 1u);
  EXPECT_EQ(own->entries()[0].module_name, "self");
}

TEST(Gateway, NamedSubModulesAreBreadthFirstWithDSPyPaths) {
  Support support;
  std::vector<std::string> paths;
  for (const auto& m : dspy::named_sub_modules(support)) paths.push_back(m.path);
  EXPECT_EQ(paths, (std::vector<std::string>{"self", "self.analyze", "self.answer", "self.analyze.classify",
                                             "self.analyze.summarize", "self.analyze.summarize.predict"}));
  const auto all = dspy::named_sub_modules(support);
  EXPECT_EQ(all[0].type, "Support");
  EXPECT_EQ(all[0].predictor, nullptr);
  EXPECT_EQ(all[2].predictor, &support.answer);
  dspy::Predict<Classify> bare;
  const auto one = dspy::named_sub_modules(bare);
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].path, "self");
}

TEST(Gateway, MapNamedPredictorsReplacesEachPredictor) {
  Support support;
  std::vector<std::string> seen;
  dspy::map_named_predictors(support, [&]<class P>(const std::string& path, const P& p) {
    seen.push_back(path);
    P copy = p;
    copy.set_instructions("Rewritten for " + path + ".");
    return copy;
  });
  EXPECT_EQ(seen, (std::vector<std::string>{"analyze.classify", "analyze.summarize.predict", "answer"}));
  EXPECT_EQ(support.answer.instructions(), "Rewritten for answer.");
  EXPECT_EQ(support.analyze.summarize.predict.instructions(), "Rewritten for analyze.summarize.predict.");

  support.answer.demos.push_back({});
  const Support fresh = dspy::reset_copy(support);
  EXPECT_TRUE(fresh.answer.demos.empty());
  EXPECT_EQ(support.answer.demos.size(), 1u);
}


// ---- the call tree as OpenTelemetry spans --------------------------------------------------------

std::vector<boost::json::object> spans_of(const std::string& export_text, std::size_t* lines = nullptr) {
  std::vector<boost::json::object> spans;
  std::istringstream in(export_text);
  std::string line;
  std::size_t n = 0;
  while (std::getline(in, line)) {
    ++n;
    const auto request = boost::json::parse(line).as_object();
    const auto& rs = request.at("resourceSpans").as_array().at(0).as_object();
    EXPECT_EQ(rs.at("resource").at("attributes").at(0).at("key"), "service.name");
    for (const auto& s : rs.at("scopeSpans").at(0).at("spans").as_array()) spans.push_back(s.as_object());
  }
  if (lines) *lines = n;
  return spans;
}

std::string attribute(const boost::json::object& span, std::string_view key) {
  for (const auto& a : span.at("attributes").as_array())
    if (a.at("key").as_string() == key) {
      const auto& v = a.at("value").as_object();
      if (v.contains("stringValue")) return std::string(v.at("stringValue").as_string());
      if (v.contains("intValue")) return std::string(v.at("intValue").as_string());
      if (v.contains("boolValue")) return v.at("boolValue").as_bool() ? "true" : "false";
    }
  return "";
}

TEST(Otlp, ExportsTheCallTreeAsSpans) {
  std::ostringstream out;
  auto exporter = std::make_shared<dspy::OtlpExporter>(out, dspy::OtlpOptions{.service_name = "support-bot"});
  auto scope = dspy::context({.callbacks = std::vector<std::shared_ptr<dspy::Callback>>{exporter}, .track_usage = true});
  const Support support = make_support(lm_answering_all());
  ASSERT_TRUE(dspy::call(support, {"I was charged twice"}));
  EXPECT_TRUE(exporter->ok());

  std::size_t lines = 0;
  const auto spans = spans_of(out.str(), &lines);
  EXPECT_EQ(lines, 1u);  // one trace: one line, written when its root ended
  ASSERT_EQ(spans.size(), 9u);  // 6 module and predictor calls, 3 LM calls
  std::map<std::string, const boost::json::object*> by_id;
  for (const auto& s : spans) {
    EXPECT_EQ(s.at("traceId"), spans[0].at("traceId"));
    EXPECT_EQ(s.at("traceId").as_string().size(), 32u);
    EXPECT_EQ(s.at("spanId").as_string().size(), 16u);
    EXPECT_LE(std::stoull(std::string(s.at("startTimeUnixNano").as_string())),
              std::stoull(std::string(s.at("endTimeUnixNano").as_string())));
    by_id[std::string(s.at("spanId").as_string())] = &s;
  }
  EXPECT_EQ(by_id.size(), spans.size());
  const boost::json::object* root = nullptr;
  for (const auto& s : spans) {
    if (!s.contains("parentSpanId")) {
      EXPECT_EQ(root, nullptr) << "one root";
      root = &s;
      continue;
    }
    ASSERT_TRUE(by_id.count(std::string(s.at("parentSpanId").as_string())));
    const auto& parent = *by_id[std::string(s.at("parentSpanId").as_string())];
    EXPECT_EQ(attribute(s, "dspy.module.path").rfind(attribute(parent, "dspy.module.path"), 0), 0u);
  }
  ASSERT_NE(root, nullptr);
  EXPECT_EQ(root->at("name"), "Support");
  EXPECT_EQ(attribute(*root, "dspy.module.path"), "self");
  EXPECT_EQ(attribute(*root, "gen_ai.usage.input_tokens"), "30");  // 3 LM calls of 10 prompt tokens
  std::size_t lm = 0;
  for (const auto& s : spans)
    if (s.at("kind") == 3) {
      ++lm;
      EXPECT_EQ(s.at("name"), "chat scripted/lm");
      EXPECT_EQ(attribute(s, "gen_ai.request.model"), "scripted/lm");
      EXPECT_EQ(attribute(s, "gen_ai.usage.output_tokens"), "5");
      EXPECT_EQ(attribute(s, "dspy.cache_hit"), "false");
      EXPECT_TRUE(attribute(*by_id[std::string(s.at("parentSpanId").as_string())], "dspy.module.type").starts_with("Predict<"));
    }
  EXPECT_EQ(lm, 3u);
}

TEST(Otlp, BatchGivesOneTracePerInputAndMarksErrors) {
  std::ostringstream out;
  auto exporter = std::make_shared<dspy::OtlpExporter>(out);
  auto scope = dspy::context({.callbacks = std::vector<std::shared_ptr<dspy::Callback>>{exporter}});
  auto lm = std::make_shared<ScriptedLM>();
  lm->push(reply()).push(reply()).push(reply()).push(dspy::Error(dspy::Errc::server, "upstream 503"));
  lm->delay(std::chrono::milliseconds(1));
  const Support support = make_support(lm);
  const auto results = dspy::batch(support, std::vector<Support::Input>(2, {"t"}), {.concurrency = 1, .progress = false});
  ASSERT_EQ(results.size(), 2u);
  ASSERT_TRUE(results[0]);
  ASSERT_FALSE(results[1]);
  EXPECT_EQ(results[1].error().module(), "self.analyze.classify");  // where it arose, not where it surfaced
  std::size_t lines = 0;
  const auto spans = spans_of(out.str(), &lines);
  EXPECT_EQ(lines, 2u);
  std::set<std::string> traces;
  std::size_t errors = 0;
  for (const auto& s : spans) {
    traces.insert(std::string(s.at("traceId").as_string()));
    if (s.contains("status")) {
      ++errors;
      EXPECT_EQ(s.at("status").at("code"), 2);
      EXPECT_EQ(attribute(s, "error.type"), "server");
    }
  }
  EXPECT_EQ(traces.size(), 2u);
  EXPECT_EQ(errors, 4u);  // the LM call, its predictor, Analyze and the root of the second input
}

TEST(Otlp, WritesToAnOwnerOnlyFile) {
  const auto dir = std::filesystem::temp_directory_path() / ("dspy_otlp_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto path = dir / "trace.jsonl";
  {
    auto exporter = std::make_shared<dspy::OtlpExporter>(path);
    auto scope = dspy::context({.callbacks = std::vector<std::shared_ptr<dspy::Callback>>{exporter}});
    dspy::Predict<Classify> classify;
    classify.set_lm(lm_answering_all());
    ASSERT_TRUE(classify({"x"}));
    EXPECT_TRUE(exporter->ok());
  }
  std::ifstream in(path);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(spans_of(text).size(), 2u);  // the predictor and its LM call
  EXPECT_EQ(std::filesystem::status(path).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  std::filesystem::remove_all(dir);
}

// ---- batch: stragglers and failed inputs ---------------------------------------------------------

// Stalls its first call whose prompt holds "slow" until cancelled; answers every other at once.
class StallingLM : public dspy::BaseLM {
 public:
  [[nodiscard]] std::string model() const override { return "stall/lm"; }
  std::atomic<int> calls{0};
  std::atomic<int> cancelled{0};

 protected:
  asio::awaitable<dspy::Result<dspy::LMResponse>> aforward(dspy::LMRequest request) override {
    ++calls;
    const bool slow = request.messages.back().content.text().find("slow") != std::string::npos && !stalled_.exchange(true);
    if (slow) {
      dspy::detail::Timer timer(co_await asio::this_coro::executor, std::chrono::seconds(30));
      auto waiting = dspy::detail::Timer::wait(&timer);
      if (co_await std::move(waiting) == asio::error::operation_aborted) {
        ++cancelled;
        co_return dspy::Error(dspy::Errc::cancelled, "the stalled call was cancelled");
      }
    }
    dspy::LMResponse r = reply(7, 3);
    r.model = "stall/lm";
    co_return r;
  }

 private:
  std::atomic<bool> stalled_{false};
};

TEST(Batch, AStragglerIsStartedAgainAndTheFirstResultWins) {
  auto lm = std::make_shared<StallingLM>();
  auto rec = std::make_shared<TreeRecorder>();
  auto scope = dspy::context({.callbacks = std::vector<std::shared_ptr<dspy::Callback>>{rec}, .track_usage = true});
  dspy::Predict<Classify> classify;
  classify.set_lm(lm);
  const std::vector<Classify::Input> inputs{{"a"}, {"slow"}, {"c"}, {"d"}};
  const auto start = std::chrono::steady_clock::now();
  const auto results = dspy::batch(
      classify, inputs,
      {.concurrency = 4, .progress = false, .timeout = std::chrono::milliseconds(50), .straggler_limit = 3});
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_EQ(results.size(), inputs.size());
  for (const auto& r : results) {
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->label, "billing");
    ASSERT_TRUE(r.value().lm_usage());
    EXPECT_EQ(r.value().lm_usage()->at("stall/lm"), (dspy::Usage{7, 3, 10}));  // the winner's call alone
  }
  EXPECT_EQ(lm->calls.load(), 5);      // 4 inputs and the straggler's second call
  EXPECT_EQ(lm->cancelled.load(), 1);  // the stalled first call, cancelled once the second won
  EXPECT_LT(took, std::chrono::seconds(20));  // nobody waited out the 30 s stall
  std::size_t ok = 0, failed = 0;
  for (const auto& e : rec->ends) (e.error ? failed : ok) += 1;
  EXPECT_EQ(ok, 4u);
  EXPECT_EQ(failed, 1u);  // the loser, told as cancelled; its result is dropped
}

TEST(Batch, NoStragglerCallsWhenTurnedOffOrWhenManyRemain) {
  auto lm = std::make_shared<StallingLM>();
  dspy::Predict<Classify> classify;
  classify.set_lm(lm);
  std::stop_source stop;
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    stop.request_stop();
  });
  const auto results = dspy::batch(classify, {{"slow"}, {"b"}},
                                   {.concurrency = 2, .progress = false, .stop = stop.get_token(),
                                    .timeout = std::chrono::milliseconds(0)});
  stopper.join();
  ASSERT_EQ(results.size(), 2u);
  EXPECT_TRUE(results[1]);
  ASSERT_FALSE(results[0]);
  EXPECT_EQ(results[0].error().code(), dspy::Errc::cancelled);
  EXPECT_EQ(lm->calls.load(), 2);  // never started again

  const auto failed = dspy::failed_inputs(results);
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0].index, 0u);
  EXPECT_EQ(failed[0].error->code(), dspy::Errc::cancelled);
}

}  // namespace gateway_test

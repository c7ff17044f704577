// The module gateway (DSPy's Module.__call__): a three-level module tree run through call and
// batch; the call tree the callbacks see, usage per module call, a module's own callbacks, the
// caller stack, errors and exceptions, named_sub_modules and map_named_predictors.
#include <algorithm>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>

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

TEST(Gateway, CallerModulesIsTheStackFromTheRoot) {
  auto scope = dspy::context({.track_usage = true});  // observed: the stack is kept
  const auto stack = dspy::call(Outer{}, {"x"});
  ASSERT_TRUE(stack);
  EXPECT_EQ(*stack, (std::vector<std::string>{"Outer self", "Inspect self.inner"}));
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

}  // namespace gateway_test

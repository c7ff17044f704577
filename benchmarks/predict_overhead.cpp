// Per-call overhead of Predict with an in-process LM (no I/O): format the prompt, "call" the LM,
// parse the reply into the typed output. What is left is the framework's own cost.
#include <benchmark/benchmark.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <dspy/all.hpp>

namespace {

struct ContextQA {  // 3 fields
  static constexpr std::string_view instructions = "Answer the question using the context.";
  struct Input {
    std::string context;
    std::string question;
  };
  struct Output {
    std::string answer;
  };
};

constexpr const char* kReply = "[[ ## answer ## ]]\nParis\n\n[[ ## completed ## ]]";

dspy::Predict<ContextQA> make_predict(int demos) {
  auto lm = std::make_shared<dspy::testing::ScriptedLM>();
  lm->push(std::string(kReply)).repeat_last().record_requests(false);
  dspy::Predict<ContextQA> p;
  p.set_lm(lm);
  for (int i = 0; i < demos; ++i)
    p.demos.push_back({.input = {"France's capital is Paris.", "Capital of France?"}, .output = {"Paris"}});
  return p;
}

void BM_PredictCall(benchmark::State& state) {
  const auto predict = make_predict(static_cast<int>(state.range(0)));
  const ContextQA::Input input{"The Eiffel Tower is in Paris, the capital of France.", "Which city is it in?"};
  for (auto _ : state) {
    auto r = predict(input);
    if (!r) state.SkipWithError("call failed");
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_PredictCall)->Arg(0)->Arg(4);

void BM_Format(benchmark::State& state) {
  const auto predict = make_predict(static_cast<int>(state.range(0)));
  const ContextQA::Input input{"The Eiffel Tower is in Paris, the capital of France.", "Which city is it in?"};
  for (auto _ : state) benchmark::DoNotOptimize(predict.format(input));
}
BENCHMARK(BM_Format)->Arg(0)->Arg(4);

void BM_Parse(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(dspy::parse_completion<ContextQA>(dspy::ChatAdapter{}, kReply));
}
BENCHMARK(BM_Parse);

boost::asio::awaitable<void> call_many(const dspy::Predict<ContextQA>* p, std::int64_t n, bool* ok) {
  const ContextQA::Input input{"The Eiffel Tower is in Paris, the capital of France.", "Which city is it in?"};
  for (std::int64_t i = 0; i < n; ++i) {
    auto pending = p->acall(input);
    auto r = co_await std::move(pending);
    *ok = *ok && r.has_value();
  }
}

// The coroutine path: acall awaited in a loop on one io_context.
void BM_PredictAcall(benchmark::State& state) {
  const auto predict = make_predict(static_cast<int>(state.range(0)));
  constexpr std::int64_t kBatch = 1000;
  bool ok = true;
  for (auto _ : state) {
    boost::asio::io_context io;
    boost::asio::co_spawn(io, call_many(&predict, kBatch, &ok), boost::asio::detached);
    io.run();
  }
  if (!ok) state.SkipWithError("call failed");
  state.SetItemsProcessed(state.iterations() * kBatch);
}
BENCHMARK(BM_PredictAcall)->Arg(0)->Arg(4);

// A module with no LM: what is measured is the call itself.
struct Echo {
  using Input = ContextQA::Input;
  boost::asio::awaitable<dspy::Result<std::size_t>> forward(Input in) const { co_return in.question.size(); }
};

boost::asio::awaitable<void> module_calls(const Echo* m, std::int64_t n, bool through_gateway, bool* ok) {
  const Echo::Input input{"The Eiffel Tower is in Paris, the capital of France.", "Which city is it in?"};
  for (std::int64_t i = 0; i < n; ++i) {
    auto pending = through_gateway ? dspy::acall(*m, input) : m->forward(input);
    auto r = co_await std::move(pending);
    *ok = *ok && r.has_value();
  }
}

// What the gateway adds to a module call: Arg(0) calls forward directly, Arg(1) through
// dspy::acall with nothing observing (no callbacks, usage tracking off, no trace), Arg(2) through
// dspy::acall with usage tracking on (a ModuleCall opened per call). Run as every blocking call
// and batch runs: on an executor that carries the settings.
void BM_ModuleCall(benchmark::State& state) {
  const Echo echo;
  constexpr std::int64_t kBatch = 1000;
  bool ok = true;
  auto settings = std::make_shared<dspy::Settings>(*dspy::current_settings());
  settings->track_usage = state.range(0) == 2;
  for (auto _ : state) {
    boost::asio::io_context io;
    boost::asio::co_spawn(dspy::ContextExecutor(io.get_executor(), settings),
                          module_calls(&echo, kBatch, state.range(0) > 0, &ok), boost::asio::detached);
    io.run();
  }
  if (!ok) state.SkipWithError("call failed");
  state.SetItemsProcessed(state.iterations() * kBatch);
}
BENCHMARK(BM_ModuleCall)->Arg(0)->Arg(1)->Arg(2);

}  // namespace

BENCHMARK_MAIN();

// dspy::LM under load: CALLS ChainOfThought calls (format, HTTP over the curl multi on Asio's
// reactor, parse into typed outputs) through dspy::batch at CONCURRENCY, on one thread.
//
//   http_dspy_client API_BASE CALLS CONCURRENCY   (an https API_BASE trusts BENCH_CA_BUNDLE's certificates)
//   http_dspy_client --print-body    (the request body one call sends, for the floor client)
//   http_dspy_client in-process:MS CALLS CONCURRENCY   (the same program, its LM in the process:
//     the server's completion after MS milliseconds, no HTTP: what the framework alone costs)
#include <malloc.h>

#include <cstdlib>
#include <iostream>
#include <map>
#include <string>
#include <string_view>

#include <dspy/all.hpp>
#include <dspy/testing/scripted_lm.hpp>

#include "common.hpp"

namespace {

struct QA {
  static constexpr std::string_view instructions = "Answer questions with short factoid answers.";
  struct Input {
    std::string question;
  };
  struct Output {
    std::string answer;
  };
  static constexpr auto docs = dspy::docs({{"answer", "often between 1 and 5 words"}});
};

// The completion in run.sh's reply.
constexpr const char* kCompletion =
    "[[ ## reasoning ## ]]\nThe question asks for the capital of France, which is Paris.\n\n[[ ## answer ## ]]\nParis"
    "\n\n[[ ## completed ## ]]";

std::string question(long i) { return "What is the capital of country number " + std::to_string(i) + "?"; }

}  // namespace

int main(int argc, char** argv) {
  dspy::ChainOfThought<QA> cot;
  if (argc == 2 && std::string(argv[1]) == "--print-body") {
    dspy::LMRequest request;
    request.messages = cot.format({question(0)});
    std::cout << dspy::detail::request_body(dspy::detail::WireApi::openai_chat, "bench", request, request.config);
    return 0;
  }
  if (argc != 4) {
    std::cerr << "usage: " << argv[0] << " API_BASE|in-process:MS CALLS CONCURRENCY | --print-body\n";
    return 2;
  }
  const long calls = std::atol(argv[2]);
  const long concurrency = std::atol(argv[3]);
  const char* ca_bundle = std::getenv("BENCH_CA_BUNDLE");
  const std::string base = argv[1];
  constexpr std::string_view in_process_prefix = "in-process:";
  const bool in_process = base.starts_with(in_process_prefix);
  std::shared_ptr<dspy::BaseLM> lm;
  if (in_process) {
    auto scripted = std::make_shared<dspy::testing::ScriptedLM>(std::vector<std::string>{kCompletion}, "bench");
    scripted->repeat_last().record_requests(false).delay(std::chrono::milliseconds(std::atol(base.c_str() + in_process_prefix.size())));
    lm = std::move(scripted);
  } else {
    lm = std::make_shared<dspy::LM>("openai/bench", dspy::LMConfig{.api_base = base,
                                                                 .api_key = "bench",
                                                                 .num_retries = 0,
                                                                 .ca_bundle = ca_bundle ? ca_bundle : "",
                                                                 .cache = false});
  }
  // Every call must reach the server, and a service under load keeps no call history.
  dspy::global_history().set_capacity(0);
  dspy::set_lm(cot, lm);

  std::vector<QA::Input> inputs;
  inputs.reserve(static_cast<std::size_t>(calls));
  for (long i = 0; i < calls; ++i) inputs.push_back({question(i)});

  bench::Run run;
  auto results =
      dspy::batch(cot, std::move(inputs), {.concurrency = static_cast<std::size_t>(concurrency), .progress = false});
  run.stop();
  long ok = 0;
  std::map<std::string, long> errors;
  for (const auto& r : results) {
    if (r && r->answer == "Paris") ++ok;
    else if (r) ++errors["wrong_answer"];
    else ++errors[std::string(dspy::to_string(r.error().code()))];
  }
  std::string errors_json = "{";
  for (const auto& [code, count] : errors)
    errors_json += (errors_json.size() > 1 ? ", \"" : "\"") + code + "\": " + std::to_string(count);
  // What the results hold (the floor client keeps none): the heap they free.
  const auto heap = [] {
    const struct mallinfo2 m = ::mallinfo2();
    return static_cast<long>(m.uordblks + m.hblkhd);
  };
  const long with_results = heap();
  std::vector<dspy::Result<dspy::Predicted<decltype(cot)::Output>>>().swap(results);
  const long results_kib = (with_results - heap()) / 1024;
  run.report(in_process ? "in-process LM + ChainOfThought" : "dspy::LM + ChainOfThought", calls, concurrency, ok, errors_json + "}", results_kib);
  return ok == calls ? 0 : 1;
}

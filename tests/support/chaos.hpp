// Fault soaks: a loopback chaos server that answers an LM's calls with seeded faults, checked
// end to end through dspy::batch, Predict and a real dspy::LM; and a disk-cache soak with
// writer processes killed at random. Shared by tests/unit/soak_test.cpp (short, in CI) and
// tests/soak/soak.cpp (the long runs recorded in RELIABILITY.md).
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <dspy/clients/cache.hpp>
#include <dspy/clients/lm.hpp>
#include <dspy/all.hpp>

#include "http_test_server.hpp"

namespace dspy::test {

/// Resident memory of this process in bytes (Linux).
inline std::size_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::size_t pages = 0;
  std::size_t resident = 0;
  statm >> pages >> resident;
  return resident * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
}

/// What the server does with one request.
enum class Fault : std::uint8_t {
  none,               // a good reply
  rate_limited,       // 429 without Retry-After
  rate_limited_wait,  // 429 with Retry-After: 1
  internal,           // 500
  bad_gateway,        // 502
  unavailable,        // 503
  reset,              // TCP reset, no reply
  stall,              // no reply before the client's timeout
  truncated,          // half the body, then close
  bad_request,        // 400: permanent
  invalid_json,       // 200 whose body is not JSON: permanent
  unparseable,        // 200 whose completion has no answer field: permanent
};
inline constexpr Fault kTransient[] = {Fault::rate_limited, Fault::rate_limited_wait, Fault::internal,
                                       Fault::bad_gateway,  Fault::unavailable,       Fault::reset,
                                       Fault::stall,        Fault::truncated};

/// One input's fate, drawn from the seed: some transient faults, then a final answer, which a
/// permanent fault replaces.
struct Plan {
  std::vector<Fault> transient;
  Fault final = Fault::none;
};

struct ChaosOptions {
  std::uint64_t seed = 1;
  int num_retries = 4;
  std::chrono::milliseconds timeout{1000};  ///< per attempt; a stall lasts 1.5 times this
};

inline Plan plan_for(std::uint64_t seed, std::size_t id, int num_retries) {
  std::mt19937_64 rng(seed * 0x9E3779B97F4A7C15ULL + id);
  std::uniform_int_distribution<int> percent(0, 99);
  std::uniform_int_distribution<std::size_t> kind(0, std::size(kTransient) - 1);
  Plan p;
  const int roll = percent(rng);
  if (roll < 60) return p;  // clean
  if (roll < 88) {          // transient faults, within the retries: must succeed
    const int k = 1 + static_cast<int>(rng() % static_cast<std::uint64_t>(num_retries));
    for (int i = 0; i < k; ++i) p.transient.push_back(kTransient[kind(rng)]);
    return p;
  }
  if (roll < 92) {  // more transient faults than retries: a typed error
    p.transient.assign(static_cast<std::size_t>(num_retries + 1), kTransient[kind(rng)]);
    return p;
  }
  p.final = roll < 95 ? Fault::bad_request : roll < 98 ? Fault::invalid_json : Fault::unparseable;
  return p;
}

struct SoakSignature {
  static constexpr std::string_view instructions = "Echo the item's answer.";
  struct Input {
    std::string question;
  };
  struct Output {
    std::string answer;
  };
};

/// Answers by plan, and counts the requests of each input ("item-<id>" in the prompt).
class ChaosServer {
 public:
  ChaosServer(std::size_t inputs, ChaosOptions options) : options_(options), counts_(inputs, 0) {
    server_.keep_requests(false).respond([this](const Received& r) { return answer(r); });
  }
  [[nodiscard]] std::string base_url() const { return server_.base_url(); }
  [[nodiscard]] std::vector<int> counts() const {
    std::lock_guard lock(mutex_);
    return counts_;
  }
  [[nodiscard]] std::size_t unknown_requests() const {
    std::lock_guard lock(mutex_);
    return unknown_;
  }
  [[nodiscard]] std::map<Fault, std::size_t> faults_served() const {
    std::lock_guard lock(mutex_);
    return served_;
  }

  /// The reply for a given fault, for input `id`.
  [[nodiscard]] Reply reply(Fault f, std::size_t id) const {
    const std::string good = openai_reply({"[[ ## answer ## ]]\nanswer-" + std::to_string(id) + "\n\n[[ ## completed ## ]]"});
    const std::string err = R"({"error":{"message":"chaos"}})";
    switch (f) {
      case Fault::none: return {.body = good};
      case Fault::rate_limited: return {.status = 429, .body = err};
      case Fault::rate_limited_wait: return {.status = 429, .body = err, .headers = {{"Retry-After", "1"}}};
      case Fault::internal: return {.status = 500, .body = err};
      case Fault::bad_gateway: return {.status = 502, .body = err};
      case Fault::unavailable: return {.status = 503, .body = err};
      case Fault::reset: return {.kind = Reply::Kind::reset_before_reply};
      case Fault::stall: return {.body = good, .delay = options_.timeout * 3 / 2};
      case Fault::truncated: return {.body = good, .kind = Reply::Kind::truncated};
      case Fault::bad_request: return {.status = 400, .body = R"({"error":{"message":"bad request"}})"};
      case Fault::invalid_json: return {.body = good.substr(0, good.size() - 3)};
      case Fault::unparseable: return {.body = openai_reply({"I would rather not say."})};
    }
    return {};
  }

 private:
  Reply answer(const Received& r) {
    std::size_t id = counts_.size();
    boost::system::error_code ec;
    const auto body = boost::json::parse(r.body, ec);
    if (!ec && body.is_object())
      if (const auto* messages = body.as_object().if_contains("messages"); messages && messages->is_array())
        for (const auto& m : messages->as_array())
          if (const auto* content = m.as_object().if_contains("content"); content && content->is_string()) {
            const std::string_view text = content->as_string();
            const auto at = text.rfind("item-");
            if (at != std::string_view::npos) id = std::strtoull(std::string(text.substr(at + 5, 12)).c_str(), nullptr, 10);
          }
    std::lock_guard lock(mutex_);  // the server answers one request at a time; the lock is for readers
    if (id >= counts_.size()) {
      ++unknown_;
      return {.status = 400, .body = R"({"error":{"message":"no item id"}})"};
    }
    const auto attempt = static_cast<std::size_t>(counts_[id]++);
    const Plan plan = plan_for(options_.seed, id, options_.num_retries);
    const Fault f = attempt < plan.transient.size() ? plan.transient[attempt] : plan.final;
    ++served_[f];
    return reply(f, id);
  }

  ChaosOptions options_;
  TestServer server_;
  mutable std::mutex mutex_;
  std::vector<int> counts_;
  std::size_t unknown_ = 0;
  std::map<Fault, std::size_t> served_;
};

/// The error a plan that ends in `f` must give.
inline Errc expected_error(Fault f) {
  switch (f) {
    case Fault::rate_limited:
    case Fault::rate_limited_wait: return Errc::rate_limited;
    case Fault::internal:
    case Fault::bad_gateway:
    case Fault::unavailable: return Errc::server;
    case Fault::stall: return Errc::timeout;
    case Fault::reset:
    case Fault::truncated: return Errc::network;
    case Fault::bad_request: return Errc::bad_request;
    case Fault::invalid_json: return Errc::bad_response;
    case Fault::unparseable: return Errc::parse_error;  // any adapter parse error
    case Fault::none: break;
  }
  return Errc::config;
}

struct LmSoakOptions {
  std::size_t calls = 500;
  std::size_t concurrency = 256;
  ChaosOptions chaos{};
  std::size_t rss_samples = 10;  ///< RSS is sampled this many times across the run
};

struct LmSoakReport {
  std::size_t results = 0;
  std::size_t succeeded = 0;
  std::size_t typed_errors = 0;
  std::size_t requests = 0;
  std::size_t transient_faults = 0;
  std::vector<std::string> problems;  ///< every broken promise, with the input it concerns
  std::vector<std::size_t> rss;       ///< bytes, in order
  std::chrono::duration<double> elapsed{};
  std::map<Errc, std::size_t> errors_by_code;
};

/// `calls` inputs through dspy::batch at `concurrency`, Predict and a real LM against the chaos
/// server. Every input must get exactly its planned result: its own answer when its faults are
/// transient and within the retries, else the typed error of its last fault; and the server must
/// have seen exactly the planned number of requests for it.
inline LmSoakReport run_lm_soak(const LmSoakOptions& o) {
  ChaosServer server(o.calls, o.chaos);
  Predict<SoakSignature> predict;
  predict.set_lm(LM("openai/chaos", {.api_base = server.base_url(),
                                      .api_key = "sk-soak",
                                      .num_retries = o.chaos.num_retries,
                                      .timeout = o.chaos.timeout,
                                      .backoff = {.initial = std::chrono::milliseconds(20),
                                                  .max = std::chrono::milliseconds(200)},
                                      .cache = false}));  // every planned request must reach the server
  // The bounded call history would grow through the run; memory is checked for the calls alone.
  LMHistory& history = global_history();
  const std::size_t kept = history.capacity();
  history.set_capacity(0);
  struct Restore {
    LMHistory& h;
    std::size_t capacity;
    ~Restore() { h.set_capacity(capacity); }
  } restore{history, kept};
  std::vector<SoakSignature::Input> inputs;
  for (std::size_t i = 0; i < o.calls; ++i) inputs.push_back({"item-" + std::to_string(i)});
  LmSoakReport report;
  const std::size_t every = std::max<std::size_t>(1, o.calls / std::max<std::size_t>(1, o.rss_samples));
  report.rss.push_back(resident_bytes());
  const auto start = std::chrono::steady_clock::now();
  auto results = batch(predict, std::move(inputs),
                       {.concurrency = o.concurrency, .progress = false, .on_progress = [&](const BatchProgress& p) {
                          if (p.done % every == 0) report.rss.push_back(resident_bytes());
                        }});
  report.elapsed = std::chrono::steady_clock::now() - start;
  report.results = results.size();
  if (results.size() != o.calls)
    report.problems.push_back(std::to_string(results.size()) + " results for " + std::to_string(o.calls) + " inputs");
  const auto counts = server.counts();
  for (std::size_t i = 0; i < std::min(results.size(), o.calls); ++i) {
    const Plan plan = plan_for(o.chaos.seed, i, o.chaos.num_retries);
    const bool exhausted = static_cast<int>(plan.transient.size()) > o.chaos.num_retries;
    const std::string item = "item-" + std::to_string(i) + ": ";
    std::size_t expected_requests = plan.transient.size() + 1;
    if (exhausted) expected_requests = plan.transient.size();
    if (plan.final == Fault::unparseable) ++expected_requests;  // Predict's JSONAdapter fallback asks again
    report.transient_faults += std::min(plan.transient.size(), expected_requests);
    // libcurl resends a request at once, on a fresh connection, when a reused connection is
    // reset before any byte of the reply (as HTTP clients do): the server then sees one more
    // request, which does not count against num_retries. So a reset may use up two faults.
    const auto resets = static_cast<std::size_t>(std::count(plan.transient.begin(), plan.transient.end(), Fault::reset));
    const bool may_outlast = exhausted && resets > 0;
    const auto& r = results[i];
    if (r) {
      ++report.succeeded;
      if ((exhausted && !may_outlast) || plan.final != Fault::none)
        report.problems.push_back(item + "succeeded but should have failed");
      else if (r->answer != "answer-" + std::to_string(i)) report.problems.push_back(item + "got " + r->answer);
    } else {
      ++report.typed_errors;
      ++report.errors_by_code[r.error().code()];
      const Fault last = exhausted ? plan.transient.back() : plan.final;
      if (last == Fault::none) report.problems.push_back(item + "failed: " + r.error().message());
      else if (last == Fault::unparseable ? !is_parse_error(r.error().code()) : r.error().code() != expected_error(last))
        report.problems.push_back(item + "expected " + std::string(to_string(expected_error(last))) + ", got " +
                                  std::string(to_string(r.error().code())) + ": " + r.error().message());
    }
    const auto seen = static_cast<std::size_t>(counts[i]);
    if (seen < expected_requests || seen > expected_requests + resets)
      report.problems.push_back(item + std::to_string(seen) + " requests, expected " +
                                std::to_string(expected_requests) +
                                (resets ? " to " + std::to_string(expected_requests + resets) : std::string()));
    report.requests += static_cast<std::size_t>(counts[i]);
  }
  if (server.unknown_requests() != 0)
    report.problems.push_back(std::to_string(server.unknown_requests()) + " requests named no input");
  report.rss.push_back(resident_bytes());
  return report;
}

// ---- disk cache -----------------------------------------------------------------------------------

struct CacheSoakOptions {
  std::filesystem::path directory;
  int rounds = 5;
  int processes = 4;
  int keys = 64;  ///< shared by every writer, so writers race on each entry
};

struct CacheSoakReport {
  int killed = 0;
  int clean_exits = 0;
  std::size_t entries_checked = 0;
  std::vector<std::string> problems;
};

inline CacheKey soak_key(int k) {
  LMRequest r;
  r.messages = {{"user", "cache soak " + std::to_string(k)}};
  return cache_key("openai/soak", r);
}

/// Rounds of `processes` writers putting every key again and again while the parent kills one
/// of them (SIGKILL, at a random moment); then every entry must read back whole, as one
/// writer's value for its own key, and a fresh write must succeed over whatever was left.
inline CacheSoakReport run_cache_soak(const CacheSoakOptions& o, std::uint64_t seed = 1) {
  CacheSoakReport report;
  std::mt19937_64 rng(seed);
  for (int round = 0; round < o.rounds; ++round) {
    std::vector<pid_t> children;
    for (int p = 0; p < o.processes; ++p) {
      const pid_t pid = ::fork();
      if (pid == 0) {
        Cache cache({.enable_memory = false, .directory = o.directory});
        for (int pass = 0; pass < 20; ++pass)
          for (int k = 0; k < o.keys; ++k) {
            LMResponse value;
            value.completions = {"k" + std::to_string(k) + " p" + std::to_string(p) + " " + std::string(512, 'x')};
            value.model = "openai/soak";
            (void)cache.put(soak_key(k), value);
          }
        ::_exit(0);
      }
      children.push_back(pid);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 40));
    ::kill(children[rng() % children.size()], SIGKILL);
    for (pid_t pid : children) {
      int status = 0;
      ::waitpid(pid, &status, 0);
      if (WIFSIGNALED(status)) ++report.killed;
      else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) ++report.clean_exits;
      else report.problems.push_back("a writer failed with status " + std::to_string(status));
    }
    Cache reader({.enable_memory = false, .directory = o.directory});
    for (int k = 0; k < o.keys; ++k) {
      const auto hit = reader.get(soak_key(k));
      ++report.entries_checked;
      const std::string prefix = "k" + std::to_string(k) + " p";
      // A key whose only writers were all killed before the first rename may be absent.
      if (hit && (hit->completions.size() != 1 || hit->completions.front().rfind(prefix, 0) != 0 ||
                  hit->completions.front().size() != prefix.size() + 2 + 512))
        report.problems.push_back("round " + std::to_string(round) + ": key " + std::to_string(k) + " is damaged");
      if (!hit && report.clean_exits > 0)
        report.problems.push_back("round " + std::to_string(round) + ": key " + std::to_string(k) + " is missing");
    }
    LMResponse fresh;
    fresh.completions = {"fresh"};
    if (!reader.put(soak_key(0), fresh) || !reader.get(soak_key(0)))
      report.problems.push_back("round " + std::to_string(round) + ": cannot write over the leftovers");
  }
  return report;
}

}  // namespace dspy::test

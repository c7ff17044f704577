// dspy::testing::ScriptedLM: an in-process LM that answers from a queue, for tests and examples.
#pragma once

#include <chrono>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

#include <boost/asio/error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/system/error_code.hpp>

#include "../clients/base_lm.hpp"
#include "../detail/timer.hpp"

namespace dspy::testing {

/// A test LM's reply: a completion text (given n times when the request asks for n
/// completions), a full LMResponse, or an Error.
using TestReply = std::variant<std::string, LMResponse, Error>;

}  // namespace dspy::testing

namespace dspy::detail {

inline Result<LMResponse> test_response(const testing::TestReply& reply, const LMRequest& request,
                                        const std::string& model) {
  if (const auto* text = std::get_if<std::string>(&reply)) {
    LMResponse resp;
    resp.model = model;
    resp.completions.assign(static_cast<std::size_t>(request.config.n.value_or(1)), *text);
    return resp;
  }
  if (const auto* response = std::get_if<LMResponse>(&reply)) return *response;
  return std::get<Error>(reply);
}

// A test LM's answer after `delay`, waited on the caller's executor; `who` names the LM when
// the wait is cancelled.
inline asio::awaitable<Result<LMResponse>> answer_after(Result<LMResponse> reply, std::chrono::nanoseconds delay,
                                                        std::string who) {
  if (delay.count() > 0) {
    Timer timer(co_await asio::this_coro::executor, delay);
    auto waiting = Timer::wait(&timer);
    const boost::system::error_code ec = co_await std::move(waiting);
    if (ec == asio::error::operation_aborted) co_return Error(Errc::cancelled, who + ": the call was cancelled");
  }
  co_return std::move(reply);
}

}  // namespace dspy::detail

namespace dspy::testing {

/// Replies in the order queued (a text, a full LMResponse, or an Error), records every request,
/// and can wait before answering. With `repeat_last`, the last reply is served forever. An
/// ordinary BaseLM: its calls are in the history, usage and callbacks.
class ScriptedLM : public BaseLM {
 public:
  using Reply = TestReply;

  explicit ScriptedLM(std::vector<std::string> replies = {}, std::string model = "scripted/lm")
      : model_(std::move(model)) {
    for (auto& r : replies) replies_.emplace_back(std::move(r));
  }
  ScriptedLM(const ScriptedLM& other) : BaseLM(other), model_(other.model_) {
    std::lock_guard lock(other.mutex_);
    replies_ = other.replies_;
    requests_ = other.requests_;
    delay_ = other.delay_;
    repeat_last_ = other.repeat_last_;
    record_ = other.record_;
  }

  ScriptedLM& push(Reply reply) {
    std::lock_guard lock(mutex_);
    replies_.push_back(std::move(reply));
    return *this;
  }
  ScriptedLM& delay(std::chrono::nanoseconds d) {
    std::lock_guard lock(mutex_);
    delay_ = d;
    return *this;
  }
  ScriptedLM& repeat_last(bool on = true) {
    std::lock_guard lock(mutex_);
    repeat_last_ = on;
    return *this;
  }
  /// Recording copies each request; benchmarks turn it off.
  ScriptedLM& record_requests(bool on) {
    std::lock_guard lock(mutex_);
    record_ = on;
    return *this;
  }

  [[nodiscard]] std::vector<LMRequest> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }
  [[nodiscard]] std::size_t calls() const {
    std::lock_guard lock(mutex_);
    return calls_;
  }
  [[nodiscard]] std::size_t pending() const {
    std::lock_guard lock(mutex_);
    return replies_.size();
  }

  [[nodiscard]] std::string model() const override { return model_; }

 protected:
  // Blocking calls answer without an io_context.
  Result<LMResponse> forward(const LMRequest& request) override {
    std::pair<Result<LMResponse>, std::chrono::nanoseconds> next_reply = next(request);
    if (next_reply.second.count() > 0) std::this_thread::sleep_for(next_reply.second);
    return std::move(next_reply.first);
  }

  asio::awaitable<Result<LMResponse>> aforward(LMRequest request) override {
    std::pair<Result<LMResponse>, std::chrono::nanoseconds> next_reply = next(request);
    return dspy::detail::answer_after(std::move(next_reply.first), next_reply.second, "ScriptedLM");
  }

 private:
  std::pair<Result<LMResponse>, std::chrono::nanoseconds> next(const LMRequest& request) {
    std::lock_guard lock(mutex_);
    ++calls_;
    if (record_) requests_.push_back(request);
    if (replies_.empty())
      return {Error(Errc::config, "ScriptedLM has no reply left (call " + std::to_string(calls_) + ")"), delay_};
    Result<LMResponse> out = dspy::detail::test_response(replies_.front(), request, model_);
    if (!(repeat_last_ && replies_.size() == 1)) replies_.pop_front();
    return {std::move(out), delay_};
  }

  mutable std::mutex mutex_;
  std::string model_;
  std::deque<Reply> replies_;
  std::vector<LMRequest> requests_;
  std::size_t calls_ = 0;
  std::chrono::nanoseconds delay_{0};
  bool repeat_last_ = false;
  bool record_ = true;
};

}  // namespace dspy::testing

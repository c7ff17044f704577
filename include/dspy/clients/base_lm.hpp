// The LM seam: what Predict sends (LMRequest), what comes back (LMResponse), and the interface
// every LM implements (BaseLM). HTTP clients and test doubles plug in here.
#pragma once

#include <chrono>
#include <concepts>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/json.hpp>

#include "../primitives/error.hpp"
#include "../primitives/lm_handle.hpp"
#include "../primitives/message.hpp"
#include "../detail/sync_wait.hpp"

namespace dspy {

namespace asio = boost::asio;

/// What every LM implements. `acall` is the primary path; `call` blocks, by default by running
/// `acall` on a private io_context under this thread's settings (an LM with a cheaper blocking
/// path overrides it).
class BaseLM {
 public:
  virtual ~BaseLM() = default;

  virtual asio::awaitable<Result<LMResponse>> acall(LMRequest request) = 0;

  virtual Result<LMResponse> call(const LMRequest& request) { return detail::sync_wait(acall(request)); }

  /// acall, handing the first completion's text to `on_text` as it arrives. This default, for
  /// LMs that cannot stream, hands it over whole when the reply is complete.
  virtual asio::awaitable<Result<LMResponse>> astream(LMRequest request, TextSink on_text) {
    return acall_then_text(this, std::move(request), std::move(on_text));
  }

  /// The model name (e.g. "openai/gpt-4o-mini").
  [[nodiscard]] virtual std::string model() const = 0;

 protected:
  static asio::awaitable<Result<LMResponse>> acall_then_text(BaseLM* self, LMRequest request, TextSink on_text) {
    auto pending = self->acall(std::move(request));  // not inside co_await: GCC 12 PR 100611
    Result<LMResponse> r = co_await std::move(pending);
    if (r && on_text && !r->completions.empty()) on_text(r->completions.front());
    co_return r;
  }
};

}  // namespace dspy

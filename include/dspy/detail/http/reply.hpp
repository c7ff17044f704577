// What one HTTP attempt of an LM call means: a final answer, a typed error, or a retry.
// Pure (no I/O), so that it can be tested and fuzzed apart from the transfer.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <variant>

#include <curl/curl.h>

#include "../../primitives/error.hpp"
#include "../../primitives/message.hpp"
#include "curl_multi.hpp"
#include "retry.hpp"
#include "provider.hpp"

namespace dspy::detail {

/// Try again, after the server's Retry-After if it sent a usable one.
struct RetryAttempt {
  std::optional<std::chrono::milliseconds> retry_after;
};

/// The final result of a call, or a retry. `url` and `attempt` name the endpoint and attempt for
/// messages ("https://.../chat/completions", " (attempt 2)"); `may_retry` is false on the last
/// attempt. `stream`, for a streamed call, has decoded the 2xx body as it arrived. Errors carry
/// the body as raw_response; the caller redacts them.
inline std::variant<Result<LMResponse>, RetryAttempt> judge_reply(WireApi api, const HttpResponse& r,
                                                                   bool may_retry, const std::string& url,
                                                                   const std::string& attempt,
                                                                   StreamDecoder* stream = nullptr) {
  if (r.too_large)
    return Result<LMResponse>(Error(Errc::bad_response, "the reply from " + url + " exceeds the " +
                                                            std::to_string(r.limit) +
                                                            "-byte limit (LMConfig::max_response_bytes)" + attempt));
  if (r.over_budget)
    return Result<LMResponse>(Error(Errc::bad_response, "the replies in flight together exceed the " +
                                                            std::to_string(r.limit) +
                                                            "-byte budget (dspy::set_max_buffered_reply_bytes); the "
                                                            "reply from " + url + " was stopped" + attempt));
  if (stream && stream->error()) {  // an error event inside a 2xx stream
    const Error& e = *stream->error();
    if (may_retry && (e.code() == Errc::server || e.code() == Errc::rate_limited)) return RetryAttempt{};
    return Result<LMResponse>(Error(e.code(), e.message() + " from " + url + attempt, stream->raw()));
  }
  if (r.curl != CURLE_OK) {
    if (may_retry && retryable_transport(r.curl)) return RetryAttempt{};
    return Result<LMResponse>(
        Error(transport_errc(r.curl), transport_message(r.curl, r.curl_error) + " calling " + url + attempt));
  }
  if (r.status >= 200 && r.status < 300) {
    Result<LMResponse> parsed = stream ? stream->finish() : parse_reply(api, r.body);
    if (!parsed)
      return Result<LMResponse>(
          Error(parsed.error().code(), parsed.error().message() + " from " + url, stream ? stream->raw() : r.body));
    return parsed;
  }
  if (may_retry && retryable_status(r.status)) return RetryAttempt{parse_retry_after(r.retry_after)};
  return Result<LMResponse>(Error(status_errc(r.status, r.body),
                                  "HTTP " + std::to_string(r.status) + " from " + url + attempt + ": " +
                                      provider_message(r.body),
                                  r.body));
}

}  // namespace dspy::detail

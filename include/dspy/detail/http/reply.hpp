// What one HTTP attempt of an LM call means: a final answer, a typed error, or a retry.
// Pure (no I/O), so that it can be tested and fuzzed apart from the transfer.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
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

/// The error of a reply stopped by a byte limit: its own (`limit_option` names the setting) or
/// the budget of all replies in flight; nothing when no limit stopped it.
inline std::optional<Error> limit_failure(const HttpResponse& r, const std::string& url, const std::string& attempt,
                                          std::string_view limit_option) {
  if (r.too_large)
    return Error(Errc::bad_response, "the reply from " + url + " exceeds the " + std::to_string(r.limit) +
                                         "-byte limit (" + std::string(limit_option) + ")" + attempt);
  if (r.over_budget)
    return Error(Errc::bad_response, "the replies in flight together exceed the " + std::to_string(r.limit) +
                                         "-byte budget (dspy::set_max_buffered_reply_bytes); the reply from " + url +
                                         " was stopped" + attempt);
  return std::nullopt;
}

/// A failed transfer or a non-2xx reply: a retry when `may_retry` and the failure is worth one,
/// else its typed error (with the body as raw_response).
inline std::variant<Error, RetryAttempt> failure(const HttpResponse& r, bool may_retry, const std::string& url,
                                                 const std::string& attempt) {
  if (r.curl != CURLE_OK) {
    if (may_retry && retryable_transport(r.curl)) return RetryAttempt{};
    return Error(transport_errc(r.curl), transport_message(r.curl, r.curl_error) + " calling " + url + attempt);
  }
  if (may_retry && retryable_status(r.status)) return RetryAttempt{parse_retry_after(r.retry_after)};
  return Error(status_errc(r.status, r.body),
               "HTTP " + std::to_string(r.status) + " from " + url + attempt + ": " + provider_message(r.body), r.body);
}

/// A whole 2xx reply arrived.
[[nodiscard]] inline bool succeeded(const HttpResponse& r) noexcept {
  return r.curl == CURLE_OK && r.status >= 200 && r.status < 300;
}

/// The final result of a call, or a retry. `url` and `attempt` name the endpoint and attempt for
/// messages ("https://.../chat/completions", " (attempt 2)"); `may_retry` is false on the last
/// attempt. `stream`, for a streamed call, has decoded the 2xx body as it arrived. Errors carry
/// the body as raw_response; the caller redacts them.
inline std::variant<Result<LMResponse>, RetryAttempt> judge_reply(WireApi api, const HttpResponse& r,
                                                                   bool may_retry, const std::string& url,
                                                                   const std::string& attempt,
                                                                   StreamDecoder* stream = nullptr) {
  if (auto e = limit_failure(r, url, attempt, "LMConfig::max_response_bytes")) return Result<LMResponse>(*e);
  if (stream && stream->error()) {  // an error event inside a 2xx stream
    const Error& e = *stream->error();
    if (may_retry && (e.code() == Errc::server || e.code() == Errc::rate_limited)) return RetryAttempt{};
    return Result<LMResponse>(Error(e.code(), e.message() + " from " + url + attempt, stream->raw()));
  }
  if (succeeded(r)) {
    Result<LMResponse> parsed = stream ? stream->finish() : parse_reply(api, r.body);
    if (!parsed)
      return Result<LMResponse>(
          Error(parsed.error().code(), parsed.error().message() + " from " + url, stream ? stream->raw() : r.body));
    return parsed;
  }
  auto failed = failure(r, may_retry, url, attempt);
  if (auto* retry = std::get_if<RetryAttempt>(&failed)) return *retry;
  return Result<LMResponse>(std::get<Error>(std::move(failed)));
}

}  // namespace dspy::detail

// When and how long to wait before retrying an LM call.
#pragma once

#include <algorithm>
#include <charconv>
#include <chrono>
#include <ctime>
#include <optional>
#include <random>
#include <string>
#include <string_view>

#include <curl/curl.h>

#include "../../primitives/error.hpp"

namespace dspy::detail {

/// 408, 409, 429 and 5xx are worth another try; every other 4xx would fail the same way again.
[[nodiscard]] constexpr bool retryable_status(long status) noexcept {
  return status == 408 || status == 409 || status == 429 || (status >= 500 && status <= 599);
}

/// Transport failures worth another try: refused or broken connections and timeouts. TLS
/// verification failures and malformed URLs are not.
[[nodiscard]] constexpr bool retryable_transport(CURLcode code) noexcept {
  switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_PARTIAL_FILE:
    case CURLE_GOT_NOTHING:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_BAD_CONTENT_ENCODING:
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_UNSUPPORTED_PROTOCOL:  // the reply was not HTTP (see transport_errc)
      return true;
    default:
      return false;
  }
}

/// The error code of a failed transfer. The LM accepts only http(s) URLs, so an unsupported
/// protocol means the server answered in something other than HTTP (an SSH banner, HTTP/0.9).
[[nodiscard]] constexpr Errc transport_errc(CURLcode code) noexcept {
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
      return Errc::timeout;
    case CURLE_URL_MALFORMAT:
      return Errc::config;
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_OUT_OF_MEMORY:  // what curl 7.88 reports for an oversized header (see transport_message)
      return Errc::bad_response;
    default:
      return Errc::network;
  }
}

/// curl's message for a failed transfer, saying when TLS is the cause and what to do about it.
[[nodiscard]] inline std::string transport_message(CURLcode code, const std::string& detail) {
  switch (code) {
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_WEIRD_SERVER_REPLY:
      return "the server's reply is not HTTP (" + detail + ")";
    case CURLE_OUT_OF_MEMORY:
      // curl refuses a header line over 100 KB with this code.
      return "the reply's headers are larger than curl accepts (100 KB per header line), or memory ran out (" +
             detail + ")";
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
      return "TLS: the server's certificate failed verification (" + detail +
             "); trust its CA with LMConfig::ca_bundle (verify_tls = false only for a local test server)";
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_SSL_CRL_BADFILE:
      return "TLS: " + detail;
    default:
      return detail;
  }
}

/// The wait a Retry-After value asks for: delta-seconds ("120") or an HTTP date
/// ("Wed, 21 Oct 2015 07:28:00 GMT", measured from `now`). A date in the past means no wait;
/// anything unparseable means the header is ignored.
[[nodiscard]] inline std::optional<std::chrono::milliseconds> parse_retry_after(
    std::string_view value, std::chrono::system_clock::time_point now = std::chrono::system_clock::now()) {
  if (value.empty()) return std::nullopt;
  if (value.find_first_not_of("0123456789") == std::string_view::npos) {
    long long seconds = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
    if (ec != std::errc{} || end != value.data() + value.size()) return std::nullopt;
    return std::chrono::milliseconds(std::min(seconds, 86'400LL) * 1000);
  }
  const std::time_t when = curl_getdate(std::string(value).c_str(), nullptr);
  if (when < 0) return std::nullopt;
  // A date centuries ahead would overflow the clock's nanoseconds: cap it like delta-seconds.
  if (when - std::chrono::system_clock::to_time_t(now) > 86'400) return std::chrono::milliseconds(86'400'000);
  const auto delta = std::chrono::system_clock::from_time_t(when) - now;
  return std::max(std::chrono::milliseconds(0), std::chrono::ceil<std::chrono::milliseconds>(delta));
}

/// How retries wait: exponential steps from `initial`, capped at `max`, each scaled by a random
/// factor in [1 - jitter, 1] so that clients that failed together do not retry together.
/// A server's Retry-After up to `max_retry_after` replaces the step.
struct Backoff {
  std::chrono::milliseconds initial{500};
  std::chrono::milliseconds max{8000};
  double jitter = 0.25;
  std::chrono::milliseconds max_retry_after{60'000};

  /// The wait before retry number `retry` (0-based), given the server's Retry-After if any.
  [[nodiscard]] std::chrono::milliseconds delay(int retry, std::optional<std::chrono::milliseconds> retry_after) const {
    if (retry_after && *retry_after <= max_retry_after) return *retry_after;
    const double step = std::min(static_cast<double>(initial.count()) * static_cast<double>(1LL << std::min(retry, 30)),
                                 static_cast<double>(max.count()));
    thread_local std::minstd_rand rng{std::random_device{}()};
    std::uniform_real_distribution<double> factor(1.0 - std::clamp(jitter, 0.0, 1.0), 1.0);
    return std::chrono::milliseconds(static_cast<long long>(step * factor(rng)));
  }
};

}  // namespace dspy::detail

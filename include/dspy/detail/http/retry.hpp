// When to retry an LM call, and how long a server's Retry-After asks to wait (how long to wait
// otherwise is Backoff's, in backoff.hpp).
#pragma once

#include <algorithm>
#include <charconv>
#include <chrono>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>

#include <curl/curl.h>

#include "../../primitives/error.hpp"
#include "backoff.hpp"

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

}  // namespace dspy::detail

// One POST with the LM's retry policy, for endpoints whose reply is read whole (embeddings).
#pragma once

#include <string>

#include <boost/asio/awaitable.hpp>

#include "../../primitives/error.hpp"
#include "../config.hpp"
#include "backoff.hpp"
#include "curl_multi.hpp"

namespace dspy::detail {

/// The body of a 2xx reply to `http` on the current executor's curl multi, after up to
/// `num_retries` retries on 408/409/429/5xx and network errors (waiting as `backoff` says, or as
/// the server's Retry-After asks); else the typed error, naming `http.url` and the attempt, with
/// the body as raw_response (unredacted: the caller knows its secrets). `limit_option` names the
/// setting of the byte limit in messages. Cancelling through the awaiting coroutine's slot ends
/// it with Errc::cancelled.
DSPY_DECL asio::awaitable<Result<std::string>> post_with_retries(HttpRequest http, int num_retries, Backoff backoff,
                                                                 std::string limit_option);

}  // namespace dspy::detail

// The bodies; with the compiled part, only <dspy/src.hpp> includes them.
#if !defined(DSPY_SEPARATE_COMPILATION)
#include "exchange_impl.hpp"
#endif

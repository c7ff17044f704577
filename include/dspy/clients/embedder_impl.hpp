// The bodies of embedder.hpp: header-only, embedder.hpp includes them; with
// DSPY_SEPARATE_COMPILATION, <dspy/src.hpp> compiles them once.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <exception>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

#include "../detail/cache/canonical.hpp"
#include "../detail/exception.hpp"
#include "../detail/http/exchange.hpp"
#include "../detail/http/provider.hpp"
#include "../detail/io/binary.hpp"
#include "../detail/sha256.hpp"
#include "../detail/sync_wait.hpp"
#include "../primitives/message.hpp"
#include "cache.hpp"
#include "embedder.hpp"
#include "history.hpp"
#include "usage.hpp"

namespace dspy {

DSPY_DECL Result<EmbeddingMatrix> EmbeddingMatrix::from_values(std::size_t dimensions, std::vector<float> values) {
  if (dimensions == 0 && !values.empty())
    return Error(Errc::config, "an embedding matrix of " + std::to_string(values.size()) + " values has 0 dimensions");
  if (dimensions != 0 && values.size() % dimensions != 0)
    return Error(Errc::config, std::to_string(values.size()) + " values do not split into rows of " +
                                   std::to_string(dimensions));
  EmbeddingMatrix m;
  m.dimensions_ = values.empty() ? 0 : dimensions;
  m.values_ = std::move(values);
  return m;
}

DSPY_DECL Result<EmbeddingMatrix> EmbeddingMatrix::from_rows(const std::vector<std::vector<float>>& rows) {
  EmbeddingMatrix m;
  if (rows.empty()) return m;
  const std::size_t d = rows.front().size();
  if (d == 0) return Error(Errc::bad_response, "embedding 0 is empty");
  m.values_.reserve(rows.size() * d);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (rows[i].size() != d)
      return Error(Errc::bad_response, "embedding " + std::to_string(i) + " has " + std::to_string(rows[i].size()) +
                                           " dimensions where embedding 0 has " + std::to_string(d));
    m.values_.insert(m.values_.end(), rows[i].begin(), rows[i].end());
  }
  m.dimensions_ = d;
  return m;
}

DSPY_DECL Result<void> EmbeddingMatrix::append(const EmbeddingMatrix& other) {
  if (other.empty()) return {};
  if (!empty() && other.dimensions_ != dimensions_)
    return Error(Errc::bad_response, "embeddings of " + std::to_string(other.dimensions_) +
                                         " dimensions do not go with earlier ones of " + std::to_string(dimensions_));
  dimensions_ = other.dimensions_;
  values_.insert(values_.end(), other.values_.begin(), other.values_.end());
  return {};
}

DSPY_DECL void EmbeddingMatrix::normalize() noexcept {
  for (std::size_t i = 0, n = rows(); i < n; ++i) {
    std::span<float> r = row(i);
    float sum = 0;
    for (const float x : r) sum += x * x;
    // DSPy divides by max(norm, 1e-10): a zero row stays zero.
    const float scale = 1.0F / std::max(std::sqrt(sum), 1e-10F);
    for (float& x : r) x *= scale;
  }
}

struct Embedder::State {
  std::string model;
  EmbedderConfig config;
  EmbeddingFunction function;  // set: no HTTP
  std::string model_id;
  std::string url;
  std::string key;
  std::string problem;  // why calls cannot be made, if they cannot
  std::shared_ptr<const std::vector<std::string>> headers;  // every call's, shared

  [[nodiscard]] Error fail(Errc code, const std::string& what, std::string raw = {}) const {
    // An error may echo the request (a server's 401 text): the key and credential-shaped text go.
    return Error(code, redact_secrets(model + ": " + what, {key}), redact_secrets(raw, {key}));
  }
};

namespace detail {

// A cached batch: "f32le <dimensions> <base64 of the little-endian floats>".
DSPY_DECL std::string encode_cached_embeddings(const EmbeddingMatrix& m) {
  return "f32le " + std::to_string(m.dimensions()) + " " + base64_encode(le_bytes_from_floats(m.values()));
}

// The batch of `rows` vectors a cache entry holds; nothing if it holds anything else.
DSPY_DECL std::optional<EmbeddingMatrix> decode_cached_embeddings(std::string_view text, std::size_t rows) {
  if (!text.starts_with("f32le ")) return std::nullopt;
  text.remove_prefix(6);
  const auto space = text.find(' ');
  if (space == std::string_view::npos || space == 0 || space > 9) return std::nullopt;
  std::size_t d = 0;
  for (const char c : text.substr(0, space)) {
    if (c < '0' || c > '9') return std::nullopt;
    d = d * 10 + static_cast<std::size_t>(c - '0');
  }
  auto bytes = base64_decode(text.substr(space + 1));
  if (!bytes || d == 0 || bytes->size() != rows * d * 4) return std::nullopt;
  auto m = EmbeddingMatrix::from_values(d, floats_from_le_bytes(*bytes));
  if (!m) return std::nullopt;
  return std::move(m).value();
}

// The float a JSON number stands for; nothing if it is not a number or a float cannot hold it.
inline std::optional<float> finite_float(const boost::json::value& v) {
  double d = 0;
  if (v.is_double()) d = v.get_double();
  else if (v.is_int64()) d = static_cast<double>(v.get_int64());
  else if (v.is_uint64()) d = static_cast<double>(v.get_uint64());
  else return std::nullopt;
  const auto f = static_cast<float>(d);
  if (!std::isfinite(f)) return std::nullopt;
  return f;
}

/// The `expected` vectors of an OpenAI embeddings reply, put in input order by their `index`
/// (in the order given when there is none), with the usage it reports; or why the reply is
/// unusable. `dimensions`, when set, is the length every vector must have.
DSPY_DECL Result<std::pair<EmbeddingMatrix, Usage>> parse_embeddings_reply(std::string_view body, std::size_t expected,
                                                                           std::optional<int> dimensions) {
  boost::system::error_code ec;
  const boost::json::value v = boost::json::parse(body, ec);
  if (ec) return Error(Errc::bad_response, "the reply is not JSON (" + ec.message() + ")");
  const auto* o = v.if_object();
  const auto* data = o ? o->if_contains("data") : nullptr;
  if (!data || !data->is_array()) return Error(Errc::bad_response, "the reply has no \"data\" array");
  const auto& items = data->get_array();
  if (items.size() != expected)
    return Error(Errc::bad_response, "the reply has " + std::to_string(items.size()) + " embeddings for " +
                                         std::to_string(expected) + " texts");
  std::vector<std::vector<float>> rows(expected);
  std::vector<bool> seen(expected, false);
  for (std::size_t i = 0; i < items.size(); ++i) {
    const std::string where = "embedding " + std::to_string(i) + " of the reply";
    const auto* item = items[i].if_object();
    if (!item) return Error(Errc::bad_response, where + " is not an object");
    std::size_t at = i;
    if (const auto* index = item->if_contains("index")) {
      const std::int64_t n = index->is_int64() ? index->get_int64() : -1;
      if (n < 0 || static_cast<std::size_t>(n) >= expected || seen[static_cast<std::size_t>(n)])
        return Error(Errc::bad_response, where + " has index " + boost::json::serialize(*index) +
                                             ", not a new one below " + std::to_string(expected));
      at = static_cast<std::size_t>(n);
    } else if (seen[at]) {
      return Error(Errc::bad_response, where + " has no index, and its place is taken");
    }
    seen[at] = true;
    const auto* embedding = item->if_contains("embedding");
    if (embedding && embedding->is_string()) {  // encoding_format "base64"
      auto bytes = base64_decode(embedding->get_string());
      if (!bytes || bytes->size() % 4 != 0)
        return Error(Errc::bad_response, where + " is a string but not base64 of float32 values");
      rows[at] = floats_from_le_bytes(*bytes);
      for (const float x : rows[at])
        if (!std::isfinite(x)) return Error(Errc::bad_response, where + " holds a value that is not finite");
    } else if (embedding && embedding->is_array()) {
      const auto& numbers = embedding->get_array();
      rows[at].reserve(numbers.size());
      for (std::size_t k = 0; k < numbers.size(); ++k) {
        const auto f = finite_float(numbers[k]);
        if (!f)
          return Error(Errc::bad_response, where + ": value " + std::to_string(k) + " is not a number a float holds");
        rows[at].push_back(*f);
      }
    } else {
      return Error(Errc::bad_response, where + " has no \"embedding\" array");
    }
    if (rows[at].empty()) return Error(Errc::bad_response, where + " is empty");
    if (dimensions && rows[at].size() != static_cast<std::size_t>(*dimensions))
      return Error(Errc::bad_response, where + " has " + std::to_string(rows[at].size()) +
                                           " dimensions; " + std::to_string(*dimensions) + " were asked for");
  }
  auto m = EmbeddingMatrix::from_rows(rows);
  if (!m) return Error(Errc::bad_response, m.error().message() + " in the reply");
  Usage usage;
  if (const auto* u = o->if_contains("usage"); u && u->is_object()) {
    usage.prompt_tokens = int_field(u->get_object(), "prompt_tokens");
    usage.total_tokens = int_field(u->get_object(), "total_tokens");
    complete_total(usage);
    if (usage.prompt_tokens < 0 || usage.total_tokens < 0)
      return Error(Errc::bad_response, "the reply claims a negative token count");
  }
  return std::pair{std::move(m).value(), usage};
}

// The embeddings endpoint for a base URL given with or without the path.
inline std::string embeddings_url(std::string base) {
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base.ends_with("/embeddings") ? base : base + "/embeddings";
}

// One batch: from the cache, else the function or the server.
DSPY_DECL asio::awaitable<Result<EmbeddingMatrix>> embed_batch(std::shared_ptr<const Embedder::State> self,
                                                               std::vector<std::string> texts, bool caching,
                                                               boost::json::object extra, UsageContext usage) {
  const Embedder::State& s = *self;
  if (s.function) {
    try {
      auto rows = s.function(texts);
      if (rows.size() != texts.size())
        co_return s.fail(Errc::bad_response, "the embedding function returned " + std::to_string(rows.size()) +
                                                 " vectors for " + std::to_string(texts.size()) + " texts");
      auto m = EmbeddingMatrix::from_rows(rows);
      if (!m) co_return s.fail(m.error().code(), "the embedding function: " + m.error().message());
      for (const float x : m->values())
        if (!std::isfinite(x)) co_return s.fail(Errc::bad_response, "the embedding function returned a value that is not finite");
      co_return m;
    } catch (...) {
      const Error e = error_from_exception(std::current_exception());
      co_return s.fail(e.code(), "the embedding function failed: " + e.message());
    }
  }
  boost::json::object body;
  body["model"] = s.model_id;
  boost::json::array input;
  for (const auto& t : texts) input.emplace_back(t);
  body["input"] = std::move(input);
  if (s.config.dimensions) body["dimensions"] = *s.config.dimensions;
  for (const auto& kv : extra) body[kv.key()] = kv.value();

  std::shared_ptr<Cache> cache;
  std::optional<CacheKey> key;
  if (caching) {
    boost::json::object what = body;
    what["model"] = s.model;
    what["endpoint"] = "embeddings";  // never the key of a chat request
    for (const std::string_view ignored : {"api_key", "api_base", "base_url"}) what.erase(ignored);
    key = CacheKey::from_hex(sha256_hex(canonical_json(what)));
    cache = s.config.cache_store ? s.config.cache_store : default_cache();
    if (auto hit = cache->get(*key); hit && hit->completions.size() == 1)
      if (auto m = decode_cached_embeddings(hit->completions.front(), texts.size());
          m && (!s.config.dimensions || m->dimensions() == static_cast<std::size_t>(*s.config.dimensions)))
        co_return std::move(*m);
  }

  HttpRequest http;
  http.url = s.url;
  http.headers = s.headers;
  http.body = boost::json::serialize(body);
  http.timeout = s.config.timeout;
  http.verify_tls = s.config.verify_tls;
  http.ca_bundle = s.config.ca_bundle;
  http.max_response_bytes = s.config.max_response_bytes;
  auto pending = post_with_retries(std::move(http), s.config.num_retries, s.config.backoff,
                                   "EmbedderConfig::max_response_bytes");  // not inside co_await: GCC 12 PR 100611
  Result<std::string> reply = co_await std::move(pending);
  if (!reply) co_return s.fail(reply.error().code(), reply.error().message(), reply.error().raw_response());
  auto parsed = parse_embeddings_reply(*reply, texts.size(), s.config.dimensions);
  if (!parsed) co_return s.fail(parsed.error().code(), parsed.error().message() + " from " + s.url, *reply);
  LMResponse counted{.completions = {}, .usage = parsed->second, .model = s.model, .cache_hit = false};
  usage.record(s.model, counted);
  if (cache) cache->put(*key, LMResponse{.completions = {encode_cached_embeddings(parsed->first)}, .usage = {},
                                         .model = s.model, .cache_hit = false});
  co_return std::move(parsed->first);
}

DSPY_DECL asio::awaitable<Result<EmbeddingMatrix>> embed_all(std::shared_ptr<const Embedder::State> self,
                                                             std::vector<std::string> texts, EmbedOptions options) {
  const Embedder::State& s = *self;
  if (!s.problem.empty()) co_return s.fail(Errc::config, s.problem);
  const std::size_t batch_size = options.batch_size.value_or(s.config.batch_size);
  if (batch_size == 0) co_return s.fail(Errc::config, "the batch size must be at least 1");
  const bool caching = options.caching.value_or(s.config.caching) && !s.function;
  boost::json::object extra = s.config.extra_body;
  for (const auto& kv : options.extra) extra[kv.key()] = kv.value();
  const UsageContext usage = UsageContext::current();
  EmbeddingMatrix out;
  for (std::size_t start = 0; start < texts.size(); start += batch_size) {
    const std::size_t end = std::min(texts.size(), start + batch_size);
    std::vector<std::string> batch(std::make_move_iterator(texts.begin() + static_cast<std::ptrdiff_t>(start)),
                                   std::make_move_iterator(texts.begin() + static_cast<std::ptrdiff_t>(end)));
    auto pending = embed_batch(self, std::move(batch), caching, extra, usage);  // GCC 12 PR 100611
    Result<EmbeddingMatrix> m = co_await std::move(pending);
    if (!m) co_return std::move(m).error();
    if (auto appended = out.append(*m); !appended)
      co_return s.fail(Errc::bad_response, "texts " + std::to_string(start) + ".." + std::to_string(end - 1) + ": " +
                                               appended.error().message());
  }
  co_return out;
}

}  // namespace detail

DSPY_DECL Embedder::Embedder(std::string model, EmbedderConfig config) {
  auto s = std::make_shared<State>();
  s->model = std::move(model);
  s->config = std::move(config);
  detail::Endpoint endpoint = detail::resolve_endpoint(s->model, s->config.api_base, s->config.api_key, "EmbedderConfig");
  s->model_id = std::move(endpoint.model_id);
  s->key = std::move(endpoint.key);
  if (s->config.timeout <= std::chrono::milliseconds::zero()) {
    // curl reads 0 as "no timeout": a silent server would hold the call forever.
    s->problem = "EmbedderConfig::timeout must be positive (got " + std::to_string(s->config.timeout.count()) + " ms)";
  } else if (s->config.dimensions && *s->config.dimensions <= 0) {
    s->problem = "EmbedderConfig::dimensions must be positive (got " + std::to_string(*s->config.dimensions) + ")";
  } else if (endpoint.api == detail::WireApi::anthropic_messages) {
    s->problem = "Anthropic has no embeddings endpoint; use an OpenAI-compatible embedding model";
  } else if (!endpoint.problem.empty()) {
    s->problem = std::move(endpoint.problem);
  } else {
    s->url = detail::embeddings_url(std::move(endpoint.base));
  }
  s->headers = std::make_shared<const std::vector<std::string>>(
      detail::with_headers(detail::bearer_headers(s->key), s->config.headers));
  if (!s->config.verify_tls)
    detail::warn_tls_unverified(s->model + " at " + (s->url.empty() ? s->config.api_base : s->url), s->key,
                                "EmbedderConfig::verify_tls");
  state_ = std::move(s);
}

DSPY_DECL Embedder::Embedder(EmbeddingFunction function, EmbedderConfig config) {
  auto s = std::make_shared<State>();
  s->model = "<function>";
  s->config = std::move(config);
  s->function = std::move(function);
  if (!s->function) s->problem = "the embedding function is empty";
  state_ = std::move(s);
}

DSPY_DECL Result<EmbeddingMatrix> Embedder::operator()(std::vector<std::string> texts, EmbedOptions options) const {
  // Each thread keeps one io_context (and so one curl multi with its open connections).
  thread_local asio::io_context io;
  return detail::sync_wait(io, acall(std::move(texts), std::move(options)));
}

DSPY_DECL asio::awaitable<Result<EmbeddingMatrix>> Embedder::acall(std::vector<std::string> texts,
                                                                   EmbedOptions options) const {
  return detail::embed_all(state_, std::move(texts), std::move(options));
}

DSPY_DECL const std::string& Embedder::model() const noexcept { return state_->model; }
DSPY_DECL const EmbedderConfig& Embedder::config() const noexcept { return state_->config; }
DSPY_DECL const std::string& Embedder::url() const noexcept { return state_->url; }

}  // namespace dspy

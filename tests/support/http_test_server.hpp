// An HTTP/1.1 server on 127.0.0.1 (ephemeral port) answering from a per-test script, for
// testing the LM client over real sockets. It runs on its own thread and records every request.
#pragma once

#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/json.hpp>

namespace dspy::test {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using asio::ip::tcp;

/// One scripted answer.
struct Reply {
  enum class Kind {
    normal,              ///< status, headers and body
    reset_mid_body,      ///< headers announcing the whole body, half of it, then a TCP reset
    close_before_reply,  ///< close the connection without answering
    reset_before_reply,  ///< a TCP reset instead of an answer
    truncated,           ///< headers announcing the whole body, half of it, then a clean close
    raw,                 ///< `body` as it is, no HTTP around it (an SSH banner), then a clean close
    close_after_reply    ///< the whole reply, then a clean close of the connection kept alive
  };
  int status = 200;
  std::string body{};
  std::vector<std::pair<std::string, std::string>> headers{};
  std::chrono::milliseconds delay{0};  ///< wait before answering
  Kind kind = Kind::normal;
  /// When set, the body is these pieces, each written on its own `pause` after the previous one
  /// (reset_mid_body: the first half of them, then the reset).
  std::vector<std::string> pieces{};
  std::chrono::milliseconds pause{1};
};

/// What the server received.
struct Received {
  std::string method;
  std::string target;
  std::map<std::string, std::string> headers;  ///< names lower-cased
  std::string body;
  std::chrono::steady_clock::time_point at;
  int connection = 0;  ///< which accepted connection carried it (1-based)

  [[nodiscard]] boost::json::value json() const { return boost::json::parse(body); }
  [[nodiscard]] std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

/// An OpenAI chat-completions reply with one choice per content (and usage unless told not to).
inline std::string openai_reply(const std::vector<std::string>& contents, bool usage = true) {
  boost::json::array choices;
  for (std::size_t i = 0; i < contents.size(); ++i)
    choices.push_back({{"index", i},
                       {"message", {{"role", "assistant"}, {"content", contents[i]}}},
                       {"finish_reason", "stop"}});
  boost::json::object o{{"id", "chatcmpl-test"}, {"object", "chat.completion"}, {"model", "test-model"},
                        {"choices", std::move(choices)}};
  if (usage) o["usage"] = {{"prompt_tokens", 11}, {"completion_tokens", 7}, {"total_tokens", 18}};
  return boost::json::serialize(o);
}

/// An Anthropic Messages reply.
inline std::string anthropic_reply(const std::string& text) {
  return boost::json::serialize(boost::json::object{
      {"id", "msg_test"},
      {"type", "message"},
      {"role", "assistant"},
      {"model", "claude-test"},
      {"content", {{{"type", "text"}, {"text", text}}}},
      {"stop_reason", "end_turn"},
      {"usage", {{"input_tokens", 20}, {"output_tokens", 5}}}});
}

/// An OpenAI chat-completions stream (SSE) whose first choice's text comes in `deltas`, with
/// a usage chunk at the end (as with stream_options.include_usage) and [DONE].
inline std::string openai_stream(const std::vector<std::string>& deltas, bool done = true) {
  std::string out;
  const auto event = [&](const boost::json::value& v) { out += "data: " + boost::json::serialize(v) + "\n\n"; };
  const auto chunk = [](boost::json::array choices) {
    return boost::json::value{
        {"id", "chatcmpl-test"}, {"object", "chat.completion.chunk"}, {"choices", std::move(choices)}};
  };
  event(chunk({{{"index", 0}, {"delta", {{"role", "assistant"}, {"content", ""}}}, {"finish_reason", nullptr}}}));
  for (const auto& d : deltas)
    event(chunk({{{"index", 0}, {"delta", {{"content", d}}}, {"finish_reason", nullptr}}}));
  event(chunk({{{"index", 0}, {"delta", boost::json::object{}}, {"finish_reason", "stop"}}}));
  boost::json::value last = chunk({});
  last.get_object()["usage"] = {{"prompt_tokens", 11}, {"completion_tokens", 7}, {"total_tokens", 18}};
  event(last);
  if (done) out += "data: [DONE]\n\n";
  return out;
}

/// An Anthropic Messages stream (SSE, with event names) whose text comes in `deltas`.
inline std::string anthropic_stream(const std::vector<std::string>& deltas) {
  std::string out;
  const auto event = [&](std::string_view name, const boost::json::value& v) {
    out += "event: " + std::string(name) + "\ndata: " + boost::json::serialize(v) + "\n\n";
  };
  event("message_start", {{"type", "message_start"},
                          {"message",
                           {{"id", "msg_test"},
                            {"type", "message"},
                            {"role", "assistant"},
                            {"content", boost::json::array{}},
                            {"usage", {{"input_tokens", 20}, {"output_tokens", 1}}}}}});
  event("content_block_start",
        {{"type", "content_block_start"}, {"index", 0}, {"content_block", {{"type", "text"}, {"text", ""}}}});
  event("ping", {{"type", "ping"}});
  for (const auto& d : deltas)
    event("content_block_delta",
          {{"type", "content_block_delta"}, {"index", 0}, {"delta", {{"type", "text_delta"}, {"text", d}}}});
  event("content_block_stop", {{"type", "content_block_stop"}, {"index", 0}});
  event("message_delta",
        {{"type", "message_delta"}, {"delta", {{"stop_reason", "end_turn"}}}, {"usage", {{"output_tokens", 5}}}});
  event("message_stop", {{"type", "message_stop"}});
  return out;
}

/// `bytes` cut into pieces of 1, 2, 3, ... `longest` bytes, cycling: boundaries fall everywhere
/// (inside field names, "data:", CRLFs and markers).
inline std::vector<std::string> cut(std::string_view bytes, std::size_t longest = 7) {
  std::vector<std::string> out;
  for (std::size_t size = 1; !bytes.empty(); size = size % longest + 1) {
    const std::size_t n = std::min(size, bytes.size());
    out.emplace_back(bytes.substr(0, n));
    bytes.remove_prefix(n);
  }
  return out;
}

class TestServer {
 public:
  /// With `tls`, the server speaks HTTPS with that context's certificate.
  explicit TestServer(std::shared_ptr<asio::ssl::context> tls = nullptr)
      : tls_(std::move(tls)), acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    port_ = acceptor_.local_endpoint().port();
    asio::co_spawn(io_, accept_loop(this), asio::detached);
    thread_ = std::thread([this] { io_.run(); });
  }
  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;
  ~TestServer() {
    io_.stop();
    thread_.join();
  }

  [[nodiscard]] unsigned short port() const noexcept { return port_; }
  /// "http://127.0.0.1:<port>/v1" (https with TLS), an OpenAI-style API base.
  [[nodiscard]] std::string base_url() const {
    return (tls_ ? "https" : "http") + std::string("://127.0.0.1:") + std::to_string(port_) + "/v1";
  }

  TestServer& push(Reply r) {
    std::lock_guard lock(mutex_);
    script_.push_back(std::move(r));
    return *this;
  }
  /// Answers every request not scripted otherwise with `r`.
  TestServer& fallback(Reply r) {
    std::lock_guard lock(mutex_);
    fallback_ = std::move(r);
    return *this;
  }
  /// Answers every request not scripted otherwise with what `f` says (called on the server's
  /// thread, one request at a time). Replaces the fallback.
  TestServer& respond(std::function<Reply(const Received&)> f) {
    std::lock_guard lock(mutex_);
    respond_ = std::move(f);
    return *this;
  }
  /// Whether requests() keeps what arrived (on by default; a long run turns it off so that the
  /// server's memory stays flat).
  TestServer& keep_requests(bool keep) {
    std::lock_guard lock(mutex_);
    keep_ = keep;
    return *this;
  }
  [[nodiscard]] std::vector<Received> requests() const {
    std::lock_guard lock(mutex_);
    return received_;
  }
  [[nodiscard]] int connections() const {
    std::lock_guard lock(mutex_);
    return connections_;
  }

 private:
  static asio::awaitable<void> accept_loop(TestServer* self) {
    for (;;) {
      auto accepting = self->acceptor_.async_accept(asio::use_awaitable);
      tcp::socket socket = co_await std::move(accepting);
      int id = 0;
      {
        std::lock_guard lock(self->mutex_);
        id = ++self->connections_;
      }
      if (self->tls_)
        asio::co_spawn(self->io_, tls_session(self, std::move(socket), id), asio::detached);
      else
        asio::co_spawn(self->io_, plain_session(self, std::move(socket), id), asio::detached);
    }
  }

  static asio::awaitable<void> plain_session(TestServer* self, tcp::socket socket, int id) {
    auto serving = session(self, socket, id);
    co_await std::move(serving);
  }

  static asio::awaitable<void> tls_session(TestServer* self, tcp::socket socket, int id) {
    asio::ssl::stream<tcp::socket> stream(std::move(socket), *self->tls_);
    boost::system::error_code ec;
    auto shaking =
        stream.async_handshake(asio::ssl::stream_base::server, asio::redirect_error(asio::use_awaitable, ec));
    co_await std::move(shaking);
    if (ec) co_return;  // e.g. the client rejected the certificate
    auto serving = session(self, stream, id);
    co_await std::move(serving);
  }

  static std::string reason(int status) {
    switch (status) {
      case 200: return "OK";
      case 400: return "Bad Request";
      case 401: return "Unauthorized";
      case 404: return "Not Found";
      case 429: return "Too Many Requests";
      case 500: return "Internal Server Error";
      case 502: return "Bad Gateway";
      case 503: return "Service Unavailable";
      default: return "Status";
    }
  }

  template <class Stream>
  static asio::awaitable<void> session(TestServer* self, Stream& socket, int id) {
    boost::beast::flat_buffer buffer;
    for (;;) {
      http::request<http::string_body> req;
      boost::system::error_code ec;
      auto reading = http::async_read(socket, buffer, req, asio::redirect_error(asio::use_awaitable, ec));
      co_await std::move(reading);
      if (ec) co_return;
      Reply reply = self->record(req, id);
      if (reply.delay.count() > 0) {
        asio::steady_timer timer(socket.get_executor(), reply.delay);
        auto waiting = timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        co_await std::move(waiting);
      }
      if (reply.kind == Reply::Kind::close_before_reply) co_return;
      if (reply.kind == Reply::Kind::reset_before_reply) {
        reset(socket);
        co_return;
      }
      if (reply.kind == Reply::Kind::raw) {
        auto writing = asio::async_write(socket, asio::buffer(reply.body), asio::redirect_error(asio::use_awaitable, ec));
        co_await std::move(writing);
        co_return;
      }
      for (const auto& piece : reply.pieces) reply.body += piece;
      std::string head = "HTTP/1.1 " + std::to_string(reply.status) + " " + reason(reply.status) +
                         "\r\nContent-Length: " + std::to_string(reply.body.size()) + "\r\n";
      bool typed = false;
      for (const auto& [name, value] : reply.headers) {
        head += name + ": " + value + "\r\n";
        typed = typed || boost::beast::iequals(name, "content-type");
      }
      if (!typed) head += "Content-Type: application/json\r\n";
      head += "\r\n";
      if (!reply.pieces.empty()) {
        // Each piece in its own segment, so the client reads them apart.
        boost::beast::get_lowest_layer(socket).set_option(tcp::no_delay(true), ec);
        const std::size_t count =
            reply.kind == Reply::Kind::reset_mid_body ? reply.pieces.size() / 2 : reply.pieces.size();
        auto writing = asio::async_write(socket, asio::buffer(head), asio::redirect_error(asio::use_awaitable, ec));
        co_await std::move(writing);
        for (std::size_t i = 0; i < count && !ec; ++i) {
          asio::steady_timer timer(socket.get_executor(), reply.pause);
          auto waiting = timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
          co_await std::move(waiting);
          auto sending =
              asio::async_write(socket, asio::buffer(reply.pieces[i]), asio::redirect_error(asio::use_awaitable, ec));
          co_await std::move(sending);
        }
        if (ec) co_return;
        if (reply.kind == Reply::Kind::reset_mid_body) {
          reset(socket);
          co_return;
        }
        continue;
      }
      if (reply.kind == Reply::Kind::reset_mid_body || reply.kind == Reply::Kind::truncated) {
        head += reply.body.substr(0, reply.body.size() / 2);
        auto writing = asio::async_write(socket, asio::buffer(head), asio::redirect_error(asio::use_awaitable, ec));
        co_await std::move(writing);
        if (reply.kind == Reply::Kind::reset_mid_body) reset(socket);
        co_return;  // truncated: the socket closes cleanly (FIN) as the session ends
      }
      head += reply.body;
      auto writing = asio::async_write(socket, asio::buffer(head), asio::redirect_error(asio::use_awaitable, ec));
      co_await std::move(writing);
      if (ec || reply.kind == Reply::Kind::close_after_reply) co_return;
    }
  }

  // SO_LINGER 0: close() sends RST instead of FIN (under TLS too: the TCP layer is reset).
  template <class Stream>
  static void reset(Stream& stream) {
    auto& socket = boost::beast::get_lowest_layer(stream);
    boost::system::error_code ec;
    socket.set_option(asio::socket_base::linger(true, 0), ec);
    socket.close(ec);
  }

  Reply record(const http::request<http::string_body>& req, int id) {
    Received r;
    r.method = std::string(req.method_string());
    r.target = std::string(req.target());
    for (const auto& field : req) {
      std::string name(field.name_string());
      std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
      // A repeated header reads "first, second", as HTTP folds it.
      auto [it, fresh] = r.headers.emplace(name, std::string(field.value()));
      if (!fresh) it->second += ", " + std::string(field.value());
    }
    r.body = req.body();
    r.at = std::chrono::steady_clock::now();
    r.connection = id;
    std::lock_guard lock(mutex_);
    if (script_.empty() && respond_) {
      Reply reply = respond_(r);
      if (keep_) received_.push_back(std::move(r));
      return reply;
    }
    if (keep_) received_.push_back(std::move(r));
    if (script_.empty()) return fallback_;
    Reply next = std::move(script_.front());
    script_.pop_front();
    return next;
  }

  asio::io_context io_;
  std::shared_ptr<asio::ssl::context> tls_;
  tcp::acceptor acceptor_;
  unsigned short port_ = 0;
  std::thread thread_;
  mutable std::mutex mutex_;
  std::deque<Reply> script_;
  Reply fallback_{.status = 500, .body = R"({"error":{"message":"no scripted reply left"}})"};
  std::function<Reply(const Received&)> respond_;
  bool keep_ = true;
  std::vector<Received> received_;
  int connections_ = 0;
};

}  // namespace dspy::test

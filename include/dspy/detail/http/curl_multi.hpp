// HTTP over libcurl's multi interface, driven by Boost.Asio: one curl multi per execution context,
// shared by every LM that runs there (so connections are reused across LMs and calls).
//
// Integration: curl's socket callbacks on an epoll set of our own, which the Asio reactor watches
// as one descriptor; no poll thread, no thread hop on the reply path. epoll is O(ready sockets)
// per wake-up, so 10,000 transfers in flight cost what the active ones cost.
//  - The set is level-triggered: a socket curl did not drain is reported again. A socket is one
//    epoll_ctl when curl starts watching it (curl's socket callback), nothing per read; when curl
//    stops watching a socket it was reading (the end of a transfer on a connection kept alive),
//    the socket stays in the set, parked, so that the connection's next transfer costs no
//    epoll_ctl either. A parked socket that turns ready (the server closed the idle connection)
//    leaves the set then; a socket curl closes (through on_close) leaves it by itself. One
//    wake-up serves every ready socket: epoll_wait on the set, socket_action for each.
//  - Asio's reactor watches the set edge-triggered and never tries a wait speculatively: the
//    wait is queued before the set is looked at a last time, so readiness that arrives in
//    between wakes it.
//  - curl owns its sockets: its POLL_REMOVE comes before it closes one, and it closes them
//    through on_close, which forgets what the set held for the descriptor (a closed descriptor
//    leaves the set by itself), so that a number reused by a new socket is added anew.
//  - curl must not be re-entered from its own callbacks: a 0 ms timer request is served by a
//    posted timer wait, and completions are delivered by post, after socket_action returned.
#pragma once

#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/execution_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <curl/curl.h>

#include "../../primitives/settings.hpp"
#include "../io_context_executor.hpp"
#include "../text/tolerant.hpp"
#include "reply_budget.hpp"

namespace dspy::detail {

namespace asio = boost::asio;

/// One HTTP POST.
struct HttpRequest {
  std::string url;
  /// "Name: value" lines; shared by the calls of one client, whose lines do not change.
  std::shared_ptr<const std::vector<std::string>> headers{};
  std::string body;
  std::chrono::milliseconds timeout{600'000};  ///< whole exchange, connect included
  bool verify_tls = true;
  std::string ca_bundle{};  ///< PEM file of trusted certificates; empty: the system's
  /// When set, the body of a 2xx reply is handed here as it arrives (HttpResponse::body stays
  /// empty); returning false ends the transfer with CURLE_WRITE_ERROR. Called from curl's write
  /// callback on the service's strand, never concurrently, and never after the completion.
  std::function<bool(std::string_view)> on_data{};
  std::size_t max_response_bytes = 64U << 20;  ///< a longer body, buffered or streamed, ends the transfer (too_large)
};

/// What came back: a curl result (CURLE_OK when an HTTP reply arrived), the status and body.
struct HttpResponse {
  CURLcode curl = CURLE_OK;
  std::string curl_error;  ///< curl's detail message when curl != CURLE_OK
  bool cancelled = false;
  long status = 0;
  std::string body;
  std::string retry_after;  ///< the Retry-After header's value, if any
  bool too_large = false;   ///< the body outgrew `limit` bytes and the transfer was stopped
  std::size_t limit = 0;    ///< the request's max_response_bytes, or the budget when over_budget
  bool over_budget = false;  ///< the replies in flight together outgrew reply_budget()
};

/// The receive buffer for replies of about `reply_bytes` (headers and body): room for them and an
/// eighth more, a power of two from curl's least, 1 KiB, to its default, 16 KiB. curl 7.88
/// allocates the buffer for every transfer and frees it at the end: a buffer larger than the
/// replies is memory held by every call in flight, and its frees, among a batch's results, make
/// glibc give the top of the heap back to the kernel and fault it in again (at 64 in flight and
/// 20,000 calls, 15,000 page faults at 4 KiB for 0.5 KB replies, 5,700 at 1 KiB); a smaller one
/// takes a read per buffer-full.
constexpr long receive_buffer_size(std::size_t reply_bytes) noexcept {
  return static_cast<long>(std::clamp<std::size_t>(std::bit_ceil(reply_bytes + reply_bytes / 8), 1024, 16384));
}

// A template on the executor, as Asio's I/O objects are: a program that never makes an HTTP
// call never instantiates it, and the compiled part instantiates it once for all.
template <class Executor = asio::any_io_executor>
class BasicCurlService : public asio::execution_context::service {
 public:
  using key_type = BasicCurlService;
  static inline asio::execution_context::id id;  // NOLINT: Asio's service identity

  explicit BasicCurlService(asio::execution_context& ctx) : service(ctx) {
    // Thread-safe once per process; curl's global state lives until exit.
    static const CURLcode global = curl_global_init(CURL_GLOBAL_DEFAULT);
    (void)global;
  }
  BasicCurlService(const BasicCurlService&) = delete;
  BasicCurlService& operator=(const BasicCurlService&) = delete;
  ~BasicCurlService() override { shutdown(); }

  /// The service of `ex`'s execution context (an io_context: sockets need its reactor).
  static BasicCurlService& of(const Executor& ex) {
    auto& svc = asio::use_service<BasicCurlService>(asio::query(ex, asio::execution::context));
    svc.init(ex);
    return svc;
  }

  /// The receive buffer curl gets for the next transfer (see receive_buffer_size).
  [[nodiscard]] long receive_buffer() const noexcept { return receive_buffer_size(reply_bytes_); }

  /// Starts `request`, which must outlive the completion (the caller awaits it); `handler` gets
  /// the HttpResponse through its own executor. Cancelling through the handler's cancellation
  /// slot removes the transfer and completes it as cancelled.
  template <class Handler>
  void start(const HttpRequest& request, Handler handler) {
    Executor work =
        asio::prefer(asio::get_associated_executor(handler, *strand_), asio::execution::outstanding_work.tracked);
    auto slot = asio::get_associated_cancellation_slot(handler);
    // Constructed in place: Boost 1.81's any_completion_handler recurses on assignment.
    auto t = std::make_shared<Transfer>(request, std::move(handler), std::move(work));
    if (slot.is_connected()) {
      t->slot = slot;
      slot.template emplace<Canceller>(Canceller{this, t});
    }
    asio::dispatch(*strand_, [this, t] { add(t); });
  }

 private:
  struct Easy;
  struct Shard;

  struct Transfer {
    template <class Handler>
    Transfer(const HttpRequest& r, Handler&& h, Executor w)
        : request(r), handler(std::forward<Handler>(h)), work(std::move(w)) {}
    const HttpRequest& request;  // the caller's, alive until the handler runs
    HttpResponse response;
    Easy* easy = nullptr;  // while curl has the transfer
    asio::any_completion_handler<void(HttpResponse)> handler;
    Executor work;
    asio::cancellation_slot slot;
    bool cancel_requested = false;
    std::size_t streamed = 0;  ///< bytes handed to request.on_data
    std::size_t budgeted = 0;  ///< bytes taken from reply_budget(), given back at completion
  };

  struct Canceller {
    BasicCurlService* svc;
    std::weak_ptr<Transfer> transfer;
    void operator()(asio::cancellation_type type) const {
      if (type == asio::cancellation_type::none) return;
      asio::post(*svc->strand_, [svc = svc, w = transfer] {
        if (auto t = w.lock()) svc->cancel(t);
      });
    }
  };

  // A pooled easy handle and the options it was last given: a transfer sets only what differs
  // from the previous one on the handle (no curl_easy_reset, no header list rebuilt), as a
  // client that reuses its handles does. Its callbacks get the Easy, which knows the transfer.
  struct Easy {
    CURL* h = nullptr;
    std::shared_ptr<Transfer> transfer;  // the one it carries now
    Shard* shard = nullptr;              // the multi that has it, while it carries one
    std::size_t active_index = 0;        // in active_, while it carries one
    curl_slist* headers = nullptr;
    // What `headers` holds, kept alive so that no other client's list can get its address.
    std::shared_ptr<const std::vector<std::string>> header_lines;
    std::string url;
    std::string ca_bundle;
    long timeout_ms = -1;
    int verify_tls = -1;
    long buffer_size = -1;
    char errbuf[CURL_ERROR_SIZE] = {};

    ~Easy() {
      if (h) curl_easy_cleanup(h);
      curl_slist_free_all(headers);
    }
  };

  // One curl multi with its timer. curl 7.88 looks for a connection to reuse by scanning every
  // connection its multi holds to the host, for each transfer: at thousands in flight one multi
  // spends most of the core there. Shards of kShardSize keep each scan short; below that many
  // in flight everything runs on the first, as one multi would.
  static constexpr std::size_t kShardSize = 256;
  struct Shard {
    BasicCurlService* svc = nullptr;
    std::uint32_t index = 0;  // in shards_, kept in the epoll set's entries with the socket
    CURLM* multi = nullptr;
    std::optional<asio::steady_timer> timer;
    bool timer_armed = false;
    bool timeout_posted = false;
    bool acted = false;       // a socket action ran since its completions were last read
    std::size_t running = 0;  // transfers added and not yet removed
  };

  void init(const Executor& ex) {
    std::lock_guard lock(init_mutex_);
    if (!shards_.empty()) return;
    // The strand runs curl's callbacks, which belong to no caller: under a ContextExecutor it
    // would keep the first caller's settings alive and pay their hop on every callback.
    if constexpr (std::is_same_v<Executor, asio::any_io_executor>) {
      strand_.emplace(asio::make_strand(without_settings(ex)));
    } else {
      strand_.emplace(asio::make_strand(ex));
    }
    const int ep = ::epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) return;  // calls fail with CURLE_FAILED_INIT (see add)
    events_.emplace(*strand_, ep);
    add_shard();
  }

  // A new multi, or null. Its sockets share the one epoll set; its timer is its own.
  Shard* add_shard() {
    auto shard = std::make_unique<Shard>();
    shard->svc = this;
    shard->index = static_cast<std::uint32_t>(shards_.size());
    shard->multi = curl_multi_init();
    if (!shard->multi) return nullptr;
    shard->timer.emplace(*strand_);
    CURLM* m = shard->multi;
    curl_multi_setopt(m, CURLMOPT_SOCKETFUNCTION, &BasicCurlService::on_socket);
    curl_multi_setopt(m, CURLMOPT_SOCKETDATA, shard.get());
    curl_multi_setopt(m, CURLMOPT_TIMERFUNCTION, &BasicCurlService::on_timer);
    curl_multi_setopt(m, CURLMOPT_TIMERDATA, shard.get());
    curl_multi_setopt(m, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
    // curl's default keeps 4 idle connections per transfer added at that moment: whenever the
    // number in flight dips, it closes connections it will have to reopen a moment later.
    curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, static_cast<long>(kShardSize) * 2);
    return shards_.emplace_back(std::move(shard)).get();
  }

  // The first shard with room, else a new one (else the first): below kShardSize transfers in
  // flight everything runs on one multi and reuses its connections.
  Shard& pick_shard() {
    for (auto& s : shards_)
      if (s->running < kShardSize) return *s;
    Shard* fresh = add_shard();
    return fresh ? *fresh : *shards_.front();
  }

  void shutdown() override {
    if (shards_.empty()) return;
    for (Easy* e : active_) {
      remove(*e);
      reply_budget().give_back(std::exchange(e->transfer->budgeted, 0));
      e->transfer->easy = nullptr;
      delete e;
    }
    active_.clear();
    // Closes the cached connections (removing their sockets from the set).
    for (auto& s : shards_) curl_multi_cleanup(s->multi);
    idle_.clear();
    events_.reset();  // closes the set
    // The shards' timers and the strand belong to services created after this one, so are
    // destroyed before it.
    shards_.clear();
    strand_.reset();
  }

  // A handle from the pool, or a new one with the options every transfer shares. A handle that
  // trusted a CA bundle is not reused for a request that trusts the system's (curl cannot be
  // told to go back to its built-in default but by a reset).
  std::unique_ptr<Easy> take_easy(const HttpRequest& r) {
    if (!idle_.empty()) {
      std::unique_ptr<Easy> e = std::move(idle_.back());
      idle_.pop_back();
      if (e->ca_bundle.empty() || !r.ca_bundle.empty()) return e;
    }
    auto e = std::make_unique<Easy>();
    e->h = curl_easy_init();
    if (!e->h) return nullptr;
    CURL* h = e->h;
    // An LM is reached over HTTP(S) only: a file:// or other base URL fails here, as a config error.
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    // Replies in every encoding curl was built with are decoded; the header itself is one of the
    // handle's lines (see configure).
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(h, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_2TLS));
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, e->errbuf);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &BasicCurlService::on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, e.get());
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &BasicCurlService::on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, e.get());
    curl_easy_setopt(h, CURLOPT_PRIVATE, e.get());
    curl_easy_setopt(h, CURLOPT_CLOSESOCKETFUNCTION, &BasicCurlService::on_close);
    curl_easy_setopt(h, CURLOPT_CLOSESOCKETDATA, this);
    return e;
  }

  // Gives the transfer's handle back to the pool (or frees it: the pool keeps 64) and its bytes
  // back to the reply budget.
  void release(Transfer& t) {
    reply_budget().give_back(std::exchange(t.budgeted, 0));
    Easy* e = std::exchange(t.easy, nullptr);
    if (!e) return;
    Easy* last = active_.back();
    last->active_index = e->active_index;
    active_[e->active_index] = last;
    active_.pop_back();
    std::unique_ptr<Easy> owned(e);
    owned->transfer.reset();
    if (idle_.size() < 64) idle_.push_back(std::move(owned));
  }

  // What curl sends for CURLOPT_ACCEPT_ENCODING "": the encodings it was built to decode.
  static const std::string& accept_encoding() {
    static const std::string line = [] {
      const curl_version_info_data* v = curl_version_info(CURLVERSION_NOW);
      std::string encodings;
      const auto add = [&](const char* name) { encodings += (encodings.empty() ? "" : ", ") + std::string(name); };
      if (v->features & CURL_VERSION_LIBZ) {
        add("deflate");
        add("gzip");
      }
      if (v->features & CURL_VERSION_BROTLI) add("br");
      if (v->features & CURL_VERSION_ZSTD) add("zstd");
      return "Accept-Encoding: " + (encodings.empty() ? std::string("identity") : encodings);
    }();
    return line;
  }

  // Sets the options of `r` (and the receive buffer) that differ from what the handle last carried.
  static void configure(Easy& e, const HttpRequest& r, long buffer) {
    CURL* h = e.h;
    if (e.buffer_size != buffer) {
      e.buffer_size = buffer;
      curl_easy_setopt(h, CURLOPT_BUFFERSIZE, buffer);
    }
    if (e.header_lines != r.headers) {  // another client's lines
      curl_slist_free_all(e.headers);
      e.headers = nullptr;
      bool agent = false, encoding = false;
      static const std::vector<std::string> none;
      for (const auto& line : r.headers ? *r.headers : none) {
        e.headers = curl_slist_append(e.headers, line.c_str());
        agent = agent || header_named(line, "user-agent");
        encoding = encoding || header_named(line, "accept-encoding");
      }
      // As lines of the list, not CURLOPT_USERAGENT's or CURLOPT_ACCEPT_ENCODING's header: curl
      // formats those anew for every transfer with its printf (two of its four per request).
      if (!agent) e.headers = curl_slist_append(e.headers, "User-Agent: dspy-cpp/0.1");
      if (!encoding) e.headers = curl_slist_append(e.headers, accept_encoding().c_str());
      // curl would send "Expect: 100-continue" for bodies over 1 KiB: a round trip for nothing.
      e.headers = curl_slist_append(e.headers, "Expect:");
      e.header_lines = r.headers;
      curl_easy_setopt(h, CURLOPT_HTTPHEADER, e.headers);
    }
    if (e.url != r.url) {
      e.url = r.url;
      curl_easy_setopt(h, CURLOPT_URL, e.url.c_str());
      // Over TLS, wait for a connection in progress to learn (by ALPN) whether it multiplexes,
      // rather than open a second one. Plain http is HTTP/1.1 here: waiting would serialise the
      // first transfers behind the first reply.
      curl_easy_setopt(h, CURLOPT_PIPEWAIT, e.url.starts_with("https://") ? 1L : 0L);
    }
    if (const long ms = static_cast<long>(r.timeout.count()); e.timeout_ms != ms) {
      e.timeout_ms = ms;
      curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, ms);
    }
    if (const int verify = r.verify_tls ? 1 : 0; e.verify_tls != verify) {
      e.verify_tls = verify;
      curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, r.verify_tls ? 1L : 0L);
      curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, r.verify_tls ? 2L : 0L);
    }
    if (e.ca_bundle != r.ca_bundle) {  // never back to empty: see take_easy
      e.ca_bundle = r.ca_bundle;
      curl_easy_setopt(h, CURLOPT_CAINFO, e.ca_bundle.c_str());
    }
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, r.body.data());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body.size()));
    e.errbuf[0] = '\0';
  }

  void add(const std::shared_ptr<Transfer>& t) {
    if (t->cancel_requested) {
      t->response.cancelled = true;
      return complete(t);
    }
    std::unique_ptr<Easy> owned = shards_.empty() ? nullptr : take_easy(t->request);
    if (!owned) {
      t->response.curl = CURLE_OUT_OF_MEMORY;
      t->response.curl_error = "curl_easy_init failed";
      return complete(t);
    }
    Easy* e = owned.release();
    e->transfer = t;
    e->active_index = active_.size();
    active_.push_back(e);
    t->easy = e;
    configure(*e, t->request, receive_buffer());
    Shard& shard = pick_shard();
    if (CURLMcode rc = curl_multi_add_handle(shard.multi, e->h); rc != CURLM_OK) {
      t->response.curl = CURLE_FAILED_INIT;
      t->response.curl_error = curl_multi_strerror(rc);
      return complete(t);
    }
    e->shard = &shard;
    ++shard.running;
  }

  void cancel(const std::shared_ptr<Transfer>& t) {
    t->cancel_requested = true;
    if (!t->easy) return;  // not added yet (add() completes it) or done
    remove(*t->easy);
    t->response.cancelled = true;
    complete(t);
  }

  // Hands the response to the handler's executor; the transfer's easy handle goes back to the pool.
  void complete(const std::shared_ptr<Transfer>& t) {
    release(*t);
    if (t->slot.is_connected()) t->slot.clear();
    auto work = std::move(t->work);
    asio::post(work, [h = std::move(t->handler), r = std::move(t->response)]() mutable { std::move(h)(std::move(r)); });
  }

  void remove(Easy& e) {
    if (!e.shard) return;
    curl_multi_remove_handle(e.shard->multi, e.h);
    --e.shard->running;
    e.shard = nullptr;
  }

  void drain_completed(Shard& shard) {
    int left = 0;
    while (CURLMsg* m = curl_multi_info_read(shard.multi, &left)) {
      if (m->msg != CURLMSG_DONE) continue;
      CURL* h = m->easy_handle;
      const CURLcode result = m->data.result;
      Easy* e = nullptr;
      curl_easy_getinfo(h, CURLINFO_PRIVATE, &e);
      if (!e || !e->transfer) continue;
      std::shared_ptr<Transfer> t = e->transfer;
      t->response.curl = result;
      if (result != CURLE_OK) t->response.curl_error = e->errbuf[0] ? e->errbuf : curl_easy_strerror(result);
      curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &t->response.status);
      if (result == CURLE_OK && !t->request.on_data) {  // a stream's reads follow its events, not its size
        curl_off_t body = 0;
        long head = 0;
        curl_easy_getinfo(h, CURLINFO_SIZE_DOWNLOAD_T, &body);
        curl_easy_getinfo(h, CURLINFO_HEADER_SIZE, &head);
        const auto bytes = static_cast<std::size_t>(std::max<curl_off_t>(body, 0) + std::max(head, 0L));
        reply_bytes_ = reply_bytes_ - reply_bytes_ / 8 + bytes / 8;
      }
      remove(*e);
      complete(t);
    }
  }

  void act(Shard& shard, curl_socket_t fd, int events) {
    int running = 0;
    curl_multi_socket_action(shard.multi, fd, events, &running);
    drain_completed(shard);
  }

  // Queues a wait for the set to become readable, unless one is queued or the set is empty (a
  // wait on an empty set would keep the io_context's run() from returning).
  void watch_events() {
    if (events_waiting_ || watched_ == 0) return;
    events_waiting_ = true;
    events_->async_wait(asio::posix::stream_descriptor::wait_read, [this](boost::system::error_code ec) {
      events_waiting_ = false;
      // A wait cancelled because the set emptied may end after a socket came back to it.
      if (!ec || (ec == asio::error::operation_aborted && watched_ > 0)) on_events();
    });
  }

  // Acts on the ready sockets of the set until none is ready, the wait queued before the last
  // look. After 16 full batches the rest waits for a posted turn, so other work runs meanwhile.
  void on_events() {
    epoll_event ready[64];
    for (int round = 0; round < 16; ++round) {
      int n = ::epoll_wait(events_->native_handle(), ready, 64, 0);
      if (n <= 0) {
        if (events_waiting_ || watched_ == 0) return;
        watch_events();
        n = ::epoll_wait(events_->native_handle(), ready, 64, 0);
        if (n <= 0) return;
      }
      for (int i = 0; i < n; ++i) {
        const auto fd = static_cast<curl_socket_t>(ready[i].data.u64 & 0xffffffffU);
        if (Membership& m = membership(fd); m.parked) {
          leave_set(fd, m);
          continue;
        }
        const std::uint32_t e = ready[i].events;
        const int what = ((e & (EPOLLIN | EPOLLHUP | EPOLLRDHUP)) ? CURL_CSELECT_IN : 0) |
                         ((e & EPOLLOUT) ? CURL_CSELECT_OUT : 0) | ((e & EPOLLERR) ? CURL_CSELECT_ERR : 0);
        Shard& shard = *shards_[ready[i].data.u64 >> 32];
        int running = 0;
        curl_multi_socket_action(shard.multi, fd, what, &running);
        shard.acted = true;
      }
      for (auto& shard : shards_)
        if (std::exchange(shard->acted, false)) drain_completed(*shard);
    }
    asio::post(*strand_, [this] { on_events(); });
  }

  // What the set holds for a descriptor.
  struct Membership {
    std::uint32_t events = 0;  // EPOLLIN / EPOLLOUT; 0: not in the set
    std::uint32_t shard = 0;
    bool parked = false;  // curl stopped watching it
  };

  Membership& membership(curl_socket_t fd) {
    const auto i = static_cast<std::size_t>(fd);
    if (i >= in_set_.size()) in_set_.resize(i + 1);
    return in_set_[i];
  }

  void leave_set(curl_socket_t fd, Membership& m) {
    ::epoll_ctl(events_->native_handle(), EPOLL_CTL_DEL, fd, nullptr);
    m = {};
  }

  // curl starts, changes or stops watching `fd`. `socketp` (set by curl_multi_assign) is
  // non-null while curl watches it.
  static int on_socket(CURL*, curl_socket_t fd, int what, void* userp, void* socketp) {
    auto* shard = static_cast<Shard*>(userp);
    BasicCurlService* self = shard->svc;
    Membership& m = self->membership(fd);
    if (what == CURL_POLL_REMOVE) {
      // A socket kept for writing would be ready at once, and wake us for nothing.
      if (m.events & EPOLLOUT) self->leave_set(fd, m);
      else m.parked = true;
      if (socketp && --self->watched_ == 0 && self->events_waiting_) self->events_->cancel();
      return 0;
    }
    epoll_event ev{};
    ev.events = ((what & CURL_POLL_IN) ? EPOLLIN : 0U) | ((what & CURL_POLL_OUT) ? EPOLLOUT : 0U);
    ev.data.u64 = (std::uint64_t{shard->index} << 32) | static_cast<std::uint32_t>(fd);
    const int ep = self->events_->native_handle();
    if (m.events == 0) {
      if (::epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) return -1;
    } else if ((m.events != ev.events || m.shard != shard->index) && ::epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev) != 0) {
      return -1;
    }
    m = {ev.events, shard->index, false};
    if (socketp) return 0;
    curl_multi_assign(shard->multi, fd, shard);
    ++self->watched_;
    self->watch_events();
    return 0;
  }

  // curl closes every socket of its connections here: the set forgets the descriptor (the
  // kernel takes a closed descriptor out of the set).
  static int on_close(void* clientp, curl_socket_t fd) {
    auto* self = static_cast<BasicCurlService*>(clientp);
    if (static_cast<std::size_t>(fd) < self->in_set_.size()) self->in_set_[static_cast<std::size_t>(fd)] = {};
    return ::close(fd);
  }

  // Re-arming an Asio timer rewrites the reactor's timerfd, and curl moves its deadline on
  // every state change: so a due-now request is a post, and a later deadline leaves an earlier
  // pending wake-up in place. curl reports a deadline only when it changes, so after an early
  // wake-up we ask it for the current one.
  static int on_timer(CURLM*, long timeout_ms, void* userp) {
    auto* shard = static_cast<Shard*>(userp);
    shard->svc->schedule(*shard, timeout_ms);
    return 0;
  }

  void schedule(Shard& shard, long timeout_ms) {
    if (timeout_ms < 0) {
      shard.timer->cancel();
      shard.timer_armed = false;
      return;
    }
    if (timeout_ms == 0) {
      // One pending timeout action serves every request made before it runs (each added
      // transfer asks for one).
      if (!shard.timeout_posted) {
        shard.timeout_posted = true;
        asio::post(*strand_, [this, s = &shard] {
          s->timeout_posted = false;
          act(*s, CURL_SOCKET_TIMEOUT, 0);
        });
      }
      return;
    }
    const auto when = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    if (shard.timer_armed && shard.timer->expiry() <= when) return;
    shard.timer_armed = true;
    shard.timer->expires_at(when);
    shard.timer->async_wait([this, s = &shard](boost::system::error_code ec) {
      if (ec) return;
      s->timer_armed = false;
      act(*s, CURL_SOCKET_TIMEOUT, 0);
      long next = -1;
      if (!s->timer_armed && curl_multi_timeout(s->multi, &next) == CURLM_OK && next >= 0) schedule(*s, next);
    });
  }

  static std::size_t on_body(char* data, std::size_t size, std::size_t count, void* userp) {
    auto* e = static_cast<Easy*>(userp);
    Transfer* t = e->transfer.get();
    if (t->request.on_data) {
      long status = 0;
      curl_easy_getinfo(e->h, CURLINFO_RESPONSE_CODE, &status);
      if (status >= 200 && status < 300) {
        // A stream is held whole by its decoder too: the same bound as a buffered body.
        if (size * count > t->request.max_response_bytes - std::min(t->request.max_response_bytes, t->streamed))
          return too_large(t);
        if (!budget(t, size * count)) return 0;
        t->streamed += size * count;
        try {
          return t->request.on_data(std::string_view(data, size * count)) ? size * count : 0;
        } catch (...) {
          return 0;  // nothing may unwind through curl
        }
      }
    }
    // A hostile or broken server must not make us buffer without bound: returning short makes
    // curl stop with CURLE_WRITE_ERROR.
    if (size * count > t->request.max_response_bytes - std::min(t->request.max_response_bytes, t->response.body.size()))
      return too_large(t);
    if (!budget(t, size * count)) return 0;
    t->response.body.append(data, size * count);
    return size * count;
  }

  // Takes `n` more bytes of the shared budget for `t`; false ends the transfer (over_budget).
  static bool budget(Transfer* t, std::size_t n) {
    if (reply_budget().take(n)) {
      t->budgeted += n;
      return true;
    }
    t->response.over_budget = true;
    t->response.limit = reply_budget().limit.load(std::memory_order_relaxed);
    // Its bytes go back now, not at completion: another reply's piece handled in the same
    // socket action must not fail for bytes this dead transfer still held.
    reply_budget().give_back(std::exchange(t->budgeted, 0));
    std::string().swap(t->response.body);
    return false;
  }

  static std::size_t too_large(Transfer* t) {
    t->response.too_large = true;
    t->response.limit = t->request.max_response_bytes;
    return 0;
  }

  static std::size_t on_header(char* data, std::size_t size, std::size_t count, void* userp) {
    Transfer* t = static_cast<Easy*>(userp)->transfer.get();
    const std::string_view line(data, size * count);
    if (line.starts_with("HTTP/")) t->response.retry_after.clear();  // a new response (after 100, redirects)
    constexpr std::string_view name = "retry-after";
    if (header_named(line, name)) t->response.retry_after.assign(trim(line.substr(name.size() + 1)));
    return size * count;
  }

  std::mutex init_mutex_;
  std::optional<asio::strand<Executor>> strand_;
  std::vector<std::unique_ptr<Shard>> shards_;
  std::vector<Easy*> active_;  // the handles curl has (owned here; Easy::active_index is the slot)
  std::optional<asio::posix::stream_descriptor> events_;  // the epoll set of curl's sockets
  bool events_waiting_ = false;
  std::size_t watched_ = 0;  // sockets in the set that curl watches
  std::vector<Membership> in_set_;  // by descriptor
  std::vector<std::unique_ptr<Easy>> idle_;
  std::size_t reply_bytes_ = 0;  // the replies' size lately (headers and body): a moving average
};

using CurlService = BasicCurlService<>;

#if defined(DSPY_SEPARATE_COMPILATION)
extern template class BasicCurlService<asio::any_io_executor>;  // compiled in <dspy/src.hpp>
#endif

/// `co_await async_http(ex, request, asio::use_awaitable)`: one POST on `ex`'s shared curl multis;
/// `request` must outlive the completion (it is not copied).
template <class Token>
auto async_http(const asio::any_io_executor& ex, const HttpRequest& request, Token&& token) {
  return asio::async_initiate<Token, void(HttpResponse)>(
      [](auto handler, CurlService* svc, const HttpRequest* req) { svc->start(*req, std::move(handler)); }, token,
      &CurlService::of(ex), &request);
}

}  // namespace dspy::detail

// Private to http_server: the server's shared state and one connection's
// session (Boost.Beast; http_session.cpp, its event-stream half in
// http_session_stream.cpp). Only net/http_server/*.cpp include this header.
//
// A session's life, every step on its own strand:
//
//   wait_request ──first byte──► read_header ──headers──► check (route,
//     ▲   │ idle timeout / stop       │ timeout, too large     auth, size)
//     │   ▼                           ▼                        │ refused
//     │  close ◄──────── lingering_close ◄── answer_and_close ◄┘
//     │                                                        │ accepted
//     │                                          read_body ◄───┘
//     │                                              │ timeout, too large → answer_and_close
//     │                                              ▼
//     └──── keep-alive ◄── write ◄── handler answers (responder) ── dispatch
//                           │                      or deadline / stop fallback
//                           └── stream (SSE): chunks until finish, stop or a
//                               full buffer
#pragma once

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <regex>
#include <shared_mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include "net/http_server/chunked_decoder.hpp"
#include "net/http_server/http_server.hpp"
#include "runtime/metrics/registry.hpp"

namespace agentgraph::net::http_server_detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
// Each connection's socket is bound to a strand of its own; its timers and
// every post to it use that executor, so one connection's steps never run
// concurrently.
using strand_type = asio::any_io_executor;

class session;

// Posting from foreign threads (CAF actors answering a request) into the
// io_context is only safe while it exists: every post goes through the
// gate, which the server closes before the io_context is destroyed.
// Responders and streams hold no executor of their own (a strand copy
// outliving the io_context would touch its freed strand service when
// destroyed), only a weak_ptr to their session, locked under the gate.
struct io_gate {
  std::shared_mutex mutex;
  bool open = true;  // guarded by mutex

  // Runs fn(session&) on the session's strand; false when the server is
  // gone or the session closed (fn does not run).
  template <class Fn>
  bool run_on(const std::weak_ptr<session>& owner, Fn&& fn);
};

// One request's answer slot, shared by its responder copies.
struct exchange {
  std::shared_ptr<io_gate> gate;
  std::weak_ptr<session> owner;
  uint64_t seq = 0;  // the session's request number
  uint64_t stream_limit = 0;  // stream_buffer_bytes, should it become a stream
  std::atomic<bool> answered{false};
};

// An event stream's queue, shared by the sse_stream handle (producers on
// any thread) and the session writing it.
struct stream_state {
  std::shared_ptr<io_gate> gate;
  std::weak_ptr<session> owner;
  uint64_t limit = 0;  // stream_buffer_bytes

  std::mutex mutex;
  std::string pending;      // guarded by mutex; SSE bytes not yet handed to the socket
  bool finish_requested = false;  // guarded by mutex
  bool ended = false;             // guarded by mutex; no more sends accepted
  bool flush_posted = false;      // guarded by mutex
  std::vector<std::function<void()>> on_close;  // guarded by mutex; run once, at the end

  // Marks the stream ended and runs the close callbacks (outside the lock).
  void end();
};

struct route_entry {
  std::string method;
  std::regex pattern;
  http_handler handler;
};

// The counters of agentgraph_http_*; null members when no registry was given.
struct server_metrics {
  metrics::gauge* connections = nullptr;
  metrics::counter* refused = nullptr;
  metrics::counter_family* rejected = nullptr;         // {reason}
  metrics::counter_family* streams_dropped = nullptr;  // {reason}

  void reject(const char* reason) const;
  void drop_stream(const char* reason) const;
};

}  // namespace agentgraph::net::http_server_detail

namespace agentgraph::net {

struct http_server::impl {
  explicit impl(http_server_options o);

  http_server_options opts;  // fixed once start() returns
  std::vector<http_server_detail::route_entry> routes;  // fixed after start()
  http_server_detail::server_metrics stats;

  // Declared before the io_context: sessions destroyed with it deregister here.
  std::mutex sessions_mutex;
  std::condition_variable sessions_changed;
  std::unordered_map<uint64_t, std::weak_ptr<http_server_detail::session>> sessions;  // guarded
  uint64_t next_session_id = 0;                         // guarded by sessions_mutex
  std::atomic<uint32_t> refusing{0};  // refused connections still lingering

  std::shared_ptr<http_server_detail::io_gate> gate = std::make_shared<http_server_detail::io_gate>();
  std::atomic<bool> stopping{false};
  std::chrono::steady_clock::time_point hard_deadline;  // set by stop() before sessions see stopping

  http_server_detail::asio::io_context io;
  std::optional<http_server_detail::asio::executor_work_guard<
    http_server_detail::asio::io_context::executor_type>>
    work;
  http_server_detail::asio::strand<http_server_detail::asio::io_context::executor_type>
    accept_strand{http_server_detail::asio::make_strand(io)};
  http_server_detail::tcp::acceptor acceptor{accept_strand};
  http_server_detail::asio::steady_timer accept_pause{accept_strand};
  std::vector<std::thread> threads;
  std::atomic<uint16_t> port{0};
  bool started = false;  // set by start() before any other thread runs
  std::mutex stop_mutex;
  bool stopped = false;  // guarded by stop_mutex

  // Body bytes reserved by requests being read (see bodies_bytes_max).
  std::atomic<uint64_t> bodies_reserved{0};
  bool reserve_body(uint64_t bytes);
  void release_body(uint64_t bytes);

  // True at most once a second: paces the log line of refused tokens.
  bool log_refusal_now();
  std::atomic<int64_t> last_refusal_log_ms{0};

  void accept();
  void on_accepted(http_server_detail::tcp::socket sock);
  // Takes what waits in the kernel's queue, then closes the acceptor.
  void drain_and_close_acceptor();
  void stop();
};

}  // namespace agentgraph::net

namespace agentgraph::net::http_server_detail {

class session : public std::enable_shared_from_this<session> {
 public:
  session(http_server::impl& srv, tcp::socket sock, uint64_t id);
  ~session();

  void start();
  // Answers 503 (Retry-After) without reading, then closes.
  void refuse();
  // The server is stopping (see the file comment of http_server.hpp).
  void on_stop();

  // From responders and streams, on the strand.
  void answer(uint64_t seq, server_response r);
  void begin_stream(uint64_t seq, std::shared_ptr<stream_state> st,
                    std::vector<std::pair<std::string, std::string>> headers);
  void set_deadline(uint64_t seq, std::chrono::milliseconds after, server_response fallback);
  void flush_stream();
  void drop_stream(const char* reason);
  // Closes the socket now, whatever is under way.
  void close();

  const strand_type& strand() const { return strand_; }

 private:
  enum class phase : uint8_t { idle, header, body, handling, writing, streaming, closing };

  void wait_request();
  void read_header();
  void on_header();
  // The body after the head: Content-Length through Beast's parser,
  // chunked through our chunked_decoder (see its header for why).
  void start_body();
  void read_body();
  void read_chunked();
  // A failed read of a request's headers or body: answers what can still be
  // answered (400, 413, 431), closes the rest.
  void on_read_error(beast::error_code ec, bool in_body);
  void dispatch();
  void write_answer(std::string bytes, bool keep_alive);
  // A refusal or error: answers with Connection: close, then lingers.
  void answer_and_close(int status, std::string_view code, std::string_view message,
                        std::vector<std::pair<std::string, std::string>> extra = {});
  void lingering_close();
  void linger_read();
  void after_write(bool keep_alive);
  void arm_stream_timer();
  // Writes sse_writing_; on completion flushes what was queued meanwhile,
  // or ends the stream once its terminator is out.
  void write_stream();
  // `d` as an expiry, cut to the server's hard deadline once it stops.
  void expire_after(std::chrono::milliseconds d);
  std::string serialize(const server_response& r, bool keep_alive) const;

  http_server::impl& srv_;
  const uint64_t id_;
  strand_type strand_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  asio::steady_timer answer_timer_;  // responder::deadline and the stop grace
  asio::steady_timer stream_timer_;  // SSE keep-alive comments
  phase phase_ = phase::idle;
  uint32_t served_ = 0;
  uint64_t seq_ = 0;
  unsigned version_ = 11;
  bool keep_alive_ = false;
  bool stopping_ = false;
  bool refusal_ = false;  // counted in srv_.refusing
  std::optional<server_response> fallback_;
  std::shared_ptr<stream_state> sse_;
  std::string sse_writing_;
  bool sse_chunked_ = true;
  bool sse_wrote_since_tick_ = false;
  bool sse_done_ = false;  // terminator queued
  std::string remote_;
  bool body_read_ = false;  // the current request's body was read whole
  uint64_t body_reserved_ = 0;  // held in srv_.bodies_reserved while reading it
  void release_body();
  std::optional<chunked_decoder> chunked_;
  std::string chunked_body_;
  size_t route_ = 0;                 // the matched route of the request being read
  std::vector<std::string> params_;  // its capture groups
  std::array<char, 4096> linger_buf_{};
  size_t linger_left_ = 0;
};

template <class Fn>
bool io_gate::run_on(const std::weak_ptr<session>& owner, Fn&& fn) {
  std::shared_lock lock{mutex};
  if (!open)
    return false;
  auto s = owner.lock();
  if (!s)
    return false;
  // The session is released on its strand (or with the io_context), never
  // on the caller's thread.
  auto& strand = s->strand();
  asio::post(strand, [s = std::move(s), fn = std::forward<Fn>(fn)]() mutable { fn(*s); });
  return true;
}

}  // namespace agentgraph::net::http_server_detail

// The HTTP/1.1 server of the node's gateway and admin endpoints: event
// driven, over Boost.Beast on Boost.Asio (kept out of this header). A few
// event-loop threads serve every connection, so the number of connections
// is bounded by `connections_max`, not by threads, and a slow or hostile
// client costs a socket and a buffer, never a thread.
//
// What it guarantees, in the order a request meets it:
//   - beyond `connections_max` open connections a new one is answered 503
//     (Retry-After) and closed, without reading it;
//   - the request line and headers must arrive within `header_timeout` of
//     their first byte and fit in `header_bytes_max` (431 otherwise);
//   - a target longer than 2 KiB gets 414; a Transfer-Encoding other than
//     a final `chunked` gets 501 (no framing a proxy could read otherwise);
//   - routing and the bearer token are checked on the headers alone, before
//     any body byte is read (404 / 401, then the connection is closed);
//   - the body limit holds for every framing: a Content-Length above
//     `body_bytes_max` is refused before reading, a chunked body is cut off
//     (413) the moment it passes the limit, and a request with neither has
//     no body (RFC 9112 §6.3), so there is no read-to-close body;
//   - all bodies being read at once stay within `bodies_bytes_max` (503);
//   - the whole body must arrive within `body_timeout`;
//   - an idle kept-alive connection is closed after `keep_alive_timeout`;
//   - a response must be taken by the client within `send_timeout`;
//   - an event stream buffers at most `stream_buffer_bytes` the client has
//     not taken; past that the subscriber is dropped (connection closed).
// Every refusal the server makes itself has a {"error":{"code","message"}}
// body; a response that ends a connection with unread input is followed by
// a lingering close (our side shut for writing, the rest of the input read
// and dropped for a bounded time) so the client reads the answer instead
// of a reset.
//
// Handlers run on an event-loop thread and must not block: they answer
// through the `responder` they are given, at once or later from any
// thread. A handler that does slow work hands it to an actor or another
// thread and answers from there.
//
// stop(): stops accepting (after taking every connection already waiting
// in the kernel's queue), answers 503 + Retry-After to every request read
// from then on and to every request still unanswered after `stop_grace`,
// finishes event streams after writing what they buffered, closes idle
// connections (after a short wait for a request already on the wire), and
// returns once every connection is closed: at most 2 x stop_grace, after
// which what is left (a client still sending, one not reading its answer)
// is cut, plus one more stop_grace for those to close.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <caf/expected.hpp>

namespace agentgraph::metrics {
class registry;
}  // namespace agentgraph::metrics

namespace agentgraph::net {

struct http_server_options {
  // Interface to bind; loopback unless the operator asks for more. An IPv6
  // address is given bare (`::1`), without brackets.
  std::string host = "127.0.0.1";
  // 0: the OS picks a free port (see http_server::port()).
  uint16_t port = 0;
  // Event-loop threads. They only parse, route and write, so one or two
  // serve thousands of connections.
  uint32_t threads = 2;
  // Open connections; one more is answered 503 and closed. The process's
  // open-file limit is raised to fit it where the hard limit allows (a
  // warning says when it does not).
  uint32_t connections_max = 10'000;
  // Request line plus headers.
  uint32_t header_bytes_max = 16 * 1024;
  // Larger request bodies get 413, whatever their framing.
  uint64_t body_bytes_max = 1 << 20;
  // Request bodies being read at once, over all connections (a declared
  // length counts in full from the headers on, a chunked body as
  // body_bytes_max); a request that would pass it gets 503 + Retry-After.
  // Bounds what slow uploads can hold, whatever connections_max allows.
  uint64_t bodies_bytes_max = 256ull << 20;
  // From the first byte of a request to the end of its headers.
  std::chrono::milliseconds header_timeout{10'000};
  // From the end of the headers to the end of the body.
  std::chrono::milliseconds body_timeout{30'000};
  // A kept-alive connection with no request in progress is closed after this.
  std::chrono::milliseconds keep_alive_timeout{5'000};
  // Writing one response (or one event-stream chunk) to the client.
  std::chrono::milliseconds send_timeout{30'000};
  // Requests served on one connection before it is closed.
  uint32_t keep_alive_requests_max = 1000;
  // Bytes of an event stream queued for a client that does not read; past
  // it the stream (and its connection) is dropped.
  uint64_t stream_buffer_bytes = 1 << 20;
  // An event stream with nothing to say writes a comment this often, which
  // is also what notices a client that went away.
  std::chrono::milliseconds stream_keep_alive{1'000};
  // A request no handler answered (nor gave a shorter responder::deadline)
  // gets 504 after this.
  std::chrono::milliseconds answer_timeout{std::chrono::hours{2}};
  // How long stop() lets handlers answer the requests they hold.
  std::chrono::milliseconds stop_grace{2'000};
  // Retry-After of the 503s sent while stopping and beyond connections_max.
  int retry_after_s = 5;
  // Empty: no auth. Otherwise every path not in `open_paths` needs
  // `Authorization: Bearer <token>`. Never logged.
  std::string auth_token;
  std::vector<std::string> open_paths;
  // Connections the kernel queues before accept (capped by somaxconn).
  int listen_backlog = 1024;
  // Log component of the server's own lines.
  std::string log_component = "http";
  // Optional: the server's counters and gauges (agentgraph_http_*) go here.
  // Must outlive the server.
  metrics::registry* metrics = nullptr;
};

struct server_request {
  std::string method;
  // Percent-decoded, without the query string.
  std::string path;
  std::string query;
  // Capture groups of the route's pattern, in order.
  std::vector<std::string> params;
  std::string body;
  std::string remote_addr;
  // Names lower-cased, in arrival order.
  std::vector<std::pair<std::string, std::string>> headers;

  // The first header of that (case-insensitive) name; empty when absent.
  [[nodiscard]] std::string header(std::string_view name) const;
};

struct server_sse_event {
  std::string event;  // empty: a plain `data` frame
  std::string data;
};

// A batch of stream events, as a task's event buffer hands them out.
// `finished`: nothing follows these events.
struct sse_step {
  std::vector<server_sse_event> events;
  bool finished = false;
};

struct server_response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

namespace http_server_detail {
struct exchange;
struct stream_state;
}  // namespace http_server_detail

// An event stream (`text/event-stream`) being written to one client.
// Thread-safe; every method may be called from any thread.
class sse_stream {
 public:
  explicit sse_stream(std::shared_ptr<http_server_detail::stream_state> st);
  // Queues the events. False once the stream has ended (client gone, its
  // buffer overflowed, server stopping, finished): stop producing.
  bool send(const std::vector<server_sse_event>& events);
  // Ends the stream after what is queued has been written.
  void finish();
  [[nodiscard]] bool open() const;
  // `fn` runs once when the server ends the stream (client gone, buffer
  // full, finished, stopping), on an event-loop thread, or at once on the
  // calling thread if it already ended. It must not block. (A stream whose
  // connection vanished under a producer's send just refuses further sends.)
  void on_close(std::function<void()> fn);

 private:
  std::shared_ptr<http_server_detail::stream_state> st_;
};

// How a handler answers its request: once, from any thread. Copies share
// the answer; the first one counts, later ones are ignored.
class responder {
 public:
  explicit responder(std::shared_ptr<http_server_detail::exchange> ex);
  void send(server_response r) const;
  // Answers 200 `text/event-stream` (plus `headers`) and returns the stream;
  // null when the request was already answered or its client is gone.
  [[nodiscard]] std::shared_ptr<sse_stream> stream(
    std::vector<std::pair<std::string, std::string>> headers = {}) const;
  // If nothing answered within `after`, `fallback` is sent. The earliest
  // deadline given for a request wins.
  void deadline(std::chrono::milliseconds after, server_response fallback) const;
  [[nodiscard]] bool answered() const;

 private:
  std::shared_ptr<http_server_detail::exchange> ex_;
};

using http_handler = std::function<void(const server_request&, responder)>;

class http_server {
 public:
  explicit http_server(http_server_options opts);
  // Stops the server if it runs.
  ~http_server();
  http_server(const http_server&) = delete;
  http_server& operator=(const http_server&) = delete;

  // Adds a route; only before start(). `pattern` is an ECMAScript regex over
  // the whole decoded path; its groups land in server_request::params.
  void route(std::string method, std::string pattern, http_handler handler);

  // Binds and serves. Errors: io_error (cannot bind), invalid_argument (zero
  // threads or connections, started twice, unusable host).
  [[nodiscard]] caf::error start();

  // The bound port (the OS's pick when the options said 0); 0 before start.
  [[nodiscard]] uint16_t port() const;

  // Open connections right now.
  [[nodiscard]] size_t connections() const;

  // See the file comment. Idempotent; never call it from a handler.
  void stop();

  struct impl;

 private:
  std::shared_ptr<impl> impl_;
};

// --- pure helpers (http_text.cpp), tested without a socket ---

// {"error":{"code":code,"message":message}}
[[nodiscard]] std::string json_error_body(std::string_view code, std::string_view message);
[[nodiscard]] server_response json_error(int status, std::string_view code,
                                         std::string_view message);
[[nodiscard]] server_response json_response(int status, std::string body);

// One SSE frame: "event: <event>\n" (if any), one "data: " line per line of
// `data`, then a blank line.
[[nodiscard]] std::string format_sse_event(const server_sse_event& e);

// Compares in time that depends only on the lengths, not on where the
// strings differ, so a token cannot be guessed byte by byte.
[[nodiscard]] bool constant_time_equal(std::string_view a, std::string_view b);

// The token of "Bearer <token>" (scheme case-insensitive); empty otherwise.
[[nodiscard]] std::string_view bearer_token(std::string_view authorization);

// The error code word of a status the server produces itself.
[[nodiscard]] std::string_view status_code_word(int status);

// The reason phrase of a status ("Not Found"); "Unknown" for others.
[[nodiscard]] std::string_view status_reason(int status);

// The value of one hex digit, or -1.
[[nodiscard]] int hex_value(char c);

// Decodes %XX escapes ('+' stays '+': this is a path, not a form). False
// on a malformed escape or a decoded NUL.
[[nodiscard]] bool percent_decode_path(std::string_view in, std::string& out);

// A request target split into its decoded path and its raw query. False
// for a target that is not origin-form ("/..."), or whose path does not
// decode.
[[nodiscard]] bool split_target(std::string_view target, std::string& path, std::string& query);

// "http://HOST:PORT" with IPv6 hosts in brackets ("http://[::1]:8080").
[[nodiscard]] std::string http_url(std::string_view host, uint16_t port);

}  // namespace agentgraph::net

// A small HTTP/1.1 server for the node's gateway and admin endpoints, over
// cpp-httplib (Debian's libcpp-httplib, 0.11). It adds what httplib leaves
// to the caller: a loopback default, a bounded worker pool (threads and
// queued connections), a request body limit, optional bearer-token auth with
// a constant-time compare, JSON error bodies, Server-Sent Events responses
// that stop when the client goes away or the server stops, TCP_NODELAY and a
// real listen backlog.
//
// httplib stays out of this header: handlers see plain server_request /
// server_response structs, so code that embeds agentgraph does not need it.
//
// Threads: handlers run on the server's worker threads, never on a CAF
// scheduler thread, so they may block (bounded) on futures and condition
// variables. Routes must be added before start(). stop() may be called from
// any thread, more than once.
//
// Errors every route can produce without running its handler, each with a
// {"error":{"code","message"}} body:
//   401 unauthorized     missing or wrong bearer token (WWW-Authenticate set)
//   404 not_found        no route matches the method and path
//   413 body_too_large   the body is larger than body_bytes_max
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

namespace agentgraph::net {

struct http_server_options {
  // Interface to bind; loopback unless the operator asks for more.
  std::string host = "127.0.0.1";
  // 0: the OS picks a free port (see http_server::port()).
  uint16_t port = 0;
  // Worker threads. httplib serves one connection per worker for as long as
  // it is kept alive, so this is also the bound on concurrent connections.
  uint32_t threads = 8;
  // Accepted connections waiting for a worker; beyond it the accept loop
  // waits, and new clients wait in the kernel's listen backlog.
  uint32_t pending_connections_max = 256;
  // Larger request bodies get 413 before any handler runs.
  uint64_t body_bytes_max = 1 << 20;
  // Empty: no auth. Otherwise every path not in `open_paths` needs
  // `Authorization: Bearer <token>`. Never logged.
  std::string auth_token;
  std::vector<std::string> open_paths;
  // An idle kept-alive connection is closed after this long. httplib 0.11
  // checks for stop() only between requests, so this also bounds how long
  // stop() waits for idle clients.
  std::chrono::seconds keep_alive_idle{2};
  // Requests served on one connection before it is closed.
  uint32_t keep_alive_requests_max = 1000;
  // Connections the kernel queues before accept (capped by somaxconn).
  // httplib's own listen() uses 5, which drops SYNs under a burst.
  int listen_backlog = 1024;
  // Log component of the server's own lines.
  std::string log_component = "http";
};

struct server_request {
  std::string method;
  std::string path;
  // Capture groups of the route's pattern, in order.
  std::vector<std::string> params;
  std::string body;
  std::string remote_addr;
  // Lower-cased name; empty when absent.
  std::function<std::string(std::string_view)> header;
};

struct server_sse_event {
  std::string event;  // empty: a plain `data` frame
  std::string data;
};

// One step of an SSE stream, called repeatedly on a worker thread: it may
// block up to `wait` for new events, then returns what to send. `finished`
// ends the response after these events.
struct sse_step {
  std::vector<server_sse_event> events;
  bool finished = false;
};
using sse_producer = std::function<sse_step(std::chrono::milliseconds wait)>;

struct server_response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  // Set: the response is `text/event-stream`, written chunk by chunk from
  // this producer until it finishes, the client goes away or the server
  // stops. `body` is ignored.
  sse_producer stream;
};

using http_handler = std::function<server_response(const server_request&)>;

class http_server {
 public:
  explicit http_server(http_server_options opts);
  // Stops the server if it runs.
  ~http_server();
  http_server(const http_server&) = delete;
  http_server& operator=(const http_server&) = delete;

  // Adds a route; only before start(). `pattern` is an ECMAScript regex over
  // the whole path; its groups land in server_request::params.
  void route(std::string method, std::string pattern, http_handler handler);

  // Binds and serves from a background thread. Errors: io_error (cannot
  // bind), invalid_argument (zero threads, started twice).
  [[nodiscard]] caf::error start();

  // The bound port (the OS's pick when the options said 0); 0 before start.
  [[nodiscard]] uint16_t port() const;

  // Stops accepting, ends SSE streams, waits for the workers (idle
  // kept-alive clients for at most keep_alive_idle). Idempotent.
  void stop();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
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

}  // namespace agentgraph::net

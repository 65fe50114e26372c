// An asynchronous HTTP client on libcurl's multi interface, for the LLM
// providers and anything else that must not block a CAF scheduler thread
// (ARCHITECTURE.md §3.4). One object owns one curl multi handle and ONE
// dedicated I/O thread that drives every transfer; callers submit requests
// from any thread and get their answer through callbacks on that I/O thread.
//
// What it gives: keep-alive and connection reuse across requests (the multi
// handle's connection cache), DNS and TLS-session sharing (a curl share
// handle), HTTP/2 when a TLS server offers it (plain http:// stays HTTP/1.1:
// no h2c upgrade), connect / total / stream-idle timeouts, bounded response
// and header sizes, a bound on requests in flight, proxies from the usual
// environment variables (http_proxy, https_proxy, all_proxy, no_proxy; curl
// ignores upper-case HTTP_PROXY on purpose) with loopback always direct, and
// counters. Redirects are not followed: a redirect would carry API-key
// headers (x-api-key, x-goog-api-key) to wherever the server points.
//
// Use from an actor without blocking: the handler returns at once and the
// answer comes back as a message (CAF 0.17 spelling; the message types are
// the integrator's):
//
//   using http_done_atom = caf::atom_constant<caf::atom("httpdone")>;
//   // in a handler of the event-based actor `self`; `client` outlives it
//   http_handlers h;
//   h.on_complete = [who = caf::actor_cast<caf::actor>(self), tag](http_result r) {
//     // I/O thread: hand the result over and return, never block here
//     if (r.response)
//       caf::anon_send(who, http_done_atom::value, tag, std::move(*r.response));
//     else
//       caf::anon_send(who, http_done_atom::value, tag, r.response.error(), r.transport);
//   };
//   auto id = client.submit(std::move(req), std::move(h));
//   if (!id)
//     return id.error();  // overloaded or invalid_argument, decided at once
//   // handlers for http_done_atom then deliver the response promise.
//
// For streaming, on_data anon_sends each chunk the same way; the actor calls
// client.cancel(*id) when its own caller gives up.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <caf/expected.hpp>

#include "runtime/error.hpp"

namespace agentgraph::net {

// Header fields in arrival (or sending) order. Response names are
// lower-cased so HTTP/1.1 and HTTP/2 answers look alike.
using http_headers = std::vector<std::pair<std::string, std::string>>;

// Case-insensitive lookup of the first field named `name`; nullptr if none.
[[nodiscard]] const std::string* find_header(const http_headers& headers, std::string_view name);

struct http_request {
  // An upper-case token: GET, POST, PUT, PATCH, DELETE, HEAD, ...
  std::string method = "GET";
  // http:// or https:// only; anything else is refused at submit.
  std::string url;
  // Sent as given. Values may hold secrets: they never appear in errors or
  // logs. Set Content-Type yourself; "Expect: 100-continue" is suppressed.
  http_headers headers;
  std::string body;
  // Overrides http_client_limits::total_timeout for this request.
  std::optional<std::chrono::milliseconds> total_timeout;
  // Overrides http_client_limits::stream_idle_timeout (streams only).
  std::optional<std::chrono::milliseconds> stream_idle_timeout;
  // true: the body goes to on_data as it arrives and http_response::body
  // stays empty; the stream-idle timeout applies; the request asks for no
  // compression (Accept-Encoding: identity), so events arrive as sent.
  bool stream = false;
};

struct http_response {
  long status = 0;       // any status, 4xx and 5xx included: they are answers
  http_headers headers;  // of the final response (1xx interim ones dropped)
  std::string body;      // empty for streamed requests
  int http_version = 0;  // 10, 11, 20 or 30 (HTTP/1.0 ... HTTP/3)
  // New connections this transfer opened (CURLINFO_NUM_CONNECTS): 0 means
  // it reused a kept-alive one.
  long connections_opened = 0;
};

// Why a transfer failed, finer than errc so a retry policy can decide.
// connect_timeout, connect_refused and dns mean the request never left this
// process: retrying is safe even for non-idempotent requests. The others
// may have reached the server.
enum class transport_error : uint8_t {
  none = 0,
  connect_timeout,      // no connection within connect_timeout (or the total deadline came first)
  total_timeout,        // connected, but the whole exchange outlived its total timeout
  stream_idle_timeout,  // a stream received no byte for stream_idle_timeout
  connect_refused,      // the host refused or could not be reached (CURLE_COULDNT_CONNECT)
  dns,                  // the host (or proxy) name did not resolve
  connection_reset,     // the connection broke mid-exchange: reset, closed early, nothing received
  tls,                  // TLS handshake or certificate verification failed
  protocol,             // the server spoke malformed HTTP (or HTTP/2 framing failed)
  response_too_large,   // body beyond response_bytes_max (error context names the limit)
  headers_too_large,    // headers beyond header_bytes_max (error context names the limit)
  invalid_request,      // bad URL, scheme, method or header (refused at submit)
  cancelled,            // cancel() or the client's destructor
  callback_failed,      // on_headers or on_data threw: a bug in the caller
  other,                // any other curl failure; the context carries curl's message
};
inline constexpr std::size_t transport_error_count = 15;

[[nodiscard]] const char* to_string(transport_error kind);

// The errc each kind maps to: timeouts → timeout; connect_refused, dns,
// connection_reset, tls → unavailable; protocol → provider_error; too large
// → limit_exceeded; invalid_request → invalid_argument; cancelled →
// cancelled; callback_failed → internal; other → io_error.
[[nodiscard]] errc errc_for(transport_error kind);

// What on_complete receives. `response` holds the answer or an agentgraph
// error (make_error(errc, "<kind>: <detail>")); `transport` says which kind
// of failure, and is none exactly when `response` holds a value.
struct http_result {
  caf::expected<http_response> response;
  transport_error transport = transport_error::none;
};

// All run on the client's I/O thread, must return quickly and must not
// block: every other transfer waits meanwhile. They may call submit() and
// cancel() on the same client, but must not destroy it.
struct http_handlers {
  // Optional. At most once: when the final response's header block is
  // complete, before any on_data. Not called if the transfer fails first.
  std::function<void(long status, const http_headers& headers)> on_headers;
  // Required when the request streams. Each chunk as it arrives, in order.
  std::function<void(std::string_view chunk)> on_data;
  // Required. Exactly once per accepted request, after every other callback.
  std::function<void(http_result result)> on_complete;
};

// Every bound of the client. Each one is hit as an error value, never as a
// wait: the caller's admission queue (provider pipeline) does the queueing.
struct http_client_limits {
  // submit() beyond this many unfinished requests returns errc::overloaded
  // at once. Also bounds the connections the client opens.
  uint32_t in_flight_max = 64;
  // TCP (+ TLS) connect, name resolution included → connect_timeout.
  std::chrono::milliseconds connect_timeout{5'000};
  // Whole exchange, from submit to the last byte → total_timeout. LLM
  // answers are slow, hence the generous default.
  std::chrono::milliseconds total_timeout{300'000};
  // Streams only: no byte at all (headers or body) for this long, counted
  // from the start of the transfer → stream_idle_timeout. Measured by the
  // client's own clock, not CURLOPT_LOW_SPEED_*: see http_client.cpp.
  std::chrono::milliseconds stream_idle_timeout{60'000};
  // Decoded body bytes (buffered or streamed) → response_too_large.
  uint64_t response_bytes_max = 16ull << 20;
  // All header lines of the response, interim ones included → headers_too_large.
  uint64_t header_bytes_max = 64ull << 10;
};

// A snapshot; each figure is monotonic over the client's life.
struct http_client_counters {
  uint64_t requests = 0;             // accepted by submit
  uint64_t rejected_overloaded = 0;  // refused by submit: in_flight_max reached
  uint64_t responses = 0;            // completed with an HTTP response (any status)
  uint64_t connections_opened = 0;   // sum of CURLINFO_NUM_CONNECTS
  uint64_t bytes_in = 0;             // header + decoded body bytes received
  uint64_t bytes_out = 0;            // request header + body bytes sent
  // Failures by kind, indexed by transport_error (invalid requests refused
  // at submit count under invalid_request; none stays 0).
  std::array<uint64_t, transport_error_count> errors{};
};

using request_id = uint64_t;

// What a provider needs of an HTTP client: the seam where `agentgraph sim`
// puts its simulated LLM endpoints (actors/sim/sim_llm.hpp) in place of
// libcurl, so the provider pipeline above it (admission, rate limiter,
// breaker, retries) is the code real nodes run. The contract is
// http_client's, below: on success on_complete is called exactly once;
// on error no handler is ever called.
class http_transport {
 public:
  virtual ~http_transport() = default;
  [[nodiscard]] virtual caf::expected<request_id> submit(http_request req, http_handlers h) = 0;
  virtual void cancel(request_id id) = 0;
};

// Thread-safety: submit(), cancel(), counters() and limits() may be called
// from any thread concurrently, including from inside the callbacks. The
// destructor must not race with them (as with any object) and must not run
// on the I/O thread (i.e. inside a callback).
//
// Lifetime: the destructor completes every unfinished request with
// errc::cancelled (exactly once each, on the I/O thread) and joins the I/O
// thread before returning.
class http_client final : public http_transport {
 public:
  explicit http_client(http_client_limits limits);
  ~http_client();

  http_client(const http_client&) = delete;
  http_client& operator=(const http_client&) = delete;

  // Starts `req`. On success the id names it for cancel(), and
  // h.on_complete will be called exactly once. On error nothing is started
  // and no handler will ever be called: errc::overloaded (in_flight_max
  // unfinished requests; back off or shed), errc::invalid_argument (bad
  // URL, scheme, method, header or timeout override), errc::unavailable
  // (the client is shutting down).
  [[nodiscard]] caf::expected<request_id> submit(http_request req, http_handlers h) override;

  // Completes `id` with errc::cancelled soon (on the I/O thread), unless it
  // completes first. Unknown and finished ids are ignored.
  void cancel(request_id id) override;

  [[nodiscard]] http_client_counters counters() const;
  [[nodiscard]] const http_client_limits& limits() const;

  struct impl;  // public only so the I/O loop's helpers can name it

 private:
  std::unique_ptr<impl> impl_;
};

}  // namespace agentgraph::net

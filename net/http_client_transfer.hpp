// Internals of http_client, not part of its API: one transfer's state, the
// curl callbacks that fill it, request validation and failure
// classification. Kept apart from the I/O loop (http_client.cpp) so the
// pure pieces can be tested alone and each file stays short.
#pragma once

#include <curl/curl.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <caf/error.hpp>

#include "net/http_client.hpp"

namespace agentgraph::net::http_client_transfer_detail {

using clock = std::chrono::steady_clock;

// Figures shared by the I/O thread (writer) and counters() (any reader).
struct atomic_counters {
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> rejected_overloaded{0};
  std::atomic<uint64_t> responses{0};
  std::atomic<uint64_t> connections_opened{0};
  std::atomic<uint64_t> bytes_in{0};
  std::atomic<uint64_t> bytes_out{0};
  std::array<std::atomic<uint64_t>, transport_error_count> errors{};

  void count_error(transport_error kind) {
    errors[static_cast<std::size_t>(kind)].fetch_add(1, std::memory_order_relaxed);
  }
  [[nodiscard]] http_client_counters snapshot() const;
};

// Why one of our callbacks stopped a transfer: curl itself only reports
// CURLE_WRITE_ERROR, which would hide the limit that was hit.
enum class abort_reason : uint8_t { none, response_too_large, headers_too_large, callback_failed };

// One request from submit to on_complete. Built on the submitting thread,
// then owned and touched only by the I/O thread (the hand-over goes through
// the client's mutex). Heap-allocated and never moved: curl holds pointers
// to it (CURLOPT_PRIVATE, the callback data) and to req.body (POSTFIELDS).
struct transfer {
  transfer(request_id id_in, http_request req_in, http_handlers h_in,
           const http_client_limits& limits, atomic_counters& counters_in);
  ~transfer();  // curl_easy_cleanup of a handle not parked for reuse; out of the multi by then
  transfer(const transfer&) = delete;
  transfer& operator=(const transfer&) = delete;

  const request_id id;
  const http_request req;
  http_handlers handlers;
  const uint64_t response_bytes_max;
  const uint64_t header_bytes_max;
  // Zero unless the request streams: then no byte for this long aborts it.
  const std::chrono::milliseconds idle_timeout;
  atomic_counters& counters;

  CURL* easy = nullptr;
  curl_slist* header_list = nullptr;
  http_response response;
  bool added = false;         // in the multi handle (set and read on the I/O thread)
  bool headers_done = false;  // on_headers ran; later header lines are trailers
  bool request_sent = false;  // connected and about to send (CURLOPT_PREREQFUNCTION)
  uint64_t header_bytes = 0;
  uint64_t body_bytes = 0;
  clock::time_point last_byte;  // set when added to the multi, then on every byte
  abort_reason aborted = abort_reason::none;
  char errbuf[CURL_ERROR_SIZE] = {};
};

// Checks what curl would only reject late, or not at all: method token,
// http(s) URL, header names and values free of line breaks (no header
// injection), positive timeout overrides. The message names the field, never
// a header value: values carry API keys.
[[nodiscard]] caf::error validate(const http_request& req);

// Sets every option of t.easy (a new or a reset handle, set by the caller;
// null means curl_easy_init failed: io_error) except CURLOPT_SHARE, which
// touches the share handle and so is set on the I/O thread.
[[nodiscard]] caf::error prepare(transfer& t, const http_client_limits& limits,
                                 const std::string& noproxy);

// The CURLOPT_NOPROXY value: the environment's no_proxy (curl's own
// precedence: no_proxy, then NO_PROXY) plus loopback, so a proxy from the
// environment never sees loopback traffic. Setting CURLOPT_NOPROXY replaces
// the variable, hence the merge. "*" (no proxy for anything) stays "*".
[[nodiscard]] std::string noproxy_list(const char* env_value);

// Pure pieces of header parsing. The status line ("HTTP/1.1 200 OK",
// "HTTP/2 200") gives the status; a field line gives (lower-case name, value).
[[nodiscard]] std::optional<long> parse_status_line(std::string_view line);
[[nodiscard]] std::optional<std::pair<std::string, std::string>> parse_field(std::string_view line);

// Maps a finished transfer to a kind. `request_sent` separates a connect
// timeout (nothing sent: safe to retry) from a total timeout.
[[nodiscard]] transport_error classify(CURLcode rc, abort_reason aborted, bool request_sent);

// The error a failed transfer completes with: "<kind>: <detail>", where the
// detail is curl's message or the limit that was hit, never a header.
[[nodiscard]] http_result failure(transport_error kind, std::string_view detail);
[[nodiscard]] std::string failure_detail(const transfer& t, transport_error kind, CURLcode rc);

// CURLINFO_HTTP_VERSION (CURL_HTTP_VERSION_*) as 10, 11, 20, 30; 0 if unknown.
[[nodiscard]] int http_version_of(long curl_version);

}  // namespace agentgraph::net::http_client_transfer_detail

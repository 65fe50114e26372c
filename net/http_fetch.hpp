// One blocking HTTP GET with libcurl's easy interface, with every limit
// explicit: connect timeout, total timeout, body size. Redirects are not
// followed (a redirect could leave a host allow-list the caller checked) and
// only http and https are spoken. It blocks the calling thread for up to
// `timeout`: call it from a detached actor or a plain thread, never from a
// handler on the CAF scheduler.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include <caf/expected.hpp>

namespace agentgraph::net {

struct http_fetch_limits {
  std::chrono::milliseconds connect_timeout{2'000};
  std::chrono::milliseconds timeout{10'000};  // whole transfer, connect included
  // A larger body aborts the transfer as soon as the excess arrives (or up
  // front when Content-Length announces it).
  uint64_t body_bytes_max = 1 << 20;
};

struct http_fetch_response {
  long status = 0;           // 3xx is returned as is: redirects are not followed
  std::string content_type;  // "" when the server sent none
  std::string body;
};

// Errors: timeout (connect or total timeout passed); limit_exceeded (body
// larger than body_bytes_max, naming the limit); unavailable (host could not
// be resolved or refused the connection); invalid_argument (malformed URL or
// a scheme other than http/https); io_error (any other transfer failure,
// with curl's message). HTTP error statuses (4xx, 5xx) are responses, not
// errors.
[[nodiscard]] caf::expected<http_fetch_response> http_fetch(const std::string& url,
                                                            const http_fetch_limits& limits);

}  // namespace agentgraph::net

// A small blocking client of a node's gateway for the CLI (`status`,
// `submit`): one net::http_client, waits on the calling (main) thread,
// never on a CAF thread. Every wait is bounded by the request's timeout.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include <caf/expected.hpp>

#include "net/http_client.hpp"
#include "net/sse/sse_parser.hpp"

namespace agentgraph::cli {

struct gateway_target {
  std::string url;    // http://host:port, no trailing slash needed
  std::string token;  // bearer token; empty: none
  std::chrono::milliseconds timeout{60'000};
};

// Reads the bearer token from the variable `env_name` (may be unset: empty).
// A `--token-env` given on purpose must name a set variable; cmd_client.cpp
// refuses the command otherwise.
[[nodiscard]] std::string token_from_env(const std::string& env_name);

struct gateway_reply {
  long status = 0;
  std::string body;
};

class gateway_client {
 public:
  explicit gateway_client(gateway_target target);
  // GET, POST or PUT `path` ("/v1/agents"); a JSON body for POST and PUT.
  [[nodiscard]] caf::expected<gateway_reply> get(const std::string& path);
  [[nodiscard]] caf::expected<gateway_reply> post_json(const std::string& path,
                                                       const std::string& body);
  [[nodiscard]] caf::expected<gateway_reply> put_json(const std::string& path,
                                                      const std::string& body);
  // Streams the SSE body of GET `path`, calling on_event for each event on
  // this thread, until the server ends the stream or on_event returns
  // false. Errors: the transport's, or provider_error for a non-2xx answer
  // (with its body).
  [[nodiscard]] caf::error stream_events(const std::string& path,
                                         const std::function<bool(const sse_event&)>& on_event);

 private:
  [[nodiscard]] caf::expected<gateway_reply> send(net::http_request req);
  [[nodiscard]] caf::expected<gateway_reply> send_json(const std::string& method,
                                                       const std::string& path,
                                                       const std::string& body);
  [[nodiscard]] net::http_request make(const std::string& method, const std::string& path) const;

  gateway_target target_;
  net::http_client http_;
};

}  // namespace agentgraph::cli

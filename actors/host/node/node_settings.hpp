// Settings of the node process's HTTP gateway and its shutdown: the [node]
// section of a node config (actors/host/node_config.hpp), next to the
// gateway that reads them.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace agentgraph {

// The [node] section: the HTTP gateway of `agentgraph node` and its
// shutdown. The gateway reads these through gateway_config_from
// (gateway.hpp); their keys are declared in node_config_keys.cpp.
struct node_settings {
  // Interface the gateway binds; loopback unless the operator opens it.
  std::string listen = "127.0.0.1";
  // 0: the OS picks a free port (printed on the `listening on` line).
  uint32_t port = 8080;
  // Name of the environment variable holding the bearer token; empty: no
  // auth. The token itself never appears in a config file or a log.
  std::string auth_token_env;
  // The HTTP server's event-loop threads and its bounds (net/http_server).
  uint32_t http_threads = 2;
  uint32_t connections_max = 10'000;
  uint32_t header_bytes_max = 16 * 1024;
  std::chrono::milliseconds header_timeout{10'000};
  std::chrono::milliseconds body_timeout{30'000};
  std::chrono::milliseconds keep_alive_timeout{5'000};
  std::chrono::milliseconds send_timeout{30'000};
  uint64_t stream_buffer_bytes = 1 << 20;
  uint64_t bodies_bytes_max = 256ull << 20;
  uint32_t tasks_in_flight_max = 256;
  uint32_t tasks_kept = 1024;
  uint32_t task_events_max = 1024;
  uint64_t body_bytes_max = 1 << 20;
  std::chrono::milliseconds health_ping_timeout{1'000};
  // How long a draining node waits for accepted tasks before cancelling them.
  std::chrono::milliseconds shutdown_deadline{30'000};
};

}  // namespace agentgraph

// Settings of one supervisor. Plain data, filled from the [supervisor]
// config section (keys: supervision_config_keys.hpp) or by embedding code.
#pragma once

#include <chrono>
#include <cstdint>

namespace agentgraph {

struct supervision_config {
  // One-for-one restarts: at most restarts_max within restart_window; one
  // more crash and the supervisor gives up (escalates) and stops itself,
  // so its own supervisor or the Runtime sees it go down.
  uint32_t restarts_max = 5;
  std::chrono::milliseconds restart_window{10'000};
  // The supervisor pings its child (a group: every child) each
  // heartbeat_interval; a child that misses heartbeat_misses_max pings in a
  // row is killed and restarted. 0 ms (the default) disables heartbeats:
  // an idle agent then costs no CPU, and a handler stuck too long is caught
  // by its callers' deadlines instead (ARCHITECTURE §6).
  std::chrono::milliseconds heartbeat_interval{0};
  uint32_t heartbeat_misses_max = 3;
  // Deadline of every request the supervisor forwards to its child. Callers
  // get a timeout error when it passes, never a hang.
  std::chrono::milliseconds request_timeout{60'000};
};

}  // namespace agentgraph

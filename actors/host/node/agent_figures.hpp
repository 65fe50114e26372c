// The per-agent figures GET /v1/agents reports, computed exactly from the
// counters an agent keeps (agent_stats): nothing is sampled or estimated.
// Pure, so the arithmetic is table-tested without an actor system.
#pragma once

#include "actors/agent/agent_interface.hpp"

namespace agentgraph {

struct agent_figures {
  double requests_per_second = 0;  // tasks_completed / uptime seconds
  double tokens_per_second = 0;    // total_tokens / uptime seconds
  double avg_response_ms = 0;      // response_time_avg_us / 1000
  double error_rate = 0;           // errors / (tasks_completed + errors); 0 when none
};

// Rates are 0 while the uptime is 0 (an agent that has just started).
[[nodiscard]] agent_figures compute_agent_figures(const agent_stats& s);

}  // namespace agentgraph

#include "actors/host/node/agent_figures.hpp"

namespace agentgraph {

agent_figures compute_agent_figures(const agent_stats& s) {
  agent_figures f;
  if (s.uptime_ms > 0) {
    const double seconds = static_cast<double>(s.uptime_ms) / 1000.0;
    f.requests_per_second = static_cast<double>(s.tasks_completed) / seconds;
    f.tokens_per_second = static_cast<double>(s.total_tokens) / seconds;
  }
  f.avg_response_ms = static_cast<double>(s.response_time_avg_us) / 1000.0;
  const uint64_t ended = s.tasks_completed + s.errors;
  if (ended > 0)
    f.error_rate = static_cast<double>(s.errors) / static_cast<double>(ended);
  return f;
}

}  // namespace agentgraph

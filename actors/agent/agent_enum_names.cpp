// Names of the enums declared in the agent's interface and config headers.
// The parse function is the inverse used by config binding.
#include "actors/agent/agent_config.hpp"
#include "actors/agent/agent_interface.hpp"

namespace agentgraph {

const char* to_string(agent_status s) {
  switch (s) {
    case agent_status::idle: return "idle";
    case agent_status::busy: return "busy";
    case agent_status::failed: return "failed";
  }
  return "unknown";
}

const char* to_string(agent_role r) {
  switch (r) {
    case agent_role::general: return "general";
    case agent_role::coding: return "coding";
    case agent_role::analysis: return "analysis";
    case agent_role::creative: return "creative";
  }
  return "unknown";
}

std::optional<agent_role> parse_agent_role(const std::string& s) {
  for (auto r : agent_roles)
    if (s == to_string(r))
      return r;
  return std::nullopt;
}

double preset_temperature(agent_role r) {
  switch (r) {
    case agent_role::coding: return 0.1;
    case agent_role::analysis: return 0.3;
    case agent_role::creative: return 0.8;
    case agent_role::general: return 0.5;
  }
  return 0.5;
}

}  // namespace agentgraph

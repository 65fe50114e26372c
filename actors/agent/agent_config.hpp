// Configuration of one agent: [agent.<name>] sections, or built in code.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace agentgraph {

// Role presets carry a temperature by use case; an explicit temperature in
// the config overrides the preset.
enum class agent_role : uint8_t { general, coding, analysis, creative };
// Every role, in declaration order: the choices of the `role` key.
inline constexpr agent_role agent_roles[] = {agent_role::general, agent_role::coding,
                                             agent_role::analysis, agent_role::creative};
[[nodiscard]] const char* to_string(agent_role r);
[[nodiscard]] std::optional<agent_role> parse_agent_role(const std::string& s);
[[nodiscard]] double preset_temperature(agent_role r);  // 0.5 / 0.1 / 0.3 / 0.8

struct agent_config {
  std::string name;
  agent_role role = agent_role::general;
  std::string system_prompt;
  std::string provider = "scripted";  // name of a [provider.<name>] section
  std::string model = "scripted-1";
  // Providers tried in order after `provider` (see actors/provider/fallback_provider.hpp).
  std::vector<std::string> fallback;
  // Exact-match LLM response cache (actors/provider/caching_provider.hpp); off by default.
  bool llm_cache = false;
  std::chrono::milliseconds llm_cache_ttl{3'600'000};
  uint32_t llm_cache_entries_max = 256;
  std::optional<double> temperature;  // unset: the role's preset
  int32_t max_tokens = 1024;
  std::vector<std::string> tools;  // names of [tool.<name>] sections
  // Topics whose messages reach the agent as tasks (actors/topic/): an
  // agent's one input is a task, so a message is one; what it answers is
  // dropped (it may publish its own results through a publish tool).
  std::vector<std::string> subscribe;
  std::string memory;              // name of a [memory.<name>] section; empty: none
  uint32_t memory_recall_k = 3;    // entries recalled into the prompt per task
  // Not config keys: a population sets them for each of its instances
  // (actors/population/). Non-empty memory_scope: every entry the agent
  // stores carries metadata "scope" = memory_scope, and its recalls see
  // only the entries of memory_scope and of memory_shared_scopes, so the
  // keys of a population share shards without sharing memories.
  std::string memory_scope;
  std::vector<std::string> memory_shared_scopes;
  // Conversation turns kept between tasks (each turn: user + assistant).
  // One history per agent, shared by all its callers: an agent is one
  // conversational identity. Use separate agents to keep callers apart.
  uint32_t history_window = 8;
  // Deadline of each model call and each tool call.
  std::chrono::milliseconds request_timeout{30'000};
  // Model calls per task end at max_tool_iterations tool rounds; the task
  // then fails with limit_exceeded.
  uint32_t max_tool_iterations = 6;
  // Tasks accepted at once; more get `overloaded` immediately.
  uint32_t tasks_in_flight_max = 16;
  // Node of a cluster that builds the agent: "any" (every node) or a
  // [cluster] node_id (actors/host/placement.hpp).
  std::string placement = "any";

  [[nodiscard]] double effective_temperature() const {
    return temperature ? *temperature : preset_temperature(role);
  }
};

}  // namespace agentgraph

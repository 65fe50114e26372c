// Configuration of one tool: [tool.<name>] sections. `kind` selects the
// built-in; only the keys of that kind apply.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace agentgraph {

struct tool_config {
  std::string name;
  std::string kind;  // file_read | http_get | calculator | agent | publish
  // Caching wrapper, for tools whose spec says deterministic.
  bool cache = false;
  std::chrono::milliseconds cache_ttl{300'000};
  uint32_t cache_entries_max = 256;
  // file_read
  std::string root;                   // reads are confined below this directory
  uint64_t file_bytes_max = 1 << 20;  // larger files are refused
  // http_get
  std::vector<std::string> allowed_hosts;  // exact host names; empty: none allowed
  std::chrono::milliseconds connect_timeout{2'000};
  std::chrono::milliseconds timeout{10'000};
  uint64_t body_bytes_max = 1 << 20;
  // agent: the tool hands its `task` argument to this agent
  std::string agent;
  // publish: the topics the tool may publish to (actors/tool/publish_tool.hpp)
  std::vector<std::string> topics;
  // Node of a cluster that builds the tool: "any" (every node) or a
  // [cluster] node_id (actors/host/placement.hpp).
  std::string placement = "any";
};

}  // namespace agentgraph

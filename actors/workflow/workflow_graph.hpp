// A workflow: a graph of nodes (an agent, a tool or a registered C++
// function) joined by edges, run in super-steps over a Value state whose
// keys each have a reducer. This header is the model and its validation;
// it runs nothing. Built by workflow_builder (C++) or parsed from a
// workflow file (workflow_file.hpp); both end in validate_graph, so every
// graph that runs was checked the same way.
//
// Edges:
//   plain        from -> to             (several `to`: parallel fan-out)
//   join         [a, b] -> to           (to runs once, after a AND b completed)
//   conditional  from -> first branch whose condition holds, else `else`
//   route        from -> routes[value of a state key] (the agent's chosen route)
//   error        from -> to when the node failed after its retries
// The pseudo-node END ends the run. Cycles are allowed; max_steps bounds them.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <caf/error.hpp>

#include "actors/workflow/condition.hpp"
#include "runtime/value.hpp"

namespace agentgraph {

// The pseudo-node every run must be able to reach.
inline constexpr const char* workflow_end = "END";

// Bounds of a graph; validate_graph enforces them.
constexpr size_t workflow_nodes_max = 256;
constexpr size_t workflow_edges_max = 1024;
constexpr size_t workflow_fanout_max = 64;
constexpr uint32_t workflow_max_steps_limit = 10'000;
constexpr size_t workflow_state_keys_max = 256;

enum class node_kind : uint8_t { agent, tool, function };
[[nodiscard]] const char* to_string(node_kind k);

enum class reducer_kind : uint8_t { overwrite, append, merge, function };
[[nodiscard]] const char* to_string(reducer_kind k);

// How updates to one state key combine (state_reducer.hpp).
struct state_key_spec {
  std::string name;
  reducer_kind reducer = reducer_kind::overwrite;
  std::string function;  // reducer_kind::function: a registered reducer's name
};

struct node_spec {
  std::string name;
  node_kind kind = node_kind::agent;
  std::string target;  // the agent, tool or registered function it calls
  // agent: the task text, a template over the state ("Review: {{draft}}").
  std::string input;
  // tool: the arguments object; string values may be templates.
  Value arguments = Value::object();
  // State key receiving the node's result (agent: its answer text; tool: its
  // output). Empty for functions: they return an update object themselves.
  std::string output;
  std::chrono::milliseconds timeout{60'000};
  uint32_t retries_max = 0;
  // > 0: the node is deterministic; its update is cached for this long,
  // keyed by node, target and its inputs (the rendered input or arguments;
  // for functions the whole state), in the multi-level cache.
  std::chrono::milliseconds cache_ttl{0};
};

enum class edge_kind : uint8_t { plain, join, conditional, route, error };
[[nodiscard]] const char* to_string(edge_kind k);

struct edge_branch {
  std::optional<condition> when;  // empty: the `else` branch
  std::string to;
};

struct edge_spec {
  edge_kind kind = edge_kind::plain;
  std::vector<std::string> from;  // one, except for join
  std::vector<std::string> to;    // plain: one or more; join, error: one
  std::vector<edge_branch> branches;           // conditional, in order
  std::string route_key;                       // route: state key holding the choice
  std::map<std::string, std::string> routes;   // route: choice -> node

  [[nodiscard]] std::string describe() const;  // "edge plan -> [a, b]", for messages
};

struct workflow_graph {
  std::string name;
  std::string entry;
  uint32_t max_steps = 25;
  std::vector<state_key_spec> state;
  std::vector<node_spec> nodes;
  std::vector<edge_spec> edges;
  std::vector<std::string> interrupt_before;
  std::vector<std::string> interrupt_after;

  [[nodiscard]] const node_spec* find_node(const std::string& name) const;
  [[nodiscard]] const state_key_spec* find_key(const std::string& name) const;
};

// What validate_graph may check names against; a null function means
// "don't check" (the C++ builder checks functions when the run starts).
struct graph_names {
  std::function<bool(const std::string&)> has_agent;
  std::function<bool(const std::string&)> has_tool;
  std::function<bool(const std::string&)> has_function;
  std::function<bool(const std::string&)> has_reducer;
};

// Rejects a graph that cannot run, naming the node or edge: no entry, an
// unknown node in an edge or interrupt list, a duplicate node, END used as
// a node name, a node without an outgoing edge, a conditional edge without
// an `else`, a route edge without routes, a node unreachable from the entry,
// END unreachable, bounds crossed, unknown targets (when `names` can tell).
// Errors: invalid_argument.
[[nodiscard]] caf::error validate_graph(const workflow_graph& g, const graph_names& names = {});

// Only the name checks of validate_graph, in its order and its words: for
// a graph whose structure passed validate_graph before (workflow_plan.hpp
// caches that verdict), so the error is the one validate_graph would give.
[[nodiscard]] caf::error check_graph_names(const workflow_graph& g, const graph_names& names);

}  // namespace agentgraph

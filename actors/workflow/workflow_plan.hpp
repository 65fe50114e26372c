// A workflow graph indexed for running: made once per graph after
// validate_graph passed, immutable, shared by every run of that graph.
// Nodes get ranks (their position in node-name order), edges their sources
// and targets as ranks, the interrupt lists become sets of ranks. A run then
// keeps its active nodes and join progress as bit sets (node_set) instead
// of sets of names: a super-step's bookkeeping allocates nothing, and the
// ascending rank order of a set is the node-name order in which a step's
// updates merge (state_reducer.hpp).
//
// Plans of graphs shared by pointer are cached (find_workflow_plan /
// plan_workflow), so a graph run many times (a workflow the gateway
// serves, one the caller keeps) is checked and indexed once, not per run.
#pragma once

#include <bitset>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <caf/expected.hpp>

#include "actors/workflow/workflow_graph.hpp"

namespace agentgraph {

// A node's position in name order; no_node stands for END (or none).
using node_rank = uint16_t;
inline constexpr node_rank no_node = 0xFFFF;
static_assert(workflow_nodes_max < no_node, "ranks must fit below no_node");

// A set of nodes by rank (the bound on nodes is the set's size).
using node_set = std::bitset<workflow_nodes_max>;

struct planned_edge {
  node_rank from = no_node;   // the source (joins: no_node, see sources)
  node_set sources;           // join: its sources
  node_set targets;           // plain: its targets, END left out
  node_rank to = no_node;     // join, error: its target (no_node: END)
  std::vector<node_rank> branches;  // conditional: each branch's target, in order
  std::map<std::string, node_rank, std::less<>> routes;  // route: choice -> target
};

struct workflow_plan {
  std::vector<uint16_t> node_index;  // rank -> position in graph.nodes
  node_rank entry = 0;
  std::vector<planned_edge> edges;   // graph.edges, same order (joins are saved by index)
  // rank -> index of the node's error edge (the last one declared wins, as
  // it always did), or no_edge.
  static constexpr size_t no_edge = static_cast<size_t>(-1);
  std::vector<size_t> error_edge;
  node_set interrupt_before;
  node_set interrupt_after;

  [[nodiscard]] size_t size() const { return node_index.size(); }
  [[nodiscard]] const node_spec& node(const workflow_graph& g, node_rank r) const;
  // The rank of the node named `name`, by binary search; nullopt for END or
  // a name the graph lacks.
  [[nodiscard]] std::optional<node_rank> rank_of(const workflow_graph& g,
                                                 std::string_view name) const;
};

// The plan of `g`, which must have passed validate_graph (a name it cannot
// resolve is a broken invariant: AG_ASSERT). Pure.
[[nodiscard]] std::shared_ptr<const workflow_plan> make_workflow_plan(const workflow_graph& g);

// Bound on the plans kept for graphs shared by pointer. Past it, plans of
// graphs that died are dropped first; if none did, the new plan is not
// kept (that graph is then checked on every run, as before the cache).
constexpr size_t workflow_plans_cached_max = 256;

// The plan of `g` for a run that may call `names`: the cached plan when `g`
// (this very object, still alive) was planned before, after checking only
// its names (check_graph_names: a graph's structure cannot change, the
// agents, tools and functions around it can); otherwise validate_graph(g,
// names) and a new plan, cached. So every error a caller saw before the
// cache it still sees, word for word. A graph shared by pointer must not be
// changed afterwards: its plan is reused by identity. Thread-safe (runs
// start on any thread). Errors: validate_graph's (invalid_argument).
[[nodiscard]] caf::expected<std::shared_ptr<const workflow_plan>>
plan_workflow(const std::shared_ptr<const workflow_graph>& g, const graph_names& names = {});

// The cached plan of `g`, or null. Checks nothing: for a caller that has
// just resolved every name of `g` itself (spawn_workflow_run binds each
// node's target once per run, which is that check).
[[nodiscard]] std::shared_ptr<const workflow_plan>
find_workflow_plan(const std::shared_ptr<const workflow_graph>& g);

// How many plans are cached now (for tests of the bound).
[[nodiscard]] size_t workflow_plans_cached();

}  // namespace agentgraph

#include "actors/workflow/workflow_graph.hpp"

#include <algorithm>
#include <deque>
#include <set>

#include "runtime/error.hpp"

namespace agentgraph {

const char* to_string(node_kind k) {
  switch (k) {
    case node_kind::agent: return "agent";
    case node_kind::tool: return "tool";
    case node_kind::function: return "function";
  }
  return "?";
}

const char* to_string(reducer_kind k) {
  switch (k) {
    case reducer_kind::overwrite: return "overwrite";
    case reducer_kind::append: return "append";
    case reducer_kind::merge: return "merge";
    case reducer_kind::function: return "function";
  }
  return "?";
}

const char* to_string(edge_kind k) {
  switch (k) {
    case edge_kind::plain: return "plain";
    case edge_kind::join: return "join";
    case edge_kind::conditional: return "conditional";
    case edge_kind::route: return "route";
    case edge_kind::error: return "error";
  }
  return "?";
}

namespace workflow_graph_detail {

std::string list(const std::vector<std::string>& names) {
  if (names.size() == 1)
    return names.front();
  std::string out = "[";
  for (size_t i = 0; i < names.size(); ++i)
    out += (i ? ", " : "") + names[i];
  return out + "]";
}

// Every node an edge may lead to.
std::vector<std::string> targets(const edge_spec& e) {
  std::vector<std::string> out = e.to;
  for (const auto& b : e.branches)
    out.push_back(b.to);
  for (const auto& [choice, to] : e.routes)
    out.push_back(to);
  return out;
}

caf::error bad(const std::string& graph, const std::string& what) {
  return make_error(errc::invalid_argument, "workflow '" + graph + "': " + what);
}

// The name checks, worded once for validate_graph and check_graph_names:
// what is wrong with node `n`'s target, or "" when `names` knows it (or
// cannot tell).
std::string unknown_target(const node_spec& n, const graph_names& names) {
  const auto& has = n.kind == node_kind::agent  ? names.has_agent
                    : n.kind == node_kind::tool ? names.has_tool
                                                : names.has_function;
  if (has && !has(n.target))
    return "node '" + n.name + "': no " + to_string(n.kind) + " named '" + n.target + "'";
  return {};
}

std::string unknown_reducer(const state_key_spec& k, const graph_names& names) {
  if (k.reducer == reducer_kind::function && names.has_reducer && !names.has_reducer(k.function))
    return "state key '" + k.name + "': no reducer function named '" + k.function + "'";
  return {};
}

}  // namespace workflow_graph_detail

std::string edge_spec::describe() const {
  using namespace workflow_graph_detail;
  return std::string{to_string(kind)} + " edge " + list(from) + " -> " + list(targets(*this));
}

const node_spec* workflow_graph::find_node(const std::string& n) const {
  for (const auto& node : nodes)
    if (node.name == n)
      return &node;
  return nullptr;
}

const state_key_spec* workflow_graph::find_key(const std::string& n) const {
  for (const auto& k : state)
    if (k.name == n)
      return &k;
  return nullptr;
}

caf::error validate_graph(const workflow_graph& g, const graph_names& names) {
  using namespace workflow_graph_detail;
  auto fail = [&](const std::string& what) { return bad(g.name, what); };
  if (g.nodes.empty())
    return fail("no nodes");
  if (g.nodes.size() > workflow_nodes_max || g.edges.size() > workflow_edges_max
      || g.state.size() > workflow_state_keys_max)
    return fail("more than " + std::to_string(workflow_nodes_max) + " nodes, "
                + std::to_string(workflow_edges_max) + " edges or "
                + std::to_string(workflow_state_keys_max) + " state keys");
  if (g.max_steps == 0 || g.max_steps > workflow_max_steps_limit)
    return fail("max_steps must be 1.." + std::to_string(workflow_max_steps_limit));
  std::set<std::string> node_names;
  for (const auto& n : g.nodes) {
    if (n.name.empty() || n.name == workflow_end)
      return fail("a node may not be named '" + n.name + "'");
    if (!node_names.insert(n.name).second)
      return fail("node '" + n.name + "' is declared twice");
    if (n.target.empty())
      return fail("node '" + n.name + "' names no " + to_string(n.kind));
    if (auto why = unknown_target(n, names); !why.empty())
      return fail(why);
    if (n.timeout.count() <= 0)
      return fail("node '" + n.name + "': timeout must be positive");
    if (n.kind != node_kind::function && n.output.empty())
      return fail("node '" + n.name + "': an " + std::string{to_string(n.kind)}
                  + " node needs an output state key");
  }
  for (const auto& k : g.state)
    if (auto why = unknown_reducer(k, names); !why.empty())
      return fail(why);
  if (g.entry.empty())
    return fail("no entry node");
  if (node_names.count(g.entry) == 0)
    return fail("the entry '" + g.entry + "' is not a node");
  auto known = [&](const std::string& n) { return n == workflow_end || node_names.count(n) > 0; };
  std::map<std::string, std::vector<std::string>> next;  // for reachability
  std::set<std::string> has_exit;
  for (const auto& e : g.edges) {
    const auto where = e.describe();
    if (e.from.empty() || (e.kind != edge_kind::join && e.from.size() != 1))
      return fail(where + ": needs exactly one source" + (e.kind == edge_kind::join ? "s" : ""));
    if (e.kind == edge_kind::join && e.from.size() < 2)
      return fail(where + ": a join needs at least two sources");
    for (const auto& f : e.from)
      if (f == workflow_end || node_names.count(f) == 0)
        return fail(where + ": unknown source node '" + f + "'");
    if (e.kind == edge_kind::plain && (e.to.empty() || e.to.size() > workflow_fanout_max))
      return fail(where + ": needs 1.." + std::to_string(workflow_fanout_max) + " targets");
    if ((e.kind == edge_kind::join || e.kind == edge_kind::error) && e.to.size() != 1)
      return fail(where + ": needs exactly one target");
    if (e.kind == edge_kind::conditional) {
      if (e.branches.empty() || e.branches.back().when.has_value())
        return fail(where + ": the last branch must be `else`");
      for (size_t i = 0; i + 1 < e.branches.size(); ++i)
        if (!e.branches[i].when)
          return fail(where + ": only the last branch may be `else`");
    }
    if (e.kind == edge_kind::route && (e.routes.empty() || e.route_key.empty()))
      return fail(where + ": a route edge needs a state key and at least one route");
    for (const auto& t : targets(e))
      if (!known(t))
        return fail(where + ": unknown target node '" + t + "'");
    for (const auto& f : e.from) {
      if (e.kind != edge_kind::error)
        has_exit.insert(f);
      for (const auto& t : targets(e))
        next[f].push_back(t);
    }
  }
  for (const auto& n : g.nodes)
    if (has_exit.count(n.name) == 0)
      return fail("node '" + n.name + "' has no outgoing edge (add one to " + workflow_end + ")");
  for (const auto* list_of : {&g.interrupt_before, &g.interrupt_after})
    for (const auto& n : *list_of)
      if (node_names.count(n) == 0)
        return fail("interrupt names unknown node '" + n + "'");
  // Reachability from the entry: every node, and END.
  std::set<std::string> seen{g.entry};
  std::deque<std::string> frontier{g.entry};
  while (!frontier.empty()) {  // bounded: each node enters the queue once
    auto n = frontier.front();
    frontier.pop_front();
    for (const auto& t : next[n])
      if (seen.insert(t).second)
        frontier.push_back(t);
  }
  for (const auto& n : g.nodes)
    if (seen.count(n.name) == 0)
      return fail("node '" + n.name + "' is unreachable from the entry '" + g.entry + "'");
  if (seen.count(workflow_end) == 0)
    return fail(std::string{workflow_end} + " is unreachable from the entry '" + g.entry + "'");
  return {};
}

caf::error check_graph_names(const workflow_graph& g, const graph_names& names) {
  using namespace workflow_graph_detail;
  for (const auto& n : g.nodes)
    if (auto why = unknown_target(n, names); !why.empty())
      return bad(g.name, why);
  for (const auto& k : g.state)
    if (auto why = unknown_reducer(k, names); !why.empty())
      return bad(g.name, why);
  return {};
}

}  // namespace agentgraph

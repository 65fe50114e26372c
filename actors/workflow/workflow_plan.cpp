#include "actors/workflow/workflow_plan.hpp"

#include <algorithm>
#include <mutex>
#include <unordered_map>

#include "runtime/assert.hpp"

namespace agentgraph {

const node_spec& workflow_plan::node(const workflow_graph& g, node_rank r) const {
  AG_ASSERT(r < node_index.size() && node_index.size() == g.nodes.size());
  return g.nodes[node_index[r]];
}

std::optional<node_rank> workflow_plan::rank_of(const workflow_graph& g,
                                                std::string_view name) const {
  auto it = std::lower_bound(node_index.begin(), node_index.end(), name,
                             [&](uint16_t i, std::string_view n) { return g.nodes[i].name < n; });
  if (it == node_index.end() || g.nodes[*it].name != name)
    return std::nullopt;
  return static_cast<node_rank>(it - node_index.begin());
}

namespace workflow_plan_detail {

// A name an edge or list of a validated graph names: END or a node.
node_rank target_rank(const workflow_plan& p, const workflow_graph& g, const std::string& name) {
  if (name == workflow_end)
    return no_node;
  auto r = p.rank_of(g, name);
  AG_ASSERT(r.has_value());  // validate_graph checked every name
  return *r;
}

planned_edge plan_edge(const workflow_plan& p, const workflow_graph& g, const edge_spec& e) {
  planned_edge out;
  auto rank = [&](const std::string& n) { return target_rank(p, g, n); };
  if (e.kind == edge_kind::join) {
    for (const auto& f : e.from)
      out.sources.set(rank(f));
  } else {
    out.from = rank(e.from.front());
  }
  switch (e.kind) {
    case edge_kind::plain:
      for (const auto& t : e.to)
        if (auto r = rank(t); r != no_node)
          out.targets.set(r);
      break;
    case edge_kind::join:
    case edge_kind::error:
      out.to = rank(e.to.front());
      break;
    case edge_kind::conditional:
      for (const auto& b : e.branches)
        out.branches.push_back(rank(b.to));
      break;
    case edge_kind::route:
      for (const auto& [choice, to] : e.routes)
        out.routes.emplace(choice, rank(to));
      break;
  }
  return out;
}

// Plans of graphs shared by pointer, keyed by the graph's address. The
// weak_ptr tells a live graph from a dead one whose address a new graph
// took: only a live match is a hit.
class plan_cache {
 public:
  std::shared_ptr<const workflow_plan> find(const std::shared_ptr<const workflow_graph>& g) {
    std::lock_guard lock{mu_};
    auto it = plans_.find(g.get());
    if (it == plans_.end())
      return nullptr;
    if (it->second.graph.lock() != g) {
      plans_.erase(it);  // that graph died; this is another at its address
      return nullptr;
    }
    return it->second.plan;
  }

  void keep(const std::shared_ptr<const workflow_graph>& g,
            std::shared_ptr<const workflow_plan> plan) {
    std::lock_guard lock{mu_};
    if (plans_.size() >= workflow_plans_cached_max && plans_.count(g.get()) == 0) {
      for (auto it = plans_.begin(); it != plans_.end();)
        it = it->second.graph.expired() ? plans_.erase(it) : std::next(it);
      if (plans_.size() >= workflow_plans_cached_max)
        return;  // every cached graph is alive: this one is checked per run
    }
    plans_[g.get()] = entry{g, std::move(plan)};
  }

  size_t size() {
    std::lock_guard lock{mu_};
    return plans_.size();
  }

 private:
  struct entry {
    std::weak_ptr<const workflow_graph> graph;
    std::shared_ptr<const workflow_plan> plan;
  };
  std::mutex mu_;
  std::unordered_map<const workflow_graph*, entry> plans_;  // guarded by mu_
};

plan_cache& cache() {
  static plan_cache instance;  // process-wide: a plan depends on its graph only
  return instance;
}

}  // namespace workflow_plan_detail

std::shared_ptr<const workflow_plan> make_workflow_plan(const workflow_graph& g) {
  using namespace workflow_plan_detail;
  AG_ASSERT(!g.nodes.empty() && g.nodes.size() <= workflow_nodes_max);
  auto p = std::make_shared<workflow_plan>();
  p->node_index.resize(g.nodes.size());
  for (size_t i = 0; i < g.nodes.size(); ++i)
    p->node_index[i] = static_cast<uint16_t>(i);
  std::sort(p->node_index.begin(), p->node_index.end(),
            [&](uint16_t a, uint16_t b) { return g.nodes[a].name < g.nodes[b].name; });
  p->entry = target_rank(*p, g, g.entry);
  AG_ASSERT(p->entry != no_node);
  p->error_edge.assign(g.nodes.size(), workflow_plan::no_edge);
  p->edges.reserve(g.edges.size());
  for (size_t i = 0; i < g.edges.size(); ++i) {
    p->edges.push_back(plan_edge(*p, g, g.edges[i]));
    if (g.edges[i].kind == edge_kind::error)
      p->error_edge[p->edges.back().from] = i;
  }
  for (const auto& n : g.interrupt_before)
    p->interrupt_before.set(target_rank(*p, g, n));
  for (const auto& n : g.interrupt_after)
    p->interrupt_after.set(target_rank(*p, g, n));
  return p;
}

caf::expected<std::shared_ptr<const workflow_plan>>
plan_workflow(const std::shared_ptr<const workflow_graph>& g, const graph_names& names) {
  using namespace workflow_plan_detail;
  AG_ASSERT(g != nullptr);
  if (auto plan = cache().find(g)) {
    if (auto err = check_graph_names(*g, names))
      return err;
    return plan;
  }
  if (auto err = validate_graph(*g, names))
    return err;
  auto plan = make_workflow_plan(*g);
  cache().keep(g, plan);
  return plan;
}

std::shared_ptr<const workflow_plan>
find_workflow_plan(const std::shared_ptr<const workflow_graph>& g) {
  return workflow_plan_detail::cache().find(g);
}

size_t workflow_plans_cached() {
  return workflow_plan_detail::cache().size();
}

}  // namespace agentgraph

// Private to actors/host/runtime*.cpp: the Runtime's component tables and
// the helpers the runtime, its builder and its client share. Not part of
// the embedding interface.
#pragma once

#include "actors/host/runtime.hpp"

#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <type_traits>
#include <variant>
#include <unordered_map>
#include <vector>


#include "actors/agent/agent_config.hpp"
#include "actors/agent/group_instances.hpp"
#include "actors/host/cluster/replica_table.hpp"
#include "actors/topic/topic_actor.hpp"
#include "actors/host/task_gate.hpp"
#include "actors/population/population_config.hpp"
#include "actors/population/population_interface.hpp"
#include "actors/population/population_nodes.hpp"
#include "runtime/population/population_store_actor.hpp"
#include "actors/memory/memory_shard.hpp"
#include "actors/provider/provider_config.hpp"
#include "actors/tool/tool_registry.hpp"
#include "actors/workflow/state_reducer.hpp"
#include "actors/workflow/workflow_graph.hpp"
#include "net/http_client.hpp"
#include "runtime/cache/multi_level_cache.hpp"
#include "runtime/assert.hpp"
#include "runtime/blocking_ask.hpp"
#include "runtime/error.hpp"
#include "runtime/log.hpp"
#include "runtime/supervised_ref.hpp"
#include "runtime/supervision_group.hpp"


namespace agentgraph {

namespace runtime_detail {

// How long the runtime waits for a component's answer to a status or
// snapshot request while building or shutting down.
constexpr auto control_timeout = std::chrono::seconds{10};
// A shutdown snapshot may take as long as the shard's writer allows.
constexpr std::chrono::milliseconds snapshot_wait =
  std::chrono::duration_cast<std::chrono::milliseconds>(memory_snapshot_write_timeout)
  + std::chrono::seconds{5};
// Extra wait of a Runtime caller beyond the agent's task deadline.
constexpr auto caller_grace = std::chrono::seconds{1};

template <class Handle>
struct named {
  std::string name;
  Handle handle;
};

// What the agents table keeps besides the handle, so a task needs one
// lookup (runtime_client::submit) and no second map per agent.
struct agent_info {
  // How long a caller waits for a task (Runtime::task_deadline).
  std::chrono::milliseconds task_deadline{0};
  bool group = false;  // an agent group, addressed like an agent
};

// What the populations table keeps besides the handle.
struct population_info {
  std::chrono::milliseconds task_deadline{0};  // of each key's task
  std::shared_ptr<const population_config> cfg;
  population_store_actor store;  // stopped after the population
};

// How long a caller waits for a task on an agent configured as `cfg`:
// recall + (model call + tool round) per tool iteration + the final model
// call, each within request_timeout.
inline std::chrono::milliseconds task_deadline_of(const agent_config& cfg) {
  return cfg.request_timeout * (2 * static_cast<int64_t>(cfg.max_tool_iterations) + 3);
}

// Components of one kind in the order added (shutdown and listings keep
// it), found by name in O(1): a task for the 100,000th agent costs what one
// for the first does, and adding n components costs O(n), not O(n^2).
// `Info` is kept with each entry (agent_info for agents).
template <class Handle, class Info = std::monostate>
class named_table {
 public:
  struct entry {
    std::string name;
    Handle handle;
    Info info;
  };

  // False, and the table unchanged, when `name` is taken.
  [[nodiscard]] bool add(std::string name, Handle handle, Info info = {}) {
    auto [it, fresh] = index_.emplace(name, entries_.size());
    if (!fresh)
      return false;
    entries_.push_back({std::move(name), std::move(handle), std::move(info)});
    AG_ASSERT(index_.size() == entries_.size());
    return true;
  }

  [[nodiscard]] const entry* find_entry(const std::string& name) const {
    auto it = index_.find(name);
    if (it == index_.end())
      return nullptr;
    AG_ASSERT(it->second < entries_.size());
    return &entries_[it->second];
  }

  [[nodiscard]] const Handle* find(const std::string& name) const {
    const auto* e = find_entry(name);
    return e ? &e->handle : nullptr;
  }

  [[nodiscard]] size_t size() const { return entries_.size(); }
  [[nodiscard]] auto begin() const { return entries_.begin(); }
  [[nodiscard]] auto end() const { return entries_.end(); }

 private:
  std::vector<entry> entries_;
  std::unordered_map<std::string, size_t> index_;  // name -> position in entries_
};

// The current incarnation of a supervised component. Errors: not_found,
// unavailable (its supervisor gave up on it or it stopped).
template <class Handle>
caf::expected<Handle> current(const supervised_ref<Handle>& ref, const std::string& kind) {
  if (auto h = ref.get())
    return h;
  return make_error(errc::unavailable, kind + " '" + ref.name() + "' is down: " + ref.why_down());
}

template <class Handle, class Info>
caf::expected<Handle> lookup(const named_table<supervised_ref_ptr<Handle>, Info>& table,
                             const std::string& kind, const std::string& name) {
  if (auto ref = table.find(name))
    return current(**ref, kind);
  return make_error(errc::not_found, "no " + kind + " named '" + name + "'");
}

template <class Table>
std::vector<std::string> names_of(const Table& table) {
  std::vector<std::string> out;
  out.reserve(table.size());
  for (const auto& entry : table)
    out.push_back(entry.name);
  return out;
}

// Stops a supervision group and waits until it is down, which implies its
// children are down (supervision_group.hpp).
inline void stop_group(caf::actor_system& sys, const supervision_group_actor& group) {
  stop_and_wait(sys, std::vector{group}, control_timeout + control_timeout);
}

template <class Ref>
void log_added(const char* kind, const std::string& name, const caf::expected<Ref>& h) {
  if (h)
    log(log_severity::debug, "runtime", "component started", {{"kind", kind}, {"name", name}});
  else
    log(log_severity::error, "runtime", "component failed to start",
        {{"kind", kind}, {"name", name}, {"error", describe(h.error())}});
}

// Records a spawned component under its name (checked free before the
// spawn, so the add cannot fail) and logs the outcome either way.
template <class Ref, class Info>
void record(const char* kind, runtime_detail::named_table<Ref, Info>& table,
            const std::string& name, const caf::expected<Ref>& h, Info info = {}) {
  if (h) {
    const bool added = table.add(name, *h, std::move(info));
    AG_ASSERT(added, "the name was checked free before the spawn");
  }
  log_added(kind, name, h);
}

}  // namespace runtime_detail

struct Runtime::component_tables {
  // Shared by every HTTP provider; created with the first one. Held here so
  // its destructor (which joins the I/O thread) runs on the thread that
  // destroys the Runtime, never on a CAF scheduler thread.
  std::shared_ptr<net::http_client> http;
  // One supervision group per kind, stopped in this order by shutdown():
  // agents, chains, (memory snapshots), tools, memory, providers.
  supervision_group_actor agent_group;
  supervision_group_actor chain_group;  // fallback chains and LLM caches of agents
  supervision_group_actor tool_group;
  supervision_group_actor memory_group;
  supervision_group_actor provider_group;
  runtime_detail::named_table<supervised_ref_ptr<provider_actor>> providers;
  // One fallback chain per agent that names `fallback`, keyed by agent.
  std::vector<runtime_detail::named<supervised_ref_ptr<provider_actor>>> chains;
  std::map<std::string, provider_config> provider_configs;
  // Registered from C++; shared read-only with every workflow run.
  std::shared_ptr<function_registry> workflow_functions = std::make_shared<function_registry>();
  std::shared_ptr<reducer_registry> workflow_reducers = std::make_shared<reducer_registry>();
  checkpoint_actor checkpoints;  // invalid: workflow runs are not checkpointed
  // The shared cache levels ([cache]); held here so the Redis client's I/O
  // thread is joined on the thread that destroys the Runtime.
  cache::cache_tiers cache;
  std::map<std::string, std::shared_ptr<const workflow_graph>> workflows;  // [workflow.<name>]
  // Shards by name; for a replicated one ([memory.x] replicas > 1) its
  // front (replicated_memory.hpp), which agents and callers use.
  runtime_detail::named_table<supervised_ref_ptr<memory_actor>> memories;
  // This node's copy of each replicated shard: what the cluster directory
  // offers under the shard's name, and what the front stores into.
  runtime_detail::named_table<supervised_ref_ptr<memory_actor>> replica_shards;
  // The copies other nodes offer, for the fronts (the directory glue fills it).
  std::shared_ptr<replica_table> replicas = std::make_shared<replica_table>();
  tool_registry tools;
  std::vector<std::string> tool_order;  // names in the order added, for shutdown
  // Agents and agent groups (addressed alike), with their task deadlines.
  runtime_detail::named_table<supervised_ref_ptr<agent_actor>, runtime_detail::agent_info> agents;
  // Populations by type (actors/population/): "<type>/<key>" resolves here.
  runtime_detail::named_table<supervised_ref_ptr<population_actor>,
                              runtime_detail::population_info> populations;
  // The nodes that run each population now, this one's included: where a
  // key address sends a key's messages (population_nodes.hpp). The cluster
  // directory glue adds the other nodes'.
  std::shared_ptr<population_nodes> population_nodes_ =
    std::make_shared<population_nodes>();
  // Populations a config places on other nodes only: known by type, so
  // their keys resolve to addresses here too.
  std::set<std::string> remote_population_types;
  // Agents on every node, for the groups' routers (group_instances.hpp).
  std::shared_ptr<group_instances> instances = std::make_shared<group_instances>();
  // Topics (actors/topic/): this node's subscriptions and its topic actor,
  // spawned with the runtime, so topics work with or without a cluster.
  std::shared_ptr<topic_subscriptions> topic_subs = std::make_shared<topic_subscriptions>();
  topic_actor topics;
  // (kind, name) of the components placed on other nodes (runtime_component).
  std::set<std::pair<std::string, std::string>> remote;
  // (kind, name) -> placement of every component a config pinned to a node.
  std::map<std::pair<std::string, std::string>, std::string> pinned;
  // Where runtime_client's tasks enter (task_gate.hpp).
  std::unique_ptr<task_gates> gates;
};

}  // namespace agentgraph

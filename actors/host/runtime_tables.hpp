// Private to actors/host/runtime*.cpp: the Runtime's component tables and
// the helpers the runtime, its builder and its client share. Not part of
// the embedding interface.
#pragma once

#include "actors/host/runtime.hpp"

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>


#include "actors/agent/agent_config.hpp"
#include "actors/memory/memory_shard.hpp"
#include "actors/provider/provider_config.hpp"
#include "actors/tool/tool_registry.hpp"
#include "net/http_client.hpp"
#include "runtime/cache/multi_level_cache.hpp"
#include "runtime/blocking_ask.hpp"
#include "runtime/error.hpp"


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

template <class Handle>
const Handle* find(const std::vector<named<Handle>>& table, const std::string& name) {
  for (const auto& entry : table)
    if (entry.name == name)
      return &entry.handle;
  return nullptr;
}

template <class Handle>
caf::expected<Handle> lookup(const std::vector<named<Handle>>& table, const std::string& kind,
                             const std::string& name) {
  if (auto h = find(table, name))
    return *h;
  return make_error(errc::not_found, "no " + kind + " named '" + name + "'");
}

template <class Handle>
std::vector<std::string> names_of(const std::vector<named<Handle>>& table) {
  std::vector<std::string> out;
  out.reserve(table.size());
  for (const auto& entry : table)
    out.push_back(entry.name);
  return out;
}

// Stops every component of `table` and waits until each is gone.
template <class Handle>
void stop_all(caf::actor_system& sys, const std::vector<named<Handle>>& table) {
  std::vector<Handle> handles;
  handles.reserve(table.size());
  for (const auto& entry : table)
    handles.push_back(entry.handle);
  stop_and_wait(sys, handles, control_timeout);
}

}  // namespace runtime_detail

struct Runtime::component_tables {
  // Shared by every HTTP provider; created with the first one. Held here so
  // its destructor (which joins the I/O thread) runs on the thread that
  // destroys the Runtime, never on a CAF scheduler thread.
  std::shared_ptr<net::http_client> http;
  std::vector<runtime_detail::named<provider_actor>> providers;
  // One fallback chain per agent that names `fallback`, keyed by agent.
  std::vector<runtime_detail::named<provider_actor>> chains;
  std::map<std::string, provider_config> provider_configs;
  // Registered from C++; shared read-only with every workflow run.
  std::shared_ptr<function_registry> workflow_functions = std::make_shared<function_registry>();
  std::shared_ptr<reducer_registry> workflow_reducers = std::make_shared<reducer_registry>();
  checkpoint_actor checkpoints;  // invalid: workflow runs are not checkpointed
  // The shared cache levels ([cache]); held here so the Redis client's I/O
  // thread is joined on the thread that destroys the Runtime.
  cache::cache_tiers cache;
  std::map<std::string, std::shared_ptr<const workflow_graph>> workflows;  // [workflow.<name>]
  std::vector<runtime_detail::named<memory_actor>> memories;
  tool_registry tools;
  std::vector<std::string> tool_order;  // names in the order added, for shutdown
  std::vector<runtime_detail::named<agent_actor>> agents;
  std::map<std::string, agent_config> agent_configs;
  // Agent groups live in `agents` too (addressed like agents); their task deadlines.
  std::map<std::string, std::chrono::milliseconds> group_deadlines;
};

}  // namespace agentgraph

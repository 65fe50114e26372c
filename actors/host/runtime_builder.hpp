// runtime_builder: spawns components into a Runtime, each under its own
// supervisor, from code (add_*) or from a whole node config (from_config).
// The only writer of a Runtime's component tables; build from one thread,
// before the runtime serves callers.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include <caf/expected.hpp>

#include "actors/agent/agent_config.hpp"
#include "actors/agent/agent_group.hpp"
#include "actors/host/node_config.hpp"
#include "actors/host/runtime.hpp"
#include "actors/memory/memory_config.hpp"
#include "actors/population/population_config.hpp"
#include "actors/population/population_interface.hpp"
#include "actors/provider/provider_config.hpp"
#include "actors/tool/tool_config.hpp"
#include "actors/workflow/state_reducer.hpp"
#include "actors/workflow/workflow_graph.hpp"
#include "runtime/checkpoint/checkpoint_store.hpp"
#include "runtime/supervised_ref.hpp"

namespace agentgraph {

namespace net {
class http_client;
}
struct agent_dependencies;

class runtime_builder {
 public:
  // `rt` must outlive the builder.
  explicit runtime_builder(Runtime& rt) : rt_(rt) {}

  // Builds everything `cfg` declares, in dependency order: the checks of
  // `config check` first (check_node_resources), then providers, shards,
  // plain tools, agents and agent tools in cfg.build_order, groups, the
  // checkpoint store and the workflows. Errors: the first component that
  // failed, naming it.
  // `adjust`, if given, changes the runtime options the config asks for
  // before the Runtime is made (the simulator's virtual scheduler, network
  // and LLM endpoints).
  [[nodiscard]] static caf::expected<std::unique_ptr<Runtime>> from_config(
    const node_config& cfg, bool middleman = false,
    const std::function<void(runtime_options&)>& adjust = {});

  // Each add_* spawns one supervised component. Errors: invalid_argument
  // (bad config, duplicate name, missing dependency), io_error, parse_error.
  [[nodiscard]] caf::expected<provider_actor> add_provider(const provider_config& cfg);
  [[nodiscard]] caf::expected<memory_actor> add_memory(const memory_config& cfg);
  // A tool of kind `agent` needs its agent added first.
  [[nodiscard]] caf::expected<tool_actor> add_tool(const tool_config& cfg);
  // The provider, tools and memory shard it names must be added first.
  [[nodiscard]] caf::expected<agent_actor> add_agent(const agent_config& cfg);
  // An agent group (actors/agent/agent_group.hpp), addressed like an agent
  // by its name; its members must be added first.
  [[nodiscard]] caf::expected<agent_actor> add_group(group_config cfg);
  // A population (actors/population/): keys addressed as "<type>/<key>"
  // wherever an agent name is (Runtime::agent, the gateway, workflows,
  // agent tools), each activated on its first task. Its provider, tools and
  // memory shard must be added first. Opens its store (blocking) here.
  [[nodiscard]] caf::expected<population_actor> add_population(const population_config& cfg);
  // A workflow served by name (Runtime::workflow); invalid_argument for a
  // name taken.
  caf::error add_workflow(const std::string& name, workflow_graph graph);

  // Workflow functions and reducers, registered from C++ before the runs
  // that use them; invalid_argument for a name registered twice.
  caf::error register_workflow_function(std::string name, node_function fn);
  caf::error register_workflow_reducer(std::string name, reducer_fn fn);
  // Where workflow runs save their super-steps. Runs started after this
  // call are checkpointed; invalid_argument if a store is already in use.
  caf::error use_checkpoints(std::unique_ptr<checkpoint_store> store);

 private:
  // What an agent configured as `cfg` calls (provider or its chain, tools,
  // shard), checked by validate_agent.
  [[nodiscard]] caf::expected<agent_dependencies> agent_deps(const agent_config& cfg);
  // The provider an agent with `fallback` talks to: its chain.
  [[nodiscard]] caf::expected<supervised_ref_ptr<provider_actor>> add_fallback_chain(
    const agent_config& cfg);
  // The agents, tools and shards `cfg` places on other nodes ([cluster]
  // placement), as refs that stay down until the cluster directory offers
  // them (actors/host/cluster/cluster_directory.hpp).
  caf::error add_placed_elsewhere(const node_config& cfg);
  // Agents and agent tools of `cfg` in cfg.build_order, so each comes
  // after what it depends on.
  caf::error add_agents_in_order(const node_config& cfg);
  // The front of a shard with replicas > 1 (replicated_memory.hpp) over
  // this node's copy `copy`, which add_memory spawned; the front is what
  // the shard's name resolves to.
  [[nodiscard]] caf::expected<memory_actor> add_replicated_front(
    const memory_config& cfg, const supervised_ref_ptr<memory_actor>& copy);
  // The shared HTTP client of HTTP providers, made with the first one.
  [[nodiscard]] std::shared_ptr<net::http_client> http_client();

  Runtime& rt_;
};

}  // namespace agentgraph

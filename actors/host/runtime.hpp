// Runtime: the embedding facade's core. It owns the CAF actor system and
// the tables of the components running in it (providers, memory shards,
// tools, agents and groups, each under its own supervisor), finds them by
// name, and stops them all in order. Two companions act on a Runtime:
//   runtime_builder (runtime_builder.hpp)  spawns components into it, from
//                                          code (add_*) or a node config;
//   runtime_client  (runtime_client.hpp)   calls its agents, stats and
//                                          workflows from non-actor code.
// Destroying it stops the agents, persists every memory shard and stops
// every other actor.
//
// Known limit: a supervisor that gave up (restart budget spent) leaves its
// component down; callers then get errc::unavailable. Nothing restarts the
// subtree yet (a root supervisor per runtime is future work).
//
// Thread safety: build (runtime_builder) from one thread; once building is
// done, lookups and runtime_client calls may come from any non-actor
// thread. Never call the blocking runtime_client methods from inside an
// actor.
#pragma once

#include <chrono>
#include <map>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/expected.hpp>

#include "actors/agent/agent_interface.hpp"
#include "actors/population/broadcast.hpp"
#include "actors/population/population_interface.hpp"
#include "actors/host/scheduler_settings.hpp"
#include "actors/memory/memory_interface.hpp"
#include "actors/provider/provider_interface.hpp"
#include "actors/tool/tool_interface.hpp"
#include "actors/topic/topic_interface.hpp"
#include "actors/workflow/workflow_start.hpp"
#include "runtime/metrics/registry.hpp"
#include "runtime/resilience/price_table.hpp"
#include "runtime/supervision_config.hpp"

namespace agentgraph::net {
class http_transport;  // net/http_client.hpp
}

namespace agentgraph {

struct runtime_options {
  uint32_t scheduler_threads = 2;
  // The scheduler's policy and how its idle workers wait
  // (scheduler_settings.hpp).
  scheduler_settings scheduler;
  supervision_config supervision;
  // Load CAF's middleman so actors can be published to other processes.
  bool middleman = false;
  // Last changes to CAF's config before the actor system is made (a
  // cluster node's middleman settings: apply_cluster_transport); may be empty.
  std::function<void(caf::actor_system_config&)> configure_system;
  // The HTTP client all HTTP providers share (one connection cache, one I/O
  // thread): its bound on requests in flight and its connect timeout.
  // from_config sums the providers' in_flight_max and takes the largest
  // connect_timeout.
  uint32_t http_in_flight_max = 256;
  std::chrono::milliseconds http_connect_timeout{5'000};
  // Prices for provider cost accounting; null: no costs.
  std::shared_ptr<const price_table> prices;
  // Where every component records its metrics; null: the Runtime makes its own.
  std::shared_ptr<metrics::registry> metrics;
  // The name a population claims its keys under in a shared store
  // (actors/population/): a cluster node's node_id; "local" alone.
  std::string node_name = "local";
  // Non-zero: every random choice the Runtime makes for its components
  // (retry jitter, population epochs) derives from it, so a simulated node
  // replays exactly (`agentgraph sim`). Zero: fresh entropy per start.
  uint64_t seed = 0;
  // Replaces the libcurl client under every HTTP provider (the simulator's
  // endpoints); null: the Runtime's own http_client.
  std::shared_ptr<net::http_transport> http;
  // Unix milliseconds that components stamp data with (memory entries'
  // created_ms, which retention reads); empty: the system clock. The
  // simulator passes its virtual wall clock.
  std::function<int64_t()> wall_ms;
  // Called once with the actor system, right after it is made and before
  // any component is spawned (the simulator adds the node to its world
  // here, so setup code that waits on actors can run it); may be empty.
  std::function<void(caf::actor_system&)> on_system;
  // Called once when the Runtime is destroyed, before its actor system
  // goes (the simulator takes the node out of its world); may be empty.
  std::function<void(caf::actor_system&)> on_system_end;
};

// Writes the scheduler settings into a CAF config (scheduler.policy and the
// work-stealing.* options). The Runtime constructor calls it; a program that
// builds its own actor system (a benchmark's baseline) calls it to run on
// the same scheduler as a Runtime.
void apply_scheduler_settings(const scheduler_settings& s, uint32_t threads,
                              caf::actor_system_config& cfg);

class runtime_builder;
class supervised_ref_base;
class group_instances;
class replica_table;
class population_nodes;
class topic_subscriptions;

// One agent, group, tool or memory shard of a Runtime as the cluster
// directory sees it (actors/host/cluster/cluster_directory.hpp).
struct runtime_component {
  std::string kind;  // "agent" | "group" | "tool" | "memory" | "population"
  // (for a replicated memory shard: this node's copy, not the front)
  std::string name;
  std::shared_ptr<supervised_ref_base> ref;
  std::vector<std::string> ifs;  // message_types() of its typed interface, sorted
  // Placed on another node ([cluster] placement): a ref the cluster
  // directory fills; else built and supervised here.
  bool remote = false;
  // Its `placement` key: "any", or the one node that may offer it.
  std::string placement = "any";
};

class Runtime {
 public:
  explicit Runtime(runtime_options opts = {});
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  [[nodiscard]] caf::actor_system& system() { return *system_; }
  // The metrics registry every component of this runtime records into;
  // scrape() gives the Prometheus text.
  [[nodiscard]] metrics::registry& metrics() { return *opts_.metrics; }
  [[nodiscard]] std::shared_ptr<metrics::registry> metrics_ptr() { return opts_.metrics; }
  [[nodiscard]] const runtime_options& options() const { return opts_; }

  // Lookup by configured name. Errors: not_found. An agent name may be a
  // population key, "<type>/<key>" (actors/population/): the handle is
  // that key's address, valid whether the key is active or not
  // (invalid_argument for a bad key).
  [[nodiscard]] caf::expected<agent_actor> agent(const std::string& name) const;
  [[nodiscard]] caf::expected<population_actor> population(const std::string& type) const;
  // Starts a broadcast to the keys of population `type` (every key with a
  // saved state, or a seeded sample; actors/population/broadcast.hpp); the
  // caller sends it broadcast_run_atom. Needs the population on this node
  // (its store lists the keys). Errors: not_found, invalid_argument (a bad
  // request), unsupported (the population runs on other nodes only).
  [[nodiscard]] caf::expected<population_broadcast_actor> spawn_broadcast(
    const std::string& type, population_broadcast b) const;
  [[nodiscard]] caf::expected<tool_actor> tool(const std::string& name) const;
  [[nodiscard]] caf::expected<memory_actor> memory(const std::string& name) const;
  [[nodiscard]] caf::expected<provider_actor> provider(const std::string& name) const;
  // A workflow the config declares ([workflow.<name>]).
  [[nodiscard]] caf::expected<std::shared_ptr<const workflow_graph>> workflow(
    const std::string& name) const;
  // Names in the order added.
  [[nodiscard]] std::vector<std::string> agent_names() const;
  [[nodiscard]] std::vector<std::string> population_names() const;
  [[nodiscard]] std::vector<std::string> memory_names() const;
  [[nodiscard]] std::vector<std::string> provider_names() const;

  // Every agent, group, tool and memory shard, in the order added.
  [[nodiscard]] std::vector<runtime_component> components() const;
  // Whether the component is placed on another node (runtime_component).
  [[nodiscard]] bool remote(const std::string& kind, const std::string& name) const;
  // The instances of agents on every node, which this runtime's groups
  // route over (actors/agent/group_instances.hpp); the cluster directory
  // glue fills it. Empty outside a cluster.
  [[nodiscard]] std::shared_ptr<group_instances> instances() const;
  // The copies of replicated memory shards other nodes offer, which this
  // runtime's fronts store to and recall from
  // (actors/host/cluster/replica_table.hpp); the cluster directory glue
  // fills it. Empty outside a cluster.
  [[nodiscard]] std::shared_ptr<replica_table> replicas() const;
  // The nodes that run each population (actors/population/population_nodes.hpp):
  // where "<type>/<key>" addresses send a key's messages. The cluster
  // directory glue adds other nodes' populations.
  [[nodiscard]] std::shared_ptr<population_nodes> populations_placement() const;
  // This node's topic actor (actors/topic/topic_interface.hpp): publish to
  // it (topic_publish_atom, or runtime_client::publish) and every agent
  // subscribed to the topic ([agent.x] subscribe) on every node gets the
  // message. Its subscriptions are made as agents are added.
  [[nodiscard]] topic_actor topics() const;
  [[nodiscard]] std::shared_ptr<const topic_subscriptions> subscriptions() const;

  // How long a caller waits for a task on `agent`: every model call and
  // tool round may take the agent's request_timeout.
  [[nodiscard]] std::chrono::milliseconds task_deadline(const std::string& agent) const;

  // Where workflow runs save their super-steps; invalid when runs are not
  // checkpointed (runtime_builder::use_checkpoints).
  [[nodiscard]] checkpoint_actor checkpoints() const;
  [[nodiscard]] bool has_checkpoints() const { return static_cast<bool>(checkpoints()); }

  // Starts a workflow run without blocking: checks the graph against this
  // runtime, attaches the checkpoint store and the cache, spawns the run;
  // the caller sends it run_workflow_atom. For callers on actor threads
  // (the gateway); runtime_client::run_workflow waits for one. `graph` is
  // checked in full on its first run and by its names after that
  // (plan_workflow): it must not change once handed over. An invalid
  // `events` asks for no events (the run makes none).
  [[nodiscard]] caf::expected<workflow_run_actor> spawn_workflow(
    std::shared_ptr<const workflow_graph> graph, workflow_start start,
    workflow_event_sink events);

  // Publishes a component on 127.0.0.1 (port 0: the OS picks) through CAF's
  // middleman; needs runtime_options::middleman. Returns the port.
  [[nodiscard]] caf::expected<uint16_t> publish_agent(const std::string& name, uint16_t port);
  [[nodiscard]] caf::expected<uint16_t> publish_tool(const std::string& name, uint16_t port);
  [[nodiscard]] caf::expected<uint16_t> publish_memory(const std::string& name, uint16_t port);
  [[nodiscard]] caf::expected<uint16_t> publish_provider(const std::string& name, uint16_t port);

  // Stops the agents (each supervisor goes down only after its agent) and
  // their provider chains, then snapshots every memory shard, then stops
  // tools, shards, providers and the checkpoint store, each kind in the
  // order added. Idempotent; the destructor calls it. Returns the first
  // snapshot error, if any (shutdown still completes).
  caf::error shutdown();
  // Makes the next shutdown (or the destructor's) save nothing, as after a
  // kill -9: no population passivation, no memory snapshots; the actors
  // are still stopped in order. For a simulated node that was killed
  // (actors/sim/), whose next incarnation uses the same stores.
  void abandon() { abandoned_ = true; }

 private:
  // The builder fills the tables; nothing else writes them.
  friend class runtime_builder;
  friend class runtime_client;  // submits through the task gates
  struct component_tables;
  runtime_options opts_;
  std::unique_ptr<caf::actor_system_config> config_;
  std::unique_ptr<caf::actor_system> system_;
  std::unique_ptr<component_tables> tables_;
  bool shut_down_ = false;
  bool abandoned_ = false;
};


}  // namespace agentgraph

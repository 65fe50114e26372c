// The Runtime's core: the actor system, lookup by name, workflow spawning,
// publishing and the ordered shutdown. Building is runtime_builder.cpp,
// calling is runtime_client.cpp.
#include "actors/host/runtime.hpp"
#include "actors/host/runtime_tables.hpp"
#include "actors/population/broadcast_actor.hpp"
#include "actors/population/key_address.hpp"

#include <algorithm>

#include <caf/actor_system_config.hpp>
#include <caf/io/middleman.hpp>

#include "actors/host/register_types.hpp"
#include "actors/workflow/workflow_run.hpp"
#include "net/curl_global.hpp"
#include "runtime/assert.hpp"
#include "runtime/blocking_ask.hpp"
#include "runtime/log.hpp"

namespace agentgraph {

void apply_scheduler_settings(const scheduler_settings& s, uint32_t threads,
                              caf::actor_system_config& cfg) {
  AG_ASSERT(threads >= 1);
  AG_ASSERT(s.aggressive_steal_interval >= 1 && s.moderate_steal_interval >= 1
            && s.relaxed_steal_interval >= 1);
  auto count = [&cfg](const char* key, uint32_t n) { cfg.set(key, static_cast<size_t>(n)); };
  count("scheduler.max-threads", threads);
  cfg.set("scheduler.policy", s.policy == scheduler_policy::sharing ? caf::atom("sharing")
                                                                    : caf::atom("stealing"));
  count("work-stealing.aggressive-poll-attempts", s.aggressive_poll_attempts);
  count("work-stealing.aggressive-steal-interval", s.aggressive_steal_interval);
  count("work-stealing.moderate-poll-attempts", s.moderate_poll_attempts);
  count("work-stealing.moderate-steal-interval", s.moderate_steal_interval);
  cfg.set("work-stealing.moderate-sleep-duration",
          caf::timespan{std::chrono::microseconds{s.moderate_sleep_us}});
  count("work-stealing.relaxed-steal-interval", s.relaxed_steal_interval);
  cfg.set("work-stealing.relaxed-sleep-duration", caf::timespan{s.relaxed_sleep});
}

Runtime::Runtime(runtime_options opts)
  : opts_(std::move(opts)),
    config_(std::make_unique<caf::actor_system_config>()),
    tables_(std::make_unique<component_tables>()) {
  net::ensure_curl_initialized();
  if (!opts_.metrics)
    opts_.metrics = std::make_shared<metrics::registry>();
  register_all_types(*config_);
  apply_scheduler_settings(opts_.scheduler, opts_.scheduler_threads, *config_);
  if (opts_.middleman)
    config_->load<caf::io::middleman>();
  if (opts_.configure_system)
    opts_.configure_system(*config_);
  system_ = std::make_unique<caf::actor_system>(*config_);
  if (opts_.on_system)
    opts_.on_system(*system_);
  auto group = [&](const char* kind) {
    return spawn_supervision_group(*system_, kind, opts_.supervision, opts_.metrics);
  };
  tables_->agent_group = group("agents");
  tables_->chain_group = group("provider chains");
  tables_->tool_group = group("tools");
  tables_->memory_group = group("memory shards");
  tables_->provider_group = group("providers");
  tables_->gates = std::make_unique<task_gates>(*system_, std::max<size_t>(2, opts_.scheduler_threads));
  topic_actor_config tc;
  tc.subscriptions = tables_->topic_subs;
  tc.registry = opts_.metrics;
  tables_->topics = spawn_topic_actor(*system_, std::move(tc));
}

Runtime::~Runtime() {
  (void)shutdown();
  if (opts_.on_system_end)
    opts_.on_system_end(*system_);
}

caf::expected<agent_actor> Runtime::agent(const std::string& name) const {
  auto address = parse_population_address(name);
  if (!address)
    return runtime_detail::lookup(tables_->agents, "agent", name);
  if (tables_->populations.find(address->type) == nullptr
      && tables_->remote_population_types.count(address->type) == 0)
    return make_error(errc::not_found, "no population named '" + address->type + "' (in '"
                                         + name + "')");
  if (auto problem = population_key_problem(address->key); !problem.empty())
    return make_error(errc::invalid_argument, "'" + name + "': " + problem);
  return spawn_key_address(*system_, tables_->population_nodes_, address->type, address->key,
                           task_deadline(name));
}
std::shared_ptr<population_nodes> Runtime::populations_placement() const {
  return tables_->population_nodes_;
}
caf::expected<population_actor> Runtime::population(const std::string& type) const {
  return runtime_detail::lookup(tables_->populations, "population", type);
}
caf::expected<population_broadcast_actor> Runtime::spawn_broadcast(const std::string& type,
                                                                    population_broadcast b) const {
  const auto* e = tables_->populations.find_entry(type);
  if (e == nullptr)
    return make_error(tables_->remote_population_types.count(type) ? errc::unsupported
                                                                    : errc::not_found,
                      tables_->remote_population_types.count(type)
                        ? "population '" + type + "' runs on other nodes: broadcast from one of them"
                        : "no population named '" + type + "'");
  if (auto problem = broadcast_problem(b); !problem.empty())
    return make_error(errc::invalid_argument, "broadcast to '" + type + "': " + problem);
  // More tasks in flight than the population activates or keeps at once
  // would only be refused (overloaded): the broadcast waits instead.
  const auto& pc = *e->info.cfg;
  b.concurrency = std::min({b.concurrency, pc.active_max, pc.activating_max, pc.tasks_max});
  return spawn_population_broadcast(*system_, tables_->population_nodes_, e->info.store, type,
                                    std::move(b), e->info.task_deadline);
}
std::vector<std::string> Runtime::population_names() const {
  return runtime_detail::names_of(tables_->populations);
}
caf::expected<tool_actor> Runtime::tool(const std::string& name) const {
  if (const auto* t = tables_->tools.find(name)) {
    if (auto h = t->handle.get())
      return h;
    return make_error(errc::unavailable, "tool '" + name + "' is down");
  }
  return make_error(errc::not_found, "no tool named '" + name + "'");
}
caf::expected<memory_actor> Runtime::memory(const std::string& name) const {
  return runtime_detail::lookup(tables_->memories, "memory shard", name);
}
caf::expected<provider_actor> Runtime::provider(const std::string& name) const {
  return runtime_detail::lookup(tables_->providers, "provider", name);
}

caf::expected<std::shared_ptr<const workflow_graph>> Runtime::workflow(
  const std::string& name) const {
  auto it = tables_->workflows.find(name);
  if (it == tables_->workflows.end())
    return make_error(errc::not_found, "no workflow named '" + name + "'");
  return it->second;
}

std::vector<std::string> Runtime::agent_names() const {
  return runtime_detail::names_of(tables_->agents);
}
std::vector<std::string> Runtime::memory_names() const {
  return runtime_detail::names_of(tables_->memories);
}
std::vector<std::string> Runtime::provider_names() const {
  return runtime_detail::names_of(tables_->providers);
}

std::vector<runtime_component> Runtime::components() const {
  auto& sys = *system_;
  auto types = [](std::set<std::string> xs) { return std::vector<std::string>(xs.begin(), xs.end()); };
  const auto agent_ifs = types(sys.message_types<agent_actor>());
  const auto tool_ifs = types(sys.message_types<tool_actor>());
  const auto memory_ifs = types(sys.message_types<memory_actor>());
  auto placement = [this](const std::string& kind, const std::string& name) {
    auto it = tables_->pinned.find({kind, name});
    return it == tables_->pinned.end() ? std::string{"any"} : it->second;
  };
  std::vector<runtime_component> out;
  for (const auto& a : tables_->agents) {
    const std::string kind = a.info.group ? "group" : "agent";
    out.push_back(
      {kind, a.name, a.handle, agent_ifs, remote(kind, a.name), placement(kind, a.name)});
  }
  for (const auto& name : tables_->tool_order)
    if (const auto* t = tables_->tools.find(name); t && t->handle.ref())
      out.push_back({"tool", name, t->handle.ref(), tool_ifs, remote("tool", name),
                     placement("tool", name)});
  const auto replica_ifs = types(sys.message_types<memory_replica_actor>());
  for (const auto& m : tables_->memories) {
    // A replicated shard is offered as this node's copy, which the other
    // nodes' fronts call with the replica messages.
    if (const auto* copy = tables_->replica_shards.find(m.name))
      out.push_back({"memory", m.name, *copy, replica_ifs, false, "any"});
    else
      out.push_back({"memory", m.name, m.handle, memory_ifs, remote("memory", m.name),
                     placement("memory", m.name)});
  }
  // Populations this node runs: the directory tells the other nodes, whose
  // key addresses then count this node among the type's owners.
  const auto population_ifs = types(sys.message_types<population_actor>());
  for (const auto& p : tables_->populations)
    out.push_back({"population", p.name, p.handle, population_ifs, false,
                   p.info.cfg->agent.placement});
  return out;
}

std::shared_ptr<group_instances> Runtime::instances() const {
  return tables_->instances;
}

std::shared_ptr<replica_table> Runtime::replicas() const {
  return tables_->replicas;
}

topic_actor Runtime::topics() const {
  return tables_->topics;
}

std::shared_ptr<const topic_subscriptions> Runtime::subscriptions() const {
  return tables_->topic_subs;
}

bool Runtime::remote(const std::string& kind, const std::string& name) const {
  return tables_->remote.contains({kind, name});
}

std::chrono::milliseconds Runtime::task_deadline(const std::string& agent_name) const {
  if (const auto* e = tables_->agents.find_entry(agent_name))
    return e->info.task_deadline;
  if (auto address = parse_population_address(agent_name))
    if (const auto* e = tables_->populations.find_entry(address->type))
      return e->info.task_deadline;
  return opts_.supervision.request_timeout;
}

checkpoint_actor Runtime::checkpoints() const {
  return tables_->checkpoints;
}

caf::expected<workflow_run_actor> Runtime::spawn_workflow(
  std::shared_ptr<const workflow_graph> graph, workflow_start start, workflow_event_sink events) {
  // Only the agents and tools the graph names, a hash lookup per node:
  // starting a run grows with its graph, not with the runtime's agents. A
  // target the runtime lacks stays out, and spawn_workflow_run names it.
  workflow_deps deps;
  if (graph)
    for (const auto& node : graph->nodes) {
      if (node.kind == node_kind::agent && deps.agents.count(node.target) == 0)
        if (const auto* a = tables_->agents.find(node.target))
          deps.agents.emplace(node.target, (*a)->get());
      if (node.kind == node_kind::tool && deps.tools.count(node.target) == 0)
        if (const auto* t = tables_->tools.find(node.target))
          deps.tools.emplace(node.target, t->handle.get());
    }
  deps.functions = tables_->workflow_functions;
  deps.reducers = tables_->workflow_reducers;
  deps.cache = tables_->cache;
  if (!start.checkpoints)
    start.checkpoints = tables_->checkpoints;
  return spawn_workflow_run(*system_, std::move(graph), std::move(deps), std::move(start),
                            std::move(events));
}

namespace {

template <class Handle>
caf::expected<uint16_t> publish(caf::actor_system& sys, bool enabled,
                                const caf::expected<Handle>& handle, uint16_t port) {
  if (!enabled)
    return make_error(errc::invalid_argument, "publishing needs runtime_options::middleman");
  if (!handle)
    return handle.error();
  return sys.middleman().publish(*handle, port, "127.0.0.1", true);
}

}  // namespace

caf::expected<uint16_t> Runtime::publish_agent(const std::string& name, uint16_t port) {
  return publish(*system_, opts_.middleman, agent(name), port);
}
caf::expected<uint16_t> Runtime::publish_tool(const std::string& name, uint16_t port) {
  return publish(*system_, opts_.middleman, tool(name), port);
}
caf::expected<uint16_t> Runtime::publish_memory(const std::string& name, uint16_t port) {
  return publish(*system_, opts_.middleman, memory(name), port);
}
caf::expected<uint16_t> Runtime::publish_provider(const std::string& name, uint16_t port) {
  return publish(*system_, opts_.middleman, provider(name), port);
}

caf::error Runtime::shutdown() {
  if (shut_down_)
    return caf::none;
  shut_down_ = true;
  caf::error first_error;
  // Every population saves its active keys first, while the instances,
  // the store and the shards they write to are still up.
  for (const auto& p : tables_->populations) {
    auto pop = p.handle->get();
    if (!pop || abandoned_)
      continue;  // down (or abandoned): its keys keep their last saved states
    auto saved = blocking_ask<uint64_t>(*system_, pop,
                                        p.info.cfg->agent.request_timeout
                                          + runtime_detail::caller_grace,
                                        "population '" + p.name + "'",
                                        pop_passivate_all_atom::value);
    if (!saved) {
      log(log_severity::error, "runtime", "population passivation failed",
          {{"name", p.name}, {"error", describe(saved.error())}});
      if (!first_error)
        first_error = make_error(errc::io_error, "population '" + p.name + "' passivation failed: "
                                                   + describe(saved.error()));
    }
  }
  // Agents stop first so nothing writes to a shard after its snapshot.
  runtime_detail::stop_group(*system_, tables_->agent_group);
  for (const auto& p : tables_->populations)
    stop_and_wait(*system_, std::vector{p.info.store}, runtime_detail::control_timeout);
  runtime_detail::stop_group(*system_, tables_->chain_group);
  // Its subscribers are gone; publishing tools stop next.
  stop_and_wait(*system_, std::vector{tables_->topics}, runtime_detail::control_timeout);
  for (const auto& m : tables_->memories) {
    if (remote("memory", m.name) || abandoned_)
      continue;  // its own node snapshots it (or nobody: abandoned)
    auto shard = m.handle->get();
    if (!shard) {
      log(log_severity::error, "runtime", "memory shard is down; no snapshot",
          {{"name", m.name}, {"why", m.handle->why_down()}});
      if (!first_error)
        first_error = make_error(errc::io_error, "memory '" + m.name + "' is down: "
                                                   + m.handle->why_down());
      continue;
    }
    auto saved = blocking_ask<uint64_t>(*system_, shard,
                                        runtime_detail::snapshot_wait
                                          + runtime_detail::caller_grace,
                                        "memory shard '" + m.name + "'", snapshot_atom::value);
    if (saved)
      continue;
    log(log_severity::error, "runtime", "memory snapshot failed",
        {{"name", m.name}, {"error", describe(saved.error())}});
    if (!first_error)
      first_error = make_error(errc::io_error, "memory '" + m.name + "' snapshot failed: "
                                                 + describe(saved.error()));
  }
  runtime_detail::stop_group(*system_, tables_->tool_group);
  runtime_detail::stop_group(*system_, tables_->memory_group);
  runtime_detail::stop_group(*system_, tables_->provider_group);
  // Tasks still at a gate were failed when their agents stopped.
  tables_->gates->stop(*system_);
  stop_and_wait(*system_, std::vector{tables_->checkpoints}, runtime_detail::control_timeout);
  log(log_severity::debug, "runtime", "shut down",
      {{"agents", std::to_string(tables_->agents.size())},
       {"memory_shards", std::to_string(tables_->memories.size())}});
  return first_error;
}

}  // namespace agentgraph

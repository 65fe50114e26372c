// Building a Runtime: each add_* spawns one component under its own
// supervisor and records it in the runtime's tables; from_config does it
// for a whole node config in dependency order.
#include "actors/host/runtime_builder.hpp"

#include "actors/host/cluster/cluster_host.hpp"
#include "actors/host/cluster/replicated_memory.hpp"
#include "actors/host/runtime_tables.hpp"

#include <unistd.h>

#include <algorithm>

#include "actors/agent/agent.hpp"
#include "actors/host/node_config_checks.hpp"
#include "actors/host/placement.hpp"
#include "actors/memory/memory_shard.hpp"
#include "actors/provider/caching_provider.hpp"
#include "actors/provider/fallback_provider.hpp"
#include "actors/provider/provider_factory.hpp"
#include "actors/tool/publish_tool.hpp"
#include "actors/tool/tool_factory.hpp"
#include "actors/workflow/workflow_file.hpp"
#include "runtime/assert.hpp"
#include "runtime/blocking_ask.hpp"
#include "runtime/log.hpp"
#include "runtime/seeded_random.hpp"
#include "runtime/resilience/admission_queue.hpp"
#include "runtime/supervision_group.hpp"

namespace agentgraph {

namespace {

// A setup step's error, prefixed with the config key or section it came
// from; keeps our code, or `fallback` for foreign errors.
caf::error blame(const caf::error& err, errc fallback, const std::string& where) {
  return make_error(errc_of(err).value_or(fallback), where + ": " + error_context(err));
}

// The runtime options a node config asks for.
caf::expected<runtime_options> options_of(const node_config& cfg, bool middleman) {
  runtime_options opts;
  opts.scheduler_threads = cfg.runtime.scheduler_threads;
  opts.scheduler = cfg.runtime.scheduler;
  opts.supervision = cfg.supervisor;
  opts.middleman = middleman || cfg.cluster.has_value();
  if (cfg.cluster)
    opts.configure_system = [transport = *cfg.cluster](caf::actor_system_config& sys_cfg) {
      apply_cluster_transport(transport, sys_cfg);
    };
  // One HTTP client serves every HTTP provider: its bound is their sum.
  uint64_t http_slots = 0;
  for (const auto& p : cfg.providers) {
    if (!is_http_kind(p.kind))
      continue;
    http_slots += p.in_flight_max;
    opts.http_connect_timeout = std::max(opts.http_connect_timeout, p.connect_timeout);
  }
  opts.http_in_flight_max =
    static_cast<uint32_t>(std::clamp<uint64_t>(http_slots, 1, admission_in_flight_max_limit));
  if (!cfg.runtime.prices.empty()) {
    auto prices = load_price_table(cfg.runtime.prices);
    if (!prices)
      return blame(prices.error(), errc::invalid_argument, "runtime.prices");
    opts.prices = std::make_shared<const price_table>(std::move(*prices));
  }
  if (cfg.cluster)
    opts.node_name = cfg.cluster->node_id;
  return opts;
}

}  // namespace

caf::expected<std::unique_ptr<Runtime>> runtime_builder::from_config(
  const node_config& cfg, bool middleman, const std::function<void(runtime_options&)>& adjust) {
  // The same checks `config check` runs, before anything starts, so the two
  // refuse the same configs with the same messages. It reads the rules and
  // workflow files once more than building does; they are small and read
  // once per start.
  if (auto err = check_node_resources(cfg))
    return err;
  auto opts = options_of(cfg, middleman);
  if (!opts)
    return std::move(opts.error());
  if (adjust)
    adjust(*opts);
  auto rt = std::make_unique<Runtime>(std::move(*opts));
  runtime_builder build{*rt};
  auto tiers = cache::make_cache_tiers(cfg.cache, rt->metrics_ptr());
  if (!tiers)
    return blame(tiers.error(), errc::invalid_argument, "cache");
  rt->tables_->cache = std::move(*tiers);
  for (const auto& p : cfg.providers)
    if (auto h = build.add_provider(p); !h)
      return std::move(h.error());
  // Components placed on other nodes first: refs the cluster directory
  // fills, so what this node builds finds them by name like local ones.
  if (auto err = build.add_placed_elsewhere(cfg))
    return err;
  for (const auto& m : cfg.memories)
    if (placed_here(m.placement, cfg))
      if (auto h = build.add_memory(m); !h)
        return std::move(h.error());
  for (const auto& t : cfg.tools)
    if (t.kind != "agent" && placed_here(t.placement, cfg))
      if (auto h = build.add_tool(t); !h)
        return std::move(h.error());
  if (auto err = build.add_agents_in_order(cfg))
    return err;
  // After every tool (agent tools included), before the groups and
  // workflows that may address their keys.
  for (const auto& p : cfg.populations) {
    if (!placed_here(p.agent.placement, cfg)) {
      // Its node offers it in the cluster directory; its keys resolve here.
      rt->tables_->remote_population_types.insert(p.name);
      continue;
    }
    if (auto h = build.add_population(p); !h)
      return std::move(h.error());
  }
  for (const auto& g : cfg.groups)
    if (auto h = build.add_group(g); !h)
      return std::move(h.error());
  const bool postgres = !cfg.runtime.checkpoint_url.empty();
  if (postgres || !cfg.runtime.checkpoint_path.empty()) {
    checkpoint_limits limits;
    limits.keep_last = cfg.runtime.checkpoint_keep_last;
    auto store = open_checkpoint_store(
      postgres ? cfg.runtime.checkpoint_url : "sqlite:" + cfg.runtime.checkpoint_path, limits);
    if (!store)
      return blame(store.error(), errc::io_error,
                   postgres ? "runtime.checkpoint_url" : "runtime.checkpoint_path");
    if (auto err = build.use_checkpoints(std::move(*store)))
      return err;
  }
  for (const auto& w : cfg.workflows) {
    graph_names names;
    // Known by name, up or not: a component on another node is down until
    // the cluster directory offers it.
    auto known = [](const auto& found) {
      return found || errc_of(found.error()) == errc::unavailable;
    };
    names.has_agent = [&](const std::string& n) { return known(rt->agent(n)); };
    names.has_tool = [&](const std::string& n) { return known(rt->tool(n)); };
    auto g = load_workflow(w.file, names);
    if (!g)
      return blame(g.error(), errc::invalid_argument, "workflow '" + w.name + "'");
    if (auto err = build.add_workflow(w.name, std::move(*g)))
      return err;
  }
  return rt;
}

caf::error runtime_builder::add_agents_in_order(const node_config& cfg) {
  // The cross-checker that loaded `cfg` also ordered its agents and agent
  // tools (node_config::build_order); a config filled by hand has no order.
  const auto agent_tools = static_cast<size_t>(std::count_if(
    cfg.tools.begin(), cfg.tools.end(), [](const tool_config& t) { return t.kind == "agent"; }));
  if (cfg.build_order.size() != cfg.agents.size() + agent_tools)
    return make_error(errc::invalid_argument,
                      "the config's build_order does not list every agent and agent tool; "
                      "make the config with load_node_config or parse_node_config");
  using step = node_config::build_step;
  for (const auto& s : cfg.build_order) {
    const bool agent = s.what == step::kind::agent;
    if (s.index >= (agent ? cfg.agents.size() : cfg.tools.size()))
      return make_error(errc::invalid_argument, "the config's build_order names no component");
    const auto& placement =
      agent ? cfg.agents[s.index].placement : cfg.tools[s.index].placement;
    if (!placed_here(placement, cfg))
      continue;  // a remote ref already (add_placed_elsewhere)
    if (agent) {
      if (auto h = add_agent(cfg.agents[s.index]); !h)
        return std::move(h.error());
    } else if (auto h = add_tool(cfg.tools[s.index]); !h) {
      return std::move(h.error());
    }
  }
  return {};
}

std::shared_ptr<net::http_client> runtime_builder::http_client() {
  auto& tables = *rt_.tables_;
  if (!tables.http) {
    net::http_client_limits limits;
    limits.in_flight_max = rt_.opts_.http_in_flight_max;
    limits.connect_timeout = rt_.opts_.http_connect_timeout;
    tables.http = std::make_shared<net::http_client>(limits);
  }
  return tables.http;
}

caf::expected<provider_actor> runtime_builder::add_provider(const provider_config& cfg) {
  auto& tables = *rt_.tables_;
  const auto& opts = rt_.opts_;
  if (tables.providers.find(cfg.name))
    return make_error(errc::invalid_argument, "duplicate provider '" + cfg.name + "'");
  http_provider_deps deps;
  deps.prices = opts.prices;
  deps.metrics = opts.metrics;
  if (is_http_kind(cfg.kind))
    deps.http = opts.http ? opts.http : std::shared_ptr<net::http_transport>{http_client()};
  if (opts.seed != 0)
    deps.jitter_seed = derive_seed(opts.seed, "provider." + cfg.name);
  auto h = supervise_in<provider_actor>(
    rt_.system(), tables.provider_group, "provider." + cfg.name,
    [cfg, deps](caf::actor_system& sys) { return spawn_provider(sys, cfg, deps); });
  if (h)
    tables.provider_configs[cfg.name] = cfg;
  runtime_detail::record("provider", tables.providers, cfg.name, h);
  if (!h)
    return std::move(h.error());
  return (*h)->get();
}

namespace runtime_detail {

// What a provider is, for the embedding cache's keys: its kind and
// endpoint, and for a server on this machine (a loopback host, as Ollama
// runs) the machine's name too, since the same URL on two machines sharing
// Redis is two servers.
std::string provider_identity(const provider_config& pc) {
  std::string id = std::string{to_string(pc.kind)} + " " + pc.base_url + " " + pc.model;
  const auto& url = pc.base_url;
  if (url.find("://127.") != std::string::npos || url.find("://localhost") != std::string::npos
      || url.find("://[::1]") != std::string::npos) {
    char host[256] = {};
    if (::gethostname(host, sizeof host - 1) == 0)
      id += std::string{" on "} + host;
  }
  return id;
}

}  // namespace runtime_detail

caf::expected<memory_actor> runtime_builder::add_memory(const memory_config& cfg) {
  auto& tables = *rt_.tables_;
  const auto& opts = rt_.opts_;
  if (tables.memories.find(cfg.name))
    return make_error(errc::invalid_argument, "duplicate memory shard '" + cfg.name + "'");
  // A provider's embedding model: the shard asks that provider (its
  // current incarnation: a restarted provider is found again) through the
  // runtime's cache levels.
  memory_embed_deps deps;
  if (auto spec = parse_embedding_spec(cfg.embedding_model); spec && !spec->hashing) {
    const auto* provider = tables.providers.find(spec->provider);
    if (provider == nullptr)
      return make_error(errc::invalid_argument,
                        "memory." + cfg.name + ".embedding_model: " + cfg.embedding_model
                          + " names provider '" + spec->provider + "', which is not added");
    deps.provider = *provider;
    deps.tiers = tables.cache;
    if (auto pc = tables.provider_configs.find(spec->provider); pc != tables.provider_configs.end())
      deps.provider_identity = runtime_detail::provider_identity(pc->second);
  }
  auto h = supervise_in<memory_actor>(rt_.system(), tables.memory_group, "memory." + cfg.name,
                                      [cfg, reg = opts.metrics, wall = opts.wall_ms,
                                       deps](caf::actor_system& sys) {
                                        return spawn_memory_shard(sys, cfg, wall, reg, deps);
                                      });
  if (h && cfg.replicas > 1)
    return add_replicated_front(cfg, *h);
  runtime_detail::record("memory", tables.memories, cfg.name, h);
  if (!h)
    return std::move(h.error());
  return (*h)->get();
}

caf::expected<memory_actor> runtime_builder::add_replicated_front(
  const memory_config& cfg, const supervised_ref_ptr<memory_actor>& copy) {
  auto& tables = *rt_.tables_;
  replicated_memory_args args;
  args.name = cfg.name;
  args.replicas = cfg.replicas;
  args.local = copy;
  args.table = tables.replicas;
  const auto& opts = rt_.opts_;
  args.now_ms = opts.wall_ms ? opts.wall_ms : std::function<int64_t()>{system_unix_ms};
  if (opts.seed != 0)
    args.seed = derive_seed(opts.seed, "memory." + cfg.name);
  args.metrics = rt_.opts_.metrics;
  auto front = supervise_in<memory_actor>(
    rt_.system(), tables.memory_group, "memory." + cfg.name + ".front",
    [args](caf::actor_system& sys) -> caf::expected<memory_actor> {
      auto h = spawn_replicated_memory(sys, args);
      if (!h)
        return std::move(h.error());
      return memory_actor{*h};
    });
  if (!front) {
    caf::anon_send_exit(copy->get(), caf::exit_reason::user_shutdown);
    runtime_detail::log_added("memory", cfg.name, front);
    return std::move(front.error());
  }
  const bool added = tables.replica_shards.add(cfg.name, copy);
  AG_ASSERT(added, "the name was checked free before the spawn");
  runtime_detail::record("memory", tables.memories, cfg.name, front);
  return (*front)->get();
}

caf::expected<tool_actor> runtime_builder::add_tool(const tool_config& cfg) {
  auto& tables = *rt_.tables_;
  const auto& opts = rt_.opts_;
  if (tables.tools.find(cfg.name) != nullptr)
    return make_error(errc::invalid_argument, "duplicate tool '" + cfg.name + "'");
  caf::expected<supervised_ref_ptr<tool_actor>> h = make_error(errc::internal, "unset");
  if (cfg.kind == "agent") {
    auto target = tables.agents.find(cfg.agent);
    if (!target)
      return make_error(errc::invalid_argument, "tool '" + cfg.name + "' names agent '"
                                                  + cfg.agent + "', which is not added yet");
    h = supervise_in<tool_actor>(rt_.system(), tables.tool_group, "tool." + cfg.name,
                                 [cfg, target = *target, reg = opts.metrics](caf::actor_system& sys) {
                                   return spawn_agent_tool(sys, cfg, target, reg);
                                 });
  } else if (cfg.kind == "publish") {
    if (auto err = validate_tool_config(cfg))
      return err;
    h = supervise_in<tool_actor>(
      rt_.system(), tables.tool_group, "tool." + cfg.name,
      [cfg, topics = tables.topics, reg = opts.metrics](caf::actor_system& sys) {
        return caf::expected<tool_actor>{
          spawn_publish_tool(sys, cfg, topics, make_tool_metrics(reg, cfg.name, false))};
      });
  } else {
    h = supervise_in<tool_actor>(
      rt_.system(), tables.tool_group, "tool." + cfg.name,
      [cfg, reg = opts.metrics, tiers = tables.cache](caf::actor_system& sys) {
        return spawn_tool(sys, cfg, reg, tiers);
      });
  }
  if (!h)
    return std::move(h.error());
  auto first = (*h)->get();
  auto spec = blocking_ask<tool_spec>(rt_.system(), first, runtime_detail::control_timeout,
                                      "tool '" + cfg.name + "'", describe_atom::value);
  caf::error failed;
  if (spec) {
    // The model calls the tool by its configured name.
    spec->name = cfg.name;
    failed = tables.tools.add(*h, std::move(*spec));
  } else {
    failed = std::move(spec.error());
  }
  if (failed) {
    caf::anon_send_exit(first, caf::exit_reason::user_shutdown);
    return failed;
  }
  tables.tool_order.push_back(cfg.name);
  runtime_detail::log_added("tool", cfg.name, h);
  return first;
}

caf::expected<agent_dependencies> runtime_builder::agent_deps(const agent_config& cfg) {
  auto& tables = *rt_.tables_;
  const auto& opts = rt_.opts_;
  agent_dependencies deps;
  deps.metrics = opts.metrics;
  auto prov = tables.providers.find(cfg.provider);
  if (!prov)
    return make_error(errc::invalid_argument, "agent '" + cfg.name + "': no provider named '"
                                                + cfg.provider + "'");
  deps.provider = *prov;
  if (!cfg.fallback.empty()) {
    auto chain = add_fallback_chain(cfg);
    if (!chain)
      return std::move(chain.error());
    deps.provider = *chain;
  }
  if (cfg.llm_cache) {
    llm_cache_config lc;
    lc.name = "agent." + cfg.name + ".llm_cache";
    lc.entries_max = cfg.llm_cache_entries_max;
    lc.ttl = cfg.llm_cache_ttl;
    lc.inner_timeout = cfg.request_timeout;
    lc.tiers = tables.cache;
    auto cached = supervise_in<provider_actor>(
      rt_.system(), tables.chain_group, lc.name,
      [lc, inner = deps.provider](caf::actor_system& sys) {
        return spawn_caching_provider(sys, lc, inner);
      });
    if (!cached)
      return std::move(cached.error());
    tables.chains.push_back({cfg.name + ".llm_cache", *cached});
    deps.provider = *cached;
  }
  auto definitions = tables.tools.definitions(cfg.tools);
  if (!definitions)
    return make_error(errc::invalid_argument,
                      "agent '" + cfg.name + "': " + describe(definitions.error()));
  deps.tool_definitions = std::move(*definitions);
  for (const auto& name : cfg.tools)
    deps.tools[name] = tables.tools.find(name)->handle;
  if (!cfg.memory.empty()) {
    auto m = tables.memories.find(cfg.memory);
    if (!m)
      return make_error(errc::invalid_argument, "agent '" + cfg.name + "': no memory shard named '"
                                                  + cfg.memory + "'");
    deps.memory = *m;
  }
  if (auto err = validate_agent(cfg, deps))
    return err;
  return deps;
}

caf::expected<agent_actor> runtime_builder::add_agent(const agent_config& cfg) {
  auto& tables = *rt_.tables_;
  if (tables.agents.find(cfg.name) || tables.populations.find(cfg.name))
    return make_error(errc::invalid_argument, "duplicate agent '" + cfg.name + "'");
  auto built = agent_deps(cfg);
  if (!built)
    return std::move(built.error());
  auto deps = std::move(*built);
  for (const auto& topic : cfg.subscribe)
    if (auto err = check_topic_name(topic))
      return make_error(errc::invalid_argument,
                        "agent '" + cfg.name + "': subscribe: " + error_context(err));
  // The configuration and dependencies in one allocation that every
  // incarnation shares (aliasing pointers into it); the factory captures
  // one pointer, which fits std::function's inline buffer.
  struct agent_parts {
    agent_config cfg;
    agent_dependencies deps;
  };
  auto parts = std::make_shared<const agent_parts>(agent_parts{cfg, std::move(deps)});
  auto h = supervise_in<agent_actor>(
    rt_.system(), tables.agent_group, "agent." + cfg.name,
    [parts](caf::actor_system& sys) -> caf::expected<agent_actor> {
      return spawn_agent(sys, std::shared_ptr<const agent_config>{parts, &parts->cfg},
                         std::shared_ptr<const agent_dependencies>{parts, &parts->deps});
    });
  if (!h)
    return std::move(h.error());
  runtime_detail::record("agent", tables.agents, cfg.name, h, runtime_detail::agent_info{runtime_detail::task_deadline_of(cfg)});
  for (const auto& topic : cfg.subscribe)
    if (auto err = tables.topic_subs->subscribe(
            topic, {cfg.name, dep<agent_actor>{*h}, runtime_detail::task_deadline_of(cfg)}))
      return make_error(errc_of(err).value_or(errc::invalid_argument),
                        "agent '" + cfg.name + "': subscribe: " + error_context(err));
  return (*h)->get();
}

caf::expected<agent_actor> runtime_builder::add_group(group_config cfg) {
  auto& tables = *rt_.tables_;
  if (tables.agents.find(cfg.name))
    return make_error(errc::invalid_argument,
                      "group '" + cfg.name + "': an agent or group has that name already");
  std::vector<group_member> members;
  std::chrono::milliseconds deadline{0};
  for (const auto& name : cfg.agents) {
    const auto* member = tables.agents.find_entry(name);
    if (!member || member->info.group)
      return make_error(errc::invalid_argument,
                        "group '" + cfg.name + "': no agent named '" + name + "'");
    members.push_back({name, member->handle, 0, 0});
    deadline = std::max(deadline, member->info.task_deadline);
  }
  cfg.task_timeout = deadline;
  auto h = supervise_in<agent_actor>(
    rt_.system(), tables.agent_group, "group." + cfg.name,
    [cfg, members, instances = tables.instances](caf::actor_system& sys) {
      return spawn_agent_group(sys, cfg, members, instances);
    });
  runtime_detail::record("group", tables.agents, cfg.name, h,
         runtime_detail::agent_info{deadline + runtime_detail::caller_grace, true});
  if (!h)
    return std::move(h.error());
  return (*h)->get();
}

namespace {

// A component of another node: down until the cluster directory offers it.
template <class Handle>
supervised_ref_ptr<Handle> remote_ref(const std::string& name, const std::string& placement) {
  auto ref = std::make_shared<supervised_ref<Handle>>(name);
  ref->set_down("placed on node '" + placement
                + "', which has not offered it in the cluster directory (yet)");
  return ref;
}

}  // namespace

caf::error runtime_builder::add_placed_elsewhere(const node_config& cfg) {
  auto& tables = *rt_.tables_;
  // Who may offer each pinned component (the directory glue checks offers).
  for (const auto& m : cfg.memories)
    if (m.placement != "any")
      tables.pinned[{"memory", m.name}] = m.placement;
  for (const auto& t : cfg.tools)
    if (t.placement != "any")
      tables.pinned[{"tool", t.name}] = t.placement;
  for (const auto& a : cfg.agents)
    if (a.placement != "any")
      tables.pinned[{"agent", a.name}] = a.placement;
  auto taken = [&](const std::string& kind, const std::string& name) {
    return make_error(errc::invalid_argument, "duplicate " + kind + " '" + name + "'");
  };
  for (const auto& m : cfg.memories) {
    if (placed_here(m.placement, cfg))
      continue;
    if (!tables.memories.add(m.name, remote_ref<memory_actor>(m.name, m.placement)))
      return taken("memory shard", m.name);
    tables.remote.insert({"memory", m.name});
  }
  for (const auto& t : cfg.tools) {
    if (placed_here(t.placement, cfg))
      continue;
    auto spec = tool_spec_of(t);
    if (!spec)
      return std::move(spec.error());
    if (auto err = tables.tools.add(remote_ref<tool_actor>(t.name, t.placement), std::move(*spec)))
      return err;
    tables.tool_order.push_back(t.name);
    tables.remote.insert({"tool", t.name});
  }
  for (const auto& a : cfg.agents) {
    if (placed_here(a.placement, cfg))
      continue;
    if (!tables.agents.add(a.name, remote_ref<agent_actor>(a.name, a.placement),
                           runtime_detail::agent_info{runtime_detail::task_deadline_of(a)}))
      return taken("agent", a.name);
    tables.remote.insert({"agent", a.name});
  }
  return {};
}

caf::expected<supervised_ref_ptr<provider_actor>> runtime_builder::add_fallback_chain(
  const agent_config& cfg) {
  auto& tables = *rt_.tables_;
  const auto& opts = rt_.opts_;
  std::vector<fallback_member> members;
  std::vector<std::string> names{cfg.provider};
  names.insert(names.end(), cfg.fallback.begin(), cfg.fallback.end());
  for (const auto& name : names) {
    auto h = tables.providers.find(name);
    if (!h)
      return make_error(errc::invalid_argument,
                        "agent '" + cfg.name + "': fallback: no provider named '" + name + "'");
    auto it = tables.provider_configs.find(name);
    members.push_back({name, *h, it == tables.provider_configs.end() ? "" : it->second.model});
  }
  // A member may spend its whole request_timeout (retries included) before
  // the chain moves on.
  auto member_timeout = opts.supervision.request_timeout;
  auto chain_name = "agent." + cfg.name + ".providers";
  auto h = supervise_in<provider_actor>(
    rt_.system(), tables.chain_group, chain_name,
    [chain_name, members, member_timeout](caf::actor_system& sys) {
      return spawn_fallback_provider(sys, chain_name, members, member_timeout);
    });
  if (h)
    tables.chains.push_back({cfg.name, *h});
  runtime_detail::log_added("fallback chain", chain_name, h);
  return h;
}

caf::error runtime_builder::add_workflow(const std::string& name, workflow_graph graph) {
  auto& workflows = rt_.tables_->workflows;
  if (workflows.count(name) != 0)
    return make_error(errc::invalid_argument, "duplicate workflow '" + name + "'");
  workflows[name] = std::make_shared<const workflow_graph>(std::move(graph));
  return {};
}

caf::error runtime_builder::register_workflow_function(std::string name, node_function fn) {
  return rt_.tables_->workflow_functions->add(std::move(name), std::move(fn));
}

caf::error runtime_builder::register_workflow_reducer(std::string name, reducer_fn fn) {
  return rt_.tables_->workflow_reducers->add(std::move(name), std::move(fn));
}

caf::error runtime_builder::use_checkpoints(std::unique_ptr<checkpoint_store> store) {
  auto& tables = *rt_.tables_;
  if (!store)
    return make_error(errc::invalid_argument, "no checkpoint store");
  if (tables.checkpoints)
    return make_error(errc::invalid_argument, "this runtime already has a checkpoint store");
  log(log_severity::debug, "runtime", "checkpoint store", {{"backend", store->backend()}});
  tables.checkpoints = spawn_checkpoint_actor(rt_.system(), std::move(store));
  return {};
}

}  // namespace agentgraph

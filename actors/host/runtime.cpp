// The Runtime facade: building components from config, lookup, blocking
// client calls, stats, publishing and shutdown. Slightly over 600 lines
// because it is still the assembly hub; the house issue (10) splits it into
// builder, runtime and client.
#include "actors/host/runtime.hpp"
#include "actors/host/runtime_tables.hpp"

#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/sec.hpp>

#include "actors/agent/agent.hpp"
#include "actors/memory/memory_shard.hpp"
#include "actors/provider/caching_provider.hpp"
#include "actors/provider/fallback_provider.hpp"
#include "actors/provider/provider_factory.hpp"
#include "actors/host/register_types.hpp"
#include "actors/tool/tool_factory.hpp"
#include "actors/tool/tool_registry.hpp"
#include "actors/workflow/workflow_file.hpp"
#include "runtime/cache/multi_level_cache.hpp"
#include "runtime/checkpoint/postgres_checkpoint_store.hpp"
#include "runtime/checkpoint/sqlite_checkpoint_store.hpp"
#include "net/curl_global.hpp"
#include "net/http_client.hpp"
#include "runtime/resilience/admission_queue.hpp"
#include "runtime/error.hpp"
#include "runtime/log.hpp"
#include "runtime/supervisor.hpp"

namespace agentgraph {


Runtime::Runtime(runtime_options opts)
  : opts_(std::move(opts)),
    config_(std::make_unique<caf::actor_system_config>()),
    tables_(std::make_unique<component_tables>()) {
  net::ensure_curl_initialized();
  if (!opts_.metrics)
    opts_.metrics = std::make_shared<metrics::registry>();
  register_all_types(*config_);
  config_->set("scheduler.max-threads", static_cast<size_t>(opts_.scheduler_threads));
  if (opts_.middleman)
    config_->load<caf::io::middleman>();
  system_ = std::make_unique<caf::actor_system>(*config_);
}

Runtime::~Runtime() {
  (void)shutdown();
}

caf::expected<std::unique_ptr<Runtime>> Runtime::from_config(const node_config& cfg,
                                                             bool middleman) {
  // The same checks `config check` runs, before anything starts, so the two
  // refuse the same configs with the same messages. It reads the rules and
  // workflow files once more than building does; they are small and read
  // once per start.
  if (auto err = check_node_resources(cfg))
    return err;
  runtime_options opts;
  opts.scheduler_threads = cfg.runtime.scheduler_threads;
  opts.supervision = cfg.supervisor;
  opts.middleman = middleman;
  uint64_t http_slots = 0;
  for (const auto& p : cfg.providers) {
    if (p.kind == provider_kind::scripted)
      continue;
    http_slots += p.in_flight_max;
    opts.http_connect_timeout = std::max(opts.http_connect_timeout, p.connect_timeout);
  }
  opts.http_in_flight_max =
    static_cast<uint32_t>(std::clamp<uint64_t>(http_slots, 1, admission_in_flight_max_limit));
  if (!cfg.runtime.prices.empty()) {
    auto prices = load_price_table(cfg.runtime.prices);
    if (!prices)
      return make_error(errc_of(prices.error()).value_or(errc::invalid_argument),
                        "runtime.prices: " + error_context(prices.error()));
    opts.prices = std::make_shared<const price_table>(std::move(*prices));
  }
  auto rt = std::make_unique<Runtime>(opts);
  auto tiers = cache::make_cache_tiers(cfg.cache, rt->metrics_ptr());
  if (!tiers)
    return make_error(errc_of(tiers.error()).value_or(errc::invalid_argument),
                      "cache: " + error_context(tiers.error()));
  rt->tables_->cache = std::move(*tiers);
  for (const auto& p : cfg.providers)
    if (auto h = rt->add_provider(p); !h)
      return std::move(h.error());
  for (const auto& m : cfg.memories)
    if (auto h = rt->add_memory(m); !h)
      return std::move(h.error());
  std::vector<const tool_config*> agent_tools;
  for (const auto& t : cfg.tools) {
    if (t.kind == "agent") {
      agent_tools.push_back(&t);
      continue;
    }
    if (auto h = rt->add_tool(t); !h)
      return std::move(h.error());
  }
  // Agents and agent tools depend on each other (planner -> ask_researcher ->
  // researcher): add whatever is ready, round by round. Each round adds at
  // least one component or ends the loop, so it runs at most n times.
  std::vector<const agent_config*> agents;
  for (const auto& a : cfg.agents)
    agents.push_back(&a);
  for (size_t round = 0; round <= cfg.agents.size() + cfg.tools.size(); ++round) {
    size_t before = agents.size() + agent_tools.size();
    for (auto it = agent_tools.begin(); it != agent_tools.end();) {
      if (!rt->agent((*it)->agent)) {
        ++it;
        continue;
      }
      if (auto h = rt->add_tool(**it); !h)
        return std::move(h.error());
      it = agent_tools.erase(it);
    }
    for (auto it = agents.begin(); it != agents.end();) {
      bool ready = true;
      for (const auto& t : (*it)->tools)
        ready = ready && static_cast<bool>(rt->tool(t));
      if (!ready) {
        ++it;
        continue;
      }
      if (auto h = rt->add_agent(**it); !h)
        return std::move(h.error());
      it = agents.erase(it);
    }
    if (agents.size() + agent_tools.size() == before)
      break;
  }
  if (!agents.empty())
    return make_error(errc::invalid_argument,
                      "agent '" + agents.front()->name
                        + "' cannot be built: its tools form a cycle or name missing tools");
  if (!agent_tools.empty())
    return make_error(errc::invalid_argument, "tool '" + agent_tools.front()->name
                                                + "' names an agent that cannot be built");
  for (const auto& g : cfg.groups)
    if (auto h = rt->add_group(g); !h)
      return std::move(h.error());
  const auto& where = !cfg.runtime.checkpoint_url.empty() ? cfg.runtime.checkpoint_url
                                                          : cfg.runtime.checkpoint_path;
  if (!where.empty()) {
    checkpoint_limits limits;
    limits.keep_last = cfg.runtime.checkpoint_keep_last;
    auto store = cfg.runtime.checkpoint_url.empty()
                   ? open_sqlite_checkpoint_store(where, limits)
                   : open_postgres_checkpoint_store(where, limits);
    if (!store)
      return make_error(errc_of(store.error()).value_or(errc::io_error),
                        "runtime.checkpoint_" + std::string{cfg.runtime.checkpoint_url.empty() ? "path" : "url"}
                          + ": " + error_context(store.error()));
    if (auto err = rt->use_checkpoints(std::move(*store)))
      return err;
  }
  for (const auto& w : cfg.workflows) {
    graph_names names;
    names.has_agent = [&](const std::string& n) { return static_cast<bool>(rt->agent(n)); };
    names.has_tool = [&](const std::string& n) { return static_cast<bool>(rt->tool(n)); };
    auto g = load_workflow(w.file, names);
    if (!g)
      return make_error(errc_of(g.error()).value_or(errc::invalid_argument),
                        "workflow '" + w.name + "': " + error_context(g.error()));
    rt->tables_->workflows[w.name] = std::make_shared<const workflow_graph>(std::move(*g));
  }
  return rt;
}

caf::expected<provider_actor> Runtime::add_provider(const provider_config& cfg) {
  if (runtime_detail::find(tables_->providers, cfg.name))
    return make_error(errc::invalid_argument, "duplicate provider '" + cfg.name + "'");
  http_provider_deps deps;
  deps.prices = opts_.prices;
  deps.metrics = opts_.metrics;
  if (cfg.kind != provider_kind::scripted) {
    if (!tables_->http) {
      net::http_client_limits limits;
      limits.in_flight_max = opts_.http_in_flight_max;
      limits.connect_timeout = opts_.http_connect_timeout;
      tables_->http = std::make_shared<net::http_client>(limits);
    }
    deps.http = tables_->http;
  }
  auto h = runtime_detail::supervise<provider_actor>(
    *system_, "provider." + cfg.name, opts_.supervision, opts_.metrics,
    [cfg, deps](caf::actor_system& sys) { return spawn_provider(sys, cfg, deps); });
  if (h) {
    tables_->providers.push_back({cfg.name, *h});
    tables_->provider_configs[cfg.name] = cfg;
  }
  runtime_detail::log_added("provider", cfg.name, h);
  return h;
}

caf::expected<memory_actor> Runtime::add_memory(const memory_config& cfg) {
  if (runtime_detail::find(tables_->memories, cfg.name))
    return make_error(errc::invalid_argument, "duplicate memory shard '" + cfg.name + "'");
  // A snapshot may take up to the writer's timeout; the shard's supervisor
  // must not cut it short.
  supervision_config sc = opts_.supervision;
  sc.request_timeout = std::max<std::chrono::milliseconds>(sc.request_timeout,
                                                           runtime_detail::snapshot_wait);
  auto h = runtime_detail::supervise<memory_actor>(
    *system_, "memory." + cfg.name, sc, opts_.metrics,
    [cfg, reg = opts_.metrics](caf::actor_system& sys) {
      return spawn_memory_shard(sys, cfg, {}, reg);
    });
  if (h)
    tables_->memories.push_back({cfg.name, *h});
  runtime_detail::log_added("memory", cfg.name, h);
  return h;
}

caf::expected<tool_actor> Runtime::add_tool(const tool_config& cfg) {
  if (tables_->tools.find(cfg.name) != nullptr)
    return make_error(errc::invalid_argument, "duplicate tool '" + cfg.name + "'");
  caf::expected<tool_actor> h = make_error(errc::internal, "unset");
  if (cfg.kind == "agent") {
    auto target = agent(cfg.agent);
    if (!target)
      return make_error(errc::invalid_argument, "tool '" + cfg.name + "' names agent '"
                                                  + cfg.agent + "', which is not added yet");
    agent_actor target_handle = *target;
    h = runtime_detail::supervise<tool_actor>(
      *system_, "tool." + cfg.name, opts_.supervision, opts_.metrics,
      [cfg, target_handle, reg = opts_.metrics](caf::actor_system& sys) {
        return spawn_agent_tool(sys, cfg, target_handle, reg);
      });
  } else {
    h = runtime_detail::supervise<tool_actor>(
      *system_, "tool." + cfg.name, opts_.supervision, opts_.metrics,
      [cfg, reg = opts_.metrics, tiers = tables_->cache](caf::actor_system& sys) {
        return spawn_tool(sys, cfg, reg, tiers);
      });
  }
  if (!h)
    return h;
  caf::scoped_actor self{*system_};
  caf::error failed;
  self->request(*h, runtime_detail::control_timeout, describe_atom::value)
    .receive(
      [&](tool_spec& spec) {
        // The model calls the tool by its configured name.
        spec.name = cfg.name;
        failed = tables_->tools.add(*h, std::move(spec));
      },
      [&](caf::error& err) { failed = std::move(err); });
  if (failed) {
    self->send_exit(*h, caf::exit_reason::user_shutdown);
    return failed;
  }
  tables_->tool_order.push_back(cfg.name);
  runtime_detail::log_added("tool", cfg.name, h);
  return h;
}

caf::expected<agent_actor> Runtime::add_agent(const agent_config& cfg) {
  if (runtime_detail::find(tables_->agents, cfg.name))
    return make_error(errc::invalid_argument, "duplicate agent '" + cfg.name + "'");
  agent_dependencies deps;
  deps.metrics = opts_.metrics;
  auto prov = provider(cfg.provider);
  if (!prov)
    return make_error(errc::invalid_argument,
                      "agent '" + cfg.name + "': " + describe(prov.error()));
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
    lc.tiers = tables_->cache;
    auto inner = deps.provider;
    auto cached = runtime_detail::supervise<provider_actor>(
      *system_, lc.name, opts_.supervision, opts_.metrics,
      [lc, inner](caf::actor_system& sys) { return spawn_caching_provider(sys, lc, inner); });
    if (!cached)
      return std::move(cached.error());
    tables_->chains.push_back({cfg.name + ".llm_cache", *cached});
    deps.provider = *cached;
  }
  auto definitions = tables_->tools.definitions(cfg.tools);
  if (!definitions)
    return make_error(errc::invalid_argument,
                      "agent '" + cfg.name + "': " + describe(definitions.error()));
  deps.tool_definitions = std::move(*definitions);
  for (const auto& name : cfg.tools)
    deps.tools[name] = tables_->tools.find(name)->handle;
  if (!cfg.memory.empty()) {
    auto m = memory(cfg.memory);
    if (!m)
      return make_error(errc::invalid_argument, "agent '" + cfg.name + "': " + describe(m.error()));
    deps.memory = *m;
  }
  if (auto err = validate_agent(cfg, deps))
    return err;
  // The agent's supervisor must allow a whole task, not one model call.
  supervision_config sc = opts_.supervision;
  tables_->agent_configs[cfg.name] = cfg;
  sc.request_timeout = std::max(sc.request_timeout, task_deadline(cfg.name));
  auto h = runtime_detail::supervise<agent_actor>(
    *system_, "agent." + cfg.name, sc, opts_.metrics,
    [cfg, deps](caf::actor_system& sys) -> caf::expected<agent_actor> {
      return spawn_agent(sys, cfg, deps);
    });
  if (!h) {
    tables_->agent_configs.erase(cfg.name);
    return h;
  }
  tables_->agents.push_back({cfg.name, *h});
  runtime_detail::log_added("agent", cfg.name, h);
  return h;
}

caf::expected<agent_actor> Runtime::add_group(group_config cfg) {
  if (runtime_detail::find(tables_->agents, cfg.name))
    return make_error(errc::invalid_argument,
                      "group '" + cfg.name + "': an agent or group has that name already");
  std::vector<group_member> members;
  std::chrono::milliseconds deadline{0};
  for (const auto& name : cfg.agents) {
    if (tables_->agent_configs.count(name) == 0)
      return make_error(errc::invalid_argument,
                        "group '" + cfg.name + "': no agent named '" + name + "'");
    members.push_back({name, *agent(name), 0, 0});
    deadline = std::max(deadline, task_deadline(name));
  }
  cfg.task_timeout = deadline;
  tables_->group_deadlines[cfg.name] = deadline + runtime_detail::caller_grace;
  supervision_config sc = opts_.supervision;
  sc.request_timeout = std::max(sc.request_timeout, deadline + 2 * runtime_detail::caller_grace);
  auto h = runtime_detail::supervise<agent_actor>(
    *system_, "group." + cfg.name, sc, opts_.metrics, [cfg, members](caf::actor_system& sys) {
      return spawn_agent_group(sys, cfg, members);
    });
  if (h)
    tables_->agents.push_back({cfg.name, *h});
  runtime_detail::log_added("group", cfg.name, h);
  return h;
}

caf::expected<provider_actor> Runtime::add_fallback_chain(const agent_config& cfg) {
  std::vector<fallback_member> members;
  std::vector<std::string> names{cfg.provider};
  names.insert(names.end(), cfg.fallback.begin(), cfg.fallback.end());
  for (const auto& name : names) {
    auto h = provider(name);
    if (!h)
      return make_error(errc::invalid_argument,
                        "agent '" + cfg.name + "': fallback: " + describe(h.error()));
    auto it = tables_->provider_configs.find(name);
    members.push_back({name, *h, it == tables_->provider_configs.end() ? "" : it->second.model});
  }
  // A member may spend its whole request_timeout (retries included) before
  // the chain moves on.
  auto member_timeout = opts_.supervision.request_timeout;
  auto chain_name = "agent." + cfg.name + ".providers";
  auto h = runtime_detail::supervise<provider_actor>(
    *system_, chain_name, opts_.supervision, opts_.metrics,
    [chain_name, members, member_timeout](caf::actor_system& sys) {
      return spawn_fallback_provider(sys, chain_name, members, member_timeout);
    });
  if (h)
    tables_->chains.push_back({cfg.name, *h});
  runtime_detail::log_added("fallback chain", chain_name, h);
  return h;
}

caf::expected<agent_actor> Runtime::agent(const std::string& name) const {
  return runtime_detail::lookup(tables_->agents, "agent", name);
}
caf::expected<tool_actor> Runtime::tool(const std::string& name) const {
  if (const auto* t = tables_->tools.find(name))
    return t->handle;
  return make_error(errc::not_found, "no tool named '" + name + "'");
}
caf::expected<memory_actor> Runtime::memory(const std::string& name) const {
  return runtime_detail::lookup(tables_->memories, "memory shard", name);
}
caf::expected<provider_actor> Runtime::provider(const std::string& name) const {
  return runtime_detail::lookup(tables_->providers, "provider", name);
}

std::vector<std::string> Runtime::provider_names() const {
  std::vector<std::string> out;
  for (const auto& p : tables_->providers)
    out.push_back(p.name);
  return out;
}

caf::expected<provider_stats> Runtime::stats_of_provider(const std::string& name) {
  auto h = provider(name);
  if (!h)
    return std::move(h.error());
  caf::scoped_actor self{*system_};
  caf::expected<provider_stats> out = make_error(errc::internal, "no answer");
  self->request(*h, runtime_detail::control_timeout, provider_stats_atom::value)
    .receive([&](provider_stats& s) { out = std::move(s); },
             [&](caf::error& err) { out = std::move(err); });
  if (out && out->name.empty())
    out->name = name;
  return out;
}

std::vector<std::string> Runtime::agent_names() const {
  std::vector<std::string> out;
  for (const auto& a : tables_->agents)
    out.push_back(a.name);
  return out;
}

std::vector<std::string> Runtime::memory_names() const {
  std::vector<std::string> out;
  for (const auto& m : tables_->memories)
    out.push_back(m.name);
  return out;
}

std::chrono::milliseconds Runtime::task_deadline(const std::string& agent_name) const {
  if (auto g = tables_->group_deadlines.find(agent_name); g != tables_->group_deadlines.end())
    return g->second;
  auto it = tables_->agent_configs.find(agent_name);
  if (it == tables_->agent_configs.end())
    return opts_.supervision.request_timeout;
  const auto& cfg = it->second;
  // recall + (model call + tool round) per iteration + the final model call.
  return cfg.request_timeout * (2 * static_cast<int64_t>(cfg.max_tool_iterations) + 3);
}

void Runtime::submit(const std::string& agent_name, task_request task,
                     std::function<void(caf::expected<task_result>)> done) {
  auto handle = agent(agent_name);
  if (!handle) {
    done(std::move(handle.error()));
    return;
  }
  // The agent's supervisor answers errc::timeout at task_deadline; the
  // caller waits a little longer so it gets that named error, not CAF's.
  auto deadline = task_deadline(agent_name) + runtime_detail::caller_grace;
  system_->spawn([target = *handle, task = std::move(task), deadline, agent_name,
                  done = std::move(done)](caf::event_based_actor* self) mutable {
    self->request(target, deadline, execute_atom::value, std::move(task))
      .then(
        [self, done](task_result& r) {
          done(std::move(r));
          self->quit();
        },
        [self, done, agent_name](caf::error& err) {
          if (err == caf::sec::request_timeout)
            err = make_error(errc::timeout, "agent '" + agent_name + "' gave no reply in time");
          else if (err == caf::sec::request_receiver_down)
            err = make_error(errc::unavailable, "agent '" + agent_name + "' is down");
          done(std::move(err));
          self->quit();
        });
  });
}

std::future<caf::expected<task_result>> Runtime::submit(const std::string& agent_name,
                                                        task_request task) {
  auto promise = std::make_shared<std::promise<caf::expected<task_result>>>();
  auto future = promise->get_future();
  submit(agent_name, std::move(task),
         [promise](caf::expected<task_result> r) { promise->set_value(std::move(r)); });
  return future;
}

caf::expected<task_result> Runtime::run(const std::string& agent_name, task_request task) {
  return submit(agent_name, std::move(task)).get();
}

caf::expected<task_result> Runtime::run_streaming(
  const std::string& agent_name, task_request task,
  const std::function<void(const stream_chunk&)>& on_chunk) {
  auto handle = agent(agent_name);
  if (!handle)
    return std::move(handle.error());
  const auto deadline = std::chrono::steady_clock::now() + task_deadline(agent_name)
                        + runtime_detail::caller_grace;
  // The calling thread is the sink: chunks and the final reply arrive in
  // this scoped actor's mailbox, in the order each sender sent them.
  caf::scoped_actor self{*system_};
  self->send(*handle, execute_stream_atom::value, std::move(task),
             caf::actor_cast<stream_sink_actor>(self));
  caf::expected<task_result> out = make_error(errc::internal, "no reply");
  bool done = false;
  while (!done) {
    auto left = deadline - std::chrono::steady_clock::now();
    if (left <= std::chrono::steady_clock::duration::zero()) {
      out = make_error(errc::timeout, "agent '" + agent_name + "' gave no reply in time");
      break;
    }
    self->receive([&](stream_chunk& chunk) { on_chunk(chunk); },
                  [&](task_result& r) {
                    out = std::move(r);
                    done = true;
                  },
                  [&](caf::error& err) {
                    out = std::move(err);
                    done = true;
                  },
                  caf::after(std::chrono::duration_cast<std::chrono::milliseconds>(left)) >>
                    [&] {
                      out = make_error(errc::timeout,
                                       "agent '" + agent_name + "' gave no reply in time");
                      done = true;
                    });
  }
  return out;
}

namespace runtime_detail {

template <class Reply, class Handle>
caf::expected<Reply> ask_stats(caf::actor_system& sys, const caf::expected<Handle>& handle) {
  if (!handle)
    return handle.error();
  caf::scoped_actor self{sys};
  caf::expected<Reply> out = make_error(errc::internal, "no reply");
  self->request(*handle, control_timeout, stats_atom::value)
    .receive([&](Reply& r) { out = std::move(r); }, [&](caf::error& e) { out = std::move(e); });
  return out;
}

template <class Handle>
caf::expected<uint16_t> publish(caf::actor_system& sys, bool enabled,
                                const caf::expected<Handle>& handle, uint16_t port) {
  if (!enabled)
    return make_error(errc::invalid_argument, "publishing needs runtime_options::middleman");
  if (!handle)
    return handle.error();
  return sys.middleman().publish(*handle, port, "127.0.0.1", true);
}

}  // namespace runtime_detail

caf::expected<agent_stats> Runtime::stats(const std::string& name) {
  return runtime_detail::ask_stats<agent_stats>(*system_, agent(name));
}
caf::expected<memory_stats> Runtime::stats_of_memory(const std::string& name) {
  return runtime_detail::ask_stats<memory_stats>(*system_, memory(name));
}
caf::expected<tool_stats> Runtime::stats_of_tool(const std::string& name) {
  return runtime_detail::ask_stats<tool_stats>(*system_, tool(name));
}

caf::expected<uint16_t> Runtime::publish_agent(const std::string& name, uint16_t port) {
  return runtime_detail::publish(*system_, opts_.middleman, agent(name), port);
}
caf::expected<uint16_t> Runtime::publish_tool(const std::string& name, uint16_t port) {
  return runtime_detail::publish(*system_, opts_.middleman, tool(name), port);
}
caf::expected<uint16_t> Runtime::publish_memory(const std::string& name, uint16_t port) {
  return runtime_detail::publish(*system_, opts_.middleman, memory(name), port);
}
caf::expected<uint16_t> Runtime::publish_provider(const std::string& name, uint16_t port) {
  return runtime_detail::publish(*system_, opts_.middleman, provider(name), port);
}

caf::error Runtime::shutdown() {
  if (shut_down_)
    return caf::none;
  shut_down_ = true;
  caf::error first_error;
  {
    caf::scoped_actor self{*system_};
    // Agents stop first so nothing writes to a shard after its snapshot.
    runtime_detail::stop_all(self, tables_->agents);
    runtime_detail::stop_all(self, tables_->chains);
    for (const auto& m : tables_->memories) {
      self->request(m.handle, runtime_detail::snapshot_wait + runtime_detail::caller_grace,
                    snapshot_atom::value)
        .receive([](uint64_t) {},
                 [&](caf::error& err) {
                   log(log_severity::error, "runtime", "memory snapshot failed",
                       {{"name", m.name}, {"error", describe(err)}});
                   if (!first_error)
                     first_error = make_error(errc::io_error, "memory '" + m.name
                                                                + "' snapshot failed: "
                                                                + describe(err));
                 });
    }
    std::vector<runtime_detail::named<tool_actor>> tools;
    for (const auto& name : tables_->tool_order)
      tools.push_back({name, tables_->tools.find(name)->handle});
    runtime_detail::stop_all(self, tools);
    runtime_detail::stop_all(self, tables_->memories);
    runtime_detail::stop_all(self, tables_->providers);
    if (tables_->checkpoints) {
      std::vector<runtime_detail::named<checkpoint_actor>> cp{{"checkpoints", tables_->checkpoints}};
      runtime_detail::stop_all(self, cp);
    }
  }
  log(log_severity::debug, "runtime", "shut down",
      {{"agents", std::to_string(tables_->agents.size())},
       {"memory_shards", std::to_string(tables_->memories.size())}});
  return first_error;
}

}  // namespace agentgraph

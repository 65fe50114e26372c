// runtime_builder::add_population: a population's store, its front actor
// under the agents' supervisor, and the factory that starts one key's
// instance (actors/population/DESIGN.md).
#include "actors/host/runtime_builder.hpp"

#include <random>

#include "actors/agent/agent.hpp"
#include "actors/host/runtime_tables.hpp"
#include "actors/population/population.hpp"
#include "runtime/population/population_store.hpp"
#include "runtime/seeded_random.hpp"

namespace agentgraph {

namespace {

// A population's claims in a shared store are fenced by (node name,
// epoch): a new epoch per Runtime, so a restarted node's claims replace
// its earlier incarnation's.
uint64_t fresh_epoch(uint64_t run_seed, const std::string& population) {
  if (run_seed != 0)
    return derive_seed(run_seed, "population.epoch." + population);
  std::random_device rd;
  uint64_t e = 0;
  // random_device may fail to give entropy only in theory; a zero would be
  // an invalid epoch, so draw until it is not (bounded: 8 draws).
  for (int i = 0; i < 8 && e == 0; ++i)
    e = (uint64_t{rd()} << 32) | rd();
  return e == 0 ? 1 : e;
}

caf::error check_population(const population_config& cfg) {
  auto bad = [&](const std::string& what) {
    return make_error(errc::invalid_argument, "population '" + cfg.name + "': " + what);
  };
  if (auto problem = population_key_problem(cfg.name); !problem.empty())
    return bad("its name, like a key, is 1-128 bytes of A-Z a-z 0-9 _ . : @ -");
  if (cfg.store_path.empty() == cfg.store_url.empty())
    return bad("give exactly one of store_path and store_url (store_path defaults to "
               "<runtime.data_dir>/populations.sqlite when data_dir is set)");
  if (!cfg.agent.subscribe.empty())
    return bad("a population cannot subscribe to topics (a message names no key)");
  if (cfg.active_max == 0 || cfg.waiting_max == 0 || cfg.activating_max == 0)
    return bad("active_max, waiting_max and activating_max must be at least 1");
  if (cfg.idle_timeout.count() <= 0)
    return bad("idle_timeout must be positive");
  if (cfg.memory_scopes.size() > 15)
    return bad("at most 15 memory_scopes (a recall names its key's scope and these)");
  for (const auto& scope : cfg.memory_scopes)
    if (scope.empty() || scope.size() > 256)
      return bad("a memory scope is 1-256 bytes");
  return caf::none;
}

}  // namespace

caf::expected<population_actor> runtime_builder::add_population(const population_config& cfg) {
  auto& tables = *rt_.tables_;
  if (auto err = check_population(cfg))
    return err;
  if (tables.agents.find(cfg.name) || tables.populations.find(cfg.name))
    return make_error(errc::invalid_argument, "duplicate agent or population '" + cfg.name + "'");
  auto tmpl = cfg.agent;
  tmpl.name = cfg.name;
  auto built = agent_deps(tmpl);
  if (!built)
    return make_error(errc_of(built.error()).value_or(errc::invalid_argument),
                      "population '" + cfg.name + "': " + error_context(built.error()));
  // The instances record nothing themselves: the population records their
  // tasks as one agent's (population_metrics.hpp).
  built->metrics = nullptr;
  const bool shared = !cfg.store_url.empty();
  auto store = open_population_store(shared ? cfg.store_url : "sqlite:" + cfg.store_path);
  if (!store)
    return make_error(errc_of(store.error()).value_or(errc::io_error),
                      "population '" + cfg.name + "': "
                        + (shared ? "store_url: " : "store_path: ")
                        + error_context(store.error()));
  auto saved = (*store)->count(cfg.name);
  if (!saved)
    return make_error(errc_of(saved.error()).value_or(errc::io_error),
                      "population '" + cfg.name + "': " + error_context(saved.error()));
  population_store_actor_config sc;
  sc.call_timeout = cfg.agent.request_timeout;
  auto store_actor = spawn_population_store_actor(rt_.system(), std::move(*store), sc);

  struct population_parts {
    population_config cfg;
    agent_dependencies deps;
  };
  auto parts = std::make_shared<const population_parts>(population_parts{cfg, std::move(*built)});
  auto deps = std::shared_ptr<const agent_dependencies>{parts, &parts->deps};
  auto* sys = &rt_.system();
  population_setup setup;
  setup.cfg = std::shared_ptr<const population_config>{parts, &parts->cfg};
  setup.spawn_instance = [parts, deps, sys](const std::string& key,
                                            const population_key_state& state) {
    const auto& p = parts->cfg;
    auto c = std::make_shared<agent_config>(p.agent);
    c->name = p.name + "/" + key;
    c->system_prompt = render_population_prompt(p.agent.system_prompt, p.name, key, state.vars);
    c->memory_scope = c->name;
    c->memory_shared_scopes = p.memory_scopes;
    return spawn_keyed_agent(*sys, std::move(c), deps,
                             std::make_shared<const agent_snapshot>(state.agent));
  };
  setup.store = store_actor;
  setup.owner = rt_.opts_.node_name;
  setup.owner_epoch = 1;  // each incarnation takes a fresh one (below)
  setup.task_deadline = runtime_detail::task_deadline_of(tmpl);
  setup.store_timeout = cfg.agent.request_timeout;
  setup.saved_keys = *saved;
  setup.metrics = rt_.opts_.metrics;
  auto h = supervise_in<population_actor>(
    rt_.system(), tables.agent_group, "population." + cfg.name,
    [setup, run_seed = rt_.opts_.seed, name = cfg.name,
     incarnations = std::make_shared<uint64_t>(0)](caf::actor_system& s)
      -> caf::expected<population_actor> {
      // Each incarnation claims under a fresh epoch: saves of an earlier
      // one still in flight are fenced once a key is claimed again.
      auto incarnation = setup;
      incarnation.owner_epoch = fresh_epoch(run_seed, name + "#" + std::to_string(++*incarnations));
      return spawn_population(s, std::move(incarnation));
    });
  if (!h)
    caf::anon_send_exit(store_actor, caf::exit_reason::user_shutdown);
  runtime_detail::record(
    "population", tables.populations, cfg.name, h,
    runtime_detail::population_info{setup.task_deadline, setup.cfg, store_actor});
  if (!h)
    return std::move(h.error());
  tables.population_nodes_->put(cfg.name, rt_.opts_.node_name, dep<population_actor>{*h}, true);
  return (*h)->get();
}

}  // namespace agentgraph

// Composition of a node config: node_schema() assembles the sections from
// the key tables each component declares beside its *_config.hpp
// (agent_config_keys, provider_config_keys, tool_config_keys,
// memory_config_keys, supervision_config_keys, cache_config_keys,
// node/node_config_keys, net/cluster/cluster_config_keys; the binding
// machinery is
// runtime/config/config_binding.hpp), binds a resolved tree into
// node_config and checks what crosses sections. Only the host's own
// sections, [runtime] and [workflow.<name>], declare their keys here.
// Adding a key to a component touches only that component's folder,
// configs/reference.ini and its binding test (config_binding_test.cpp sets
// every key and checks every field).
#include "actors/host/node_config.hpp"

#include <algorithm>
#include <filesystem>

#include "actors/agent/agent_config_keys.hpp"
#include "actors/population/population_config_keys.hpp"
#include "actors/host/node/node_config_keys.hpp"
#include "actors/host/node_config_checks.hpp"
#include "actors/memory/memory_config_keys.hpp"
#include "actors/provider/provider_config_keys.hpp"
#include "actors/tool/tool_config_keys.hpp"
#include "net/cluster/cluster_config_keys.hpp"
#include "runtime/cache/cache_config_keys.hpp"
#include "runtime/config/config_binding.hpp"
#include "runtime/config/config_resolve.hpp"
#include "runtime/config/config_text.hpp"
#include "runtime/config/ini_parser.hpp"
#include "runtime/error.hpp"
#include "runtime/file_open.hpp"
#include "runtime/resilience/fallback_chain.hpp"
#include "runtime/supervision_config_keys.hpp"

namespace agentgraph {

// The log levels in the order the `log_level` key lists them: most severe
// first.
constexpr log_severity log_severities[] = {log_severity::error, log_severity::warn,
                                           log_severity::info, log_severity::debug};

void assign(log_severity& f, const config_value& v) {
  f = enum_from(log_severities, v);
}

constexpr scheduler_policy scheduler_policies[] = {scheduler_policy::stealing,
                                                   scheduler_policy::sharing};

void assign(scheduler_policy& f, const config_value& v) {
  f = enum_from(scheduler_policies, v);
}

namespace node_config_detail {

// A key of the struct nested in S at `outer` (runtime_settings::scheduler):
// bound like any key of that struct (bounds checked against the member),
// then applied through `outer`.
template <class S, class N, class F>
field<S> bind_nested(key_spec spec, N S::*outer, F N::*member) {
  auto inner = bind(std::move(spec), member);
  return field<S>{std::move(inner.spec), [outer, set = std::move(inner.assign)](
                                           S& s, const config_value& v) { set(s.*outer, v); }};
}

// The scheduler_* keys after scheduler_threads: the policy, then the
// work-stealing wait phases (scheduler_settings.hpp draws them), which a
// config with policy sharing may not set (they would do nothing).
std::vector<field<runtime_settings>> scheduler_fields() {
  using namespace std::chrono_literals;
  using S = runtime_settings;
  using N = scheduler_settings;
  const N d;
  constexpr auto sched = &S::scheduler;
  auto stealing = [](key_spec k) {
    return applies_if(std::move(k), "scheduler_policy", {"stealing"});
  };
  auto count = [&](const char* name, uint32_t def, uint32_t min, uint32_t max, const char* help) {
    return stealing(uint_key(name, def, min, max, help));
  };
  return {
      bind_nested(enum_key("scheduler_policy", std::string{to_string(d.policy)},
                           enum_words(scheduler_policies),
                           "How the scheduler hands actors to its workers. stealing: a queue per "
                           "worker; an idle worker polls, naps and sleeps as the scheduler_* keys "
                           "below say, and steals from busy workers (2-3x the task rate of "
                           "sharing). sharing: one locked queue for all workers; an idle worker "
                           "sleeps until a message comes (an idle node costs no scheduler CPU, "
                           "but every hand-off between actors signals a sleeping worker). "
                           "Measured: apps/cli/BENCHMARKS.md."),
                  sched, &N::policy),
      bind_nested(count("scheduler_aggressive_poll_attempts", d.aggressive_poll_attempts, 0,
                        1'000'000,
                        "Polls of its queue an idle worker makes without sleeping (spinning) "
                        "before its moderate phase. A message from another thread is picked up "
                        "at once meanwhile, but on a small machine a spinning worker takes the "
                        "core from the threads that feed it."),
                  sched, &N::aggressive_poll_attempts),
      bind_nested(count("scheduler_aggressive_steal_interval", d.aggressive_steal_interval, 1,
                        100'000, "In the aggressive phase, try to steal every this many polls."),
                  sched, &N::aggressive_steal_interval),
      bind_nested(count("scheduler_moderate_poll_attempts", d.moderate_poll_attempts, 0,
                        1'000'000,
                        "Polls of the moderate phase, each followed by a "
                        "scheduler_moderate_sleep_us nap that nothing cuts short: a message "
                        "arriving meanwhile waits for the nap to end. 0 (the default; CAF's is "
                        "500) skips the phase."),
                  sched, &N::moderate_poll_attempts),
      bind_nested(count("scheduler_moderate_steal_interval", d.moderate_steal_interval, 1,
                        100'000,
                        "In the moderate phase, try to steal every this many polls (only "
                        "with scheduler_moderate_poll_attempts > 0)."),
                  sched, &N::moderate_steal_interval),
      bind_nested(count("scheduler_moderate_sleep_us", d.moderate_sleep_us, 0, 100'000,
                        "Microseconds of each moderate-phase nap (only with "
                        "scheduler_moderate_poll_attempts > 0); 0: the phase spins."),
                  sched, &N::moderate_sleep_us),
      bind_nested(count("scheduler_relaxed_steal_interval", d.relaxed_steal_interval, 1,
                        100'000,
                        "In the relaxed phase, try to steal every this many "
                        "scheduler_relaxed_sleep timeouts."),
                  sched, &N::relaxed_steal_interval),
      bind_nested(stealing(duration_key(
                    "scheduler_relaxed_sleep", d.relaxed_sleep, 1ms, 10s,
                    "Longest wait of an idle worker in the relaxed phase, a condition-variable "
                    "wait that a message from another thread ends at once. It bounds how long "
                    "work queued behind a busy worker waits to be stolen, and an idle worker "
                    "wakes this often.")),
                  sched, &N::relaxed_sleep),
  };
}

const std::vector<field<runtime_settings>>& runtime_fields() {
  static const auto fields = [] {
    using S = runtime_settings;
    const S d;
    std::vector<field<S>> fields{
        bind(uint_key("scheduler_threads", d.scheduler_threads, 1, 64,
                      "CAF scheduler worker threads. CAF's own default, max(cores, 4), "
                      "oversubscribes small machines."),
             &S::scheduler_threads),
    };
    auto sched = scheduler_fields();
    fields.insert(fields.end(), sched.begin(), sched.end());
    auto rest = std::vector<field<S>>{
        bind(enum_key("log_level", to_string(d.log_level), enum_words(log_severities),
                      "Least severe log message that is written."),
             &S::log_level),
        bind(path_key("data_dir", d.data_dir,
                      "Directory for node data. A memory shard without its own snapshot_path "
                      "snapshots to <data_dir>/<shard>.sqlite; empty: such shards are not "
                      "persisted. Relative: against the config file's directory."),
             &S::data_dir),
        bind(path_key("prices", d.prices,
                      "Price table (format of configs/prices.ini) used to report each "
                      "provider's cost from token usage; empty: no costs. Relative: against "
                      "the config file's directory."),
             &S::prices),
        bind(path_key("checkpoint_path", d.checkpoint_path,
                      "SQLite file (WAL) where workflow runs save every super-step; relative: "
                      "against the config file's directory. Empty (and no checkpoint_url): "
                      "runs are not checkpointed and cannot be resumed by thread id."),
             &S::checkpoint_path),
        bind(string_key("checkpoint_url", d.checkpoint_url,
                        "PostgreSQL URL (postgresql://user@host:port/db) for workflow "
                        "checkpoints shared by several nodes; instead of checkpoint_path. The "
                        "password never appears in logs or errors."),
             &S::checkpoint_url),
        bind(uint_key("checkpoint_keep_last", d.checkpoint_keep_last, 1, 100'000,
                      "Checkpoints kept per workflow thread; older ones are deleted on save."),
             &S::checkpoint_keep_last),
    };
    fields.insert(fields.end(), rest.begin(), rest.end());
    return fields;
  }();
  return fields;
}

const std::vector<field<workflow_config>>& workflow_fields() {
  static const auto fields = [] {
    using S = workflow_config;
    return std::vector<field<S>>{
        bind(required_key(path_key("file", "",
                                   "The workflow file (JSON, actors/workflow/workflow_file.hpp); "
                                   "relative: against the config file's directory. Loaded and "
                                   "checked against the node's agents and tools at start.")),
             &S::file),
    };
  }();
  return fields;
}

// A fixed section is always in the resolved tree, its keys at their
// defaults. It was given when the file has its header (the section's origin
// is then "node.ini:LINE") or any source set one of its keys.
bool section_given(const config_section& sec) {
  return sec.origin != config_default_origin
         || std::any_of(sec.entries.begin(), sec.entries.end(),
                        [](const auto& kv) { return !kv.second.is_default(); });
}

node_config bind_tree(const config_tree& tree) {
  node_config cfg;
  bind_section(*tree.find("runtime"), runtime_fields(), cfg.runtime);
  bind_section(*tree.find("supervisor"), supervisor_fields(), cfg.supervisor);
  bind_section(*tree.find("node"), node_fields(), cfg.node);
  bind_section(*tree.find("cache"), cache_fields(), cfg.cache);
  // Optional: without the section the node runs alone, as before clusters.
  if (const auto& sec = *tree.find("cluster"); section_given(sec)) {
    cluster::cluster_config c;
    bind_section(sec, cluster::cluster_fields(), c);
    cfg.cluster = std::move(c);
  }
  cfg.providers = bind_family(tree, "provider", provider_fields());
  cfg.tools = bind_family(tree, "tool", tool_fields());
  cfg.memories = bind_family(tree, "memory", memory_fields());
  cfg.agents = bind_family(tree, "agent", agent_fields());
  cfg.groups = bind_family(tree, "group", group_fields());
  cfg.populations = bind_family(tree, "population", population_fields());
  cfg.workflows = bind_family(tree, "workflow", workflow_fields());
  if (!cfg.runtime.data_dir.empty()) {
    for (auto& m : cfg.memories)
      if (m.snapshot_path.empty())
        m.snapshot_path = cfg.runtime.data_dir + "/" + m.name + ".sqlite";
    if (cfg.cluster && cfg.cluster->journal_path.empty() && cfg.cluster->journal_url.empty())
      cfg.cluster->journal_path = cfg.runtime.data_dir + "/task_journal.sqlite";
    for (auto& p : cfg.populations)
      if (p.store_path.empty() && p.store_url.empty())
        p.store_path = cfg.runtime.data_dir + "/populations.sqlite";
  }
  return cfg;
}

// Cross-references between sections. Each error blames the key that holds
// the reference (file:line, or the section header when it is a default).
class cross_checker {
 public:
  cross_checker(const config_tree& tree, const node_config& cfg, std::string origin)
    : tree_(tree), cfg_(cfg), origin_(std::move(origin)) {}

  caf::error run() {
    order_.clear();
    if (cfg_.agents.empty() && cfg_.populations.empty())
      return make_error(errc::invalid_argument,
                        origin_ + ": no [agent.<name>] or [population.<type>] section; a node "
                                  "needs at least one agent");
    for (const auto& a : cfg_.agents)
      if (auto err = check_agent(a))
        return err;
    for (const auto& g : cfg_.groups)
      if (auto err = check_group(g))
        return err;
    for (const auto& p : cfg_.populations)
      if (auto err = check_population(p))
        return err;
    for (const auto& t : cfg_.tools)
      if (auto err = check_tool(t))
        return err;
    for (const auto& p : cfg_.providers)
      if (auto err = check_provider(p))
        return err;
    if (!cfg_.runtime.checkpoint_path.empty() && !cfg_.runtime.checkpoint_url.empty()) {
      const auto& sec = *tree_.find("runtime");
      return config_error(errc::invalid_argument, sec.origin_of("checkpoint_url"), sec.name,
                          "checkpoint_url", "set checkpoint_path or checkpoint_url, not both");
    }
    return check_cycles();
  }

  // The build order check_cycles found (node_config::build_order).
  std::vector<node_config::build_step> take_build_order() { return std::move(order_); }

 private:
  const config_section& section(std::string_view family, const std::string& name) const {
    return *tree_.find(std::string{family} + "." + name);
  }

  // `target` must name an existing [family.target] section.
  caf::error reference(const config_section& sec, std::string_view key, std::string_view family,
                       const std::string& target) const {
    if (tree_.find(std::string{family} + "." + target) != nullptr)
      return {};
    std::vector<std::string> names;
    for (const auto* s : tree_.family(family))
      names.push_back(s->instance);
    std::string msg = "no section [" + std::string{family} + "." + target + "]";
    if (auto hint = closest_name(target, names))
      msg += " (did you mean '" + *hint + "'?)";
    return config_error(errc::invalid_argument, sec.origin_of(key), sec.name, key, msg);
  }

  caf::error check_agent(const agent_config& a) const {
    return check_agent_refs(section("agent", a.name), a);
  }

  caf::error check_population(const population_config& p) const {
    const auto& sec = section("population", p.name);
    for (const char* family : {"agent", "group"})
      if (tree_.find(std::string{family} + "." + p.name) != nullptr)
        return config_error(errc::invalid_argument, sec.origin_of("provider"), sec.name,
                            "provider",
                            std::string{"[" } + family + "." + p.name
                              + "] exists: agents, groups and populations share one namespace");
    if (auto problem = population_key_problem(p.name); !problem.empty())
      return config_error(errc::invalid_argument, sec.origin_of("provider"), sec.name,
                          "provider",
                          "a population's name is 1-128 bytes of A-Z a-z 0-9 _ . : @ -");
    if (!p.store_path.empty() && !p.store_url.empty())
      return config_error(errc::invalid_argument, sec.origin_of("store_url"), sec.name,
                          "store_url", "set store_path or store_url, not both");
    if (p.store_path.empty() && p.store_url.empty())
      return config_error(errc::invalid_argument, sec.origin_of("store_path"), sec.name,
                          "store_path",
                          "a population needs store_path, store_url or [runtime] data_dir "
                          "(where passivated keys keep their state)");
    if (cfg_.cluster && p.agent.placement == "any" && p.store_url.empty())
      return config_error(errc::invalid_argument, sec.origin_of("store_url"), sec.name,
                          "store_url",
                          "a population on every node of a cluster needs a shared store_url "
                          "(PostgreSQL): a key moves to another node when its node goes down, "
                          "and must find its state there (or pin it with placement)");
    for (const auto& scope : p.memory_scopes)
      if (scope.empty() || scope.size() > 256)
        return config_error(errc::invalid_argument, sec.origin_of("memory_scopes"), sec.name,
                            "memory_scopes", "a memory scope is 1-256 bytes");
    if (p.memory_scopes.size() > 15)
      return config_error(errc::invalid_argument, sec.origin_of("memory_scopes"), sec.name,
                          "memory_scopes", "at most 15 memory scopes");
    return check_agent_refs(sec, p.agent);
  }

  // The provider, fallback, tools and memory an agent or a population's
  // template names exist, each once.
  caf::error check_agent_refs(const config_section& sec, const agent_config& a) const {
    if (auto err = reference(sec, "provider", "provider", a.provider))
      return err;
    if (a.fallback.size() + 1 > fallback_providers_max)
      return config_error(errc::invalid_argument, sec.origin_of("fallback"), sec.name, "fallback",
                          "at most " + std::to_string(fallback_providers_max - 1)
                            + " fallback providers");
    for (size_t i = 0; i < a.fallback.size(); ++i) {
      if (auto err = reference(sec, "fallback", "provider", a.fallback[i]))
        return err;
      bool twice = a.fallback[i] == a.provider;
      for (size_t j = 0; j < i; ++j)
        twice = twice || a.fallback[j] == a.fallback[i];
      if (twice)
        return config_error(errc::invalid_argument, sec.origin_of("fallback"), sec.name,
                            "fallback",
                            "provider '" + a.fallback[i] + "' appears twice in the chain");
    }
    for (size_t i = 0; i < a.tools.size(); ++i) {
      if (auto err = reference(sec, "tools", "tool", a.tools[i]))
        return err;
      for (size_t j = 0; j < i; ++j)
        if (a.tools[j] == a.tools[i])
          return config_error(errc::invalid_argument, sec.origin_of("tools"), sec.name, "tools",
                              "tool '" + a.tools[i] + "' is listed twice");
    }
    if (!a.memory.empty())
      return reference(sec, "memory", "memory", a.memory);
    return {};
  }

  caf::error check_group(const group_config& g) const {
    const auto& sec = section("group", g.name);
    if (tree_.find("agent." + g.name) != nullptr)
      return config_error(errc::invalid_argument, sec.origin_of("agents"), sec.name, "agents",
                          "an agent is already named '" + g.name + "'");
    if (g.agents.size() > agent_group_members_max)
      return config_error(errc::invalid_argument, sec.origin_of("agents"), sec.name, "agents",
                          "more than " + std::to_string(agent_group_members_max) + " members");
    for (size_t i = 0; i < g.agents.size(); ++i) {
      if (auto err = reference(sec, "agents", "agent", g.agents[i]))
        return err;
      for (size_t j = 0; j < i; ++j)
        if (g.agents[j] == g.agents[i])
          return config_error(errc::invalid_argument, sec.origin_of("agents"), sec.name,
                              "agents", "agent '" + g.agents[i] + "' is listed twice");
    }
    return {};
  }

  // Pairs of keys whose order matters; each error blames the first key.
  caf::error check_provider(const provider_config& p) const {
    const auto& sec = section("provider", p.name);
    // Either key of the pair may be the one somebody set (the other keeping
    // its default), so the error blames the one that was set and names
    // where the other came from.
    auto above = [&](std::string_view key, std::string_view limit_key) {
      auto e = sec.find(key);
      bool key_set = e != nullptr && !e->is_default();
      return config_error(errc::invalid_argument, sec.origin_of(key_set ? key : limit_key),
                          sec.name, key,
                          "must not be above " + std::string{limit_key} + " ("
                            + sec.origin_of(limit_key) + ")");
    };
    if (!is_http_kind(p.kind))
      return {};
    if (p.kind == provider_kind::openai_compatible && p.base_url.empty())
      return config_error(errc::invalid_argument, sec.origin_of("kind"), sec.name, "base_url",
                          "required for kind openai_compatible");
    if (p.breaker_window_min > p.breaker_window)
      return above("breaker_window_min", "breaker_window");
    if (p.breaker_cooldown > p.breaker_cooldown_max)
      return above("breaker_cooldown", "breaker_cooldown_max");
    if (p.retry_delay > p.retry_delay_max)
      return above("retry_delay", "retry_delay_max");
    return {};
  }

  caf::error check_tool(const tool_config& t) const {
    const auto& sec = section("tool", t.name);
    auto required_for_kind = [&](std::string_view key, const std::string& value) -> caf::error {
      if (!value.empty())
        return {};
      return config_error(errc::invalid_argument, sec.origin_of("kind"), sec.name, key,
                          "required for kind " + t.kind);
    };
    if (t.kind == "file_read")
      return required_for_kind("root", t.root);
    if (t.kind != "agent")
      return {};
    if (auto err = required_for_kind("agent", t.agent))
      return err;
    return reference(sec, "agent", "agent", t.agent);
  }

  // Agents reach other agents through tools of kind agent. A cycle would
  // let one task recurse until every agent's in-flight limit is exhausted.
  // Depth-first search; the depth is bounded by the number of agents. Its
  // post-order is the build order: an agent is done once the agents behind
  // its agent tools are, and each agent tool once its agent is.
  caf::error check_cycles() {
    std::map<std::string, int> state;  // 0 unvisited, 1 on the path, 2 done
    std::vector<std::string> path;     // agent, tool, agent, tool, ...
    std::vector<bool> tool_placed(cfg_.tools.size(), false);
    for (const auto& a : cfg_.agents)
      if (auto err = visit(a, state, path, tool_placed))
        return err;
    // Agent tools no agent lists: every agent is placed by now, theirs too.
    for (size_t i = 0; i < cfg_.tools.size(); ++i)
      if (cfg_.tools[i].kind == "agent" && !tool_placed[i])
        order_.push_back({node_config::build_step::kind::agent_tool, i});
    return {};
  }

  caf::error visit(const agent_config& a, std::map<std::string, int>& state,
                   std::vector<std::string>& path, std::vector<bool>& tool_placed) {
    if (state[a.name] == 2)
      return {};
    state[a.name] = 1;
    path.push_back(a.name);
    for (const auto& tool_name : a.tools) {
      const auto* t = find_tool(tool_name);
      if (t == nullptr || t->kind != "agent")
        continue;
      path.push_back(tool_name);
      if (state[t->agent] == 1)
        return cycle_error(*t, path);
      if (auto err = visit(*find_agent(t->agent), state, path, tool_placed))
        return err;
      path.pop_back();
      auto index = static_cast<size_t>(t - cfg_.tools.data());
      if (!tool_placed[index]) {
        tool_placed[index] = true;
        order_.push_back({node_config::build_step::kind::agent_tool, index});
      }
    }
    path.pop_back();
    state[a.name] = 2;
    order_.push_back({node_config::build_step::kind::agent,
                      static_cast<size_t>(&a - cfg_.agents.data())});
    return {};
  }

  caf::error cycle_error(const tool_config& closing, const std::vector<std::string>& path) const {
    auto start = std::find(path.begin(), path.end(), closing.agent);
    std::string chain;
    for (auto i = start; i != path.end(); ++i)
      chain += *i + " -> ";
    chain += closing.agent;
    const auto& sec = section("tool", closing.name);
    return config_error(errc::invalid_argument, sec.origin_of("agent"), sec.name, "agent",
                        "agent tools form a cycle: " + chain);
  }

  const tool_config* find_tool(const std::string& name) const {
    for (const auto& t : cfg_.tools)
      if (t.name == name)
        return &t;
    return nullptr;
  }

  const agent_config* find_agent(const std::string& name) const {
    for (const auto& a : cfg_.agents)
      if (a.name == name)
        return &a;
    return nullptr;
  }

  const config_tree& tree_;
  const node_config& cfg_;
  const std::string origin_;
  // Filled by check_cycles; complete only when run() succeeds.
  std::vector<node_config::build_step> order_;
};

caf::expected<node_config> parse_with_base(std::string_view text, std::string origin,
                                           const std::string& base_dir,
                                           const std::map<std::string, std::string>& env,
                                           const std::vector<std::string>& overrides) {
  auto doc = parse_ini(text, origin);
  if (!doc)
    return std::move(doc.error());
  auto tree = resolve_config(node_schema(), *doc, env, overrides, base_dir);
  if (!tree)
    return std::move(tree.error());
  auto cfg = bind_tree(*tree);
  cross_checker checker{*tree, cfg, origin};
  if (auto err = checker.run())
    return err;
  cfg.build_order = checker.take_build_order();
  if (auto err = check_component_configs(*tree, cfg))
    return err;
  return cfg;
}

}  // namespace node_config_detail

const config_schema& node_schema() {
  static const config_schema schema = [] {
    using namespace node_config_detail;
    config_schema s;
    s.add_section(
        {"runtime", false, "Process-wide settings of the node.", keys_of(runtime_fields())});
    s.add_section({"supervisor", false, "Restart, heartbeat and timeout policy of the supervisors.",
                   keys_of(supervisor_fields())});
    s.add_section({"node", false, "The HTTP gateway of `agentgraph node` and its shutdown.",
                   keys_of(node_fields())});
    s.add_section({"cache", false,
                   "Shared levels of the multi-level cache: L2 per process, L3 Redis per "
                   "cluster.",
                   keys_of(cache_fields())});
    s.add_section({"cluster", false,
                   "Optional: this node's cluster membership, read by the cluster node "
                   "actor. Given (its header, or any of its keys from the environment or the "
                   "command line), it is checked when the config loads and its secret's "
                   "variable at start; absent, the node runs alone. With tls_* keys, nodes "
                   "talk to each other over TLS only, each presenting a certificate from the "
                   "cluster's CA (tls_cafile).",
                   keys_of(cluster::cluster_fields())});
    s.add_section({"provider", true, "An LLM provider that agents name in their provider key.",
                   keys_of(provider_fields())});
    s.add_section(
        {"tool", true, "A tool that agents name in their tools list.", keys_of(tool_fields())});
    s.add_section({"memory", true, "A memory shard that agents name in their memory key.",
                   keys_of(memory_fields())});
    s.add_section({"agent", true, "An agent; a node needs at least one.", keys_of(agent_fields())});
    s.add_section({"group", true, "An agent group: one name in front of several agents.",
                   keys_of(group_fields())});
    s.add_section({"population", true,
                   "A population of keyed agents (<type>/<key>), each made on its first task "
                   "from this template and passivated when idle.",
                   keys_of(population_fields())});
    s.add_section({"workflow", true, "A workflow the node serves by name (gateway /v1/workflows).",
                   keys_of(workflow_fields())});
    return s;
  }();
  return schema;
}

caf::expected<node_config> load_node_config(const std::string& path,
                                            const std::map<std::string, std::string>& env,
                                            const std::vector<std::string>& overrides) {
  // A FIFO or a device (/dev/zero) is refused at once, not read forever.
  auto text = read_regular_file(path, ini_bytes_max);
  if (!text)
    return std::move(text.error());
  std::error_code ec;
  auto dir = std::filesystem::absolute(path, ec).parent_path();
  if (ec)
    return make_error(errc::io_error, path + ": cannot resolve its directory: " + ec.message());
  return node_config_detail::parse_with_base(*text, path, dir.string(), env, overrides);
}

caf::expected<node_config> parse_node_config(std::string_view text, std::string origin,
                                             const std::map<std::string, std::string>& env,
                                             const std::vector<std::string>& overrides) {
  auto dir = std::filesystem::path{origin}.parent_path().string();
  return node_config_detail::parse_with_base(text, std::move(origin), dir, env, overrides);
}

}  // namespace agentgraph

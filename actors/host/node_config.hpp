// The configuration of one node process: the composition of every
// component's config keys (declared beside each component's *_config.hpp,
// in its *_config_keys.hpp) into one schema (node_schema), their binding
// into the plain *_config structs the components read, and the checks
// across sections. `agentgraph node --config node.ini` calls
// load_node_config; `agentgraph config schema` prints node_schema().
//
// A config file looks like
//   [runtime]
//   scheduler_threads = 2
//   [provider.scripted]
//   rules = rules/planner.rules      # relative: next to this file
//   [agent.planner]
//   role = analysis
//   temperature = 0.2
// configs/reference.ini lists every key with its default and help.
//
// Relative paths (runtime.data_dir, provider rules, tool root, memory
// snapshot_path) resolve against the directory of the config file, from
// whichever source they come, so a config directory can be moved as a whole.
// The defaults come from the structs' member initialisers, so the struct and
// the schema cannot disagree about them.
#pragma once

#include <caf/expected.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "actors/agent/agent_config.hpp"
#include "actors/agent/agent_group.hpp"
#include "actors/host/node/node_settings.hpp"
#include "actors/host/scheduler_settings.hpp"
#include "actors/memory/memory_config.hpp"
#include "actors/provider/provider_config.hpp"
#include "actors/population/population_config.hpp"
#include "actors/tool/tool_config.hpp"
#include "net/cluster/cluster_config.hpp"
#include "runtime/cache/cache_config.hpp"
#include "runtime/config/config_schema.hpp"
#include "runtime/log.hpp"
#include "runtime/supervision_config.hpp"

namespace agentgraph {

// The [runtime] section: process-wide settings.
struct runtime_settings {
  // CAF scheduler workers. CAF's own default, max(cores, 4), oversubscribes
  // small machines, so ours is explicit.
  uint32_t scheduler_threads = 2;
  // The scheduler_* keys: policy and how idle workers wait.
  scheduler_settings scheduler;
  log_severity log_level = log_severity::info;
  // Where the node keeps its data (checkpoints, journals). "" means the
  // process's working directory; a relative value is made absolute against
  // the config file's directory.
  std::string data_dir;
  // Price table (configs/prices.ini format) for provider cost accounting;
  // empty: costs are not computed.
  std::string prices;
  // Workflow checkpoints: a SQLite file or a PostgreSQL URL (at most one);
  // both empty: workflow runs are not checkpointed.
  std::string checkpoint_path;
  std::string checkpoint_url;
  uint32_t checkpoint_keep_last = 20;
};

// A workflow the node serves by name ([workflow.<name>] file = W.json): the
// gateway's /v1/workflows routes run it.
struct workflow_config {
  std::string name;
  std::string file;
};

struct node_config {
  runtime_settings runtime;
  node_settings node;
  supervision_config supervisor;
  // The shared levels of the multi-level cache (runtime/cache/).
  cache_settings cache;
  // One entry per [<family>.<name>] section, in file order, with `name`
  // set from the section name.
  std::vector<provider_config> providers;
  std::vector<tool_config> tools;
  std::vector<memory_config> memories;
  std::vector<agent_config> agents;
  std::vector<group_config> groups;
  // [population.<type>]: keyed agents made on demand (actors/population/).
  std::vector<population_config> populations;
  std::vector<workflow_config> workflows;
  // The [cluster] section, read by the cluster node actor
  // (net/cluster/node_actor.hpp). Set only when the config gives the section:
  // its header in the file, or any of its keys from the file, the
  // environment (AGENTGRAPH_CLUSTER_<KEY>) or the command line
  // (cluster.<key>=value). Absent: std::nullopt, and the node runs alone.
  // When set it has passed cluster::validate (the load refuses it otherwise).
  std::optional<cluster::cluster_config> cluster;

  // Agents and tools of kind agent in an order where every agent tool comes
  // after the agent it calls and every agent after its agent tools (computed
  // by the cross-checker's cycle search, so the order and the cycle check
  // cannot disagree). Depth-first from each agent in file order, post-order;
  // agent tools no agent lists come last, in file order. Other tools are not
  // in it: they depend on nothing here and are built before agents.
  struct build_step {
    enum class kind : uint8_t { agent, agent_tool };
    kind what;
    size_t index;  // into agents or tools
  };
  std::vector<build_step> build_order;
};

// Every section and key a node config may contain. Built once, immutable,
// safe to share between threads.
[[nodiscard]] const config_schema& node_schema();

// Reads `path` (at most ini_bytes_max bytes), applies `env` (pass
// process_environment() in production) and the "section.key=value"
// `overrides` from the command line, validates, binds and cross-checks:
// agents name existing providers, tools and memories; agent tools name
// existing agents without forming a cycle; at least one agent exists; the
// components' own validators accept their sections, every `placement` is
// well formed and is "any" unless a [cluster] section is given
// (placement.hpp), cluster::validate the [cluster] section when given
// (node_config_checks.hpp).
// Errors name the key, the file and the line (or the variable / command
// line) that caused them.
[[nodiscard]] caf::expected<node_config> load_node_config(
    const std::string& path, const std::map<std::string, std::string>& env,
    const std::vector<std::string>& overrides);

// What a loaded config needs from outside itself, checked without starting
// anything: the price table, the cache levels (make_cache_tiers: the Redis
// URL, the L2 bounds), each provider's rules file or API key
// (check_provider_startable), each tool's config (validate_tool_config:
// a file_read root must exist) and each workflow file against the node's
// agents, groups and tools; with a [cluster] section, the variable its
// secret_env names must hold a usable secret (cluster_secret::make; the
// error names the variable, never the value). runtime_builder::from_config
// calls it before it starts anything and `agentgraph config check` calls it
// too, so the check refuses what a start would, with the same message.
// Reads files and the process environment: setup code only.
[[nodiscard]] caf::error check_node_resources(const node_config& cfg);

// The same for text in memory. `origin` labels messages ("node.ini"); its
// directory part, if any, is the base of relative paths.
[[nodiscard]] caf::expected<node_config> parse_node_config(
    std::string_view text, std::string origin, const std::map<std::string, std::string>& env,
    const std::vector<std::string>& overrides);

}  // namespace agentgraph

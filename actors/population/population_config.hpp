// Configuration of one population: a [population.<type>] section, or built
// in code (runtime_builder::add_population). Its keys are an agent's keys
// (the template every instance is made from) plus the population's own.
#pragma once

#include <chrono>
#include <map>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "actors/agent/agent_config.hpp"

namespace agentgraph {

// When a key's state is saved.
enum class population_durability : uint8_t {
  // After every task, before its answer goes out: an answered task's
  // history survives kill -9. One store write per task (batched across keys).
  task,
  // Only when the key is passivated (idle, evicted, shutdown): faster; a
  // crash loses what active keys did since their activation.
  passivation,
};
inline constexpr population_durability population_durabilities[] = {
  population_durability::task, population_durability::passivation};
[[nodiscard]] const char* to_string(population_durability d);

struct population_config {
  std::string name;  // the population's type: instances are "<name>/<key>"
  // The template of every instance: role, provider, model, tools, memory,
  // bounds. agent.name is ignored (each instance is named "<type>/<key>");
  // agent.system_prompt may use {{key}} and {{population}}.
  agent_config agent;
  // Keys with a live instance at once; one more activation passivates the
  // least recently used idle key first, and is overloaded if all are busy.
  uint32_t active_max = 10'000;
  // A key with no task for this long is passivated.
  std::chrono::milliseconds idle_timeout{300'000};
  // Tasks that may wait for one key while it activates or passivates;
  // more are overloaded.
  uint32_t waiting_max = 32;
  // Keys being activated at once (claims sent to the store and not yet
  // answered); more are overloaded.
  uint32_t activating_max = 4'096;
  // Tasks admitted and not yet answered, over all keys: waiting, running,
  // and answers waiting for their key's save; more are overloaded. (One
  // key's running tasks are bounded by the template's tasks_in_flight_max.)
  uint32_t tasks_max = 65'536;
  population_durability durability = population_durability::task;
  // Where passivated keys keep their state: a SQLite file (default
  // <data_dir>/populations.sqlite) or a PostgreSQL URL that a cluster shares
  // (at most one of the two).
  std::string store_path;
  std::string store_url;
  // Memory scopes every instance also recalls from, besides its own key's
  // (e.g. "world" for facts all keys share).
  std::vector<std::string> memory_scopes;
};

// Keys: 1-128 bytes of A-Z a-z 0-9 _ . : @ - (they appear in URLs, agent
// names and metric-free logs). Returns the problem, or "" for a good key.
[[nodiscard]] std::string population_key_problem(const std::string& key);

// A key's own prompt variables ({{name}} in the template): at most
// population_vars_max of them, names 1-64 bytes of A-Z a-z 0-9 _ (and not
// "key" or "population", which the renderer fills itself), values at most
// population_var_value_max bytes. Returns the problem, or "" when they are
// fine.
inline constexpr size_t population_vars_max = 64;
inline constexpr size_t population_var_value_max = 4096;
[[nodiscard]] std::string population_vars_problem(const std::map<std::string, std::string>& vars);

// "<type>/<key>": the population type and key of an agent address, or
// nullopt when `name` has no '/' (a configured agent or group).
struct population_address {
  std::string type;
  std::string key;
};
[[nodiscard]] std::optional<population_address> parse_population_address(const std::string& name);

// The instance's system prompt: `tmpl` with {{key}}, {{population}} and
// each {{<variable>}} of the key replaced; any other {{...}} stays as it is
// (a misspelt variable shows in the prompt instead of vanishing).
[[nodiscard]] std::string render_population_prompt(const std::string& tmpl,
                                                   const std::string& population,
                                                   const std::string& key,
                                                   const std::map<std::string, std::string>& vars);

}  // namespace agentgraph

// What one run of `agentgraph sim` (sim_runner.hpp) does before its nodes
// start and reads once they stopped, with no world running: the run's data
// directory, the node config's checks against the scenario, the arrivals
// trace, and the nodes' shared population store (keys saved before the
// start, states counted at the start and the end). Setup code: it blocks
// on files and SQLite, never inside an actor.
#pragma once

#include <cstdint>
#include <map>
#include <istream>
#include <string>
#include <utility>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "actors/host/node_config.hpp"
#include "actors/sim/scenario.hpp"

namespace agentgraph::sim {

// A fresh directory for one run's files: under /dev/shm when the machine
// has it (the stores' fsyncs cost wall time only: virtual time does not
// see them), else the temporary directory.
[[nodiscard]] caf::expected<std::string> make_run_dir();

// The populations of the node config that use the nodes' shared store
// (no store_url, store_path or placement of their own).
[[nodiscard]] caf::expected<std::vector<std::string>> shared_store_populations(
  const std::string& node_config);

// Every HTTP provider of `cfg` has an [llm.<name>] model in `sc` and speaks
// OpenAI's wire format (the only one simulated yet).
[[nodiscard]] caf::error check_providers(const scenario& sc, const node_config& cfg);

// The arrivals of process = trace, (ms since the start, agent), by time.
[[nodiscard]] caf::expected<std::vector<std::pair<double, std::string>>> read_trace(
  const scenario& sc);

// The trace's text as read_trace reads it (`name` prefixes the errors):
// one arrival per line, "<ms> [agent]", '#' comments and blank lines
// skipped, times within [0, duration_ms], at most tasks_max arrivals and
// trace_line_max bytes per line. A line with more fields, a time that is
// not a number or an agent name with control characters is an error naming
// the line, never skipped. The gateway checks the agent name itself; here
// it is only bounded (an address "<type>/<key>" is fine).
constexpr size_t trace_line_max = 4096;
constexpr size_t trace_agent_bytes_max = 256;
[[nodiscard]] caf::expected<std::vector<std::pair<double, std::string>>> parse_trace(
  std::istream& in, const std::string& name, double duration_ms, uint64_t tasks_max,
  const std::string& default_agent);

// Creates the shared store `store` (a location) if needed and installs
// the key audit in it (sim_keys.hpp), before any node writes.
[[nodiscard]] caf::error start_key_audit(const std::string& store);

// Saves empty states for keys k0..k<saved_keys-1> of arrivals.agent in the
// shared store `store` (a location), claimed by a writer that is no node;
// a node's first claim of a key takes it over.
[[nodiscard]] caf::error preload_keys(const scenario& sc, const node_config& cfg,
                                      const std::vector<std::string>& shared,
                                      const std::string& store);

// Keys with a saved state in `store` per population of `shared`, into
// `counts` (first: at the start, second: at the end).
[[nodiscard]] caf::error count_saved_states(
  const std::vector<std::string>& shared, const std::string& store, bool at_start,
  std::map<std::string, std::pair<uint64_t, uint64_t>>& counts);

}  // namespace agentgraph::sim

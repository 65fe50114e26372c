// The JSON of the gateway's population routes: the bodies of
// PUT /v1/agents/<type>/<key>/vars and POST /v1/agents/<type>/broadcast
// (validated, each error naming the field) and the answers of those and of
// GET /v1/populations. Pure: no actors, no sockets.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include <caf/expected.hpp>

#include "actors/population/broadcast.hpp"
#include "actors/population/population_interface.hpp"
#include "runtime/value.hpp"

namespace agentgraph {

// A JSON object of string -> string, checked by population_vars_problem.
// Errors: invalid_argument naming what is wrong ("vars: 'mood' must be a
// string", "vars: at most 64 variables").
[[nodiscard]] caf::expected<std::map<std::string, std::string>> parse_key_vars(
  std::string_view body);

// {"input", "sample"?, "seed"?, "concurrency"?, "context"?, "task_prefix"?}:
// integers only where numbers go, bounds of broadcast_problem. Errors:
// invalid_argument naming the field.
[[nodiscard]] caf::expected<population_broadcast> parse_broadcast(std::string_view body);

// {"agent", "vars": {...}}: a vars request's answer.
[[nodiscard]] Value key_vars_json(const std::string& agent,
                                  const std::map<std::string, std::string>& vars);

// {"population", "keys", "ok", "failed", "errors": [...]}.
[[nodiscard]] Value broadcast_result_json(const std::string& type,
                                          const population_broadcast_result& r);

// Every population_stats figure under its own name, plus "name".
[[nodiscard]] Value population_stats_json(const population_stats& s);

}  // namespace agentgraph

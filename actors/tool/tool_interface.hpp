// The typed interface of a tool actor. The agent asks each of its tools to
// describe itself (to show the model), then invokes them on the model's tool
// calls. A tool that fails replies with an error (tool_error,
// sandbox_violation, invalid_argument, timeout), never crashes its caller.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/atom.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/typed_actor.hpp>

#include "actors/common_atoms.hpp"
#include "runtime/heartbeat.hpp"
#include "runtime/llm_types.hpp"
#include "runtime/value.hpp"

namespace agentgraph {

// One parameter of a tool. `type` is a JSON Schema type name: string,
// number, integer, boolean, object or array.
struct tool_param {
  std::string name;
  std::string type;
  std::string description;
  bool required = true;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, tool_param& x) {
  return f(caf::meta::type_name("agentgraph::tool_param"), x.name, x.type, x.description,
           x.required);
}

struct tool_spec {
  std::string name;
  std::string description;
  std::vector<tool_param> params;
  // Same arguments give the same result, so results may be cached.
  bool deterministic = false;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, tool_spec& x) {
  return f(caf::meta::type_name("agentgraph::tool_spec"), x.name, x.description, x.params,
           x.deterministic);
}

// The JSON Schema object the provider shows the model for `spec`.
[[nodiscard]] tool_definition to_definition(const tool_spec& spec);

// Checks `args` against `spec`: an object, every required parameter present,
// each present parameter of its declared type, no unknown parameters.
// Errors: invalid_argument naming the parameter.
[[nodiscard]] caf::error validate_arguments(const tool_spec& spec, const Value& args);

struct tool_invocation {
  std::string call_id;  // the model's tool call id; echoed in the result
  Value arguments;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, tool_invocation& x) {
  return f(caf::meta::type_name("agentgraph::tool_invocation"), x.call_id, x.arguments);
}

struct tool_result {
  std::string call_id;
  Value output;
  bool from_cache = false;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, tool_result& x) {
  return f(caf::meta::type_name("agentgraph::tool_result"), x.call_id, x.output, x.from_cache);
}

struct tool_stats {
  std::string name;
  uint64_t calls = 0;
  uint64_t errors = 0;
  uint64_t cache_hits = 0;    // caching wrapper only
  uint64_t cache_misses = 0;  // caching wrapper only
  uint64_t cache_entries = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, tool_stats& x) {
  return f(caf::meta::type_name("agentgraph::tool_stats"), x.name, x.calls, x.errors,
           x.cache_hits, x.cache_misses, x.cache_entries);
}

using invoke_atom = caf::atom_constant<caf::atom("ag_invoke")>;
using describe_atom = caf::atom_constant<caf::atom("ag_descr")>;

using tool_actor = caf::typed_actor<
  // Reply: the tool's output. Errors: invalid_argument (arguments do not
  // match the spec), sandbox_violation, tool_error, timeout. Callers use the
  // agent's tool timeout.
  caf::replies_to<invoke_atom, tool_invocation>::with<tool_result>,
  // Reply: the tool's spec. Never fails.
  caf::replies_to<describe_atom>::with<tool_spec>,
  caf::replies_to<stats_atom>::with<tool_stats>,
  heartbeat_signature>;

}  // namespace agentgraph

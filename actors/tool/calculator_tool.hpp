// The calculator built-in: {"expression": string} in, {"expression": ...,
// "value": number} out. Deterministic, so it may be cached. Parsing is
// bounded (expression_chars_max), so it runs on the scheduler without a
// worker thread.
#pragma once

#include <string>

#include <caf/actor_system.hpp>
#include <caf/expected.hpp>

#include "actors/tool/tool_interface.hpp"
#include "actors/tool/tool_metrics.hpp"

namespace agentgraph {

[[nodiscard]] tool_spec calculator_spec(const std::string& name);

// Validates `args` against `spec` and evaluates the expression.
// Errors: invalid_argument (bad arguments or a bad expression, see
// evaluate_expression).
[[nodiscard]] caf::expected<Value> run_calculator(const tool_spec& spec, const Value& args);

// `metrics`: series for this tool (tool_metrics.hpp); default: records nothing.
[[nodiscard]] tool_actor spawn_calculator_tool(caf::actor_system& sys, const std::string& name,
                                              tool_metrics metrics = {});

}  // namespace agentgraph

// What both population store backends share, so that they check alike: the
// schema version and the bounds on the limits. Internal to
// runtime/population/; pure, no I/O. The arguments of each call are checked
// once, in population_store.cpp, before any backend sees them.
#pragma once

#include <cstdint>
#include <string>

#include <caf/error.hpp>

#include "runtime/population/population_store.hpp"

namespace agentgraph {

// Format of the tables of both backends; another version is a parse_error.
constexpr int64_t population_schema_version = 1;

// invalid_argument when a limit is 0 or above its own bound.
[[nodiscard]] caf::error check_population_limits(const population_store_limits& limits,
                                                 const std::string& where);

}  // namespace agentgraph

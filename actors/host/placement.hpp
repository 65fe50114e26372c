// Which node of a cluster builds a component (net/cluster/DESIGN.md §8.3).
// [agent.x], [tool.x] and [memory.x] take `placement = any | <node_id>`
// (actors/placement_key.hpp): "any" (the default) is built by every node, as
// before clusters; a node id is built only by the node whose
// [cluster] node_id it is, and the other nodes reach it through the cluster
// directory. Pure functions: no I/O, no actors.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "actors/host/node_config.hpp"

namespace agentgraph {

// The placement every node builds.
inline constexpr std::string_view placement_any = "any";
// Longest placement: the longest [cluster] node_id (cluster::validate).
inline constexpr size_t placement_bytes_max = 128;

// What is wrong with the syntax of `placement` (1-128 bytes; no whitespace
// or control character, no ',' and no '/', which lists and shard keys use
// as separators), or "" when nothing is. Whether a node of that id exists
// is not known when a config loads: a pin to a node that never joins is
// simply never built.
[[nodiscard]] std::string placement_syntax_problem(std::string_view placement);

// Whether the node running `cfg` builds a component placed at `placement`:
// true when it is "any", when `cfg` has no [cluster] section (a lone node
// builds everything; load_node_config refuses a pin without one), or when
// it equals cfg.cluster->node_id exactly. A node whose node_id is empty (it
// goes by its advertised host:port) builds only what is placed at "any".
[[nodiscard]] bool placed_here(const std::string& placement, const node_config& cfg);

}  // namespace agentgraph

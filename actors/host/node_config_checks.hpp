// The checks of a node config that go beyond the schema and the
// cross-references (node_config.cpp), kept in one place so that
// `agentgraph config check` refuses exactly what `run` and `node` refuse:
//
// * check_component_configs: the components' own validators
//   (validate_memory_config, a group's member count, the `placement` of
//   agents, tools and memories (placement.hpp: its syntax; a pin needs a
//   [cluster] section), cluster::validate for a given [cluster] section), run by
//   load_node_config on every load. Pure; each error blames the source of
//   the offending key (file:line, `--set ...`, `environment ...`).
// * check_node_resources (node_config.hpp): what needs the file system or
//   the process environment (the cluster secret's variable, the TLS files
//   and the passphrase's variable), run by
//   runtime_builder::from_config before it starts anything and by
//   `config check`.
#pragma once

#include <caf/error.hpp>

#include "actors/host/node_config.hpp"
#include "runtime/config/config_resolve.hpp"

namespace agentgraph {

[[nodiscard]] caf::error check_component_configs(const config_tree& tree, const node_config& cfg);

}  // namespace agentgraph

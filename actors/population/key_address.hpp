// The address of one key of a population as an agent_actor: what
// Runtime::agent("<type>/<key>") returns, so every caller that reaches
// agents by name (runtime_client, the gateway and its journal, workflows,
// agent tools) reaches a population's keys unchanged. A small actor that
// holds (type, key) and delegates each message to the population actor of
// the node that owns the key now (population_nodes: rendezvous hashing over
// the nodes that run the type; this node's own outside a cluster), which
// answers the caller directly. Owner is chosen per message, so a key whose
// node went down is sent to its next owner. It exists while a caller holds
// it (CAF destroys an actor nobody references), so a million keys addressed
// once cost nothing after.
#pragma once

#include <string>

#include <caf/actor_system.hpp>

#include "actors/agent/agent_interface.hpp"
#include "actors/population/population_nodes.hpp"

namespace agentgraph {

// `key` must be valid (population_key_problem). Tasks to a population that
// no node runs now (or whose owner is down) get `unavailable`.
[[nodiscard]] agent_actor spawn_key_address(caf::actor_system& sys,
                                            std::shared_ptr<const population_nodes> nodes,
                                            std::string type, std::string key);

}  // namespace agentgraph

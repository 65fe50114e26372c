// The address of one key of a population as an agent_actor: what
// Runtime::agent("<type>/<key>") returns, so every caller that reaches
// agents by name (runtime_client, the gateway and its journal, workflows,
// agent tools) reaches a population's keys unchanged. A small actor that
// holds (population, key) and delegates each message to the population's
// current incarnation, which answers the caller directly. It exists while a
// caller holds it (CAF destroys an actor nobody references), so a million
// keys addressed once cost nothing after.
#pragma once

#include <string>

#include <caf/actor_system.hpp>

#include "actors/agent/agent_interface.hpp"
#include "actors/population/population_interface.hpp"
#include "runtime/supervised_ref.hpp"

namespace agentgraph {

// `key` must be valid (population_key_problem). Tasks to a population that
// is down get `unavailable`.
[[nodiscard]] agent_actor spawn_key_address(caf::actor_system& sys,
                                            dep<population_actor> population, std::string key);

}  // namespace agentgraph

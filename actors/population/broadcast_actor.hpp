// Spawning a broadcast (broadcast.hpp says what one does): apart from the
// request and result types so that the public header, which names those,
// does not pull in the store and the placement table.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include <caf/actor_system.hpp>

#include "actors/population/broadcast.hpp"
#include "actors/population/population_nodes.hpp"
#include "runtime/population/population_store_actor.hpp"

namespace agentgraph {

// `b` must be valid (broadcast_problem). `task_deadline`: each task's.
[[nodiscard]] population_broadcast_actor spawn_population_broadcast(
  caf::actor_system& sys, std::shared_ptr<const population_nodes> nodes,
  population_store_actor store, std::string type, population_broadcast b,
  std::chrono::milliseconds task_deadline);

}  // namespace agentgraph

// The population actor (population_interface.hpp; the design is
// actors/population/DESIGN.md): one per [population.<type>] on a node. It
// owns the table of the keys that are active or on their way in or out,
// activates a key on its first task (claims its saved state from the store,
// starts its instance), passivates keys that are idle or least recently
// used (exports the instance's state, saves it, stops the instance), and
// forwards every task of a key to its one instance.
//
// It does not include agent.hpp: the host hands it a factory that starts
// one key's instance (rendered prompt, memory scope, shared dependencies),
// so this folder depends on the agent's interface only.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <caf/actor_system.hpp>

#include "actors/population/population_config.hpp"
#include "actors/population/population_interface.hpp"
#include "actors/population/population_state.hpp"
#include "runtime/metrics/registry.hpp"
#include "runtime/population/population_store_actor.hpp"

namespace agentgraph {

// Starts the instance of `key` from its saved state (variables included).
// Called on the population's own thread; it must not block.
using population_instance_factory =
  std::function<keyed_agent_actor(const std::string& key, const population_key_state& state)>;

struct population_setup {
  std::shared_ptr<const population_config> cfg;
  population_instance_factory spawn_instance;
  population_store_actor store;
  // The claim this population saves under: the node's name and incarnation
  // (a restarted node claims its keys again under its new epoch).
  std::string owner;
  uint64_t owner_epoch = 0;
  // How long a forwarded task may take (the agent's request_timeout times
  // its model calls, Runtime::task_deadline's rule).
  std::chrono::milliseconds task_deadline{60'000};
  // How long a claim or a save may take before it is an error.
  std::chrono::milliseconds store_timeout{30'000};
  // Keys with a saved state when the population starts (the store's count).
  uint64_t saved_keys = 0;
  std::shared_ptr<metrics::registry> metrics;  // null: nothing recorded
};

// Keys claimed or saved per store call (the store's batch_max bounds it).
constexpr size_t population_store_batch_max = 1'024;
// Keys one idle sweep looks at (the sweep runs again a quarter of
// idle_timeout later, at least every 10 s).
constexpr size_t population_sweep_keys_max = 16'384;
// Keys pop_passivate_all passivates per turn of the population (its other
// messages run in between).
constexpr size_t population_passivate_batch = 256;
// LRU keys an activation looks at for an idle one to evict.
constexpr size_t population_evict_scan_max = 64;

[[nodiscard]] population_actor spawn_population(caf::actor_system& sys, population_setup setup);

}  // namespace agentgraph

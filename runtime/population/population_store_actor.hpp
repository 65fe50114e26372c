// The population store for callers on CAF scheduler threads (a
// population's front actor), in the journal_actor pattern
// (runtime/worker_front.hpp): a front that never blocks relays each call to
// a detached worker that owns the store object (its one connection) and
// serves the calls in arrival order.
//
// Bound: `pending_max` requests accepted and not yet answered; beyond it, a
// request is `overloaded` at once. A request the worker has not answered
// within `call_timeout` is errc::timeout, and may still happen (every call
// is safe to retry).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/atom.hpp>
#include <caf/typed_actor.hpp>

#include "runtime/heartbeat.hpp"
#include "runtime/population/population_store.hpp"

namespace agentgraph {

using pstore_claim_atom = caf::atom_constant<caf::atom("ag_ps_clm")>;
using pstore_save_atom = caf::atom_constant<caf::atom("ag_ps_sav")>;
using pstore_keys_atom = caf::atom_constant<caf::atom("ag_ps_keys")>;
using pstore_count_atom = caf::atom_constant<caf::atom("ag_ps_cnt")>;
using pstore_erase_atom = caf::atom_constant<caf::atom("ag_ps_ers")>;

// The store's calls as messages, one each (population_store.hpp says what
// they do). Errors are those of population_store plus `overloaded`
// (pending_max) and `timeout` (call_timeout; the call may still happen).
using population_store_signatures = caf::typed_actor<
  // (population, keys, owner, owner epoch) -> one claim per key, in order.
  caf::replies_to<pstore_claim_atom, std::string, std::vector<std::string>, std::string,
                  uint64_t>::with<std::vector<population_claim>>,
  // (population, owner, owner epoch, batch) -> the fenced keys.
  caf::replies_to<pstore_save_atom, std::string, std::string, uint64_t,
                  std::vector<population_save>>::with<std::vector<std::string>>,
  // (population, after, limit) -> one page of keys.
  caf::replies_to<pstore_keys_atom, std::string, std::string,
                  uint32_t>::with<std::vector<std::string>>,
  // (population) -> keys with a saved state.
  caf::replies_to<pstore_count_atom, std::string>::with<uint64_t>,
  // (population, key) -> whether it existed.
  caf::replies_to<pstore_erase_atom, std::string, std::string>::with<bool>>;

using population_store_actor = population_store_signatures::extend<heartbeat_signature>;

struct population_store_actor_config {
  // Requests accepted and not yet answered; beyond: `overloaded` at once.
  uint32_t pending_max = 256;
  // How long one request may wait for the worker (queueing included).
  std::chrono::milliseconds call_timeout{30'000};
};

// Spawns the actor and its detached worker, which takes ownership of
// `store` (opened beforehand by the caller, where blocking is allowed).
// The worker is linked to the actor: it stops when the actor stops.
[[nodiscard]] population_store_actor spawn_population_store_actor(
  caf::actor_system& sys, std::unique_ptr<population_store> store,
  population_store_actor_config cfg = {});

}  // namespace agentgraph

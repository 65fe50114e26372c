// The checkpoint store as an actor, for callers on CAF scheduler threads (the
// workflow actor). A store call blocks on disk or network; this actor never
// does: it counts the request and hands it to a detached worker actor (its
// own thread) that owns the store object, then answers when the worker does.
// Requests are served one at a time, in arrival order, by that one worker,
// because a store object owns one connection.
//
// Bound: at most `pending_max` requests accepted and not yet answered; beyond
// that a request fails at once with `overloaded` (retry after backing off).
// Each request the worker does not answer within `call_timeout` fails with
// CAF's request_timeout; it then stops counting as pending, although the
// worker may still complete it (a timed-out put may have been saved: read
// latest before putting again).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/atom.hpp>
#include <caf/typed_actor.hpp>

#include "runtime/checkpoint/checkpoint_store.hpp"
#include "runtime/heartbeat.hpp"

namespace agentgraph {

using checkpoint_put_atom = caf::atom_constant<caf::atom("ag_cp_put")>;
using checkpoint_latest_atom = caf::atom_constant<caf::atom("ag_cp_last")>;
using checkpoint_get_atom = caf::atom_constant<caf::atom("ag_cp_get")>;
using checkpoint_list_atom = caf::atom_constant<caf::atom("ag_cp_list")>;
using checkpoint_threads_atom = caf::atom_constant<caf::atom("ag_cp_thrd")>;
using checkpoint_delete_atom = caf::atom_constant<caf::atom("ag_cp_del")>;

// The store's operations as messages. Errors are those of checkpoint_store
// (checkpoint_store.hpp) plus `overloaded` and CAF's request_timeout. Callers
// should use a timeout above checkpoint_actor_config::call_timeout.
using checkpoint_store_signatures = caf::typed_actor<
  // Reply: the new checkpoint id (checkpoint_store::put).
  caf::replies_to<checkpoint_put_atom, checkpoint>::with<uint64_t>,
  // Reply: the thread's newest checkpoint. not_found if none.
  caf::replies_to<checkpoint_latest_atom, std::string>::with<checkpoint>,
  // Reply: checkpoint (thread, id). not_found if absent or pruned.
  caf::replies_to<checkpoint_get_atom, std::string, uint64_t>::with<checkpoint>,
  // Reply: at most `limit` checkpoints, newest first, without state/pending.
  caf::replies_to<checkpoint_list_atom, std::string, uint32_t>::with<std::vector<checkpoint>>,
  // Reply: at most `limit` thread ids in byte order.
  caf::replies_to<checkpoint_threads_atom, uint32_t>::with<std::vector<std::string>>,
  // Reply: checkpoints deleted. not_found if the thread has none.
  caf::replies_to<checkpoint_delete_atom, std::string>::with<uint64_t>>;

using checkpoint_actor = checkpoint_store_signatures::extend<heartbeat_signature>;

struct checkpoint_actor_config {
  // Requests accepted and not yet answered; beyond: `overloaded` at once.
  uint32_t pending_max = 64;
  // How long one request may wait for the worker (queueing included).
  std::chrono::milliseconds call_timeout{30'000};
};

// Spawns the actor and its detached worker, which takes ownership of
// `store` (opened beforehand by the caller, where blocking is allowed). The
// worker is linked to the actor: it stops when the actor stops.
[[nodiscard]] checkpoint_actor spawn_checkpoint_actor(caf::actor_system& sys,
                                                      std::unique_ptr<checkpoint_store> store,
                                                      checkpoint_actor_config cfg = {});

}  // namespace agentgraph

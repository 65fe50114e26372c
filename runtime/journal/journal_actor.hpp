// The task journal for callers on CAF scheduler threads (the cluster's task
// dispatcher), in the checkpoint_actor pattern (runtime/worker_front.hpp): a
// front actor that never blocks relays each call to a detached worker that
// owns the journal object (its one connection) and serves the calls in
// arrival order.
//
// Bound: `pending_max` requests accepted and not yet answered; beyond it, a
// request is `overloaded` at once. A request the worker has not answered
// within `call_timeout` is errc::timeout, and may still happen: a timed-out
// accept may be stored, which is why the dispatcher retries it with the same
// task id (accept returns the stored record, fresh = false).
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
#include "runtime/journal/task_journal.hpp"

namespace agentgraph {

using journal_accept_atom = caf::atom_constant<caf::atom("ag_jn_acc")>;
using journal_assign_atom = caf::atom_constant<caf::atom("ag_jn_asg")>;
using journal_complete_atom = caf::atom_constant<caf::atom("ag_jn_cmp")>;
using journal_open_of_atom = caf::atom_constant<caf::atom("ag_jn_open")>;
using journal_adopt_atom = caf::atom_constant<caf::atom("ag_jn_adpt")>;
using journal_get_atom = caf::atom_constant<caf::atom("ag_jn_get")>;

// The journal's calls as messages, one each (task_journal.hpp says what
// they do). Errors are those of task_journal plus `overloaded` (pending_max)
// and `timeout` (call_timeout; the call may still happen). Callers should
// use a timeout above journal_actor_config::call_timeout.
using task_journal_signatures = caf::typed_actor<
  // (record) -> {fresh, the stored record}.
  caf::replies_to<journal_accept_atom, journal_record>::with<accept_outcome>,
  // (task id, member, owner, owner epoch) -> journal_assign_atom when
  // recorded; not_found, conflict (finished, or "fenced").
  caf::replies_to<journal_assign_atom, std::string, std::string, std::string,
                  uint64_t>::with<journal_assign_atom>,
  // (task id, done | failed, result) -> the stored record (first writer wins).
  caf::replies_to<journal_complete_atom, std::string, task_state,
                  std::vector<uint8_t>>::with<journal_record>,
  // (owner, limit, after) -> one page of its open records, oldest first.
  caf::replies_to<journal_open_of_atom, std::string, uint32_t,
                  std::string>::with<std::vector<journal_record>>,
  // (from, from epoch or 0, to, to epoch) -> how many records moved.
  caf::replies_to<journal_adopt_atom, std::string, uint64_t, std::string,
                  uint64_t>::with<uint64_t>,
  // (task id) -> the record; not_found when the id is unknown (the blocking
  // get's empty optional: a message cannot carry one in CAF 0.17).
  caf::replies_to<journal_get_atom, std::string>::with<journal_record>>;

using journal_actor = task_journal_signatures::extend<heartbeat_signature>;

struct journal_actor_config {
  // Requests accepted and not yet answered; beyond: `overloaded` at once.
  uint32_t pending_max = 64;
  // How long one request may wait for the worker (queueing included).
  std::chrono::milliseconds call_timeout{30'000};
};

// Spawns the actor and its detached worker, which takes ownership of
// `journal` (opened beforehand by the caller, where blocking is allowed).
// The worker is linked to the actor: it stops when the actor stops.
[[nodiscard]] journal_actor spawn_journal_actor(caf::actor_system& sys,
                                                std::unique_ptr<task_journal> journal,
                                                journal_actor_config cfg = {});

}  // namespace agentgraph

// The typed interface of a population (actors/population/DESIGN.md): one
// actor per [population.<type>] on a node, in front of the keys' agent
// instances. A key's instance exists only while the key is active; the
// population activates it on its first message (restoring its saved state)
// and passivates it when idle or when the active bound needs room.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <caf/atom.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/typed_actor.hpp>

#include "actors/agent/agent_interface.hpp"
#include "actors/common_atoms.hpp"
#include "runtime/heartbeat.hpp"

namespace agentgraph {

// What a population holds and has done since it started.
struct population_stats {
  std::string name;           // the population's type
  uint64_t active = 0;        // keys with a live instance now (<= active_max)
  uint64_t activating = 0;    // keys whose saved state is being claimed now
  uint64_t passivating = 0;   // keys whose state is being exported or saved now
  uint64_t saved_keys = 0;    // keys with a saved state in the store (as this node knows)
  uint64_t passivated = 0;    // of those, keys with no slot on this node
  uint64_t state_bytes = 0;   // encoded states (history, stats, variables) of the keys
                              // in the table: what their instances hold, in store bytes
  uint64_t waiting = 0;       // tasks waiting for their key's activation or passivation
  uint64_t tasks_in_flight = 0;
  uint64_t activations = 0;
  uint64_t passivations = 0;
  uint64_t evictions = 0;     // passivations to make room under active_max
  uint64_t fenced = 0;        // saves refused because another node claimed the key
  uint64_t state_errors = 0;  // saved states that did not decode (their tasks failed)
  uint64_t store_errors = 0;  // claims and saves the store failed
  uint64_t active_max = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, population_stats& x) {
  return f(caf::meta::type_name("agentgraph::population_stats"), x.name, x.active,
           x.activating, x.passivating, x.saved_keys, x.passivated, x.state_bytes, x.waiting, x.tasks_in_flight,
           x.activations, x.passivations, x.evictions, x.fenced, x.state_errors,
           x.store_errors, x.active_max);
}

using pop_execute_atom = caf::atom_constant<caf::atom("ag_pexec")>;
using pop_execute_stream_atom = caf::atom_constant<caf::atom("ag_pexstrm")>;
using pop_key_stats_atom = caf::atom_constant<caf::atom("ag_pkstat")>;
using pop_activate_atom = caf::atom_constant<caf::atom("ag_pact")>;
using pop_passivate_atom = caf::atom_constant<caf::atom("ag_ppass")>;
using pop_passivate_all_atom = caf::atom_constant<caf::atom("ag_ppall")>;
using pop_set_vars_atom = caf::atom_constant<caf::atom("ag_pvars")>;
using pop_flush_atom = caf::atom_constant<caf::atom("ag_pflush")>;
using pop_sweep_atom = caf::atom_constant<caf::atom("ag_psweep")>;

using population_actor = caf::typed_actor<
  // (key, task) -> the task's result from the key's instance, activated
  // first if needed. Errors: invalid_argument (a bad key, or what the agent
  // refuses), overloaded (active_max instances all busy, activating_max
  // claims pending, or waiting_max tasks already wait for the key), and the
  // agent's own errors; io_error or parse_error when the key's saved state
  // cannot be read (the state stays as it is); conflict when another node
  // claimed the key (this node's instance was stale: its save was fenced,
  // the task's turn is not in the store, and the instance is dropped): send
  // it to the key's owner, as key addresses do.
  caf::replies_to<pop_execute_atom, std::string, task_request>::with<task_result>,
  // As pop_execute, streamed to the sink (agent_interface.hpp).
  caf::replies_to<pop_execute_stream_atom, std::string, task_request,
                  stream_sink_actor>::with<task_result>,
  // (key) -> the key's agent_stats: its instance's when active, else zero
  // figures (it does not activate the key).
  caf::replies_to<pop_key_stats_atom, std::string>::with<agent_stats>,
  // (key) -> true once the key is active (activated by this call or
  // already), without running a task: warming keys up, and measuring
  // activation alone. Errors as pop_execute's activation errors.
  caf::replies_to<pop_activate_atom, std::string>::with<bool>,
  // (key) -> whether the key was passivated by this call (false: it was not
  // active, or is busy: it is passivated once its tasks finish).
  caf::replies_to<pop_passivate_atom, std::string>::with<bool>,
  // Passivates every active key and replies once their states are saved
  // (busy keys when their tasks finish): the keys passivated.
  caf::replies_to<pop_passivate_all_atom>::with<uint64_t>,
  caf::replies_to<stats_atom>::with<population_stats>,
  // (key, vars) -> true once the key's prompt variables are `vars` (they
  // replace its earlier ones) and its state with them is saved; its next
  // task renders the prompt with them. A passive key is activated for it;
  // an active one restarts its instance (history kept) once its tasks in
  // flight end, and tasks arriving meanwhile wait (waiting_max).
  // Errors: invalid_argument (bad key or population_vars_problem), the
  // activation errors of pop_execute, and the store's.
  caf::replies_to<pop_set_vars_atom, std::string,
                  std::map<std::string, std::string>>::with<bool>,
  // Internal: sends the claims and saves gathered since the last flush.
  caf::reacts_to<pop_flush_atom>,
  // Internal: passivates keys idle for idle_timeout, and the next batch of
  // a pop_passivate_all.
  caf::reacts_to<pop_sweep_atom>,
  heartbeat_signature>;

}  // namespace agentgraph

// One supervisor for many children, never on their request path.
//
// A Runtime has one group per kind of component (agents, tools, memory
// shards, providers). Callers hold each child's own handle, found through
// its supervised_ref (runtime/supervised_ref.hpp); the group monitors the
// children, restarts a crashed one (one-for-one, at most restarts_max within
// restart_window) and writes the new incarnation into its ref. Compared to
// a relaying supervisor per child (runtime/supervisor.hpp, still used where
// a stable address is needed) a task crosses half the messages, and an idle
// child costs a table entry and no timer.
//
// What callers see when a child dies: their calls in flight fail through
// their own monitors (runtime/call_watch.hpp) or deadlines; their next call
// resolves the ref again and reaches the new incarnation. A child whose
// budget is spent is given up: its ref stays empty with the reason (callers
// get errc::unavailable), the other children are unaffected.
//
// Hung children: with heartbeat_interval > 0 the group pings every child
// each interval (one timer for the group, one ping per child, so CPU grows
// with the children) and kills and restarts one that misses
// heartbeat_misses_max pings in a row. 0 (the default) turns this off:
// handlers stuck too long are then caught by the callers' deadlines.
//
// Stopping: an exit message makes the group send user_shutdown to every
// child and quit once all are down (at most child_stop_grace later), so
// "group down" implies "children down", which the Runtime's ordered
// shutdown relies on.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include <caf/actor.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/atom.hpp>
#include <caf/expected.hpp>
#include <caf/replies_to.hpp>
#include <caf/send.hpp>
#include <caf/typed_actor.hpp>

#include "runtime/metrics/registry.hpp"
#include "runtime/supervised_ref.hpp"
#include "runtime/supervision_config.hpp"
#include "runtime/supervision_stats.hpp"

namespace agentgraph {

// One child as the group keeps it: how to build a new incarnation and
// where to publish it.
struct group_child {
  std::string name;  // e.g. "agent.planner": logs, stats and the metrics label
  // A new incarnation, or an invalid handle when it cannot be built (the
  // child is then given up). Runs on the group's scheduler thread: it must
  // only spawn, never block.
  std::function<caf::actor(caf::actor_system&)> spawn;
  std::shared_ptr<supervised_ref_base> ref;
};

using group_child_ptr = std::shared_ptr<const group_child>;

using group_watch_atom = caf::atom_constant<caf::atom("ag_gwatch")>;
using group_stats_atom = caf::atom_constant<caf::atom("ag_gstats")>;
using group_tick_atom = caf::atom_constant<caf::atom("ag_gtick")>;

using supervision_group_actor = caf::typed_actor<
  // Supervise this child, whose first incarnation the caller spawned, from
  // now on (monitors it at once: a child that already died is restarted).
  // The incarnation travels beside the spec, so the group holds no
  // reference to an incarnation that has been replaced.
  caf::reacts_to<group_watch_atom, group_child_ptr, caf::actor>,
  // Figures of the child `name`. Errors: not_found.
  caf::replies_to<group_stats_atom, std::string>::with<supervision_stats>,
  // Private: the heartbeat sweep and the stop deadline.
  caf::reacts_to<group_tick_atom, uint64_t>>;

// `name` labels the group in logs ("agents", "tools", ...). `registry`:
// where per-child restarts, escalations and missed heartbeats are counted
// (runtime/supervisor_metrics.hpp); null records nothing.
[[nodiscard]] supervision_group_actor spawn_supervision_group(
  caf::actor_system& sys, std::string name, supervision_config cfg,
  std::shared_ptr<metrics::registry> registry);

// Spawns the first incarnation of a child with `spawn_fn` (a callable
// (caf::actor_system&) -> caf::expected<Handle>) on the calling thread,
// so a bad config is the caller's error; then hands the child to `group`
// without waiting. Later incarnations call spawn_fn again (a shard reloads
// its last snapshot).
template <class Handle, class SpawnFn>
[[nodiscard]] caf::expected<supervised_ref_ptr<Handle>> supervise_in(
  caf::actor_system& sys, const supervision_group_actor& group, std::string name,
  SpawnFn spawn_fn) {
  caf::expected<Handle> first = spawn_fn(sys);
  if (!first)
    return std::move(first.error());
  auto ref = std::make_shared<supervised_ref<Handle>>(name);
  ref->set(*first);
  auto child = std::make_shared<group_child>();
  child->name = std::move(name);
  child->spawn = [fn = std::move(spawn_fn)](caf::actor_system& s) -> caf::actor {
    caf::expected<Handle> next = fn(s);
    return next ? caf::actor_cast<caf::actor>(*next) : caf::actor{};
  };
  child->ref = ref;
  caf::anon_send(group, group_watch_atom::value, group_child_ptr{std::move(child)},
                 caf::actor_cast<caf::actor>(*first));
  return ref;
}

// Figures of one child, blocking the calling thread at most `timeout`.
[[nodiscard]] caf::expected<supervision_stats> group_child_stats(
  caf::actor_system& sys, const supervision_group_actor& group, const std::string& child,
  caf::timespan timeout);

}  // namespace agentgraph

// Local only: a group is never published, so its watch message needs no
// wire format.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(agentgraph::group_child_ptr)

// One-for-one supervision of a single typed actor behind a stable handle.
//
// spawn_supervised<Interface>(...) spawns a supervisor that is itself typed
// as `Interface`: callers (and remote peers, through middleman publish /
// remote_actor<Interface>) hold the supervisor's handle and use it exactly
// like the child's. The supervisor
//   1. forwards every request to the current child with cfg.request_timeout
//      and relays the reply or a translated error (never a hang);
//   2. restarts a crashed child, at most cfg.restarts_max times within
//      cfg.restart_window; one more crash and it escalates: it stops itself
//      with a limit_exceeded exit reason, so whoever monitors it sees it go
//      down (a factory that cannot build a child escalates with unavailable);
//   3. pings the child every cfg.heartbeat_interval and kills and restarts a
//      child that misses cfg.heartbeat_misses_max pings in a row.
//
// Why typed forwarding and not a catch-all: in CAF 0.17 a generic forwarder
// (set_default_handler + request(...).then([](message&))) does not work,
// because replies arrive as unexpected responses and behaviours cannot hold
// catch_all. So one handler per signature of Interface is generated here.
//
// Errors callers see (besides the child's own errors, relayed unchanged):
//   unavailable "<name> crashed"        the child died with the request pending,
//                                       or the request reached it after it threw
//                                       and before its down_msg reached us (a
//                                       short window: the restart follows)
//   unavailable "<name> hung; restarting" the child missed its heartbeats
//   unavailable "<name> stopped"        the child exited normally
//   unavailable "<name> shutting down"  the supervisor was told to exit
//   timeout     "<name>: no reply within <N>ms"
//   overloaded  "<name>: <N> requests in flight" (supervisor_inflight_max)
// Once the supervisor is down, CAF itself fails new requests
// (sec::request_receiver_down).
//
// Lifetime: with heartbeats on, the supervisor's timer keeps it alive even
// when nobody holds its handle. Stop it explicitly with
// caf::anon_send_exit(handle, caf::exit_reason::user_shutdown); it then stops
// its child too, so the actor_system destructor returns.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/atom.hpp>
#include <caf/detail/type_list.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/expected.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/replies_to.hpp>
#include <caf/result.hpp>
#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "runtime/assert.hpp"
#include "runtime/error.hpp"
#include "runtime/heartbeat.hpp"
#include "runtime/log.hpp"
#include "runtime/metrics/series_ref.hpp"
#include "runtime/supervision_config.hpp"
#include "runtime/supervision_stats.hpp"
#include "runtime/supervisor_metrics.hpp"

namespace agentgraph {

// Requests a supervisor holds at once. CAF 0.17 scans an actor's pending
// responses linearly (O(n^2) throughput past ~1,000 outstanding), so past
// this bound the supervisor answers `overloaded` at once instead of queueing.
// A constant until supervision_config grows an `inflight_max` key.
constexpr size_t supervisor_inflight_max = 512;

// Private messages of every supervisor (atoms are at most 10 characters).
using sup_tick_atom = caf::atom_constant<caf::atom("ag_suptick")>;
using sup_stats_atom = caf::atom_constant<caf::atom("ag_supstat")>;

// The one query every supervisor answers whatever it supervises. Reply: the
// current figures. Never fails while the supervisor runs.
using supervisor_control_actor =
  caf::typed_actor<caf::replies_to<sup_stats_atom>::with<supervision_stats>>;

// Asks the supervisor behind `sup` for its figures, blocking the calling
// thread for at most `timeout` (blocking_ask). For non-actor code and tests;
// actors request actor_cast<supervisor_control_actor>(h) with
// sup_stats_atom instead.
[[nodiscard]] caf::expected<supervision_stats>
supervisor_stats(caf::actor_system& sys, const supervisor_control_actor& sup,
                 caf::timespan timeout);

// Same, for the Interface-typed handle returned by spawn_supervised.
template <class Handle>
[[nodiscard]] caf::expected<supervision_stats>
supervisor_stats(caf::actor_system& sys, const Handle& sup, caf::timespan timeout) {
  return supervisor_stats(sys, caf::actor_cast<supervisor_control_actor>(sup), timeout);
}

// The supervisor's own type: the child's interface plus its private messages.
template <class Interface>
using supervisor_actor_t = typename Interface::template extend<
  caf::reacts_to<sup_tick_atom, uint64_t>,
  caf::replies_to<sup_stats_atom>::with<supervision_stats>>;

namespace supervisor_detail {

// CAF-free pieces (defined in supervisor.cpp, tested without an actor system).

// Sliding window of restart times. Holds at most restarts_max entries, so it
// is bounded by configuration.
class restart_budget {
 public:
  using time_point = std::chrono::steady_clock::time_point;
  restart_budget() = default;
  restart_budget(uint32_t restarts_max, std::chrono::milliseconds window);
  // Records a restart at `now` and returns true if fewer than restarts_max
  // restarts happened within the window before `now`; false means escalate.
  [[nodiscard]] bool try_consume(time_point now);
  [[nodiscard]] size_t used() const { return times_.size(); }

 private:
  uint32_t restarts_max_ = 0;
  std::chrono::milliseconds window_{0};
  std::vector<time_point> times_;  // oldest first; size <= restarts_max_
};

// Forwarded requests waiting for the child, keyed by a per-supervisor id.
// Each entry can fail its caller's promise; whoever takes an entry first
// (reply, error, crash, shutdown) answers the caller, exactly once.
class pending_table {
 public:
  using fail_fn = std::function<void(const caf::error&)>;
  explicit pending_table(size_t capacity = supervisor_inflight_max) : capacity_(capacity) {}
  [[nodiscard]] bool full() const { return entries_.size() >= capacity_; }
  [[nodiscard]] size_t size() const { return entries_.size(); }
  // Precondition: !full(). Returns the new entry's id.
  uint64_t add(fail_fn fail);
  // Removes the entry; true if it was still pending (the caller must answer).
  bool take(uint64_t id);
  // Fails and removes every pending entry with `err`.
  void fail_all(const caf::error& err);

 private:
  size_t capacity_;
  uint64_t next_id_ = 1;
  std::unordered_map<uint64_t, fail_fn> entries_;
};

// What a caller gets when a forwarded request failed with `err`: CAF's
// request_timeout becomes our timeout naming the child, a bounced request
// (child already dead) becomes unavailable, anything else is the child's
// own error and passes through unchanged.
[[nodiscard]] caf::error translate_error(const std::string& name, const caf::error& err,
                                         std::chrono::milliseconds request_timeout);

// True for child exits that are deliberate (normal, user_shutdown): such a
// child is not restarted.
[[nodiscard]] bool is_deliberate_exit(const caf::error& reason);

[[nodiscard]] caf::error escalation_error(const std::string& name, const supervision_config& cfg,
                                          const std::string& why);

[[nodiscard]] std::string describe_exit(const caf::error& reason);

}  // namespace supervisor_detail

// Owned by the supervisor actor; only its handlers touch it.
template <class Interface>
struct supervisor_state {
  std::string name;  // the child's name; CAF reports the supervisor by it
  supervision_config cfg;
  std::function<Interface(caf::actor_system&)> spawn_child;
  Interface child;            // current incarnation; valid while the supervisor runs
  uint64_t incarnation = 0;   // tags timers and pings so stale ones are ignored
  uint32_t heartbeat_misses = 0;  // consecutive, current incarnation only
  supervisor_detail::restart_budget budget;
  supervisor_detail::pending_table pending;  // bounded by supervisor_inflight_max
  supervision_stats stats;
  supervisor_metrics metrics;  // resolved at start; null series record nothing
  // The current child, shared with the termination hook that stops it
  // whatever ends the supervisor (exit message, kill, escalation, a bug).
  // Strong on purpose: CAF destroys this state before running the hook, and
  // a child whose last reference went with the state would end as
  // `unreachable` instead of receiving user_shutdown. No cycle: the child
  // holds no reference to the supervisor, and the hook is dropped once run.
  std::shared_ptr<caf::actor> child_ref = std::make_shared<caf::actor>();
  // Set by an exit message: the child has been told to stop and the
  // supervisor quits with stop_reason once the child is down (or at the
  // stop deadline), so a caller waiting for the supervisor's down message
  // knows the child's work has ended too.
  bool stopping = false;
  caf::error stop_reason;
};

// The tick value that marks the stop deadline rather than a heartbeat.
constexpr uint64_t stop_deadline_tick = std::numeric_limits<uint64_t>::max();
// How long a stopping supervisor waits for its child to go down.
constexpr std::chrono::seconds child_stop_grace{5};

namespace supervisor_detail {

// State machine of one supervisor (there is one behaviour: a restart happens
// inside the handler that detects the failure, so no request ever sees a
// supervisor without a child):
//
//            factory ok                      crash / hung (budget left)
//   [start] ----------> [running k] --------------------------------> [running k+1]
//      | factory fails     |  |  |
//      v                   |  |  +-- crash / hung (budget spent) --> [escalated]
//   [escalated]            |  |                                      quit(limit_exceeded)
//   quit(unavailable)      |  +-- child exits normally --> [stopped]: quit(child's reason)
//                          +----- exit_msg to supervisor --> [stopped]: quit(that reason)
//
// Every path to a stopped supervisor fails the pending requests first, and
// the termination hook sends user_shutdown to the child. Exit reasons:
// limit_exceeded (restart budget spent), unavailable (factory failed), the
// child's own reason (it exited normally) or the exit_msg's reason.

template <class Interface>
using sup_pointer =
  typename supervisor_actor_t<Interface>::template stateful_pointer<supervisor_state<Interface>>;

template <class Interface>
void start_heartbeat(sup_pointer<Interface> self);

// Publishes the size of the pending table after it changed.
template <class State>
void note_pending(State& st) {
  metrics::set(st.metrics.requests_in_flight, static_cast<double>(st.pending.size()));
}

// Fails every pending request (the child is gone or the supervisor stops).
template <class State>
void fail_pending(State& st, caf::error err) {
  st.pending.fail_all(err);
  note_pending(st);
}

// Spawns and monitors a new incarnation; escalates if the factory fails.
// Returns false if the supervisor is quitting.
template <class Interface>
bool spawn_incarnation(sup_pointer<Interface> self) {
  auto& st = self->state;
  Interface fresh;
  std::string why = "child factory returned no actor";
  try {
    fresh = st.spawn_child(self->system());
  } catch (const std::exception& e) {
    why = std::string{"child factory threw: "} + e.what();
  } catch (...) {
    why = "child factory threw";
  }
  if (!fresh) {  // never monitor an invalid handle: CAF 0.17 segfaults
    st.stats.child_alive = false;
    // Not limit_exceeded: no restart budget was spent, the factory itself
    // cannot produce a child (bad config, missing resource).
    log(log_severity::error, "supervisor", "cannot start child", {{"name", st.name}, {"reason", why}});
    self->quit(make_error(errc::unavailable, st.name + ": " + why));
    return false;
  }
  st.child = std::move(fresh);
  self->monitor(st.child);
  *st.child_ref = caf::actor_cast<caf::actor>(st.child);
  ++st.incarnation;
  AG_ASSERT(st.incarnation != stop_deadline_tick);  // ticks of an incarnation never mean "stop"
  st.heartbeat_misses = 0;
  st.stats.incarnation = st.incarnation;
  st.stats.child_alive = true;
  start_heartbeat<Interface>(self);
  return true;
}

// The current child is gone (crashed, or killed because it hung): fail its
// callers, then restart it if the budget allows, else escalate.
template <class Interface>
void restart(sup_pointer<Interface> self, const std::string& caller_reason,
             const std::string& escalate_reason) {
  auto& st = self->state;
  st.stats.child_alive = false;
  fail_pending(st, make_error(errc::unavailable, st.name + " " + caller_reason));
  if (!st.budget.try_consume(self->clock().now())) {
    metrics::inc(st.metrics.escalations);
    log(log_severity::error, "supervisor", "restart budget spent; escalating",
        {{"name", st.name}, {"reason", escalate_reason}});
    self->quit(escalation_error(st.name, st.cfg, escalate_reason));
    return;
  }
  log(log_severity::warn, "supervisor", "restarting child",
      {{"name", st.name}, {"reason", escalate_reason}});
  if (spawn_incarnation<Interface>(self)) {
    ++st.stats.restarts;
    metrics::inc(st.metrics.restarts);
  }
}

// A ping went unanswered. After heartbeat_misses_max in a row the child is
// hung: kill it and restart at once. We do not wait for its down_msg because
// a child blocked inside a handler only processes the kill when the handler
// returns, which may be never; the old incarnation is demonitored and dies
// whenever it reaches the kill.
template <class Interface>
void on_missed_heartbeat(sup_pointer<Interface> self) {
  auto& st = self->state;
  ++st.heartbeat_misses;
  // Reaching the bound restarts (misses back to 0) or quits, so it is never passed.
  AG_ASSERT(st.heartbeat_misses <= st.cfg.heartbeat_misses_max);
  ++st.stats.heartbeats_missed;
  metrics::inc(st.metrics.heartbeats_missed);
  if (st.heartbeat_misses < st.cfg.heartbeat_misses_max)
    return;
  auto hung = st.child;
  self->demonitor(hung.address());
  self->send_exit(hung, caf::exit_reason::kill);
  restart<Interface>(self, "hung; restarting",
                     std::to_string(st.heartbeat_misses) + " heartbeats missed");
}

// One heartbeat: schedule the next tick, then ping with the interval as the
// deadline, so at most about one ping per incarnation is outstanding.
template <class Interface>
void on_tick(sup_pointer<Interface> self, uint64_t incarnation) {
  auto& st = self->state;
  if (st.stopping) {
    if (incarnation == stop_deadline_tick)
      self->quit(st.stop_reason);  // the child did not go down in time
    return;
  }
  if (incarnation != st.incarnation)
    return;  // the timer chain of an earlier incarnation ends here
  const auto interval = st.cfg.heartbeat_interval;
  self->delayed_send(self, interval, sup_tick_atom::value, incarnation);
  // High priority: a ping must not queue behind the child's real work, or a
  // busy but healthy child would be killed as hung.
  self->template request<caf::message_priority::high>(st.child, interval, ping_atom::value)
    .then(
      [self, incarnation](pong_atom) {
        if (incarnation == self->state.incarnation)
          self->state.heartbeat_misses = 0;
      },
      [self, incarnation](caf::error& err) {
        if (incarnation != self->state.incarnation)
          return;
        // A bounced ping means the child is already dead; its down_msg
        // restarts it, so counting a miss would double-count the failure.
        if (err == caf::sec::request_receiver_down)
          return;
        on_missed_heartbeat<Interface>(self);
      });
}

template <class Interface>
void start_heartbeat(sup_pointer<Interface> self) {
  const auto& st = self->state;
  if (st.cfg.heartbeat_interval.count() <= 0 || st.cfg.heartbeat_misses_max == 0)
    return;  // heartbeats disabled by configuration
  self->delayed_send(self, st.cfg.heartbeat_interval, sup_tick_atom::value, st.incarnation);
}

template <class Interface>
void on_down(sup_pointer<Interface> self, caf::down_msg& dm) {
  auto& st = self->state;
  if (dm.source != st.child.address())
    return;  // an earlier incarnation (e.g. killed for hanging) finally died
  if (st.stopping) {
    st.stats.child_alive = false;
    self->quit(st.stop_reason);
    return;
  }
  if (is_deliberate_exit(dm.reason)) {
    st.stats.child_alive = false;
    fail_pending(st, make_error(errc::unavailable, st.name + " stopped"));
    self->quit(dm.reason);
    return;
  }
  restart<Interface>(self, "crashed", "crashed: " + describe_exit(dm.reason));
}

template <class Interface>
void on_exit(sup_pointer<Interface> self, caf::exit_msg& em) {
  auto& st = self->state;
  fail_pending(st, make_error(errc::unavailable, st.name + " shutting down"));
  if (st.stopping || !st.stats.child_alive || !st.child) {
    // The termination hook (see supervisor()) stops whatever is left.
    self->quit(em.reason);
    return;
  }
  // Stop the child first and quit when it is down, bounded by
  // child_stop_grace: the Runtime stops agents before snapshotting memory,
  // which is only safe if "supervisor down" implies "agent down".
  st.stopping = true;
  st.stop_reason = em.reason;
  self->send_exit(st.child, caf::exit_reason::user_shutdown);
  self->delayed_send(self, child_stop_grace, sup_tick_atom::value, stop_deadline_tick);
}

// One generated handler per signature of Interface.
template <class Signature>
struct forwarder;

// replies_to<Ins...>::with<Outs...>: relay through a response promise.
template <class... Ins, class... Outs>
struct forwarder<caf::typed_mpi<caf::detail::type_list<Ins...>, caf::output_tuple<Outs...>>> {
  template <class Self>
  static auto make(Self self) {
    return [self](Ins... xs) -> caf::result<Outs...> {
      auto& st = self->state;
      if (st.pending.full())
        return make_error(errc::overloaded, st.name + ": " + std::to_string(st.pending.size()) +
                                              " requests in flight");
      auto rp = self->template make_response_promise<Outs...>();
      const auto id = st.pending.add([rp](const caf::error& err) mutable { rp.deliver(err); });
      note_pending(st);
      ++st.stats.requests_forwarded;
      self->request(st.child, st.cfg.request_timeout, std::move(xs)...)
        .then(
          [self, rp, id](Outs&... ys) mutable {
            if (self->state.pending.take(id)) {
              note_pending(self->state);
              rp.deliver(std::move(ys)...);
            }
          },
          [self, rp, id](caf::error& err) mutable {
            auto& s = self->state;
            if (!s.pending.take(id))
              return;  // already answered (crash, hang or shutdown)
            note_pending(s);
            if (err == caf::sec::request_timeout) {
              ++s.stats.requests_timed_out;
              metrics::inc(s.metrics.request_timeouts);
            }
            rp.deliver(translate_error(s.name, err, s.cfg.request_timeout));
          });
      return rp;
    };
  }
};

// reacts_to<Ins...>: fire and forget, like the caller's own send.
template <class... Ins>
struct forwarder<caf::typed_mpi<caf::detail::type_list<Ins...>, caf::output_tuple<void>>> {
  template <class Self>
  static auto make(Self self) {
    return [self](Ins... xs) { self->send(self->state.child, std::move(xs)...); };
  }
};

// The supervisor answers pings itself: its own supervisor (or the Runtime)
// asks whether the supervisor is alive; the child's health is its job.
template <>
struct forwarder<heartbeat_signature> {
  template <class Self>
  static auto make(Self) {
    return [](ping_atom) -> pong_atom { return pong_atom::value; };
  }
};

template <class Interface, class... Sigs>
typename supervisor_actor_t<Interface>::behavior_type
make_behavior(sup_pointer<Interface> self, caf::detail::type_list<Sigs...>) {
  return {
    forwarder<Sigs>::make(self)...,
    [self](sup_tick_atom, uint64_t incarnation) {
      // Timer messages come from the supervisor itself; anyone else holding
      // the handle (a remote peer included) must not start timer chains.
      if (self->current_sender() != self->ctrl())
        return;
      on_tick<Interface>(self, incarnation);
    },
    [self](sup_stats_atom) -> supervision_stats {
      auto out = self->state.stats;
      out.requests_in_flight = self->state.pending.size();
      return out;
    },
  };
}

template <class Interface>
typename supervisor_actor_t<Interface>::behavior_type
supervisor(sup_pointer<Interface> self, std::string name, supervision_config cfg,
           std::function<Interface(caf::actor_system&)> spawn_child,
           std::shared_ptr<metrics::registry> registry) {
  auto& st = self->state;
  st.name = std::move(name);
  st.metrics = make_supervisor_metrics(std::move(registry), st.name);
  metrics::set(st.metrics.requests_in_flight, 0);
  st.cfg = cfg;
  st.spawn_child = std::move(spawn_child);
  st.budget = restart_budget{cfg.restarts_max, cfg.restart_window};
  st.stats.name = st.name;
  self->attach_functor([child = st.child_ref](const caf::error&) {
    caf::anon_send_exit(*child, caf::exit_reason::user_shutdown);
    *child = nullptr;
  });
  self->set_down_handler([self](caf::down_msg& dm) { on_down<Interface>(self, dm); });
  self->set_exit_handler([self](caf::exit_msg& em) { on_exit<Interface>(self, em); });
  if (!spawn_incarnation<Interface>(self))  // escalated: the first child could not start
    return supervisor_actor_t<Interface>::behavior_type::make_empty_behavior();
  return make_behavior<Interface>(self, typename Interface::signatures{});
}

}  // namespace supervisor_detail

// Spawns a supervisor for the child built by `spawn_child` and returns its
// handle typed as the child's interface. `spawn_child` runs on a scheduler
// thread, once per incarnation: it must only spawn (cheap, non-blocking) and
// return a valid handle; an invalid handle or an exception escalates at once.
// If the first child cannot start, the returned supervisor is already down.
// `registry`: where the supervisor records its figures (supervisor_metrics.hpp),
// labelled with `name`; null records nothing.
template <class Interface>
[[nodiscard]] Interface spawn_supervised(caf::actor_system& sys, std::string name,
                                         supervision_config cfg,
                                         std::function<Interface(caf::actor_system&)> spawn_child,
                                         std::shared_ptr<metrics::registry> registry = nullptr) {
  static_assert(caf::detail::tl_contains<typename Interface::signatures, heartbeat_signature>::value,
                "supervised interfaces must include agentgraph::heartbeat_signature");
  auto sup = sys.spawn(supervisor_detail::supervisor<Interface>, std::move(name), cfg,
                       std::move(spawn_child), std::move(registry));
  return sup;  // narrows supervisor_actor_t<Interface> to Interface
}

}  // namespace agentgraph

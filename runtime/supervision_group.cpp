// The supervision group actor (see supervision_group.hpp for what it
// promises). One entry per child, found by name and by the address of its
// current incarnation; every handler is O(1) in the number of children
// except the opt-in heartbeat sweep and the stop, which visit each once.
#include "runtime/supervision_group.hpp"

#include <limits>
#include <unordered_map>

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/system_messages.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "runtime/assert.hpp"
#include "runtime/blocking_ask.hpp"
#include "runtime/error.hpp"
#include "runtime/heartbeat.hpp"
#include "runtime/log.hpp"
#include "runtime/metrics/series_ref.hpp"
#include "runtime/supervisor.hpp"
#include "runtime/supervisor_metrics.hpp"

namespace agentgraph {

namespace group_detail {

struct child_entry {
  group_child_ptr spec;
  caf::actor current;  // invalid while the child is given up or stopped
  supervisor_detail::restart_budget budget;
  supervision_stats stats;  // name left empty: the map key holds it
  uint32_t heartbeat_misses = 0;  // consecutive, current incarnation
  supervisor_metrics metrics;
};

// The tick that marks the stop deadline rather than a heartbeat sweep.
constexpr uint64_t stop_tick = std::numeric_limits<uint64_t>::max();

struct group_state {
  static inline const char* name = "supervision_group";
  std::string group_name;
  supervision_config cfg;
  std::shared_ptr<metrics::registry> registry;
  // Entries by child name; pointers into it stay valid (node-based map).
  std::unordered_map<std::string, child_entry> children;
  // The current incarnation of each running child.
  std::unordered_map<caf::actor_addr, child_entry*> by_addr;
  bool sweeping = false;  // a heartbeat tick is scheduled
  uint64_t sweep = 0;     // tags pings so a late pong of an old sweep is ignored
  bool stopping = false;
  caf::error stop_reason;

  // Whatever ends the group (exit message, kill, a bug) ends its children:
  // the Runtime relies on "group down" implying "children down". The state
  // is destroyed when the group terminates, for any reason.
  ~group_state() {
    for (auto& [addr, e] : by_addr)
      caf::anon_send_exit(e->current, caf::exit_reason::user_shutdown);
  }
};

using self_ptr = supervision_group_actor::stateful_pointer<group_state>;

void start_sweep(self_ptr self);

// Attaches a (new) incarnation to the entry and, for a restart, tells
// callers where it is (the builder published the first one).
void attach(self_ptr self, child_entry& e, caf::actor incarnation, bool publish) {
  auto& st = self->state;
  AG_ASSERT(static_cast<bool>(incarnation), "never monitor an invalid handle");
  e.current = std::move(incarnation);
  e.heartbeat_misses = 0;
  ++e.stats.incarnation;
  e.stats.child_alive = true;
  const bool fresh = st.by_addr.emplace(e.current.address(), &e).second;
  AG_ASSERT(fresh, "one entry per incarnation");
  self->monitor(e.current);
  if (publish)
    e.spec->ref->set_actor(e.current);
  start_sweep(self);
}

// The entry's incarnation is gone for good: callers learn why.
void give_up(self_ptr self, child_entry& e, const std::string& why) {
  e.stats.child_alive = false;
  e.current = nullptr;
  e.spec->ref->set_down(e.spec->name + " " + why);
  (void)self;
}

void restart(self_ptr self, child_entry& e, const std::string& reason) {
  auto& st = self->state;
  e.stats.child_alive = false;
  e.current = nullptr;
  if (!e.budget.try_consume(self->clock().now())) {
    metrics::inc(e.metrics.escalations);
    log(log_severity::error, "supervisor", "restart budget spent; giving up",
        {{"name", e.spec->name}, {"reason", reason}});
    give_up(self, e, describe(supervisor_detail::escalation_error(e.spec->name, st.cfg, reason)));
    return;
  }
  log(log_severity::warn, "supervisor", "restarting child", {{"name", e.spec->name}, {"reason", reason}});
  caf::actor fresh;
  std::string why = "child factory returned no actor";
  try {
    fresh = e.spec->spawn(self->system());
  } catch (const std::exception& ex) {
    why = std::string{"child factory threw: "} + ex.what();
  } catch (...) {
    why = "child factory threw";
  }
  if (!fresh) {
    log(log_severity::error, "supervisor", "cannot restart child", {{"name", e.spec->name}, {"reason", why}});
    give_up(self, e, "cannot restart: " + why);
    return;
  }
  ++e.stats.restarts;
  metrics::inc(e.metrics.restarts);
  attach(self, e, std::move(fresh), true);
}

void maybe_finish_stop(self_ptr self) {
  auto& st = self->state;
  if (st.stopping && st.by_addr.empty())
    self->quit(st.stop_reason);
}

void on_down(self_ptr self, caf::down_msg& dm) {
  auto& st = self->state;
  auto it = st.by_addr.find(dm.source);
  if (it == st.by_addr.end())
    return;  // an incarnation killed for hanging, or already replaced
  auto& e = *it->second;
  st.by_addr.erase(it);
  if (st.stopping) {
    e.stats.child_alive = false;
    e.current = nullptr;
    maybe_finish_stop(self);
    return;
  }
  if (supervisor_detail::is_deliberate_exit(dm.reason)) {
    give_up(self, e, "stopped");
    return;
  }
  restart(self, e, "crashed: " + supervisor_detail::describe_exit(dm.reason));
}

void on_watch(self_ptr self, const group_child_ptr& spec, caf::actor first) {
  auto& st = self->state;
  AG_ASSERT(spec && spec->ref && spec->spawn, "a child names its ref and its factory");
  auto [it, fresh] = st.children.try_emplace(spec->name);
  if (!fresh) {
    // A second child under one name would leave the first unsupervised.
    log(log_severity::error, "supervisor", "a child with this name is supervised already",
        {{"name", spec->name}, {"group", st.group_name}});
    caf::anon_send_exit(first, caf::exit_reason::user_shutdown);
    spec->ref->set_down(spec->name + " is a duplicate name in group " + st.group_name);
    return;
  }
  auto& e = it->second;
  e.spec = spec;
  e.budget = supervisor_detail::restart_budget{st.cfg.restarts_max, st.cfg.restart_window};
  e.metrics = make_supervisor_metrics(st.registry, spec->name, /*relaying=*/false);
  if (!first) {
    give_up(self, e, "has no first incarnation");
    return;
  }
  attach(self, e, std::move(first), false);
  // A child watched after the stop began stops at once.
  if (st.stopping)
    self->send_exit(e.current, caf::exit_reason::user_shutdown);
}

void on_missed_ping(self_ptr self, child_entry& e) {
  auto& st = self->state;
  ++e.heartbeat_misses;
  ++e.stats.heartbeats_missed;
  metrics::inc(e.metrics.heartbeats_missed);
  AG_ASSERT(e.heartbeat_misses <= st.cfg.heartbeat_misses_max);
  if (e.heartbeat_misses < st.cfg.heartbeat_misses_max)
    return;
  // Hung: replace it now. A child blocked in a handler only processes the
  // kill when its handler returns, so do not wait for its down message.
  auto hung = e.current;
  st.by_addr.erase(hung.address());
  self->demonitor(hung);
  self->send_exit(hung, caf::exit_reason::kill);
  restart(self, e, std::to_string(e.heartbeat_misses) + " heartbeats missed");
}

void on_sweep(self_ptr self) {
  auto& st = self->state;
  st.sweeping = false;
  if (st.stopping || st.by_addr.empty())
    return;
  const auto interval = st.cfg.heartbeat_interval;
  const auto sweep = ++st.sweep;
  for (auto& [name, e] : st.children) {
    if (!e.current)
      continue;
    auto addr = e.current.address();
    // High priority: a ping must not queue behind real work, or a busy but
    // healthy child would be killed as hung.
    self->request<caf::message_priority::high>(e.current, interval, ping_atom::value)
      .then(
        [self, addr, sweep](pong_atom) {
          auto it = self->state.by_addr.find(addr);
          if (it != self->state.by_addr.end() && sweep == self->state.sweep)
            it->second->heartbeat_misses = 0;
        },
        [self, addr](caf::error& err) {
          auto it = self->state.by_addr.find(addr);
          if (it == self->state.by_addr.end() || self->state.stopping)
            return;  // restarted, stopped or given up since
          if (err == caf::sec::request_receiver_down)
            return;  // dead already: its down message restarts it
          on_missed_ping(self, *it->second);
        });
  }
  start_sweep(self);
}

void start_sweep(self_ptr self) {
  auto& st = self->state;
  if (st.sweeping || st.cfg.heartbeat_interval.count() <= 0 || st.cfg.heartbeat_misses_max == 0)
    return;
  st.sweeping = true;
  self->delayed_send(self, st.cfg.heartbeat_interval, group_tick_atom::value, uint64_t{0});
}

void on_exit(self_ptr self, caf::exit_msg& em) {
  auto& st = self->state;
  if (st.stopping)
    return;
  st.stopping = true;
  st.stop_reason = em.reason;
  for (auto& [addr, e] : st.by_addr)
    self->send_exit(e->current, caf::exit_reason::user_shutdown);
  if (st.by_addr.empty()) {
    self->quit(st.stop_reason);
    return;
  }
  self->delayed_send(self, child_stop_grace, group_tick_atom::value, stop_tick);
}

supervision_group_actor::behavior_type group(self_ptr self, std::string name,
                                             supervision_config cfg,
                                             std::shared_ptr<metrics::registry> registry) {
  auto& st = self->state;
  st.group_name = std::move(name);
  st.cfg = cfg;
  st.registry = std::move(registry);
  self->set_down_handler([self](caf::down_msg& dm) { on_down(self, dm); });
  self->set_exit_handler([self](caf::exit_msg& em) { on_exit(self, em); });
  return {
    [self](group_watch_atom, const group_child_ptr& spec, caf::actor& first) {
      on_watch(self, spec, std::move(first));
    },
    [self](group_stats_atom, const std::string& child) -> caf::result<supervision_stats> {
      auto it = self->state.children.find(child);
      if (it == self->state.children.end())
        return make_error(errc::not_found, "no supervised child named '" + child + "'");
      auto out = it->second.stats;
      out.name = it->first;
      return out;
    },
    [self](group_tick_atom, uint64_t tick) {
      if (self->current_sender() != self->ctrl())
        return;  // timers come from the group itself
      if (tick == stop_tick) {
        if (self->state.stopping)
          self->quit(self->state.stop_reason);  // children did not go down in time
        return;
      }
      on_sweep(self);
    },
  };
}

}  // namespace group_detail

supervision_group_actor spawn_supervision_group(caf::actor_system& sys, std::string name,
                                                supervision_config cfg,
                                                std::shared_ptr<metrics::registry> registry) {
  return sys.spawn(group_detail::group, std::move(name), cfg, std::move(registry));
}

caf::expected<supervision_stats> group_child_stats(caf::actor_system& sys,
                                                   const supervision_group_actor& group,
                                                   const std::string& child,
                                                   caf::timespan timeout) {
  if (!group)
    return make_error(errc::invalid_argument, "group_child_stats: invalid handle");
  return blocking_ask<supervision_stats>(sys, group, timeout, "supervision group",
                                         group_stats_atom::value, child);
}

}  // namespace agentgraph

#include "actors/agent/agent_group.hpp"

#include "runtime/assert.hpp"
#include "runtime/call_watch.hpp"
#include "runtime/error.hpp"

namespace agentgraph {

const char* to_string(group_strategy s) {
  return s == group_strategy::round_robin ? "round_robin" : "least_loaded";
}

struct agent_group_state {
  static inline const char* name = "agent_group";
  group_config cfg;
  call_watch watch{agent_group_tasks_max};  // tasks on members: deadline and monitor
  std::vector<group_member> members;
  size_t next = 0;  // round_robin cursor
  uint64_t in_flight = 0;
  uint64_t completed = 0;
  uint64_t errors = 0;
  int64_t response_time_total_us = 0;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
};


namespace agent_group_detail {

using self_ptr = agent_actor::stateful_pointer<agent_group_state>;

// The member to try next among those not tried yet for this task; -1 if
// every member was tried.
int pick(const agent_group_state& st, const std::vector<bool>& tried) {
  const size_t n = st.members.size();
  if (st.cfg.strategy == group_strategy::round_robin) {
    for (size_t k = 0; k < n; ++k) {
      size_t i = (st.next + k) % n;
      if (!tried[i])
        return static_cast<int>(i);
    }
    return -1;
  }
  int best = -1;
  for (size_t i = 0; i < n; ++i)
    if (!tried[i] && (best < 0 || st.members[i].in_flight < st.members[best].in_flight))
      best = static_cast<int>(i);
  return best;
}

struct dispatch {
  task_request task;
  stream_sink_actor sink;
  caf::typed_response_promise<task_result> promise;
  std::vector<bool> tried;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
};

void send_to_member(self_ptr self, std::shared_ptr<dispatch> d) {
  auto& st = self->state;
  // Every dispatch holds one unit of in_flight from start() until it is
  // answered, so the counter cannot be 0 here (it is unsigned: a second
  // decrement would wrap, not go negative).
  AG_ASSERT(st.in_flight > 0 && st.in_flight <= agent_group_tasks_max);
  AG_ASSERT(d->tried.size() == st.members.size());
  int i = pick(st, d->tried);
  if (i < 0) {
    --st.in_flight;
    ++st.errors;
    d->promise.deliver(make_error(errc::overloaded, "agent group '" + st.cfg.name
                                                      + "': every member is overloaded"));
    return;
  }
  AG_ASSERT(static_cast<size_t>(i) < st.members.size() && !d->tried[i]);
  d->tried[i] = true;
  auto& m = st.members[i];
  ++m.in_flight;
  AG_ASSERT(m.in_flight <= st.in_flight);
  ++m.sent;
  st.next = (static_cast<size_t>(i) + 1) % st.members.size();
  auto done = [self, i] {
    AG_ASSERT(self->state.members[i].in_flight > 0);
    --self->state.members[i].in_flight;
  };
  auto on_result = [self, d, done](task_result& r) {
    done();
    auto& st = self->state;
    --st.in_flight;
    ++st.completed;
    st.response_time_total_us += std::chrono::duration_cast<std::chrono::microseconds>(
                                   std::chrono::steady_clock::now() - d->started)
                                   .count();
    d->promise.deliver(std::move(r));
  };
  auto on_error = [self, d, done](caf::error& err) {
    done();
    if (errc_of(err) == errc::overloaded)
      return send_to_member(self, d);  // bounded: each member once
    auto& st = self->state;
    --st.in_flight;
    ++st.errors;
    d->promise.deliver(from_request_error(std::move(err), "agent group '" + st.cfg.name
                                                            + "': member",
                                          st.cfg.task_timeout));
  };
  // Watched: a member that dies fails its task at once (the group tries
  // no other member then: the task may have run), a silent one at the
  // deadline, without a CAF timer per task.
  const auto deadline = call_watch::clock::now() + st.cfg.task_timeout;
  if (d->sink)
    watched_request(self, st.watch, m.handle.get(), deadline, std::move(on_result),
                    std::move(on_error), execute_stream_atom::value, d->task, d->sink);
  else
    watched_request(self, st.watch, m.handle.get(), deadline, std::move(on_result),
                    std::move(on_error), execute_atom::value, d->task);
}

caf::result<task_result> start(self_ptr self, task_request& task, stream_sink_actor sink) {
  auto& st = self->state;
  if (st.in_flight >= agent_group_tasks_max)
    return make_error(errc::overloaded, "agent group '" + st.cfg.name + "' has "
                                          + std::to_string(agent_group_tasks_max)
                                          + " tasks in flight");
  ++st.in_flight;
  AG_ASSERT(st.in_flight <= agent_group_tasks_max);
  auto d = std::make_shared<dispatch>();
  d->task = std::move(task);
  d->sink = std::move(sink);
  d->promise = self->make_response_promise<task_result>();
  d->tried.assign(st.members.size(), false);
  send_to_member(self, d);
  return d->promise;
}

}  // namespace agent_group_detail

agent_actor::behavior_type agent_group(agent_actor::stateful_pointer<agent_group_state> self,
                                       group_config cfg, std::vector<group_member> members) {
  using namespace agent_group_detail;
  self->state.cfg = std::move(cfg);
  self->state.members = std::move(members);
  route_to_watch(self, &agent_group_state::watch);
  return {
    [self](execute_atom, task_request& task) { return start(self, task, {}); },
    [self](execute_stream_atom, task_request& task,
           stream_sink_actor& sink) -> caf::result<task_result> {
      if (!sink)
        return make_error(errc::invalid_argument, "execute_stream needs a valid stream sink");
      return start(self, task, sink);
    },
    [self](stats_atom) {
      const auto& st = self->state;
      agent_stats s;
      s.name = st.cfg.name;
      s.role = std::string{"group:"} + to_string(st.cfg.strategy);
      s.status = st.in_flight > 0 ? agent_status::busy : agent_status::idle;
      s.tasks_completed = st.completed;
      s.errors = st.errors;
      s.tasks_in_flight = st.in_flight;
      s.response_time_avg_us =
        st.completed == 0 ? 0 : st.response_time_total_us / static_cast<int64_t>(st.completed);
      s.uptime_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - st.started)
                      .count();
      s.memory_bytes = st.members.capacity() * sizeof(group_member);
      return s;
    },
    [](ping_atom) { return pong_atom::value; },
  };
}

caf::expected<agent_actor> spawn_agent_group(caf::actor_system& sys, group_config cfg,
                                             std::vector<group_member> members) {
  if (members.empty() || members.size() > agent_group_members_max)
    return make_error(errc::invalid_argument,
                      "agent group '" + cfg.name + "': 1.." + std::to_string(agent_group_members_max)
                        + " members");
  for (const auto& m : members)
    if (!m.handle)
      return make_error(errc::invalid_argument,
                        "agent group '" + cfg.name + "': member '" + m.name + "' has no handle");
  return agent_actor{sys.spawn(agent_group, std::move(cfg), std::move(members))};
}

}  // namespace agentgraph

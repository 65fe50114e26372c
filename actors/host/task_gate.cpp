#include "actors/host/task_gate.hpp"

#include <unordered_set>

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "runtime/assert.hpp"
#include "runtime/blocking_ask.hpp"
#include "runtime/call_watch.hpp"
#include "runtime/error.hpp"

namespace agentgraph {

namespace task_gate_detail {

std::string subject_of(const gate_task& t) {
  return "agent '" + t.agent + "'";
}

struct gate_state {
  static inline const char* name = "task_gate";
  call_watch watch{gate_tasks_in_flight_max};
  // Tasks not answered yet. Whatever ends the gate answers them, so a
  // caller waiting in runtime_client::run never waits forever.
  std::unordered_set<std::shared_ptr<gate_task>> open;

  ~gate_state() {
    for (const auto& t : open)
      t->done(make_error(errc::unavailable, subject_of(*t) + ": the runtime stopped"));
  }

  void finish(const std::shared_ptr<gate_task>& t, caf::expected<task_result> outcome) {
    if (open.erase(t) == 0)
      return;  // answered already
    t->done(std::move(outcome));
  }
};

caf::behavior gate(caf::stateful_actor<gate_state>* self) {
  route_to_watch(self, &gate_state::watch);
  return {
    [self](gate_submit_atom, std::shared_ptr<gate_task>& t) {
      AG_ASSERT(t && t->done);
      auto& watch = self->state.watch;
      if (watch.size() >= gate_tasks_in_flight_max) {
        t->done(make_error(errc::overloaded, "runtime: "
                                               + std::to_string(gate_tasks_in_flight_max)
                                               + " tasks in flight through this gate"));
        return;
      }
      self->state.open.insert(t);
      watched_request(
        self, watch, t->target, t->deadline,
        [self, t](task_result& r) { self->state.finish(t, std::move(r)); },
        [self, t](caf::error& err) {
          self->state.finish(t, from_request_error(std::move(err), subject_of(*t), t->budget));
        },
        execute_atom::value, std::move(t->task));
    },
  };
}

}  // namespace task_gate_detail

task_gates::task_gates(caf::actor_system& sys, size_t size) {
  size = std::max<size_t>(size, 1);
  gates_.reserve(size);
  for (size_t i = 0; i < size; ++i)
    gates_.push_back(sys.spawn(task_gate_detail::gate));
}

void task_gates::submit(std::shared_ptr<gate_task> t) {
  AG_ASSERT(!gates_.empty());
  const auto i = next_.fetch_add(1, std::memory_order_relaxed) % gates_.size();
  caf::anon_send(gates_[i], gate_submit_atom::value, std::move(t));
}

void task_gates::stop(caf::actor_system& sys) {
  stop_and_wait(sys, gates_, std::chrono::seconds{10});
  gates_.clear();
}

}  // namespace agentgraph

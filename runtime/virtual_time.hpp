// Virtual time: an actor system whose scheduler is CAF's test_coordinator
// (`agentgraph sim`, the cluster tests) runs nothing unless someone steps
// it, on the one thread that does. Three places in product code must know:
//   - worker actors that would run `detached` (a SQLite connection, a node
//     actor on its own thread) are scheduled instead, because a detached
//     actor runs on a thread of its own and escapes the virtual clock
//     (net/cluster/DESIGN.md §2.4, E1b); blocking calls in them then run on
//     the stepping thread, which is the simulator's, never a CAF worker;
//   - setup code that waits for actors (blocking_ask, stop_and_wait) must
//     run the world until its answer comes instead of blocking a thread
//     that is the only one able to produce the answer;
//   - nothing else: time comes from self->clock() everywhere already.
//
// The world that steps is the simulator's (actors/sim/): it installs a
// driver for the thread it runs on. Without one, waiting code steps only
// the system it waits on, which is enough for one system alone.
#pragma once

#include <cstddef>
#include <functional>

#include <caf/actor_system.hpp>
#include <caf/scheduler/test_coordinator.hpp>

namespace agentgraph {

// The system's deterministic scheduler, or null when it runs real threads.
[[nodiscard]] inline caf::scheduler::test_coordinator* virtual_scheduler(caf::actor_system& sys) {
  return dynamic_cast<caf::scheduler::test_coordinator*>(&sys.scheduler());
}

[[nodiscard]] inline bool runs_virtual_time(caf::actor_system& sys) {
  return virtual_scheduler(sys) != nullptr;
}

// Spawns a worker that owns blocking resources: detached in production
// (its own thread, so no scheduler thread ever blocks), scheduled under
// virtual time (see the opening comment). Options beyond `detached` (e.g.
// caf::linked) are passed as `Os`.
template <caf::spawn_options Os = caf::no_spawn_options, class Self, class F, class... Ts>
auto spawn_blocking_worker(Self* self, F fun, Ts&&... xs) {
  if (runs_virtual_time(self->system()))
    return self->template spawn<Os>(fun, std::forward<Ts>(xs)...);
  return self->template spawn<Os + caf::detached>(fun, std::forward<Ts>(xs)...);
}

// One step of the whole simulated world: runs one job or one network event
// on some system, or moves virtual time to the next due timer. False when
// nothing can happen any more.
using world_step = std::function<bool()>;

// Installs `step` as this thread's world driver for the scope's life.
// Scopes nest; the innermost wins.
class world_driver_scope {
 public:
  explicit world_driver_scope(world_step step);
  ~world_driver_scope();
  world_driver_scope(const world_driver_scope&) = delete;
  world_driver_scope& operator=(const world_driver_scope&) = delete;

 private:
  world_step step_;
  world_step* previous_;
};

// Waiting code's bound on world steps for one wait; far above what any
// setup call needs, so a livelock shows up as an error, not a hang.
constexpr size_t virtual_wait_steps_max = 50'000'000;

// Runs the world until done() holds: this thread's driver if one is
// installed, else `sys`'s own scheduler, advancing its clock to the next
// timer when it is idle. False when the world went quiet or the step bound
// passed before done() held.
bool drive_until(caf::actor_system& sys, const std::function<bool()>& done);

}  // namespace agentgraph

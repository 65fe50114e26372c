#include "runtime/virtual_time.hpp"

#include <caf/detail/test_actor_clock.hpp>

namespace agentgraph {

namespace virtual_time_detail {

thread_local world_step* installed = nullptr;

// One step of `sys` alone: a job, else its earliest timer (virtual time
// jumps there).
bool step_alone(caf::actor_system& sys) {
  auto* sched = virtual_scheduler(sys);
  if (sched == nullptr)
    return false;
  if (sched->try_run_once())
    return true;
  return sched->trigger_timeout();
}

}  // namespace virtual_time_detail

world_driver_scope::world_driver_scope(world_step step)
  : step_(std::move(step)), previous_(virtual_time_detail::installed) {
  virtual_time_detail::installed = &step_;
}

world_driver_scope::~world_driver_scope() {
  virtual_time_detail::installed = previous_;
}

bool drive_until(caf::actor_system& sys, const std::function<bool()>& done) {
  using virtual_time_detail::installed;
  for (size_t i = 0; i < virtual_wait_steps_max; ++i) {
    if (done())
      return true;
    // With a world installed every system is part of it (the simulator
    // adds a node's system to its world as soon as it exists:
    // runtime_options::on_system), and only the world knows which paths a
    // step needs; alone, the system steps itself.
    const bool progressed =
      installed != nullptr ? (*installed)() : virtual_time_detail::step_alone(sys);
    if (!progressed)
      return done();
  }
  return done();
}

}  // namespace agentgraph

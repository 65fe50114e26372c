// For tests of the actors that run a blocking object on a detached worker
// (checkpoint_actor, journal_actor): a gate the object's calls wait at until
// the test opens it, a config with ONE scheduler thread, and the check that
// the scheduler still serves other actors while a call waits at the gate.
#pragma once

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <thread>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>

#include "runtime/error.hpp"
#include "runtime/heartbeat.hpp"
#include "runtime/register_types.hpp"

namespace agentgraph_test {

class worker_gate {
 public:
  // What a gated object holds. wait() runs on the worker's thread: it counts
  // the entry, then waits until the gate opens (at most wait_max, so that a
  // broken test fails instead of hanging).
  struct latch {
    static constexpr auto wait_max = std::chrono::seconds{10};
    std::shared_future<void> opened;
    std::atomic<int> entered{0};
    void wait() {
      ++entered;
      opened.wait_for(wait_max);
    }
  };

  worker_gate() { latch_->opened = opener_.get_future().share(); }
  ~worker_gate() { release(); }
  worker_gate(const worker_gate&) = delete;
  worker_gate& operator=(const worker_gate&) = delete;

  [[nodiscard]] std::shared_ptr<latch> latch_ptr() const { return latch_; }
  [[nodiscard]] int entered() const { return latch_->entered.load(); }

  // Opens the gate (once; later calls do nothing).
  void release() {
    if (latch_->opened.wait_for(std::chrono::seconds{0}) != std::future_status::ready)
      opener_.set_value();
  }

  // Waits (at most 10 s) until `n` calls entered the gate.
  [[nodiscard]] bool wait_entered(int n) const {
    for (int i = 0; i < 1'000 && entered() < n; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds{10});
    return entered() >= n;
  }

 private:
  std::promise<void> opener_;
  std::shared_ptr<latch> latch_ = std::make_shared<latch>();
};

// The runtime's types and ONE scheduler thread: if any blocking call ran on
// it, nothing else could run.
struct single_thread_config {
  caf::actor_system_config cfg;
  single_thread_config() {
    agentgraph::register_runtime_types(cfg);
    cfg.set("scheduler.max-threads", 1);
  }
};

// Twenty pings to a fresh actor and one to `target` (its heartbeat) must all
// be answered: the scheduler thread is free while a call waits at the gate.
template <class Handle>
void check_scheduler_serves_others(caf::actor_system& sys, caf::scoped_actor& self,
                                   const Handle& target) {
  using agentgraph::ping_atom;
  using agentgraph::pong_atom;
  auto pinger = sys.spawn([]() -> caf::behavior {
    return {[](ping_atom) { return pong_atom::value; }};
  });
  int pongs = 0;
  for (int i = 0; i < 20; ++i)
    self->request(pinger, std::chrono::seconds{2}, ping_atom::value)
      .receive([&](pong_atom) { ++pongs; },
               [&](caf::error& err) { FAIL(agentgraph::describe(err)); });
  CHECK(pongs == 20);
  bool alive = false;
  self->request(target, std::chrono::seconds{2}, ping_atom::value)
    .receive([&](pong_atom) { alive = true; },
             [&](caf::error& err) { FAIL(agentgraph::describe(err)); });
  CHECK(alive);
  caf::anon_send_exit(pinger, caf::exit_reason::user_shutdown);
}

}  // namespace agentgraph_test

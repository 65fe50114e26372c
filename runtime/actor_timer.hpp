// One timer for an event-based actor: run a function in the actor at a
// point of the actor's own clock (virtual under CAF's test_coordinator).
//
// Why not delayed_send: a delayed message holds a strong reference to its
// receiver until it fires, so a timer keeps an exited actor alive (and its
// memory) for up to the timer's delay. This is a request timeout on a
// request id nothing else uses: CAF drops an actor's request timeouts when
// it exits (local_actor::cleanup), and the timeout arrives as an error
// response whose handler runs `f` inside the actor. CAF 0.17 cannot cancel
// it: callers that re-arm keep their own "due" time and ignore early calls.
#pragma once

#include <chrono>
#include <utility>

#include <caf/actor_clock.hpp>
#include <caf/behavior.hpp>
#include <caf/error.hpp>
#include <caf/message_priority.hpp>

namespace agentgraph {

template <class Self, class F>
void run_at(Self* self, caf::actor_clock::time_point when, F f) {
  const auto id = self->new_request_id(caf::message_priority::normal).response_id();
  self->add_multiplexed_response_handler(id, caf::behavior{[f = std::move(f)](caf::error&) mutable {
    f();
  }});
  self->clock().set_request_timeout(when, self, id);
}

}  // namespace agentgraph

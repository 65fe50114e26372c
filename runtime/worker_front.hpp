// The front half of "a blocking object behind an actor" (checkpoint_actor,
// journal_actor): the front actor runs on the scheduler and never blocks; it
// admits each request under a bound on pending requests and relays it to a
// detached worker actor (its own thread) that owns the blocking object and
// serves one request at a time. Header only: the state and the relay.
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include <caf/expected.hpp>
#include <caf/result.hpp>

#include "runtime/error.hpp"

namespace agentgraph {

// The front's state. `Config` has `pending_max` (requests accepted and not
// yet answered; beyond: `overloaded` at once) and `call_timeout` (how long
// one request may wait for the worker, queueing included).
template <class Worker, class Config>
struct worker_front_state {
  Worker worker;
  Config cfg;
  uint32_t pending = 0;   // accepted, not yet answered; <= cfg.pending_max
  uint64_t rejected = 0;  // answered `overloaded`
};

// A blocking call's outcome as a handler's reply.
template <class T>
caf::result<T> to_result(caf::expected<T>&& x) {
  if (!x)
    return std::move(x.error());
  return std::move(*x);
}

// Admits a request under the pending bound and relays it to the worker;
// answers with the worker's reply, or with `map_error` of its error (a
// timeout included). `subject` names the object in the overloaded error.
// `self->state` is a worker_front_state.
template <class T, class Self, class MapError, class... Ts>
caf::result<T> relay_to_worker(Self self, const char* subject, MapError map_error, Ts... xs) {
  auto& st = self->state;
  if (st.pending >= st.cfg.pending_max) {
    ++st.rejected;
    return make_error(errc::overloaded, std::string{subject} + ": " + std::to_string(st.pending)
                                          + " requests pending (pending_max)");
  }
  ++st.pending;
  auto rp = self->template make_response_promise<T>();
  self->request(st.worker, st.cfg.call_timeout, std::move(xs)...)
    .then(
      [self, rp](T& x) mutable {
        --self->state.pending;
        rp.deliver(std::move(x));
      },
      [self, rp, map_error](caf::error& err) mutable {
        --self->state.pending;
        rp.deliver(map_error(std::move(err)));
      });
  return rp;
}

}  // namespace agentgraph

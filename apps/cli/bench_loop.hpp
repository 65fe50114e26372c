// The closed loop of the actor-driven benchmarks (`bench memory`, the raw
// CAF rows of `bench agents`): one event-based actor keeps `window`
// requests in flight; each answer records its latency and sends the next,
// until warmup + count requests have been answered. What a request is, is
// the caller's `send`.
#pragma once

#include <future>
#include <memory>
#include <optional>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>

#include "apps/cli/bench_llm.hpp"
#include "runtime/error.hpp"

namespace agentgraph::cli {

namespace bench_loop_detail {

// Only the driver actor touches it until `finished` is set; then only the
// waiting thread.
template <class Send>
struct actor_loop {
  explicit actor_loop(Send s) : send(std::move(s)) {}
  Send send;
  uint64_t warmup = 0;
  uint64_t total = 0;  // warm-up + measured
  uint64_t sent = 0;
  uint64_t answered = 0;
  bench_clock::time_point measured_from;
  loop_result result;
  std::promise<loop_result> finished;
};

template <class Send>
void send_next(caf::event_based_actor* self, const std::shared_ptr<actor_loop<Send>>& st) {
  const uint64_t i = st->sent++;
  const auto begin = bench_clock::now();
  if (i == st->warmup)
    st->measured_from = begin;
  st->send(self, i, [self, st, i, begin](const caf::error& err) {
    const auto now = bench_clock::now();
    if (i >= st->warmup) {
      if (err)
        st->result.add_error(describe(err));
      else
        st->result.latency_ns.push_back(
          std::chrono::duration_cast<std::chrono::nanoseconds>(now - begin).count());
    }
    ++st->answered;
    if (st->sent < st->total) {
      send_next(self, st);
    } else if (st->answered == st->total) {
      st->result.seconds = std::chrono::duration<double>(now - st->measured_from).count();
      st->finished.set_value(std::move(st->result));
      self->quit();
    }
  });
}

}  // namespace bench_loop_detail

// Runs the loop in `sys` and waits for it (at most bench_loop_wait_max;
// nullopt when it did not end by then). `send(self, i, done)` issues
// request i from the driver actor `self` and calls `done(error)` (an empty
// error on success) when its answer arrives. Failed requests count in
// loop_result::errors and have no latency; seconds runs from the send of
// the first measured request to the last answer.
template <class Send>
[[nodiscard]] std::optional<loop_result> run_actor_loop(caf::actor_system& sys, uint32_t window,
                                                        uint64_t warmup, uint64_t count,
                                                        Send send) {
  using namespace bench_loop_detail;
  auto st = std::make_shared<actor_loop<Send>>(std::move(send));
  st->warmup = warmup;
  st->total = warmup + count;
  st->result.latency_ns.reserve(count);
  auto done = st->finished.get_future();
  sys.spawn([st, window](caf::event_based_actor* self) {
    for (uint32_t k = 0; k < window && st->sent < st->total; ++k)
      send_next(self, st);
  });
  if (done.wait_for(bench_loop_wait_max) != std::future_status::ready)
    return std::nullopt;
  return done.get();
}

}  // namespace agentgraph::cli

// `agentgraph bench agents`: the raw CAF 0.17 baselines (bench_agents.hpp).
// Plain typed actors with nothing of agentgraph in them: what the same
// work costs when an actor is just an actor.
#include <thread>

#include <caf/all.hpp>

#include "apps/cli/bench_agents.hpp"
#include "apps/cli/bench_loop.hpp"
#include "runtime/blocking_ask.hpp"
#include "runtime/error.hpp"

namespace agentgraph::cli {

namespace bench_agents_raw_detail {

using raw_ping_atom = caf::atom_constant<caf::atom("bn_ping")>;
// Reply: the argument + 1. No errors but a relay's timeout.
using raw_worker_actor = caf::typed_actor<caf::replies_to<raw_ping_atom, uint64_t>::with<uint64_t>>;

// The smallest useful state: one counter. An idle population is made of
// these; the chains' worker is one of them too.
struct raw_worker_state {
  uint64_t pings = 0;
  static inline const char* name = "bench_raw_worker";
};

raw_worker_actor::behavior_type raw_worker(raw_worker_actor::stateful_pointer<raw_worker_state> self) {
  return {[self](raw_ping_atom, uint64_t x) {
    ++self->state.pings;
    return x + 1;
  }};
}

// The middle hop of the two-hop chain: asks the worker with a timeout and
// answers its caller when the worker does, as a supervisor relaying a
// request does.
struct raw_relay_state {
  raw_worker_actor worker;
  static inline const char* name = "bench_raw_relay";
};

raw_worker_actor::behavior_type raw_relay(raw_worker_actor::stateful_pointer<raw_relay_state> self,
                                          raw_worker_actor worker) {
  self->state.worker = std::move(worker);
  return {[self](raw_ping_atom, uint64_t x) -> caf::result<uint64_t> {
    auto rp = self->make_response_promise<uint64_t>();
    self->request(self->state.worker, bench_agents_hop_timeout, raw_ping_atom::value, x)
      .then([rp](uint64_t y) mutable { rp.deliver(y); },
            [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
    return rp;
  }};
}

}  // namespace bench_agents_raw_detail

loop_result run_raw_requests(caf::actor_system& sys, bool two_hops, uint32_t window,
                             uint64_t warmup, uint64_t count) {
  using namespace bench_agents_raw_detail;
  auto worker = sys.spawn(raw_worker);
  raw_worker_actor relay;
  if (two_hops)
    relay = sys.spawn(raw_relay, worker);
  // One hop: no timeout, the floor of a round trip (CAF keeps a timed
  // request's clock entry until it fires, toolchain.md §9.21). Two hops: a
  // timeout on each hop, as every hop of a supervised task has one.
  const caf::duration timeout
    = two_hops ? caf::duration{bench_agents_hop_timeout} : caf::duration{caf::infinite};
  auto out = run_actor_loop(sys, window, warmup, count,
                            [target = two_hops ? relay : worker, timeout](
                              caf::event_based_actor* self, uint64_t i, auto done) {
                              self->request(target, timeout, raw_ping_atom::value, i)
                                .then([done](uint64_t) { done(caf::error{}); },
                                      [done](caf::error& err) { done(err); });
                            });
  stop_and_wait(sys, std::vector{relay, worker}, std::chrono::seconds{10});
  if (!out) {
    loop_result failed;
    failed.add_error("no end within the loop's bound");
    return failed;
  }
  return std::move(*out);
}

growth_figures grow_raw_actors(caf::actor_system& sys, uint64_t n, std::chrono::seconds time_cap,
                               std::chrono::milliseconds settle,
                               std::chrono::milliseconds idle_window) {
  using namespace bench_agents_raw_detail;
  growth_figures g;
  g.target = n;
  // One actor first, so one-off costs (the type's first spawn) are not
  // counted per actor.
  std::vector<raw_worker_actor> held{sys.spawn(raw_worker)};
  g.before = sample_process();
  // The handles an application keeps are part of what a population costs
  // (the Runtime keeps its agents' too): reserved after the sample.
  held.reserve(n + 1);
  growth_loop{g, time_cap, "raw actors"}.run([&](uint64_t, std::string&) {
    held.push_back(sys.spawn(raw_worker));
    return true;
  });
  std::this_thread::sleep_for(settle);
  g.after = sample_process();
  g.idle_cpu_pct = idle_cpu_pct(idle_window);
  stop_and_wait(sys, held, std::chrono::seconds{10});
  return g;
}

}  // namespace agentgraph::cli

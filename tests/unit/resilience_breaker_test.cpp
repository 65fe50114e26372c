// circuit_breaker: every transition of the diagram in circuit_breaker.hpp,
// walked as scripts of events against a hand-moved clock.
#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <vector>

#include "runtime/resilience/circuit_breaker.hpp"

namespace resilience_breaker_test {

using namespace std::chrono_literals;
using namespace agentgraph;
using std::chrono::milliseconds;
using time_point = std::chrono::steady_clock::time_point;

// One scripted event and the state the breaker must be in afterwards.
//   'F' on_failure   'S' on_success
//   'A' allow() must admit    'R' allow() must reject
//   'T' advance the clock by `dt`
struct step {
  char op;
  breaker_state after;
  milliseconds dt = 0ms;
};

constexpr auto closed = breaker_state::closed;
constexpr auto open = breaker_state::open;
constexpr auto half = breaker_state::half_open;

void run(circuit_breaker& b, const std::vector<step>& script) {
  time_point now{};
  for (size_t i = 0; i < script.size(); ++i) {
    const auto& s = script[i];
    CAPTURE(i);
    CAPTURE(s.op);
    switch (s.op) {
      case 'F': b.on_failure(now); break;
      case 'S': b.on_success(now); break;
      case 'A': CHECK(b.allow(now).allowed); break;
      case 'R': CHECK_FALSE(b.allow(now).allowed); break;
      case 'T': now += s.dt; break;
      default: FAIL("bad op");
    }
    CHECK(to_string(b.state()) == std::string{to_string(s.after)});
  }
}

breaker_config consecutive_only(uint32_t n) {
  breaker_config cfg;
  cfg.failures_consecutive_max = n;
  cfg.window_outcomes = 0;
  cfg.window_outcomes_min = 0;
  cfg.cooldown = 1000ms;
  cfg.cooldown_max = 3000ms;
  cfg.probes_max = 1;
  return cfg;
}

breaker_config ratio_only(uint32_t window, uint32_t min, double ratio) {
  breaker_config cfg = consecutive_only(0);
  cfg.window_outcomes = window;
  cfg.window_outcomes_min = min;
  cfg.failure_ratio_max = ratio;
  return cfg;
}

TEST_CASE("resilience: breaker opens after N consecutive failures, a success resets the count") {
  circuit_breaker b{consecutive_only(3)};
  run(b, {{'F', closed}, {'F', closed}, {'S', closed},  // reset
          {'F', closed}, {'F', closed}, {'A', closed}, {'F', open},
          {'R', open}, {'R', open}});
  CHECK(b.stats().opened == 1);
  CHECK(b.stats().rejected == 2);
  CHECK(b.stats().failures == 5);
  CHECK(b.stats().successes == 1);
}

TEST_CASE("resilience: breaker opens on the failure ratio only once the window holds M outcomes") {
  circuit_breaker b{ratio_only(10, 4, 0.5)};
  // 1/1, 1/2, 1/3 failed: under M = 4 outcomes, so no verdict yet.
  run(b, {{'F', closed}, {'S', closed}, {'S', closed},
          {'F', open}});  // 2/4 = 0.5 >= R
  CHECK(b.window_failures() == 2);
  CHECK(b.window_size() == 4);
}

TEST_CASE("resilience: breaker ratio window rolls: failures older than W outcomes are forgotten") {
  circuit_breaker b{ratio_only(4, 4, 0.75)};
  run(b, {{'F', closed}, {'F', closed}, {'S', closed}, {'S', closed},  // 2/4
          {'S', closed}, {'S', closed},  // the two failures rolled out: 0/4
          {'F', closed}, {'F', closed},  // 2/4
          {'F', open}});                 // 3/4
  // Successes between the failures do not save it: the ratio counts, not the
  // streak. Only a failure can open the breaker, so the verdict comes with it.
  circuit_breaker c{ratio_only(4, 4, 0.5)};
  run(c, {{'F', closed}, {'S', closed}, {'S', closed}, {'F', open}});  // 2/4
}

TEST_CASE("resilience: breaker turns half-open after the cooldown and admits at most P probes") {
  auto cfg = consecutive_only(1);
  cfg.probes_max = 2;
  circuit_breaker b{cfg};
  run(b, {{'F', open},
          {'T', open, 999ms}, {'R', open},
          {'T', open, 1ms}, {'A', half},  // cooldown over: first probe
          {'A', half},                    // second probe
          {'R', half}, {'R', half}});     // probes busy
  CHECK(b.probes_in_flight() == 2);
  CHECK(b.stats().half_opened == 1);
  CHECK(b.stats().rejected == 3);
}

TEST_CASE("resilience: breaker closes on a successful probe and starts afresh") {
  circuit_breaker b{consecutive_only(2)};
  run(b, {{'F', closed}, {'F', open}, {'T', open, 1s}, {'A', half}, {'S', closed},
          {'A', closed}, {'F', closed},  // old failures cleared: one is not enough
          {'F', open}});
  CHECK(b.cooldown() == 1000ms);  // the closing reset the cooldown
  CHECK(b.stats().closed == 1);
  CHECK(b.stats().opened == 2);
}

TEST_CASE("resilience: breaker re-opens on a failed probe with a doubled cooldown, capped") {
  circuit_breaker b{consecutive_only(1)};  // cooldown 1 s, max 3 s
  run(b, {{'F', open}, {'T', open, 1s}, {'A', half}, {'F', open},  // now 2 s
          {'T', open, 1999ms}, {'R', open}, {'T', open, 1ms}, {'A', half}, {'F', open},  // 3 s
          {'T', open, 2999ms}, {'R', open}, {'T', open, 1ms}, {'A', half}, {'F', open},  // capped
          {'T', open, 2999ms}, {'R', open}, {'T', open, 1ms}, {'A', half}});
  CHECK(b.cooldown() == 3000ms);
  CHECK(b.stats().opened == 4);
  CHECK(b.stats().half_opened == 4);
}

TEST_CASE("resilience: breaker ignores outcomes that arrive while open") {
  circuit_breaker b{consecutive_only(1)};
  run(b, {{'F', open}, {'S', open}, {'F', open}, {'T', open, 999ms}, {'R', open}});
  CHECK(b.stats().opened == 1);
  CHECK(b.stats().successes == 1);
  CHECK(b.stats().failures == 2);
}

TEST_CASE("resilience: breaker would_allow answers like allow without changing anything") {
  circuit_breaker b{consecutive_only(1)};
  time_point t{};
  CHECK(b.would_allow(t));
  b.on_failure(t);
  CHECK_FALSE(b.would_allow(t));
  CHECK(b.would_allow(t + 1s));
  CHECK(b.state() == breaker_state::open);  // the peek did not turn it half-open
  CHECK(b.stats().rejected == 0);
  auto admitted = b.allow(t + 1s);
  CHECK(admitted.allowed);
  CHECK(admitted.probe);
  CHECK(admitted.state == breaker_state::half_open);
  CHECK_FALSE(b.would_allow(t + 1s));  // the only probe is out
}

TEST_CASE("resilience: breaker with both triggers off never opens") {
  circuit_breaker b{consecutive_only(0)};
  time_point t{};
  for (int i = 0; i < 100; ++i)
    b.on_failure(t);
  CHECK(b.state() == breaker_state::closed);
  CHECK(b.allow(t).allowed);
}

}  // namespace resilience_breaker_test

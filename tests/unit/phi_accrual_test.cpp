// runtime/cluster/phi_accrual: the crossing times of design §2.8 (ours and
// Akka's defaults), jittered heartbeats never suspected, the bounded ring,
// phi monotone in time, outages not learned, bad settings refused. Time is
// a hand-moved steady_clock::time_point; nothing sleeps.
#include <doctest/doctest.h>

#include <chrono>
#include <cmath>
#include <limits>
#include <random>

#include "runtime/cluster/phi_accrual.hpp"
#include "runtime/error.hpp"

namespace phi_accrual_test {

using namespace std::chrono_literals;
using namespace agentgraph::cluster;
using std::chrono::milliseconds;
using time_point = phi_accrual::time_point;

phi_accrual make(const phi_settings& s) {
  auto d = phi_accrual::make(s);
  REQUIRE(d);
  return std::move(*d);
}

phi_settings settings(milliseconds interval, milliseconds pause, milliseconds min_std) {
  phi_settings s;
  s.first_estimate = interval;
  s.acceptable_pause = pause;
  s.min_std = min_std;
  s.threshold = 8.0;
  return s;
}

// `beats` heartbeats `interval` apart; returns the time of the last one.
time_point regular(phi_accrual& d, milliseconds interval, int beats) {
  time_point now{};
  for (int i = 0; i < beats; ++i) {
    if (i > 0)
      now += interval;
    d.heartbeat(now);
  }
  return now;
}

// Milliseconds after the last heartbeat at which the peer first counts as
// unavailable, probing every millisecond for at most 60 s.
long crossing_ms(const phi_accrual& d, time_point last) {
  for (long ms = 0; ms <= 60'000; ++ms)
    if (!d.available(last + milliseconds{ms}))
      return ms;
  return -1;
}

TEST_CASE("phi: the crossing times of the design table") {
  struct row {
    milliseconds interval, pause, min_std;
    long low_ms, high_ms;  // where phi = 8 is crossed, computed in §2.8
  };
  const row rows[] = {
      {1000ms, 3000ms, 100ms, 4500, 4540},  // Akka's defaults: 4.52 s
      {250ms, 750ms, 100ms, 1500, 1540},    // ours: 1.52 s
      {250ms, 500ms, 100ms, 1250, 1290},    // 1.27 s
      {250ms, 750ms, 200ms, 2030, 2070},    // 2.05 s
  };
  for (const auto& r : rows) {
    CAPTURE(r.interval.count());
    CAPTURE(r.pause.count());
    CAPTURE(r.min_std.count());
    auto d = make(settings(r.interval, r.pause, r.min_std));
    const auto last = regular(d, r.interval, 50);
    const long t = crossing_ms(d, last);
    CHECK(t >= r.low_ms);
    CHECK(t <= r.high_ms);
    CHECK(d.available(last + milliseconds{t - 1}));
  }
}

TEST_CASE("phi: a peer heard once is judged from the seeded estimate") {
  auto d = make(settings(250ms, 750ms, 100ms));
  CHECK(d.phi(time_point{} + 1h) == 0.0);  // never heard: not suspected
  CHECK(d.available(time_point{} + 1h));
  d.heartbeat(time_point{});
  CHECK(d.samples() == 2);  // the seed: 187.5 ms and 312.5 ms
  CHECK(d.mean_ms() == doctest::Approx(250.0));
  CHECK(d.std_ms() == doctest::Approx(62.5));
  const long t = crossing_ms(d, time_point{});
  CHECK(t >= 1500);
  CHECK(t <= 1540);
}

TEST_CASE("phi: heartbeats every 250 ms +-100 ms for 10 minutes are never suspected") {
  auto d = make(phi_settings{});
  std::mt19937_64 rng{20261206};
  std::uniform_int_distribution<int> jitter{-100, 100};
  time_point now{};
  d.heartbeat(now);
  double phi_max = 0;
  for (int i = 0; i < 2400; ++i) {  // 2400 x 250 ms = 10 min
    now += milliseconds{250 + jitter(rng)};
    phi_max = std::max(phi_max, d.phi(now));  // just before the heartbeat lands
    CHECK(d.available(now));
    d.heartbeat(now);
  }
  CHECK(phi_max < 1.0);
  CHECK(d.samples() == phi_settings{}.samples_max);
  CHECK(d.mean_ms() == doctest::Approx(250.0).epsilon(0.05));
}

TEST_CASE("phi: a pause inside acceptable_pause is tolerated, a freeze is not") {
  auto d = make(phi_settings{});
  const auto last = regular(d, 250ms, 40);
  CHECK(d.available(last + 900ms));    // a GC or a busy machine
  CHECK(d.phi(last + 900ms) < 1.0);
  CHECK_FALSE(d.available(last + 1600ms));  // frozen
}

TEST_CASE("phi: the ring keeps only the last samples_max intervals") {
  phi_settings s;
  s.samples_max = 10;
  auto d = make(s);
  time_point now{};
  d.heartbeat(now);
  for (int i = 0; i < 100; ++i) {
    now += 100ms;
    d.heartbeat(now);
    CHECK(d.samples() <= 10);
  }
  CHECK(d.mean_ms() == doctest::Approx(100.0));
  for (int i = 0; i < 10; ++i) {
    now += 500ms;
    d.heartbeat(now);
  }
  CHECK(d.samples() == 10);
  CHECK(d.mean_ms() == doctest::Approx(500.0));  // every 100 ms sample forgotten
  CHECK(d.std_ms() == doctest::Approx(0.0));
}

TEST_CASE("phi: suspicion never falls while no heartbeat arrives") {
  auto d = make(phi_settings{});
  std::mt19937_64 rng{7};
  std::uniform_int_distribution<int> jitter{-60, 60};
  time_point now{};
  d.heartbeat(now);
  for (int i = 0; i < 100; ++i) {
    now += milliseconds{250 + jitter(rng)};
    d.heartbeat(now);
  }
  double previous = -1;
  for (long ms = 0; ms <= 20'000; ms += 5) {
    const double p = d.phi(now + milliseconds{ms});
    CHECK(p >= previous);
    previous = p;
  }
  CHECK(previous > 8.0);  // and it does end up suspected
}

TEST_CASE("phi: the interval that ends an outage is not learned") {
  auto d = make(phi_settings{});
  auto last = regular(d, 250ms, 20);
  const auto samples = d.samples();
  const double mean = d.mean_ms();
  d.heartbeat(last + 5s);  // back after a 5 s freeze
  CHECK(d.samples() == samples);
  CHECK(d.mean_ms() == doctest::Approx(mean));
  CHECK(d.last_heartbeat() == last + 5s);
  CHECK(d.available(last + 5s + 250ms));  // judged by its old rhythm again
  CHECK_FALSE(d.available(last + 5s + 1600ms));
}

TEST_CASE("phi: bad settings are refused with invalid_argument") {
  auto refused = [](phi_settings s) {
    auto d = phi_accrual::make(s);
    REQUIRE_FALSE(d);
    CHECK(agentgraph::errc_of(d.error()) == agentgraph::errc::invalid_argument);
    return agentgraph::error_context(d.error());
  };
  CHECK(phi_accrual::make(phi_settings{}));
  phi_settings s;
  s.threshold = 0;
  CHECK(refused(s).find("threshold") != std::string::npos);
  s.threshold = -1;
  refused(s);
  s.threshold = std::numeric_limits<double>::quiet_NaN();
  refused(s);
  s.threshold = std::numeric_limits<double>::infinity();
  refused(s);
  s = {};
  s.samples_max = 1;
  CHECK(refused(s).find("samples_max") != std::string::npos);
  s.samples_max = phi_samples_limit + 1;
  refused(s);
  s = {};
  s.min_std = 0ms;
  CHECK(refused(s).find("min_std") != std::string::npos);
  s = {};
  s.acceptable_pause = -1ms;
  CHECK(refused(s).find("acceptable_pause") != std::string::npos);
  s = {};
  s.first_estimate = 0ms;
  CHECK(refused(s).find("first_estimate") != std::string::npos);
  s = {};
  s.acceptable_pause = 0ms;  // allowed: no pause tolerated
  CHECK(phi_accrual::make(s));
}

}  // namespace phi_accrual_test

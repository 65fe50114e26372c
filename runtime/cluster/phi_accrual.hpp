// The phi-accrual failure detector (Hayashibara et al. 2004) as Akka
// implements it, for one monitored peer (design §2.8, §5.2).
//
// Instead of "no heartbeat for T seconds", it answers with a level of
// suspicion, phi = -log10(P(a heartbeat arrives later than now)), from the
// distribution of the inter-arrival times it has seen: a peer whose
// heartbeats always came every 250 ms is suspected sooner than one whose
// heartbeats wander. A peer is available while phi < threshold. The normal
// distribution is Akka's logistic approximation:
//   y = (t - mean) / std,   e = exp(-y (1.5976 + 0.070566 y^2)),
//   phi = -log10(e / (1 + e))
// where t is the time since the last heartbeat, mean = mean interval +
// acceptable_pause, and std = max(std of the intervals, min_std). With the
// defaults (first estimate 250 ms, pause 750 ms, min std 100 ms,
// threshold 8) phi reaches 8 about 1.52 s after the last of regular 250 ms
// heartbeats; Akka's defaults (1 s, 3 s, 100 ms, 8) reach it at 4.52 s.
//
// Bounded: the last `samples_max` intervals are kept in a ring with their
// running sum and sum of squares (recomputed from the ring each time it
// wraps, so rounding never accumulates). Like Akka, the history starts from
// two intervals, first_estimate -/+ first_estimate/4, so a peer heard once
// already has a distribution, and an interval that ends a period of
// unavailability is not recorded: one long outage must not teach the
// detector to wait that long next time.
//
// Takes `now` from the caller (the node actor's clock, virtual in tests);
// reads no clock of its own. Not thread-safe; owned by one actor.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>

namespace agentgraph::cluster {

struct phi_settings {
  // Suspicion level at which the peer counts as unavailable; > 0.
  double threshold = 8.0;
  // Intervals remembered; older ones are forgotten. In [2, phi_samples_limit].
  size_t samples_max = 200;
  // Floor of the standard deviation, so perfectly regular heartbeats do not
  // make one slightly late heartbeat look like a failure; > 0.
  std::chrono::milliseconds min_std{100};
  // Added to the mean interval: a pause (GC, a busy machine) this long is
  // tolerated before suspicion starts to rise; >= 0.
  std::chrono::milliseconds acceptable_pause{750};
  // The heartbeat interval the peer is expected to use; seeds the history; > 0.
  std::chrono::milliseconds first_estimate{250};
};

// Upper bound on samples_max: the ring is allocated up front.
constexpr size_t phi_samples_limit = 100000;

// The settings' first problem as errc::invalid_argument naming the field,
// or an empty error when they are usable.
[[nodiscard]] caf::error validate(const phi_settings& s);

class phi_accrual {
 public:
  using time_point = std::chrono::steady_clock::time_point;  // = caf::actor_clock::time_point

  // The only way to build one: refuses bad settings with validate()'s error.
  [[nodiscard]] static caf::expected<phi_accrual> make(const phi_settings& s);

  // A heartbeat arrived at `now`. The first call only sets the reference
  // point. `now` never goes back (asserted: it comes from a steady clock).
  void heartbeat(time_point now);

  // Suspicion at `now`: 0 before the first heartbeat (a peer never heard of
  // is not suspected; admission decides about it), otherwise growing with
  // the time since the last heartbeat, +infinity once the approximation
  // underflows.
  [[nodiscard]] double phi(time_point now) const;

  [[nodiscard]] bool available(time_point now) const { return phi(now) < settings_.threshold; }

  // The observer itself was paused (SIGSTOP, a stalled host) until `now`:
  // the silence it measured was its own, so the reference point moves to
  // `now` without a sample. Nothing before the first heartbeat.
  void resumed(time_point now) {
    if (heard_ && now > last_)
      last_ = now;
  }

  [[nodiscard]] bool heard() const { return heard_; }
  [[nodiscard]] time_point last_heartbeat() const { return last_; }
  [[nodiscard]] size_t samples() const { return count_; }
  [[nodiscard]] double mean_ms() const;
  [[nodiscard]] double std_ms() const;  // before the min_std floor
  [[nodiscard]] const phi_settings& settings() const { return settings_; }

 private:
  explicit phi_accrual(const phi_settings& s);
  void add_interval(double ms);
  void recompute_sums();

  phi_settings settings_;
  std::vector<double> ring_;  // capacity settings_.samples_max, intervals in ms
  size_t next_ = 0;           // where the next interval goes
  size_t count_ = 0;          // intervals held, <= samples_max
  double sum_ = 0;
  double sum_squares_ = 0;
  bool heard_ = false;
  time_point last_{};
};

}  // namespace agentgraph::cluster

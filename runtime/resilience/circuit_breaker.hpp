// A circuit breaker for one provider endpoint: after enough failures it
// stops sending requests for a cooldown (callers get `unavailable` at once
// and the fallback chain moves on), then lets a few probe requests through
// to find out whether the endpoint is back.
//
//                       N failures in a row, or failure ratio >= R over the
//                       last W outcomes (once at least M outcomes are in)
//        +--------+ ---------------------------------------------> +------+
//        | closed |                                                | open | <---+
//        +--------+ <---+                                          +------+     |
//                       |                                             |         |
//                       | a probe succeeds          cooldown passed:  |         | a probe fails:
//                       |                           next allow()      v         | cooldown doubles,
//                       |                                      +-----------+    | capped at
//                       +------------------------------------- | half_open | ---+ cooldown_max
//                                                              +-----------+
//                                                   admits at most P probes at once;
//                                                   further allow() calls are rejected
//
// Closing resets the cooldown to its base and clears the window, so old
// failures do not re-open a breaker that just proved the endpoint healthy.
//
// Which outcomes are failures is the caller's choice, and it matters: count
// 5xx, 408, 429 (the endpoint is saturated), timeouts and connection errors.
// Do NOT count other 4xx (400, 401, 403, 404, 422): they mean this request
// or this key is wrong, not that the endpoint is down, and one bad prompt
// must not cut every agent off a healthy provider. Cancellations are neither
// (report nothing, or a success if the endpoint answered).
//
// Every request that allow() admitted must be reported exactly once, with
// on_success or on_failure (a request timeout is a failure); an unreported
// probe would hold its half-open slot forever. Outcomes that arrive while
// open (requests admitted before the breaker opened) are counted in the
// stats but change nothing. While half-open, any outcome is taken as a probe
// result: a late failure re-opens (conservative), a late success closes (it
// is evidence the endpoint answers).
//
// Not thread-safe; owned by one actor. Time is passed in by the caller.
#pragma once

#include <chrono>
#include <cstdint>
#include <vector>

namespace agentgraph {

enum class breaker_state : uint8_t { closed, open, half_open };

[[nodiscard]] const char* to_string(breaker_state s);

struct breaker_config {
  // N: consecutive failures that open the breaker; 0 disables this trigger.
  uint32_t failures_consecutive_max = 5;
  // R: failure ratio over the window that opens the breaker, in (0, 1].
  double failure_ratio_max = 0.5;
  // W: outcomes the rolling window remembers; 0 disables the ratio trigger.
  uint32_t window_outcomes = 20;
  // M: outcomes the window must hold before the ratio counts, so that one
  // early failure (ratio 1.0) does not open a fresh breaker. <= W.
  uint32_t window_outcomes_min = 10;
  // Time open before the first probe; doubles on each failed probe.
  std::chrono::milliseconds cooldown{5000};
  std::chrono::milliseconds cooldown_max{60000};
  // P: probes admitted at once while half-open, >= 1.
  uint32_t probes_max = 1;
};

// Bounds the schema should enforce; asserted at construction.
constexpr uint32_t breaker_window_outcomes_limit = 1000;
constexpr uint32_t breaker_probes_max_limit = 100;

struct breaker_stats {
  uint64_t opened = 0;       // transitions into open (from closed or half_open)
  uint64_t half_opened = 0;  // transitions into half_open
  uint64_t closed = 0;       // transitions into closed (from half_open)
  uint64_t rejected = 0;     // allow() calls answered false
  uint64_t successes = 0;    // outcomes reported, in any state
  uint64_t failures = 0;
};

struct breaker_admission {
  bool allowed = false;
  bool probe = false;  // admitted as a half-open probe
  breaker_state state = breaker_state::closed;  // state after the call
};

class circuit_breaker {
 public:
  using time_point = std::chrono::steady_clock::time_point;

  explicit circuit_breaker(breaker_config cfg);

  // May this request go to the endpoint? Moves open -> half_open once the
  // cooldown has passed, and counts rejections.
  [[nodiscard]] breaker_admission allow(time_point now);

  // The same answer as allow() without changing anything or admitting a
  // probe: for choosing among fallback candidates.
  [[nodiscard]] bool would_allow(time_point now) const;

  void on_success(time_point now);
  void on_failure(time_point now);

  [[nodiscard]] breaker_state state() const { return state_; }
  [[nodiscard]] const breaker_stats& stats() const { return stats_; }
  [[nodiscard]] uint32_t failures_consecutive() const { return failures_consecutive_; }
  [[nodiscard]] uint32_t window_failures() const { return window_failures_; }
  [[nodiscard]] uint32_t window_size() const { return window_size_; }
  [[nodiscard]] uint32_t probes_in_flight() const { return probes_in_flight_; }
  // Meaningful while open: when the next allow() turns half-open.
  [[nodiscard]] time_point open_until() const { return open_until_; }
  // The cooldown the next (or current) opening uses.
  [[nodiscard]] std::chrono::milliseconds cooldown() const { return cooldown_; }

 private:
  void record(bool failure);
  [[nodiscard]] bool should_open() const;
  void open(time_point now);
  void half_open();
  void close();

  const breaker_config cfg_;
  breaker_state state_ = breaker_state::closed;
  uint32_t failures_consecutive_ = 0;
  // Rolling window: a ring of the last window_size_ outcomes (1 = failure).
  std::vector<uint8_t> window_;  // capacity cfg_.window_outcomes
  uint32_t window_next_ = 0;
  uint32_t window_size_ = 0;
  uint32_t window_failures_ = 0;
  uint32_t probes_in_flight_ = 0;  // half_open only
  std::chrono::milliseconds cooldown_;
  time_point open_until_{};
  breaker_stats stats_;
};

}  // namespace agentgraph

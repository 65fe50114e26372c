#include "runtime/resilience/circuit_breaker.hpp"

#include <algorithm>

#include "runtime/assert.hpp"

namespace agentgraph {

const char* to_string(breaker_state s) {
  switch (s) {
    case breaker_state::closed: return "closed";
    case breaker_state::open: return "open";
    case breaker_state::half_open: return "half_open";
  }
  return "unknown";
}

circuit_breaker::circuit_breaker(breaker_config cfg)
    : cfg_(cfg), window_(cfg.window_outcomes, 0), cooldown_(cfg.cooldown) {
  AG_ASSERT(cfg_.failure_ratio_max > 0.0 && cfg_.failure_ratio_max <= 1.0);
  AG_ASSERT(cfg_.window_outcomes <= breaker_window_outcomes_limit);
  AG_ASSERT(cfg_.window_outcomes_min <= cfg_.window_outcomes);
  AG_ASSERT(cfg_.cooldown.count() > 0 && cfg_.cooldown_max >= cfg_.cooldown);
  AG_ASSERT(cfg_.probes_max >= 1 && cfg_.probes_max <= breaker_probes_max_limit);
}

breaker_admission circuit_breaker::allow(time_point now) {
  if (state_ == breaker_state::open && now >= open_until_)
    half_open();
  bool allowed = state_ == breaker_state::closed
                 || (state_ == breaker_state::half_open && probes_in_flight_ < cfg_.probes_max);
  bool probe = allowed && state_ == breaker_state::half_open;
  if (probe)
    ++probes_in_flight_;
  AG_ASSERT(probes_in_flight_ <= cfg_.probes_max);
  AG_ASSERT(probes_in_flight_ == 0 || state_ == breaker_state::half_open);
  if (!allowed)
    ++stats_.rejected;
  return {allowed, probe, state_};
}

bool circuit_breaker::would_allow(time_point now) const {
  switch (state_) {
    case breaker_state::closed: return true;
    case breaker_state::open: return now >= open_until_;
    case breaker_state::half_open: return probes_in_flight_ < cfg_.probes_max;
  }
  return false;
}

void circuit_breaker::on_success(time_point) {
  ++stats_.successes;
  switch (state_) {
    case breaker_state::closed:
      failures_consecutive_ = 0;
      record(false);
      return;
    case breaker_state::half_open: close(); return;
    case breaker_state::open: return;  // admitted before opening: no news
  }
}

void circuit_breaker::on_failure(time_point now) {
  ++stats_.failures;
  switch (state_) {
    case breaker_state::closed:
      ++failures_consecutive_;
      record(true);
      if (should_open())
        open(now);
      return;
    case breaker_state::half_open:
      // The endpoint is still failing: wait longer this time.
      cooldown_ = std::min(cooldown_ * 2, cfg_.cooldown_max);
      open(now);
      return;
    case breaker_state::open: return;
  }
}

void circuit_breaker::record(bool failure) {
  if (cfg_.window_outcomes == 0)
    return;
  if (window_size_ == cfg_.window_outcomes)
    window_failures_ -= window_[window_next_];  // the oldest outcome leaves
  else
    ++window_size_;
  window_[window_next_] = failure ? 1 : 0;
  window_failures_ += failure ? 1 : 0;
  window_next_ = (window_next_ + 1) % cfg_.window_outcomes;
  AG_ASSERT(window_size_ <= cfg_.window_outcomes && window_next_ < cfg_.window_outcomes);
  AG_ASSERT(window_failures_ <= window_size_);
}

bool circuit_breaker::should_open() const {
  if (cfg_.failures_consecutive_max > 0 && failures_consecutive_ >= cfg_.failures_consecutive_max)
    return true;
  if (cfg_.window_outcomes == 0 || window_size_ == 0 || window_size_ < cfg_.window_outcomes_min)
    return false;
  return static_cast<double>(window_failures_) / window_size_ >= cfg_.failure_ratio_max;
}

void circuit_breaker::open(time_point now) {
  // closed -> open (should_open) or half_open -> open (a probe failed).
  AG_ASSERT(state_ != breaker_state::open);
  AG_ASSERT(cooldown_ >= cfg_.cooldown && cooldown_ <= cfg_.cooldown_max);
  state_ = breaker_state::open;
  open_until_ = now + cooldown_;
  probes_in_flight_ = 0;
  ++stats_.opened;
}

void circuit_breaker::half_open() {
  AG_ASSERT(state_ == breaker_state::open);  // only once the cooldown passed
  state_ = breaker_state::half_open;
  probes_in_flight_ = 0;
  ++stats_.half_opened;
}

void circuit_breaker::close() {
  AG_ASSERT(state_ == breaker_state::half_open);  // a probe succeeded
  state_ = breaker_state::closed;
  failures_consecutive_ = 0;
  std::fill(window_.begin(), window_.end(), uint8_t{0});
  window_next_ = window_size_ = window_failures_ = 0;
  probes_in_flight_ = 0;
  cooldown_ = cfg_.cooldown;
  ++stats_.closed;
}

}  // namespace agentgraph

#include "runtime/cluster/phi_accrual.hpp"

#include <algorithm>
#include <cmath>

#include "runtime/assert.hpp"
#include "runtime/error.hpp"

namespace agentgraph::cluster {

namespace phi_accrual_detail {

double to_ms(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

// Akka's logistic approximation of the normal distribution's tail; both
// forms are -log10(e / (1 + e)), written so that neither loses precision on
// its side of the mean.
double phi_of(double t_ms, double mean_ms, double std_ms) {
  const double y = (t_ms - mean_ms) / std_ms;
  const double e = std::exp(-y * (1.5976 + 0.070566 * y * y));
  if (t_ms > mean_ms)
    return -std::log10(e / (1.0 + e));
  return -std::log10(1.0 - 1.0 / (1.0 + e));
}

}  // namespace phi_accrual_detail

caf::error validate(const phi_settings& s) {
  if (!(s.threshold > 0) || !std::isfinite(s.threshold))
    return make_error(errc::invalid_argument, "phi threshold must be a finite number > 0");
  if (s.samples_max < 2 || s.samples_max > phi_samples_limit)
    return make_error(errc::invalid_argument, "phi samples_max must be in [2, " +
                                                  std::to_string(phi_samples_limit) + "]");
  if (s.min_std.count() <= 0)
    return make_error(errc::invalid_argument, "phi min_std must be > 0 ms");
  if (s.acceptable_pause.count() < 0)
    return make_error(errc::invalid_argument, "phi acceptable_pause must be >= 0 ms");
  if (s.first_estimate.count() <= 0)
    return make_error(errc::invalid_argument, "phi first_estimate must be > 0 ms");
  return {};
}

caf::expected<phi_accrual> phi_accrual::make(const phi_settings& s) {
  if (auto err = validate(s))
    return err;
  return phi_accrual{s};
}

phi_accrual::phi_accrual(const phi_settings& s) : settings_(s), ring_(s.samples_max, 0.0) {
  AG_ASSERT(!validate(s));
  // Akka's seed: two intervals around the expected one, std = estimate / 4.
  const auto estimate = static_cast<double>(s.first_estimate.count());
  add_interval(estimate - estimate / 4);
  add_interval(estimate + estimate / 4);
}

void phi_accrual::heartbeat(time_point now) {
  if (!heard_) {
    heard_ = true;
    last_ = now;
    return;
  }
  AG_ASSERT(now >= last_, "heartbeat times come from a steady clock");
  // Judged at the old reference, before it moves: an interval that ends an
  // outage is not a sample of the peer's rhythm.
  if (available(now))
    add_interval(phi_accrual_detail::to_ms(now - last_));
  last_ = now;
}

double phi_accrual::phi(time_point now) const {
  if (!heard_)
    return 0.0;
  const double since_ms = phi_accrual_detail::to_ms(now - last_);
  const double mean = mean_ms() + static_cast<double>(settings_.acceptable_pause.count());
  const double std = std::max(std_ms(), static_cast<double>(settings_.min_std.count()));
  return phi_accrual_detail::phi_of(since_ms, mean, std);
}

double phi_accrual::mean_ms() const {
  AG_ASSERT(count_ > 0, "the history is seeded at construction");
  return sum_ / static_cast<double>(count_);
}

double phi_accrual::std_ms() const {
  const double mean = mean_ms();
  const double variance = sum_squares_ / static_cast<double>(count_) - mean * mean;
  return std::sqrt(std::max(variance, 0.0));  // rounding may make it -0.000...
}

void phi_accrual::add_interval(double ms) {
  AG_ASSERT(ms >= 0 && std::isfinite(ms));
  if (count_ == ring_.size()) {
    const double old = ring_[next_];
    sum_ -= old;
    sum_squares_ -= old * old;
  } else {
    ++count_;
  }
  ring_[next_] = ms;
  sum_ += ms;
  sum_squares_ += ms * ms;
  next_ = (next_ + 1) % ring_.size();
  // Once per lap, so the subtractions above never drift: amortised O(1).
  if (next_ == 0)
    recompute_sums();
  AG_ASSERT(count_ <= ring_.size() && next_ < ring_.size());
}

void phi_accrual::recompute_sums() {
  sum_ = 0;
  sum_squares_ = 0;
  for (size_t i = 0; i < count_; ++i) {
    sum_ += ring_[i];
    sum_squares_ += ring_[i] * ring_[i];
  }
}

}  // namespace agentgraph::cluster

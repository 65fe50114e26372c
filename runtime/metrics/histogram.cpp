#include "runtime/metrics/histogram.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "runtime/error.hpp"

namespace agentgraph::metrics {

std::vector<double> latency_buckets_seconds() {
  return {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120};
}

caf::error check_bucket_bounds(std::span<const double> bounds) {
  if (bounds.size() > histogram_buckets_max)
    return make_error(errc::invalid_argument, "histogram has " + std::to_string(bounds.size()) +
                                                  " bucket bounds, max " +
                                                  std::to_string(histogram_buckets_max));
  for (size_t i = 0; i < bounds.size(); ++i) {
    if (!std::isfinite(bounds[i]))
      return make_error(errc::invalid_argument, "histogram bucket bound " + std::to_string(i) +
                                                    " is not finite (+Inf is implicit)");
    if (i > 0 && !(bounds[i - 1] < bounds[i]))
      return make_error(errc::invalid_argument,
                        "histogram bucket bounds must be strictly increasing (at index " +
                            std::to_string(i) + ")");
  }
  return {};
}

histogram::histogram(const shape& s)
    : bounds_(s.bounds), buckets_(std::make_unique<std::atomic<uint64_t>[]>(s.bounds.size() + 1)) {
  // make_unique<T[]> value-initialises, so every bucket starts at zero.
}

void histogram::observe(double v) noexcept {
  // First bound >= v: Prometheus buckets are `le` (less or equal). NaN
  // compares false with everything, so it must be routed explicitly.
  size_t index = std::isnan(v)
                     ? bounds_.size()
                     : static_cast<size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), v) -
                                           bounds_.begin());
  buckets_[index].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
}

histogram_snapshot histogram::snapshot() const {
  histogram_snapshot snap;
  snap.cumulative.reserve(bounds_.size() + 1);
  uint64_t running = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    running += buckets_[i].load(std::memory_order_relaxed);
    snap.cumulative.push_back(running);
  }
  snap.count = running;
  snap.sum = sum_.load(std::memory_order_relaxed);
  return snap;
}

}  // namespace agentgraph::metrics

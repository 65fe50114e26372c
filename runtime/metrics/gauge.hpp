// A gauge series: a value that goes up and down (queue depth, in-flight
// requests, breaker state). Like counter, obtain it once from its family and
// keep the reference; set/add are lock-free atomics safe from any thread.
#pragma once

#include <atomic>

namespace agentgraph::metrics {

class alignas(64) gauge {
 public:
  struct shape {
    bool operator==(const shape&) const = default;
  };
  static constexpr const char* type_name = "gauge";

  explicit gauge(const shape& = {}) {}
  gauge(const gauge&) = delete;
  gauge& operator=(const gauge&) = delete;

  void set(double v) noexcept { value_.store(v, std::memory_order_relaxed); }

  // C++20's atomic<double>::fetch_add: a compare-exchange loop inside the
  // library, so concurrent adds are never lost.
  void add(double delta) noexcept { value_.fetch_add(delta, std::memory_order_relaxed); }
  void sub(double delta) noexcept { value_.fetch_sub(delta, std::memory_order_relaxed); }
  void inc() noexcept { add(1.0); }
  void dec() noexcept { sub(1.0); }

  [[nodiscard]] double value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

}  // namespace agentgraph::metrics

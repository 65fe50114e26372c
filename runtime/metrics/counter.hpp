// A counter series: a count of events that only goes up (requests served,
// tokens spent, errors). Obtain it once from its family
// (`family.with({"planner"})`) and keep the reference; `inc` is then one
// relaxed atomic add, with no lock, safe from any thread.
//
// Integer, not double: every counter agentgraph keeps counts whole things,
// and fetch_add on an integer is a single instruction where a double needs
// a compare-exchange loop. Sums of fractional quantities (seconds, dollars)
// belong in a histogram's _sum or in a gauge.
#pragma once

#include <atomic>
#include <cstdint>

namespace agentgraph::metrics {

// alignas(64): series of different labels are hit by different threads;
// keeping each on its own cache line avoids false sharing between them.
class alignas(64) counter {
 public:
  // Counters have no per-family parameters; the empty shape keeps the family
  // template uniform with histograms, whose shape is their bucket bounds.
  struct shape {
    bool operator==(const shape&) const = default;
  };
  static constexpr const char* type_name = "counter";

  explicit counter(const shape& = {}) {}
  counter(const counter&) = delete;
  counter& operator=(const counter&) = delete;

  void inc(uint64_t n = 1) noexcept { value_.fetch_add(n, std::memory_order_relaxed); }

  // Relaxed read: a scrape sees some recent value, never a torn one.
  [[nodiscard]] uint64_t value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

}  // namespace agentgraph::metrics

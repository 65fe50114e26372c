// A histogram series: observations (latencies, token counts) counted into
// buckets with fixed upper bounds chosen when the family is registered, plus
// their sum. `observe` is a binary search over the bounds and two relaxed
// atomic updates, no lock, safe from any thread.
//
// Buckets are stored non-cumulatively (one increment per observation) and
// summed at scrape time into Prometheus' cumulative `le` buckets. There is no
// separate count atomic: _count is derived from the buckets at scrape, so
// `le="+Inf"` and `_count` always agree, even during concurrent observes.
// (_sum is a separate atomic and may lag a concurrent observation by one.)
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include <caf/expected.hpp>

namespace agentgraph::metrics {

// Bounds per histogram family: each bucket is one atomic per series, and a
// bucket line per series on every scrape.
constexpr size_t histogram_buckets_max = 64;

// Latency buckets in seconds: Prometheus' defaults (5 ms .. 10 s) extended to
// 2 minutes, because LLM completions and tool calls routinely take tens of
// seconds and a 10 s top bucket would lump them all into +Inf.
[[nodiscard]] std::vector<double> latency_buckets_seconds();

// `bounds` must be finite, strictly increasing and at most
// histogram_buckets_max long (the implicit +Inf bucket is not listed).
// Returns errc::invalid_argument otherwise.
[[nodiscard]] caf::error check_bucket_bounds(std::span<const double> bounds);

struct histogram_snapshot {
  std::vector<uint64_t> cumulative;  // one per bound, then +Inf
  double sum = 0;
  uint64_t count = 0;  // == cumulative.back()
};

class histogram {
 public:
  struct shape {
    std::vector<double> bounds;  // validated by check_bucket_bounds
    bool operator==(const shape&) const = default;
  };
  static constexpr const char* type_name = "histogram";

  explicit histogram(const shape& s);
  histogram(const histogram&) = delete;
  histogram& operator=(const histogram&) = delete;

  // NaN lands in +Inf and makes _sum NaN, as in the Go client: it is a
  // caller bug made visible, not silently dropped.
  void observe(double v) noexcept;

  [[nodiscard]] histogram_snapshot snapshot() const;
  [[nodiscard]] std::span<const double> bounds() const noexcept { return bounds_; }

 private:
  const std::vector<double> bounds_;
  // bounds_.size() + 1 counters; the last is the +Inf bucket.
  const std::unique_ptr<std::atomic<uint64_t>[]> buckets_;
  std::atomic<double> sum_{0.0};
};

}  // namespace agentgraph::metrics

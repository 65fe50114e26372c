// Series handles for components that may run without a registry: an actor
// gets a `std::shared_ptr<registry>` through its spawn options, and a null
// one (tests, embedding apps that do not want metrics) means "record
// nothing". The component resolves its series once, at start, into plain
// pointers (null when there is no registry, or when registering the family
// failed: that is logged once, and a metrics problem never stops an actor);
// the hot path then calls the null-safe helpers below, one branch and one
// relaxed atomic each, no lock and no lookup.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/metrics/registry.hpp"

namespace agentgraph::metrics {

inline void inc(counter* c, uint64_t n = 1) noexcept {
  if (c != nullptr)
    c->inc(n);
}
// For figures that arrive signed (token counts from a vendor's usage): a
// negative one is the vendor's bug and counts as 0, keeping the counter monotonic.
inline void inc_nonnegative(counter* c, int64_t n) noexcept {
  if (c != nullptr && n > 0)
    c->inc(static_cast<uint64_t>(n));
}
inline void set(gauge* g, double v) noexcept {
  if (g != nullptr)
    g->set(v);
}
inline void add(gauge* g, double delta) noexcept {
  if (g != nullptr)
    g->add(delta);
}
inline void observe(histogram* h, double v) noexcept {
  if (h != nullptr)
    h->observe(v);
}

// The family, registered on first call and shared afterwards (the registry
// returns the existing family for the same shape); null when `reg` is null
// or the registration failed (logged as an error).
[[nodiscard]] counter_family* counter_family_of(registry* reg, const std::string& name,
                                                const std::string& help,
                                                std::vector<std::string> label_names);

// One series of a family, resolved now: null like the family above.
[[nodiscard]] counter* counter_of(registry* reg, const std::string& name, const std::string& help,
                                  std::vector<std::string> label_names,
                                  std::vector<std::string> label_values);
[[nodiscard]] gauge* gauge_of(registry* reg, const std::string& name, const std::string& help,
                              std::vector<std::string> label_names,
                              std::vector<std::string> label_values);
// Bounds: `bounds` (check_bucket_bounds), for figures other than latencies.
[[nodiscard]] histogram* histogram_of(registry* reg, const std::string& name,
                                      const std::string& help,
                                      std::vector<std::string> label_names,
                                      std::vector<std::string> label_values,
                                      std::vector<double> bounds);
// Bounds: latency_buckets_seconds().
[[nodiscard]] histogram* latency_histogram_of(registry* reg, const std::string& name,
                                              const std::string& help,
                                              std::vector<std::string> label_names,
                                              std::vector<std::string> label_values);

}  // namespace agentgraph::metrics

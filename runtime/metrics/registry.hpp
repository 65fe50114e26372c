// The metrics registry: every metric family of one process, and its
// Prometheus text exposition (format 0.0.4) for GET /metrics.
//
// Usage: register a family once (at actor start-up), obtain series handles
// once, update them on the hot path without locks:
//
//   auto fam = reg.add_counter("agentgraph_tasks_total", "Tasks accepted.", {"agent"});
//   if (!fam) return fam.error();               // bad name or conflicting shape
//   metrics::counter& accepted = (*fam)->with({"planner"});
//   accepted.inc();                              // relaxed atomic add
//
// Thread-safe: registration and scrape take the registry's mutex briefly;
// each family guards its own series (family.hpp); series are atomics.
//
// Naming rules, checked at registration (errc::invalid_argument):
// * metric names match [a-zA-Z_:][a-zA-Z0-9_:]*, label names
//   [a-zA-Z_][a-zA-Z0-9_]* without a `__` prefix, no duplicate labels, no
//   `le` on histograms;
// * counter names must end in `_total`. We enforce rather than append it, so
//   the name in the code is the name on the dashboard, letter for letter;
// * registering an existing name returns the existing family when the type,
//   label names (and histogram bounds) are the same (the help text of the
//   first registration stays), and is an error otherwise;
// * a name that would collide with a histogram's `_bucket`/`_sum`/`_count`
//   series is an error, in either registration order.
//
// Bounds (registry_limits): families_max families (errc::limit_exceeded
// beyond it), series_max label tuples per family (overflow series beyond it,
// counted in agentgraph_metrics_series_refused_total; see family.hpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <caf/expected.hpp>

#include "runtime/metrics/callback_family.hpp"
#include "runtime/metrics/counter.hpp"
#include "runtime/metrics/family.hpp"
#include "runtime/metrics/gauge.hpp"
#include "runtime/metrics/histogram.hpp"

namespace agentgraph::metrics {

struct registry_limits {
  // Families per registry, the registry's own refusal counter included.
  // Registering one more fails with errc::limit_exceeded. agentgraph
  // defines a few dozen; the headroom is for embedding applications.
  size_t families_max = 256;
  // Distinct label tuples per family. Beyond it `with` returns the overflow
  // series. 1000 agents x tools fits; a label fed by user input does not.
  size_t series_max = 1000;
};

// The registry's own metric: refusals by family (see family.hpp).
constexpr std::string_view series_refused_metric = "agentgraph_metrics_series_refused_total";

// The Content-Type header of scrape() output.
constexpr std::string_view exposition_content_type = "text/plain; version=0.0.4; charset=utf-8";

class registry {
 public:
  explicit registry(registry_limits limits = {});
  registry(const registry&) = delete;
  registry& operator=(const registry&) = delete;

  // Each returns the (new or existing) family, owned by the registry, or
  // errc::invalid_argument / errc::limit_exceeded (see the file comment).
  [[nodiscard]] caf::expected<counter_family*> add_counter(
      std::string name, std::string help, std::vector<std::string> label_names = {});
  [[nodiscard]] caf::expected<gauge_family*> add_gauge(std::string name, std::string help,
                                                       std::vector<std::string> label_names = {});
  // `bounds`: see check_bucket_bounds; latency_buckets_seconds() for latencies.
  [[nodiscard]] caf::expected<histogram_family*> add_histogram(std::string name, std::string help,
                                                               std::vector<std::string> label_names,
                                                               std::vector<double> bounds);

  // A collect-on-scrape family (callback_family.hpp). A name can be
  // registered as a callback only once: there is no "same shape" for two
  // different functions.
  [[nodiscard]] caf::error add_callback(std::string name, std::string help,
                                        std::vector<std::string> label_names, callback_type type,
                                        callback_fn fn);

  // The text exposition of every family, by name; within a family, series by
  // label values. Callback functions run here, without the registry lock.
  [[nodiscard]] std::string scrape() const;

  // Sum of agentgraph_metrics_series_refused_total over all families.
  [[nodiscard]] uint64_t series_refused() const;

  [[nodiscard]] size_t family_count() const;
  [[nodiscard]] const registry_limits& limits() const noexcept { return limits_; }

 private:
  template <class Series>
  caf::expected<family<Series>*> add_family(std::string name, std::string help,
                                            std::vector<std::string> label_names,
                                            typename Series::shape shape);

  // Name grammar, labels, collisions with other families and the family
  // bound, for a family that does not exist yet.
  caf::error check_new_family_locked(const std::string& name, std::string_view type,
                                     const std::vector<std::string>& label_names) const;

  const registry_limits limits_;
  mutable std::mutex mutex_;
  // By name, so scrape() is in name order. Families are never removed,
  // which is what lets family pointers and series references be kept.
  std::map<std::string, std::unique_ptr<family_base>, std::less<>> families_;  // guarded by mutex_
  counter_family* refused_ = nullptr;  // set by the constructor, const after
};

}  // namespace agentgraph::metrics

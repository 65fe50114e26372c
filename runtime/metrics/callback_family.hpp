// A collect-on-scrape family: its values are produced by a function at each
// scrape instead of being pushed by the code that owns them. For figures
// that already exist somewhere else and would only be copied into a gauge on
// every change, e.g. an actor's queue depth kept in an atomic stats block.
//
// The function runs on the scraping thread (the HTTP server's), without any
// registry lock held, on every scrape. It must therefore be thread-safe,
// quick and non-blocking: read atomics, never send requests to actors or
// wait. It must keep alive what it reads (capture a shared_ptr), since the
// family lives as long as the registry. It must not throw.
//
// Bound: at most `series_max` samples per scrape. Samples beyond it, samples
// with the wrong number of label values and repeated label tuples are
// dropped and counted in `agentgraph_metrics_series_refused_total`, so a bad
// callback shows up in the metrics instead of breaking the whole page.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "runtime/metrics/family.hpp"

namespace agentgraph::metrics {

struct callback_sample {
  std::vector<std::string> label_values;  // in label-name order
  double value = 0;
};

using callback_fn = std::function<std::vector<callback_sample>()>;

// Counter callbacks report a monotonic total kept elsewhere; their names end
// in `_total` like every counter's.
enum class callback_type { counter, gauge };

class callback_family final : public family_base {
 public:
  callback_family(std::string name, std::string help, std::vector<std::string> label_names,
                  callback_type type, callback_fn fn, size_t series_max, family<counter>* refusals);

  [[nodiscard]] const char* type_name() const noexcept override;
  [[nodiscard]] callback_type type() const noexcept { return type_; }

  void append_text(std::string& out) override;

 private:
  const callback_type type_;
  const callback_fn fn_;  // const after construction; called concurrently by scrapes
};

}  // namespace agentgraph::metrics

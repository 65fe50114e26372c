#include "runtime/metrics/answer_metrics.hpp"

#include "runtime/metrics/series_ref.hpp"

namespace agentgraph::metrics {

void answer_metrics::record(const caf::error& err, std::chrono::steady_clock::duration elapsed,
                            uint64_t n) {
  if (err)
    outcomes.failed(err, n);
  else
    outcomes.ok(n);
  observe(duration, std::chrono::duration<double>(elapsed).count());
}

answer_metrics make_answer_metrics(std::shared_ptr<registry> reg, const answer_metric_names& names,
                                   const std::string& component_label,
                                   const std::string& component) {
  answer_metrics m;
  m.duration = latency_histogram_of(reg.get(), names.histogram, names.histogram_help,
                                    {component_label}, {component});
  m.outcomes = make_outcome_counters(std::move(reg), names.counter, names.counter_help,
                                     component_label, component);
  return m;
}

}  // namespace agentgraph::metrics

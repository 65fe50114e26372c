#include "runtime/metrics/family.hpp"

#include "runtime/log.hpp"

namespace agentgraph::metrics {

family_base::family_base(std::string name, std::string help, std::vector<std::string> label_names,
                         size_t series_max, family<counter>* refusals)
    : name_(std::move(name)),
      help_(std::move(help)),
      label_names_(std::move(label_names)),
      series_max_(series_max),
      refusals_(refusals) {}

void family_base::note_refused(uint64_t n) {
  if (n == 0)
    return;
  if (refusals_ != nullptr)
    refusals_->with({name_}).inc(n);
  // One line per family, not per refusal: a runaway label would otherwise
  // flood the log from a hot path.
  if (!refusal_logged_.exchange(true, std::memory_order_relaxed))
    log(log_severity::warn, "metrics", "series limit reached, using the overflow series",
        {{"family", name_}, {"series_max", std::to_string(series_max_)}});
}

}  // namespace agentgraph::metrics

#include "runtime/metrics/outcome_counters.hpp"

#include "runtime/metrics/series_ref.hpp"

namespace agentgraph::metrics {

const char* outcome_label(const caf::error& err) {
  if (!err)
    return "ok";
  if (auto code = errc_of(err))
    return to_string(*code);
  return "other";
}

outcome_counters::outcome_counters(std::shared_ptr<registry> keepalive, counter_family* family,
                                   std::string component)
  : keepalive_(std::move(keepalive)), family_(family), component_(std::move(component)) {
  AG_ASSERT(family_ == nullptr || family_->label_names().size() == 2);
}

void outcome_counters::ok(uint64_t n) {
  count(0, "ok", n);
}

void outcome_counters::failed(errc code, uint64_t n) {
  // A code from a newer peer than this build is counted, not asserted on.
  if (static_cast<size_t>(code) >= errc_count) {
    count(slot_other, "other", n);
    return;
  }
  count(1 + static_cast<size_t>(code), to_string(code), n);
}

void outcome_counters::failed(const caf::error& err, uint64_t n) {
  if (auto code = errc_of(err))
    failed(*code, n);
  else
    count(slot_other, "other", n);
}

outcome_counters make_outcome_counters(std::shared_ptr<registry> reg, const std::string& name,
                                       const std::string& help, const std::string& component_label,
                                       std::string component) {
  auto* family = counter_family_of(reg.get(), name, help, {component_label, "outcome"});
  return outcome_counters{std::move(reg), family, std::move(component)};
}

void outcome_counters::count(size_t slot, const char* label, uint64_t n) {
  if (family_ == nullptr)
    return;
  AG_ASSERT(slot < series_.size());
  auto*& series = series_[slot];
  if (series == nullptr)
    series = &family_->with({component_, label});
  series->inc(n);
}

}  // namespace agentgraph::metrics

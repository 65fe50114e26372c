// The figures of a component that answers requests (an agent's tasks, a
// tool's calls, a provider's requests): answers by outcome
// (outcome_counters.hpp) and a latency histogram in seconds, both labelled
// with the component. One `record` per answer keeps the two in step.
// Owned by one actor, like outcome_counters.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include <caf/error.hpp>

#include "runtime/metrics/outcome_counters.hpp"
#include "runtime/metrics/registry.hpp"

namespace agentgraph::metrics {

struct answer_metric_names {
  std::string counter;  // ends in _total; labels {component_label, outcome}
  std::string counter_help;
  std::string histogram;  // ends in _seconds; labels {component_label}
  std::string histogram_help;
};

struct answer_metrics {
  outcome_counters outcomes;  // holds the registry alive
  histogram* duration = nullptr;

  // `n` answers (an embedding batch answers each caller) of one piece of
  // work that took `elapsed`: counted n times, observed once. No error: ok.
  void record(const caf::error& err, std::chrono::steady_clock::duration elapsed, uint64_t n = 1);
  void record_since(const caf::error& err, std::chrono::steady_clock::time_point started) {
    record(err, std::chrono::steady_clock::now() - started);
  }
};

// Records nothing when `reg` is null (or a registration failed: logged).
[[nodiscard]] answer_metrics make_answer_metrics(std::shared_ptr<registry> reg,
                                                 const answer_metric_names& names,
                                                 const std::string& component_label,
                                                 const std::string& component);

}  // namespace agentgraph::metrics

// The counters of one component (an agent, tool or provider) by outcome:
// a counter family with the labels {<component label>, outcome}, where
// outcome is `ok` or the name of the errc the work failed with (`timeout`,
// `overloaded`, ...; `other` for an error outside our category). The label
// set is therefore bounded by the errc enum: low cardinality by design.
//
// Each outcome's series is resolved on its first use and cached here, so
// the steady state is an array load and one relaxed atomic add. Owned by
// one actor (its state), like the rest of its state: not thread-safe itself,
// though the series it points to are.
#pragma once

#include <array>
#include <memory>
#include <string>

#include <caf/error.hpp>

#include "runtime/error.hpp"
#include "runtime/metrics/registry.hpp"

namespace agentgraph::metrics {

// The outcome label of an error: errc name, or `other`.
[[nodiscard]] const char* outcome_label(const caf::error& err);

class outcome_counters {
 public:
  // Records nothing.
  outcome_counters() = default;
  // `family` has exactly two labels: the component's, then `outcome`.
  // Null `family` records nothing. `keepalive` holds the registry for as
  // long as the series may be used.
  outcome_counters(std::shared_ptr<registry> keepalive, counter_family* family,
                   std::string component);

  void ok(uint64_t n = 1);
  void failed(errc code, uint64_t n = 1);
  // Errors of our category count under their code; others under `other`.
  void failed(const caf::error& err, uint64_t n = 1);

  [[nodiscard]] bool enabled() const noexcept { return family_ != nullptr; }

 private:
  // Slot 0 is `ok`, slot 1 + code for each errc, the last one `other`.
  static constexpr size_t errc_count = static_cast<size_t>(errc_last) + 1;
  static constexpr size_t slot_other = errc_count + 1;

  void count(size_t slot, const char* label, uint64_t n);

  std::shared_ptr<registry> keepalive_;
  counter_family* family_ = nullptr;
  std::string component_;
  std::array<counter*, errc_count + 2> series_{};  // resolved on first use
};

// Registers (or finds) the counter family `name` with the labels
// {component_label, outcome} and returns the counters of `component`;
// records nothing when `reg` is null or the registration failed (logged).
[[nodiscard]] outcome_counters make_outcome_counters(std::shared_ptr<registry> reg,
                                                     const std::string& name,
                                                     const std::string& help,
                                                     const std::string& component_label,
                                                     std::string component);

}  // namespace agentgraph::metrics

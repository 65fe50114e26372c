// A metric family: one name, help text and fixed list of label names, and one
// series per tuple of label values. Families are created by the registry
// (registry.hpp) and live as long as it does, so a `family<T>*` and the
// series references it hands out never dangle while the registry lives.
//
// Thread-safe. `with` takes the family's mutex (it may create a series), so
// callers obtain a series once and keep the reference; the series itself is
// updated lock-free. Scrapes take the same mutex while they read the values.
//
// Bound: at most `series_max` distinct label tuples per family (label
// cardinality is the classic way to exhaust a Prometheus server, e.g. a label
// fed by user input). Past the bound, `with` returns the family's shared
// overflow series, whose every label value is `overflow_label_value`, and
// adds one to the registry's `agentgraph_metrics_series_refused_total
// {family="..."}`. We chose this over returning an error because the caller
// is on a hot path that must not branch on metrics failures, and over a
// silent drop because the overflow series keeps the totals right and the
// refusal counter says why they are no longer split by label.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/assert.hpp"
#include "runtime/metrics/counter.hpp"
#include "runtime/metrics/series_text.hpp"
#include "runtime/metrics/text_format.hpp"

namespace agentgraph::metrics {

// Sorts after ASCII letters and digits, so the overflow series is listed
// last among ordinary values; `~` cannot be mistaken for a real agent name.
constexpr std::string_view overflow_label_value = "~overflow";

template <class Series>
class family;

// What every family has, whatever its series type: identity, the refusal
// hook, and the entry point the registry calls at scrape time.
class family_base {
 public:
  // `refusals` is the registry's refusal counter family (nullptr for that
  // family itself, which is keyed by family name and so cannot overflow).
  family_base(std::string name, std::string help, std::vector<std::string> label_names,
              size_t series_max, family<counter>* refusals);
  virtual ~family_base() = default;
  family_base(const family_base&) = delete;
  family_base& operator=(const family_base&) = delete;

  [[nodiscard]] const std::string& name() const noexcept { return name_; }
  [[nodiscard]] const std::string& help() const noexcept { return help_; }
  [[nodiscard]] const std::vector<std::string>& label_names() const noexcept {
    return label_names_;
  }
  [[nodiscard]] size_t series_max() const noexcept { return series_max_; }
  // "counter", "gauge" or "histogram": the `# TYPE` word.
  [[nodiscard]] virtual const char* type_name() const noexcept = 0;

  // Appends `# HELP`, `# TYPE` and every series; nothing for a family
  // without series yet (as the Go client does).
  virtual void append_text(std::string& out) = 0;

 protected:
  // Counts `n` refused series requests (or dropped callback samples) in the
  // registry's refusal counter, and logs the first refusal of this family.
  // Never called with the family's mutex held.
  void note_refused(uint64_t n);

 private:
  const std::string name_;
  const std::string help_;
  const std::vector<std::string> label_names_;
  const size_t series_max_;
  family<counter>* const refusals_;
  std::atomic<bool> refusal_logged_{false};
};

template <class Series>
class family final : public family_base {
 public:
  using shape_type = typename Series::shape;

  family(std::string name, std::string help, std::vector<std::string> label_names, shape_type shape,
         size_t series_max, family<counter>* refusals)
      : family_base(std::move(name), std::move(help), std::move(label_names), series_max, refusals),
        shape_(std::move(shape)) {
    AG_ASSERT(series_max >= 1);
    // A family without labels has exactly one series; creating it now makes
    // it visible (as 0) from the first scrape, so rate() works from the start.
    if (this->label_names().empty()) {
      series_.emplace(std::vector<std::string>{}, std::make_unique<Series>(shape_));
      regular_count_ = 1;
    }
  }

  // The series for these label values, in label-name order. The number of
  // values must equal the number of label names (a programmer error
  // otherwise: asserted). Never fails: past series_max it is the overflow
  // series (see the file comment).
  Series& with(std::initializer_list<std::string_view> label_values) {
    return with(std::vector<std::string>(label_values.begin(), label_values.end()));
  }

  Series& with(std::vector<std::string> label_values) {
    AG_ASSERT(label_values.size() == label_names().size());
    bool refused = false;
    Series* series = nullptr;
    {
      std::lock_guard<std::mutex> guard{mutex_};
      series = find_or_create_locked(std::move(label_values), refused);
    }
    if (refused)
      note_refused(1);
    return *series;
  }

  [[nodiscard]] const shape_type& shape() const noexcept { return shape_; }

  // Series with ordinary label values (the overflow series not counted).
  [[nodiscard]] size_t series_count() const {
    std::lock_guard<std::mutex> guard{mutex_};
    return regular_count_;
  }

  // Calls f(label_values, series) for each series in label-value order, under
  // the family's mutex: f must not call back into this family.
  template <class F>
  void for_each(F&& f) const {
    std::lock_guard<std::mutex> guard{mutex_};
    for (const auto& [values, series] : series_)
      f(values, static_cast<const Series&>(*series));
  }

  [[nodiscard]] const char* type_name() const noexcept override { return Series::type_name; }

  void append_text(std::string& out) override {
    std::lock_guard<std::mutex> guard{mutex_};
    if (series_.empty())
      return;
    append_family_header(out, name(), help(), Series::type_name);
    // std::map iterates in label-value order: deterministic output.
    for (const auto& [values, series] : series_)
      append_series(out, name(), label_names(), values, *series);
  }

 private:
  Series* find_or_create_locked(std::vector<std::string>&& values, bool& refused) {
    if (auto it = series_.find(values); it != series_.end())
      return it->second.get();
    if (regular_count_ < series_max()) {
      ++regular_count_;
      auto made = series_.emplace(std::move(values), std::make_unique<Series>(shape_));
      return made.first->second.get();
    }
    refused = true;
    auto& slot = series_[overflow_key()];
    if (!slot)
      slot = std::make_unique<Series>(shape_);
    return slot.get();
  }

  std::vector<std::string> overflow_key() const {
    return std::vector<std::string>(label_names().size(), std::string{overflow_label_value});
  }

  const shape_type shape_;
  mutable std::mutex mutex_;
  // Keyed by label values; unique_ptr keeps handed-out references stable.
  // Bounded: series_max entries plus the overflow series.
  std::map<std::vector<std::string>, std::unique_ptr<Series>> series_;  // guarded by mutex_
  size_t regular_count_ = 0;  // guarded by mutex_; series_ minus the overflow series
};

using counter_family = family<counter>;
using gauge_family = family<gauge>;
using histogram_family = family<histogram>;

}  // namespace agentgraph::metrics

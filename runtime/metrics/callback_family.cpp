#include "runtime/metrics/callback_family.hpp"

#include <algorithm>

namespace agentgraph::metrics {

namespace callback_family_detail {

// Keeps the samples that can be exposed: right arity, first of each label
// tuple, at most `series_max`, sorted by label values (deterministic output).
// Returns how many were dropped.
size_t keep_exposable(std::vector<callback_sample>& samples, size_t label_count,
                      size_t series_max) {
  const size_t produced = samples.size();
  std::erase_if(samples,
                [&](const callback_sample& s) { return s.label_values.size() != label_count; });
  // stable_sort + unique keeps the first sample of each tuple the callback
  // produced, so a repeated tuple cannot change which value is shown.
  std::stable_sort(samples.begin(), samples.end(),
                   [](const callback_sample& a, const callback_sample& b) {
                     return a.label_values < b.label_values;
                   });
  auto dup = std::unique(samples.begin(), samples.end(),
                         [](const callback_sample& a, const callback_sample& b) {
                           return a.label_values == b.label_values;
                         });
  samples.erase(dup, samples.end());
  if (samples.size() > series_max)
    samples.resize(series_max);
  return produced - samples.size();
}

}  // namespace callback_family_detail

callback_family::callback_family(std::string name, std::string help,
                                 std::vector<std::string> label_names, callback_type type,
                                 callback_fn fn, size_t series_max, family<counter>* refusals)
    : family_base(std::move(name), std::move(help), std::move(label_names), series_max, refusals),
      type_(type),
      fn_(std::move(fn)) {
  AG_ASSERT(fn_ != nullptr);
}

const char* callback_family::type_name() const noexcept {
  return type_ == callback_type::counter ? counter::type_name : gauge::type_name;
}

void callback_family::append_text(std::string& out) {
  auto samples = fn_();
  size_t dropped =
      callback_family_detail::keep_exposable(samples, label_names().size(), series_max());
  note_refused(dropped);
  if (samples.empty())
    return;
  append_family_header(out, name(), help(), type_name());
  for (const auto& s : samples)
    append_sample(out, name(), label_names(), s.label_values, s.value);
}

}  // namespace agentgraph::metrics

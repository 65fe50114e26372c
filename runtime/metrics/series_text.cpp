#include "runtime/metrics/series_text.hpp"

#include <limits>
#include <string_view>

#include "runtime/metrics/text_format.hpp"

namespace agentgraph::metrics {

namespace series_text_detail {

// `name` + `suffix`, labels (plus `le` when given), an integer value.
void append_uint_sample(std::string& out, std::string_view name, std::string_view suffix,
                        const std::vector<std::string>& label_names,
                        const std::vector<std::string>& label_values, uint64_t value,
                        std::string_view le = {}) {
  out += name;
  out += suffix;
  if (le.empty())
    append_labels(out, label_names, label_values);
  else
    append_labels(out, label_names, label_values, "le", le);
  out += ' ';
  append_uint(out, value);
  out += '\n';
}

}  // namespace series_text_detail

void append_series(std::string& out, const std::string& name,
                   const std::vector<std::string>& label_names,
                   const std::vector<std::string>& label_values, const counter& c) {
  series_text_detail::append_uint_sample(out, name, {}, label_names, label_values, c.value());
}

void append_series(std::string& out, const std::string& name,
                   const std::vector<std::string>& label_names,
                   const std::vector<std::string>& label_values, const gauge& g) {
  append_sample(out, name, label_names, label_values, g.value());
}

void append_series(std::string& out, const std::string& name,
                   const std::vector<std::string>& label_names,
                   const std::vector<std::string>& label_values, const histogram& h) {
  auto snap = h.snapshot();
  auto bounds = h.bounds();
  std::string le;
  for (size_t i = 0; i <= bounds.size(); ++i) {
    le.clear();
    append_double(le, i < bounds.size() ? bounds[i] : std::numeric_limits<double>::infinity());
    series_text_detail::append_uint_sample(out, name, "_bucket", label_names, label_values,
                                           snap.cumulative[i], le);
  }
  append_sample(out, name + "_sum", label_names, label_values, snap.sum);
  series_text_detail::append_uint_sample(out, name, "_count", label_names, label_values,
                                         snap.count);
}

void append_sample(std::string& out, const std::string& name,
                   const std::vector<std::string>& label_names,
                   const std::vector<std::string>& label_values, double value) {
  out += name;
  append_labels(out, label_names, label_values);
  out += ' ';
  append_double(out, value);
  out += '\n';
}

}  // namespace agentgraph::metrics

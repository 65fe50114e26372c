#include "runtime/metrics/names.hpp"

#include <algorithm>

#include "runtime/error.hpp"

namespace agentgraph::metrics {

namespace names_detail {

bool is_ascii_letter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool is_ascii_digit(char c) {
  return c >= '0' && c <= '9';
}

// Both grammars: first character from letters, `_` and (metrics only) `:`,
// then the same set plus digits.
bool matches_name_grammar(std::string_view name, bool colon_allowed) {
  if (name.empty())
    return false;
  auto head_ok = [&](char c) {
    return is_ascii_letter(c) || c == '_' || (colon_allowed && c == ':');
  };
  if (!head_ok(name.front()))
    return false;
  return std::all_of(name.begin() + 1, name.end(),
                     [&](char c) { return head_ok(c) || is_ascii_digit(c); });
}

}  // namespace names_detail

bool is_valid_metric_name(std::string_view name) {
  return names_detail::matches_name_grammar(name, true);
}

bool is_valid_label_name(std::string_view name) {
  return names_detail::matches_name_grammar(name, false) && !name.starts_with("__");
}

caf::error check_label_names(std::string_view family, const std::vector<std::string>& label_names,
                             bool is_histogram) {
  std::string where = "metric family '" + std::string{family} + "': label '";
  for (size_t i = 0; i < label_names.size(); ++i) {
    const auto& label = label_names[i];
    if (!is_valid_label_name(label))
      return make_error(errc::invalid_argument,
                        where + label + "' must match [a-zA-Z_][a-zA-Z0-9_]* without a __ prefix");
    if (is_histogram && label == "le")
      return make_error(errc::invalid_argument, where + "le' is reserved for histogram buckets");
    if (std::find(label_names.begin(), label_names.begin() + i, label) != label_names.begin() + i)
      return make_error(errc::invalid_argument, where + label + "' appears twice");
  }
  return {};
}

}  // namespace agentgraph::metrics

// Validation of metric and label names against the Prometheus data model
// (https://prometheus.io/docs/concepts/data_model/). Names are checked once,
// when a family is registered, so a bad name is an error at start-up and
// never a broken /metrics page later.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <caf/error.hpp>

namespace agentgraph::metrics {

// [a-zA-Z_:][a-zA-Z0-9_:]*
[[nodiscard]] bool is_valid_metric_name(std::string_view name);

// [a-zA-Z_][a-zA-Z0-9_]* and not starting with `__` (reserved for Prometheus'
// internal labels such as __name__).
[[nodiscard]] bool is_valid_label_name(std::string_view name);

// Checks a whole label-name list: each valid, no duplicates, no `le` when
// `is_histogram` (Prometheus adds `le` to bucket series itself). Returns an
// errc::invalid_argument error naming `family` and the bad label, or none.
[[nodiscard]] caf::error check_label_names(std::string_view family,
                                           const std::vector<std::string>& label_names,
                                           bool is_histogram);

}  // namespace agentgraph::metrics

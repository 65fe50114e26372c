// The low-level pieces of the Prometheus text exposition format 0.0.4:
// escaping of HELP text and label values, and number formatting that
// Prometheus' parser (Go's strconv.ParseFloat) reads back exactly. The
// registry composes these; they are pure and tested on their own.
//
// Spec: https://prometheus.io/docs/instrumenting/exposition_formats/
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace agentgraph::metrics {

// HELP text: backslash -> `\\`, newline -> `\n` (double quotes stay as they are).
void append_escaped_help(std::string& out, std::string_view help);

// Label value: backslash -> `\\`, double quote -> `\"`, newline -> `\n`.
void append_escaped_label_value(std::string& out, std::string_view value);

// `+Inf`, `-Inf`, `NaN`, otherwise the shortest decimal form that parses
// back to the same double (std::to_chars), e.g. `0.005`, `1`, `1e+21`.
void append_double(std::string& out, double value);

void append_uint(std::string& out, uint64_t value);

// `{a="x",b="y"}`, with `extra_name="extra_value"` last when extra_name is
// not empty (histograms add `le`); nothing at all for no labels. `names`
// and `values` have the same length.
void append_labels(std::string& out, const std::vector<std::string>& names,
                   const std::vector<std::string>& values, std::string_view extra_name = {},
                   std::string_view extra_value = {});

// `# HELP name help\n# TYPE name type\n`.
void append_family_header(std::string& out, std::string_view name, std::string_view help,
                          std::string_view type);

}  // namespace agentgraph::metrics

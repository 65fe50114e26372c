// The sample lines of one series in the text exposition format: one line for
// a counter or gauge; `_bucket` lines (cumulative, ending with le="+Inf"),
// `_sum` and `_count` for a histogram. The family writes HELP/TYPE once and
// then calls the overload for each of its series, in label-value order.
#pragma once

#include <string>
#include <vector>

#include "runtime/metrics/counter.hpp"
#include "runtime/metrics/gauge.hpp"
#include "runtime/metrics/histogram.hpp"

namespace agentgraph::metrics {

void append_series(std::string& out, const std::string& name,
                   const std::vector<std::string>& label_names,
                   const std::vector<std::string>& label_values, const counter& c);

void append_series(std::string& out, const std::string& name,
                   const std::vector<std::string>& label_names,
                   const std::vector<std::string>& label_values, const gauge& g);

void append_series(std::string& out, const std::string& name,
                   const std::vector<std::string>& label_names,
                   const std::vector<std::string>& label_values, const histogram& h);

// A sample with a double value (gauges, callback families).
void append_sample(std::string& out, const std::string& name,
                   const std::vector<std::string>& label_names,
                   const std::vector<std::string>& label_values, double value);

}  // namespace agentgraph::metrics

// What a tool records, labelled with its configured name (`tool`):
//
//   agentgraph_tool_calls_total{tool,outcome}       calls answered; outcome `ok` or the errc
//                                                   name (refusals included: bad arguments,
//                                                   overloaded)
//   agentgraph_tool_call_duration_seconds{tool}     histogram: call accepted to answered,
//                                                   cache hits included
//   agentgraph_tool_calls_in_flight{tool}           gauge: calls running now (bounded by
//                                                   tool_inflight_max)
//   agentgraph_tool_cache_hits_total{tool}          cached tools only: answered from the cache
//   agentgraph_tool_cache_misses_total{tool}        cached tools only: passed to the tool
//
// Only the outermost actor of a tool records (the caching wrapper when the
// tool is cached, else the built-in), so a cached call is counted once.
// tool_factory decides which one gets the series.
#pragma once

#include <memory>
#include <string>

#include "runtime/metrics/answer_metrics.hpp"
#include "runtime/metrics/registry.hpp"

namespace agentgraph {

struct tool_metrics {
  metrics::answer_metrics calls;  // calls_total and call_duration_seconds; holds the registry
  metrics::gauge* calls_in_flight = nullptr;
  metrics::counter* cache_hits = nullptr;    // null unless made with `cached`
  metrics::counter* cache_misses = nullptr;  // null unless made with `cached`
};

// All series null (nothing recorded) when `reg` is null.
[[nodiscard]] tool_metrics make_tool_metrics(std::shared_ptr<metrics::registry> reg,
                                             const std::string& tool, bool cached);

}  // namespace agentgraph

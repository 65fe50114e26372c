#include "actors/tool/tool_metrics.hpp"

#include "runtime/metrics/series_ref.hpp"

namespace agentgraph {

tool_metrics make_tool_metrics(std::shared_ptr<metrics::registry> reg, const std::string& tool,
                               bool cached) {
  tool_metrics m;
  auto* r = reg.get();
  m.calls = metrics::make_answer_metrics(
    std::move(reg),
    {"agentgraph_tool_calls_total", "Tool calls answered, by outcome (ok or the error code).",
     "agentgraph_tool_call_duration_seconds",
     "Time from accepting a tool call to answering it, cache hits and failures included."},
    "tool", tool);
  m.calls_in_flight = metrics::gauge_of(
    r, "agentgraph_tool_calls_in_flight",
    "Tool calls running now (bounded by tool_inflight_max per tool actor).", {"tool"}, {tool});
  if (cached) {
    m.cache_hits = metrics::counter_of(r, "agentgraph_tool_cache_hits_total",
                                       "Tool calls answered from the tool's result cache.",
                                       {"tool"}, {tool});
    m.cache_misses = metrics::counter_of(
      r, "agentgraph_tool_cache_misses_total",
      "Calls of a cached tool that were not in its cache and ran the tool.", {"tool"}, {tool});
  }
  return m;
}

}  // namespace agentgraph

// The report of a simulation run, from its run_record: report.json (the
// figures), tasks.csv (one row per task), timeline.csv (one row per sample
// interval), trace.log (every event), and three SVG plots (latency over
// time with fault markers, throughput per entry node, membership over
// time). Pure: the same record gives the same bytes; wall-clock figures
// never enter these files (the determinism check compares them).
#pragma once

#include <string>

#include <caf/error.hpp>
#include <nlohmann/json.hpp>

#include "actors/sim/scenario.hpp"
#include "actors/sim/sim_record.hpp"

namespace agentgraph::sim {

// How long one fault took to notice and to settle, from the membership
// views: detection is the first time a node outside the fault's targets
// saw a target down (or removed), or up again after a restart or thaw;
// settled is when every such node that is live at the end saw every target
// so. An outage or 429 storm on a provider: detection is the vendor's
// first refusal, settled its first call served after the fault ended (both
// from the fault's start). Null when it never happened, and for slow
// providers and link faults.
struct fault_timing {
  std::optional<double> detection_ms;
  std::optional<double> settled_ms;
};
[[nodiscard]] fault_timing time_fault(const run_record& rec, const fault_record& f);

[[nodiscard]] nlohmann::json report_json(const run_record& rec);
[[nodiscard]] std::string tasks_csv(const run_record& rec);
[[nodiscard]] std::string timeline_csv(const run_record& rec);
[[nodiscard]] std::string latency_svg(const run_record& rec);
[[nodiscard]] std::string throughput_svg(const run_record& rec);
[[nodiscard]] std::string membership_svg(const run_record& rec);

// Writes every file above into `dir` (made if missing).
[[nodiscard]] caf::error write_report(const run_record& rec, const std::string& dir);

// A few lines for the terminal.
[[nodiscard]] std::string summary_text(const run_record& rec);

}  // namespace agentgraph::sim

// `agentgraph bench workflow`, the peer and the output: LangGraph.js run as
// `node bench_langgraph.mjs` in a child process (it times its own runs with
// process.hrtime, nearest-rank percentiles as here), the per-graph table
// and the --json object. If node or the packages are missing the row says
// so.
#include <cstdio>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "apps/cli/bench_child.hpp"
#include "apps/cli/bench_workflow.hpp"
#include "runtime/assert.hpp"

namespace agentgraph::cli {

namespace bench_workflow_peer_detail {

std::string printf_string(const char* fmt, auto... values) {
  char buf[512];
  std::snprintf(buf, sizeof buf, fmt, values...);
  return buf;
}

std::string format_row(const workflow_row& row, const workflow_figures* reference) {
  if (!row.figures)
    return printf_string("%-42s %s\n", row.name.c_str(), row.note.c_str());
  const auto& f = *row.figures;
  std::string ratio = "-";
  if (reference != nullptr && reference->per_step_us() > 0)
    ratio = printf_string("%.3fx", f.per_step_us() / reference->per_step_us());
  return printf_string("%-42s %6llu %5u %11.1f %9.3f %9.3f %9s\n", row.name.c_str(),
                       static_cast<unsigned long long>(f.runs), f.steps, f.per_step_us(),
                       f.p50_ms, f.p99_ms, ratio.c_str());
}

// A row's status word and, when it has no figures, why ("skipped: x" ->
// "skipped", "x").
std::pair<std::string, std::string> status_of(const workflow_row& row) {
  if (row.figures)
    return {"measured", ""};
  for (const char* status : {"skipped", "failed"}) {
    const std::string prefix = std::string{status} + ": ";
    if (row.note.rfind(prefix, 0) == 0)
      return {status, row.note.substr(prefix.size())};
  }
  return {"failed", row.note};
}

nlohmann::json row_json(const workflow_table& t, const workflow_row& row) {
  AG_ASSERT(t.reference < t.rows.size());
  const auto& ref = t.rows[t.reference];
  auto [status, reason] = status_of(row);
  nlohmann::json j = {{"graph", t.graph}, {"row", row.name}, {"status", status}};
  if (!row.figures) {
    j["reason"] = reason;
    j["vs_langgraph"] = nullptr;
    j["vs_langgraph_reason"] = "this row has no figures";
    return j;
  }
  const auto& f = *row.figures;
  j.update({{"runs", f.runs}, {"steps", f.steps}, {"step_us_p50", f.per_step_us()},
            {"run_p50_ms", f.p50_ms}, {"run_p99_ms", f.p99_ms}});
  if (ref.figures && ref.figures->per_step_us() > 0) {
    j["vs_langgraph"] = f.per_step_us() / ref.figures->per_step_us();
  } else {
    j["vs_langgraph"] = nullptr;
    j["vs_langgraph_reason"] = "the reference row (" + ref.name + ") has no figures: " + ref.note;
  }
  return j;
}

}  // namespace bench_workflow_peer_detail

workflow_row run_langgraph(const std::string& peers_dir, std::string name,
                           const langgraph_job& job) {
  using namespace bench_workflow_peer_detail;
  workflow_row row;
  row.name = std::move(name);
  const auto node = find_node();
  if (auto why = peer_skip_reason(node, peers_dir, "bench_langgraph.mjs", "@langchain/langgraph");
      !why.empty()) {
    row.note = "skipped: " + why;
    return row;
  }
  std::string out;
  const int rc = run_captured({node, peers_dir + "/bench_langgraph.mjs", "--graph", job.graph,
                               "--nodes", job.nodes, "--checkpointer", job.checkpointer,
                               "--warmup", std::to_string(job.warmup), "--runs",
                               std::to_string(job.runs)},
                              out);
  auto j = nlohmann::json::parse(out, nullptr, false);
  if (rc != 0 || j.is_discarded() || !j.is_object() || !j.contains("runs")) {
    row.note = "failed: node exited " + std::to_string(rc) + ", output: " + out.substr(0, 300);
    return row;
  }
  workflow_figures f;
  f.runs = j.value("runs", uint64_t{0});
  f.steps = j.value("steps", uint32_t{0});
  f.p50_ms = j.value("p50_ms", 0.0);
  f.p99_ms = j.value("p99_ms", 0.0);
  row.figures = f;
  return row;
}

std::string format_workflow_table(const workflow_table& t) {
  using namespace bench_workflow_peer_detail;
  AG_ASSERT(t.reference < t.rows.size());
  const auto& ref = t.rows[t.reference];
  const workflow_figures* reference = ref.figures ? &*ref.figures : nullptr;
  std::string out = t.title + "\n";
  out += printf_string("%-42s %6s %5s %11s %9s %9s %9s\n", "engine, nodes, checkpoints", "runs",
                       "steps", "step us p50", "run p50ms", "run p99ms", "vs LG");
  for (const auto& row : t.rows)
    out += format_row(row, reference);
  for (const auto& [a, b] : t.compare) {
    AG_ASSERT(a < t.rows.size() && b < t.rows.size());
    const auto& ra = t.rows[a];
    const auto& rb = t.rows[b];
    std::string verdict = "n/a";
    if (ra.figures && rb.figures && ra.figures->per_step_us() > 0)
      verdict = printf_string("%.1fx lower per-step overhead (%.1f vs %.1f us)",
                              rb.figures->per_step_us() / ra.figures->per_step_us(),
                              ra.figures->per_step_us(), rb.figures->per_step_us());
    out += "  " + ra.name + " vs " + rb.name + ": " + verdict + "\n";
  }
  return out;
}

std::string format_workflow_json(const std::vector<workflow_table>& tables,
                                 const workflow_bench_info& info) {
  using namespace bench_workflow_peer_detail;
  nlohmann::json out = {{"bench", "workflow"},
                        {"runs", info.runs},
                        {"warmup", info.warmup},
                        {"optimized", info.optimized},
                        {"hardware_threads", info.hardware_threads},
                        {"scheduler",
                         {{"policy", info.scheduler_policy}, {"threads", info.scheduler_threads}}},
                        {"rows", nlohmann::json::array()},
                        {"comparisons", nlohmann::json::array()}};
  for (const auto& t : tables) {
    for (const auto& row : t.rows)
      out["rows"].push_back(row_json(t, row));
    for (const auto& [a, b] : t.compare) {
      AG_ASSERT(a < t.rows.size() && b < t.rows.size());
      const auto& ra = t.rows[a];
      const auto& rb = t.rows[b];
      nlohmann::json c = {{"graph", t.graph}, {"row", ra.name}, {"reference", rb.name}};
      if (ra.figures && rb.figures && ra.figures->per_step_us() > 0)
        c["times_lower"] = rb.figures->per_step_us() / ra.figures->per_step_us();
      else
        c["times_lower"] = nullptr;
      out["comparisons"].push_back(std::move(c));
    }
  }
  return out.dump(2);
}

}  // namespace agentgraph::cli

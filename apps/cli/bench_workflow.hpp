// `agentgraph bench workflow`: the per-step overhead of the workflow engine.
// Two graphs (a 3-node chain and a 10-way fan-out joined into a last node,
// 3 super-steps each) run one after the other in a closed loop, with nodes
// that cost nothing: agent nodes over the embedded scripted provider
// answering at once (what users run), and function nodes (the engine's own
// floor). Checkpoints off, on SQLite and on PostgreSQL. Next to them the same
// graphs in LangGraph.js (tools/peers/bench_langgraph.mjs), without a
// checkpointer and with MemorySaver.
//
// Rows differ in who starts the runs: this thread blocked in run_workflow
// asking for no events (what an embedding app's call costs), the same
// taking every event, or an event-based actor starting each run when the
// last answered (no thread blocks: the engine without the hand-off between
// a plain thread and CAF's scheduler). `--only TEXT` runs just the rows
// whose name holds TEXT (profiling one row); `--json` prints one object.
//
// Per-step overhead = a run's wall time / its super-steps; the table gives
// it at the median run, next to the runs' p50 and p99. A run that fails, or
// ends in another state or step count than expected, fails the row; the
// command then exits 1. No figure is ever made up: a row that cannot run
// says "skipped: ..." and why.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "apps/cli/commands.hpp"

namespace agentgraph::cli {

// Bounds of the command's options.
inline constexpr uint64_t bench_workflow_runs_max = 100'000;

int bench_workflow(const args& argv);

struct workflow_figures {
  uint64_t runs = 0;
  uint32_t steps = 0;  // super-steps per run
  double p50_ms = 0;   // of the runs' wall times
  double p99_ms = 0;
  [[nodiscard]] double per_step_us() const { return steps > 0 ? p50_ms * 1000.0 / steps : 0; }
};

// One line of a table: figures, or a note ("skipped: ...", "failed: ...").
struct workflow_row {
  std::string name;
  std::optional<workflow_figures> figures;
  std::string note;
};

// The table of one graph: `title`, a header, the rows, then the ratio lines.
// The ratio column is the row's per-step overhead over the reference row's
// (LangGraph.js with fake-model nodes and no checkpointer); rows named in
// `compare` pairs get a line "A vs B: N.NNx lower per-step overhead".
struct workflow_table {
  std::string graph;  // chain3 | fanout10
  std::string title;
  std::vector<workflow_row> rows;
  size_t reference = 0;  // index into rows
  std::vector<std::pair<size_t, size_t>> compare;
};
[[nodiscard]] std::string format_workflow_table(const workflow_table& t);

// What the figures were measured on, printed with them.
struct workflow_bench_info {
  uint64_t runs = 0;
  uint64_t warmup = 0;
  bool optimized = false;
  unsigned hardware_threads = 0;
  std::string scheduler_policy;  // CAF's scheduler.policy of the rows' runtimes
  size_t scheduler_threads = 0;
};

// `--json`: one object with `info`'s fields and every row of every table:
// {"bench": "workflow", "runs", "warmup", "optimized", "hardware_threads",
//  "scheduler": {"policy", "threads"},
//  "rows": [{"graph", "row", "status": "measured" | "skipped" | "failed",
//            "reason" (not measured), "runs", "steps", "step_us_p50",
//            "run_p50_ms", "run_p99_ms" (measured), "vs_langgraph": the
//            per-step ratio over the table's reference row, or null with
//            "vs_langgraph_reason"}],
//  "comparisons": [{"graph", "row", "reference", "times_lower"}]}
// (times_lower null when either row has no figures). Figures only, never text to parse.
[[nodiscard]] std::string format_workflow_json(const std::vector<workflow_table>& tables,
                                               const workflow_bench_info& info);

// What bench_langgraph.mjs is asked to run.
struct langgraph_job {
  std::string graph;         // chain3 | fanout10
  std::string nodes;         // model | function
  std::string checkpointer;  // none | memory
  uint64_t warmup = 0;
  uint64_t runs = 0;
};

// Runs `node <peers_dir>/bench_langgraph.mjs` for one row. The row has
// figures, or a note: "skipped: ..." when node or @langchain/langgraph is
// missing (with how to install), "failed: ..." when the script failed.
[[nodiscard]] workflow_row run_langgraph(const std::string& peers_dir, std::string name,
                                         const langgraph_job& job);

}  // namespace agentgraph::cli

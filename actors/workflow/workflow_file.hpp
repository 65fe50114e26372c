// The workflow file: a JSON document describing one workflow_graph, for
// `agentgraph run --workflow F`. Parsing checks the shape (every error names
// the JSON path, e.g. `edges[2].if[0].when`), then validate_graph checks the
// graph. Unknown keys are errors, as in the node config.
//
//   {
//     "name": "review", "entry": "draft", "max_steps": 10,
//     "state": {"notes": "append", "meta": "merge", "best": {"reducer": "function", "function": "max"}},
//     "nodes": {
//       "draft":  {"agent": "writer", "input": "Write about {{topic}}", "output": "draft",
//                  "timeout": "30s", "retries": 1},
//       "check":  {"tool": "calculator", "arguments": {"expression": "{{expr}}"}, "output": "result",
//                  "cache": "10m"},                                  // deterministic: cache its update
//       "count":  {"function": "word_count"}
//     },
//     "edges": [
//       {"from": "draft", "to": ["check", "count"]},                  // fan-out
//       {"join": ["check", "count"], "to": "decide"},                   // fan-in
//       {"from": "decide", "if": [{"when": "score >= 0.8", "to": "END"}, {"else": "draft"}]},
//       {"from": "triage", "route": "choice", "routes": {"approve": "publish", "revise": "draft"}},
//       {"from": "draft", "on_error": "apologise"}
//     ],
//     "interrupt_before": ["publish"], "interrupt_after": []
//   }
#pragma once

#include <string>
#include <string_view>

#include <caf/expected.hpp>

#include "actors/workflow/workflow_graph.hpp"

namespace agentgraph {

constexpr size_t workflow_file_bytes_max = 1 << 20;

// Errors: parse_error (not JSON, wrong shape; the message names the path),
// and validate_graph's invalid_argument. `origin` prefixes messages.
[[nodiscard]] caf::expected<workflow_graph> parse_workflow(std::string_view json,
                                                           const std::string& origin,
                                                           const graph_names& names = {});

// Reads at most workflow_file_bytes_max bytes; io_error if unreadable.
[[nodiscard]] caf::expected<workflow_graph> load_workflow(const std::string& path,
                                                          const graph_names& names = {});

}  // namespace agentgraph

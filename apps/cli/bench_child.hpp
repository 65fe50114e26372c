// The benchmarks' npm peers run as child processes (`node <script>.mjs`):
// finding node and running a script with its stdout captured. Shared by
// `bench llm` (bench_peer.cpp) and `bench workflow` (bench_workflow_peer.cpp).
#pragma once

#include <string>
#include <vector>

namespace agentgraph::cli {

// The peers' stdout is one short JSON line; anything longer is a bug and is
// cut at this size.
inline constexpr size_t peer_output_bytes_max = 64 * 1024;

[[nodiscard]] bool is_file(const std::string& path);

// The first executable `node` on PATH, or empty.
[[nodiscard]] std::string find_node();

// Runs argv[0] (a path, not looked up on PATH) with stdout captured and
// stderr passed through. Returns the exit status (-1 if it could not start,
// 128 + N if signal N ended it) and fills `out` (at most
// peer_output_bytes_max bytes). Blocks until the child exits.
[[nodiscard]] int run_captured(const std::vector<std::string>& argv, std::string& out);

// Why `node <peers_dir>/<script>` cannot run, or empty when it can: node is
// not on PATH (`node` empty), the script is missing, or npm package
// `package` is not installed in <peers_dir>/node_modules (the reason then
// says how to install it).
[[nodiscard]] std::string peer_skip_reason(const std::string& node, const std::string& peers_dir,
                                           const std::string& script, const std::string& package);

}  // namespace agentgraph::cli

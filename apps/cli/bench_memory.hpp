// `agentgraph bench memory`: what durable stores cost. One memory shard per
// row on a temp SQLite file, driven by a closed loop of `concurrency`
// stores in flight (when one is answered the next is sent) from an actor in
// the same process; each store is timed with steady_clock from the send to
// its reply. Rows: durability snapshot (answered from memory; the file is
// written every snapshot_interval, 30 s, which a run this short does not
// reach) and durability commit (answered after its row is fsync'd, stores
// of one commit_window sharing a commit), at each concurrency; the ratio
// column compares each row with snapshot at the same concurrency, measured
// in the same run. A failed store fails the row and the command exits 1.
#pragma once

#include <cstdint>

#include "apps/cli/commands.hpp"

namespace agentgraph::cli {

// Bounds of the command's options.
inline constexpr uint64_t bench_memory_stores_max = 1'000'000;

int bench_memory(const args& argv);

}  // namespace agentgraph::cli

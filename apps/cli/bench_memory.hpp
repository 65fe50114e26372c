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
// With --fill N,...: one more row per N, one store at a time on a shard
// already full at N entries (loaded from a file written for the row), so
// each store also evicts one; stores/s against the first N's shows how a
// store's cost grows with the shard (flat: O(1) or O(log n) per store).
#pragma once

#include <cstddef>
#include <cstdint>

#include "apps/cli/commands.hpp"

namespace agentgraph::cli {

// Bounds of the command's options.
inline constexpr uint64_t bench_memory_stores_max = 1'000'000;
// A fill row builds its entries in memory and a file, then the shard
// loads them: 1.4-2.3 KB per entry in the shard with hash-256 (B/entry of
// the rows), so a million entries take a few GB.
inline constexpr uint64_t bench_memory_fill_max = 1'000'000;
inline constexpr size_t bench_memory_fills_max = 8;  // sizes in one --fill list

int bench_memory(const args& argv);

}  // namespace agentgraph::cli

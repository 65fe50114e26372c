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
// Then the embedder rows (issue 13; --no-embed leaves them out): stores and
// recalls with hash-256 against a provider's model on the mock LLM server
// over loopback, batching off and on (bench_memory_embed.cpp). Then the
// index rows (issue 13; --no-index leaves them out): the shard's vector
// index against an exact scan of the same data, without an actor
// (bench_memory_index.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <optional>

#include <caf/fwd.hpp>
#include <nlohmann/json_fwd.hpp>

#include "apps/cli/bench_llm.hpp"
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

// The index rows (bench_memory_index.cpp says what they measure): for each
// size, hash-256 text, then clustered vectors of each dim.
inline constexpr size_t bench_memory_index_sizes_max = 4;
inline constexpr uint64_t bench_memory_index_entries_max = 1'000'000;
inline constexpr size_t bench_memory_index_dims_max = 4;
inline constexpr size_t bench_memory_index_queries_max = 100'000;
struct index_bench_options {
  std::vector<uint64_t> sizes;  // entries per row
  std::vector<uint32_t> dims;   // the clustered rows' dimensions
  size_t queries = 0;           // per row, each run on both indexes
};

struct index_row {
  std::string data;  // "hash-256 text", "clustered-384"
  size_t entries = 0;
  size_t queries = 0;
  bool sparse_exact = true;  // exact_search_sparse of the index
  bool uses_hnsw = false;    // the index switched to HNSW
  // The shard's index (exact below exact_search_max, HNSW from there).
  double insert_per_s = 0;  // entries / time to add them all, one at a time
  double recall_p50_us = 0;
  double recall_p99_us = 0;
  double recall_at_10 = 0;  // share of the exact top-10 ids it returned
  double ef_p50 = 0;        // the adaptive search's final ef, median
  double bytes_per_entry = 0;
  // An exact scan of the same entries.
  double exact_p50_us = 0;
  double exact_p99_us = 0;
  double exact_insert_per_s = 0;
  double exact_bytes_per_entry = 0;
};

[[nodiscard]] std::vector<index_row> run_index_rows(const index_bench_options& o);

// The embedder rows (bench_memory_embed.cpp says what they measure):
// hash-256 in the shard, then a provider's model on the mock with the
// provider's batching off and on.
inline constexpr uint64_t bench_memory_embed_ops_max = 1'000'000;
struct embed_bench_options {
  uint64_t stores = 2'000;
  uint64_t warmup = 100;
  uint64_t recalls = 500;
  uint32_t concurrency = 32;
};
struct embed_row {
  std::string name;
  int64_t batch_window_ms = -1;  // the provider's embed_batch_window; -1: hash-256
  std::optional<row_figures> stores;
  std::optional<row_figures> recalls;
  uint64_t store_requests = 0;  // embedding requests the mock got for the stores
  std::string note;             // why there are no figures
};
[[nodiscard]] std::vector<embed_row> run_embed_rows(caf::actor_system& sys,
                                                    const embed_bench_options& o);
void print_embed_table(const std::vector<embed_row>& rows, const embed_bench_options& o);
[[nodiscard]] nlohmann::json embed_json(const std::vector<embed_row>& rows);
void print_index_table(const std::vector<index_row>& rows);
[[nodiscard]] nlohmann::json index_json(const index_row& r);

}  // namespace agentgraph::cli

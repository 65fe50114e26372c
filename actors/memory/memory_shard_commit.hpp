// The memory shard's commit durability (memory_config::durability =
// commit, with a snapshot_path), called from the shard's handlers in
// memory_shard.cpp. Private to the shard: nothing else includes this.
//
// How a store becomes durable (group commit):
//
//   store ──► store in memory, change queued, reply promised
//               │ first change: arm a commit_window timer
//               ▼  (a full batch, or a snapshot_atom waiting, goes at once)
//   memory_flush_atom ──► cut a batch ──► writer: one transaction, fsync
//               ▲                             │
//               └── changes queued meanwhile ◄┘ reply: deliver the batch's
//                   go next, at once             stores (or roll them back)
//
// One batch is at the writer at a time, so batches commit in order and the
// next one grows while the current one waits for its fsync.
#pragma once

#include <cstdint>

#include <caf/make_message.hpp>  // caf/result.hpp uses it without including it (CAF 0.17)
#include <caf/result.hpp>

#include "actors/memory/memory_shard.hpp"

namespace agentgraph::memory_shard_detail {
// Publishes the size of the shard after its entries changed (memory_shard.cpp).
void note_entries(memory_shard_state& st);
// A store (placed false: the shard assigns the id) or a replica's store:
// {id, whether the entries changed}.
caf::expected<std::pair<uint64_t, bool>> store_or_place(memory_shard_state& st, memory_entry e,
                                                        bool placed, std::vector<float> vector);
}  // namespace agentgraph::memory_shard_detail

namespace agentgraph::memory_commit_detail {

using shard_pointer = memory_shard_pointer;

// Engages st.commit, spawns the writer and turns on change tracking.
void start(shard_pointer self, const std::string& path);

// store_atom (placed: replica_store_atom, the id comes with the entry):
// stores in memory (with `vector`, see memory_store::store), then delivers
// `rp` once the entry is committed. A placed id held already is answered
// at once. Errors at once: invalid_argument, overloaded
// (commit_waiting_max).
void store_and_wait(shard_pointer self, memory_entry e, bool placed, std::vector<float> vector,
                    caf::typed_response_promise<uint64_t> rp);

// After a change made by anything but a store (recall hits, retention):
// queues the store's changes and schedules a commit.
void on_changed(shard_pointer self);

// memory_flush_atom.
void on_flush(shard_pointer self);

// snapshot_atom: commit everything pending, compact, reply the entries held.
caf::result<uint64_t> on_snapshot(shard_pointer self);

// The cleanup tick: compacts the file when snapshot_interval has passed
// since the last compaction and something was committed since.
void on_tick(shard_pointer self, int64_t now_ms);

}  // namespace agentgraph::memory_commit_detail

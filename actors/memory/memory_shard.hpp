// The memory shard actor: serves memory_actor (memory_interface.hpp) from a
// memory_store, applies retention on every store and on its cleanup timer,
// and persists to SQLite through a detached writer so that SQLite never runs
// on a scheduler thread. Durability commit (the default): every change is
// committed within commit_window and a store is answered after its commit
// (memory_shard_commit.hpp draws the flow); durability snapshot: the whole
// shard is rewritten every snapshot_interval and on request.
//
// Lifecycle contract (for the Runtime and supervisors):
// - spawn_memory_shard validates the config and loads the snapshot on the
//   CALLING thread (blocking file I/O), before the shard serves. Call it
//   from non-actor code or accept that load time on the caller's thread.
// - On exit (user_shutdown or any other reason) the shard does not write a
//   snapshot: exit must not block. Whoever shuts a persisted shard down
//   first requests snapshot_atom, waits for its reply (or its error), and
//   only then sends the exit. Snapshots still queued at the writer when the
//   shard exits are dropped; the one being written completes (SQLite
//   transactions are atomic either way). In commit durability only changes
//   no caller was promised can be lost this way (recent access fields):
//   every answered store is already on disk.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/expected.hpp>
#include <caf/typed_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include "actors/memory/memory_commit.hpp"
#include "actors/memory/memory_config.hpp"
#include "actors/memory/memory_interface.hpp"
#include "actors/memory/memory_metrics.hpp"
#include "actors/memory/memory_replica_interface.hpp"
#include "actors/memory/memory_embed_state.hpp"
#include "actors/memory/memory_store.hpp"
#include "runtime/call_watch.hpp"
#include "runtime/cache/cache_message.hpp"

namespace agentgraph {

// How long the shard waits for its writer to finish one snapshot before it
// replies timeout (the write may still complete). Not a config key yet:
// memory_config has no such field.
constexpr std::chrono::seconds memory_snapshot_write_timeout{120};
// Snapshots handed to the writer and not yet confirmed. Beyond this,
// snapshot_atom replies overloaded at once and the periodic snapshot waits
// for the next tick; each one holds a full copy of the entries.
constexpr uint32_t memory_snapshots_inflight_max = 4;

// Commit durability: how long the shard waits for its writer to confirm
// one batch before the batch's stores get timeout (the commit may still
// land). An fsync takes milliseconds; only a stuck disk gets near this.
constexpr std::chrono::seconds memory_commit_timeout{30};

// Unix time in milliseconds from the system clock: the default clock.
[[nodiscard]] int64_t system_unix_ms();

// The detached writer: saves a copy of the entries into the snapshot file.
// Reply: entries written. Errors: io_error / parse_error from SQLite.
using snapshot_write_atom = caf::atom_constant<caf::atom("ag_snapwr")>;
using memory_snapshot_writer = caf::typed_actor<
  caf::replies_to<snapshot_write_atom, std::vector<memory_entry>, uint64_t,
                  embedding_label>::with<uint64_t>>;

// Commit durability's detached writer (memory_commit_file in its state).
// commit: applies one batch in one transaction; reply: changes written.
// compact: checkpoints and truncates the WAL; reply: frames checkpointed.
// Errors: io_error / parse_error from SQLite.
using memory_commit_atom = caf::atom_constant<caf::atom("ag_commit")>;
using memory_compact_atom = caf::atom_constant<caf::atom("ag_compact")>;
using memory_commit_writer
  = caf::typed_actor<caf::replies_to<memory_commit_atom, memory_commit_batch>::with<uint64_t>,
                     caf::replies_to<memory_compact_atom>::with<uint64_t>>;

// A store whose reply waits for its commit.
struct memory_waiting_store {
  uint64_t id = 0;
  caf::typed_response_promise<uint64_t> promise;
};

// What a shard in commit durability holds besides the store. Only the
// shard touches it (memory_shard_commit.cpp).
struct memory_commit_state {
  memory_commit_writer writer;  // detached + linked: it ends with the shard
  memory_commit_queue pending;  // changes not yet handed to the writer
  // Stores whose change is in `pending`; bounded with `committing` by
  // commit_waiting_max (beyond: overloaded).
  std::vector<memory_waiting_store> waiting;
  // The one batch at the writer and the stores it answers. One at a time
  // keeps batches in order and lets the next one grow during an fsync.
  std::optional<memory_commit_cut> inflight;
  std::vector<memory_waiting_store> committing;
  bool flush_armed = false;  // a memory_flush_atom is on its way
  // snapshot_atom requests waiting for every change to be committed and the
  // file compacted; bounded by memory_snapshots_inflight_max.
  std::vector<caf::typed_response_promise<uint64_t>> flush_waiters;
  uint64_t commits = 0;
  uint64_t commits_at_compaction = 0;  // `commits` when the last compaction started
  bool compacting = false;
};

struct memory_shard_state {
  static inline const char* name = "memory_shard";

  // Set before the first message is handled; never empty afterwards.
  std::optional<memory_store> store;
  // Unix ms; injected so tests control age and decay without sleeping.
  std::function<int64_t()> now_ms;
  // The whole-shard writer of durability snapshot; invalid without a
  // snapshot_path and in durability commit. Linked: it ends with us.
  memory_snapshot_writer writer;
  uint32_t snapshots_inflight = 0;  // bounded by memory_snapshots_inflight_max
  uint64_t snapshots_written = 0;
  uint64_t snapshot_failures = 0;
  std::string last_snapshot_error;  // describe() of the last failure
  // Dirty tracking: bumped on every change (store, recalled access fields,
  // eviction); saved_seq is the value the last confirmed snapshot captured.
  uint64_t mutation_seq = 0;
  uint64_t saved_seq = 0;
  int64_t last_snapshot_ms = 0;  // when the last periodic check started one
  memory_metrics metrics;        // resolved at start
  // Engaged in commit durability (with a snapshot_path); `writer` above is
  // then invalid: the file is kept current, never rewritten whole.
  std::optional<memory_commit_state> commit;
  // Engaged with a provider's embedding model (memory_shard_embed.hpp).
  std::optional<memory_embed_state> embed;
  // The provider requests of `embed`, each with its deadline and a monitor
  // on the provider (capacity set at start: embedding_waiting_max +
  // reembed_inflight).
  call_watch embed_watch{1};
};

// What the shard serves: memory_replica_actor (memory_actor and a
// replica's messages), and its own messages: Redis lookups of the
// embedding cache coming back, and an embedding's retry timer.
using memory_shard_actor = memory_replica_actor::extend<
  caf::reacts_to<cache_l3_atom, uint64_t, cache::l3_reply>,
  caf::reacts_to<memory_embed_retry_atom, uint64_t>>;
using memory_shard_pointer = memory_shard_actor::stateful_pointer<memory_shard_state>;

memory_shard_actor::behavior_type memory_shard(memory_shard_pointer self,
                                               std::shared_ptr<memory_store> store,
                                               std::function<int64_t()> now_ms,
                                               std::shared_ptr<metrics::registry> registry,
                                               memory_embed_deps deps);

// Validates cfg (errors name the key), loads cfg.snapshot_path if set (a
// missing file is an empty shard; a corrupt one is parse_error or io_error
// naming the file) and spawns the shard. Its first message is a cleanup, so
// retention applies to the loaded entries before any request is served.
// `now_ms` defaults to system_unix_ms. `registry`: where the shard records
// its metrics (memory_metrics.hpp); null: nowhere. `deps`: the provider
// and cache levels of a provider's embedding model (invalid_argument
// without a provider then). A snapshot embedded with another model or
// dimension loads under cfg.model_change: refused (invalid_argument naming
// both), or loaded without vectors to be embedded again.
[[nodiscard]] caf::expected<memory_actor>
spawn_memory_shard(caf::actor_system& sys, const memory_config& cfg,
                   std::function<int64_t()> now_ms = {},
                   std::shared_ptr<metrics::registry> registry = nullptr,
                   memory_embed_deps deps = {});

}  // namespace agentgraph

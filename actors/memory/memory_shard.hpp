// The memory shard actor: serves memory_actor (memory_interface.hpp) from a
// memory_store, applies retention on every store and on its cleanup timer,
// and persists snapshots through a detached writer so that SQLite never runs
// on a scheduler thread.
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
//   transactions are atomic either way).
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

#include "actors/memory/memory_config.hpp"
#include "actors/memory/memory_interface.hpp"
#include "actors/memory/memory_metrics.hpp"
#include "actors/memory/memory_store.hpp"

namespace agentgraph {

// How long the shard waits for its writer to finish one snapshot before it
// replies timeout (the write may still complete). Not a config key yet:
// memory_config has no such field.
constexpr std::chrono::seconds memory_snapshot_write_timeout{120};
// Snapshots handed to the writer and not yet confirmed. Beyond this,
// snapshot_atom replies overloaded at once and the periodic snapshot waits
// for the next tick; each one holds a full copy of the entries.
constexpr uint32_t memory_snapshots_inflight_max = 4;

// Unix time in milliseconds from the system clock: the default clock.
[[nodiscard]] int64_t system_unix_ms();

// The detached writer: saves a copy of the entries into the snapshot file.
// Reply: entries written. Errors: io_error / parse_error from SQLite.
using snapshot_write_atom = caf::atom_constant<caf::atom("ag_snapwr")>;
using memory_snapshot_writer = caf::typed_actor<
  caf::replies_to<snapshot_write_atom, std::vector<memory_entry>, uint64_t>::with<uint64_t>>;

struct memory_shard_state {
  static inline const char* name = "memory_shard";

  // Set before the first message is handled; never empty afterwards.
  std::optional<memory_store> store;
  // Unix ms; injected so tests control age and decay without sleeping.
  std::function<int64_t()> now_ms;
  // Invalid when the config has no snapshot_path. Linked: it ends with us.
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
};

memory_actor::behavior_type memory_shard(memory_actor::stateful_pointer<memory_shard_state> self,
                                         std::shared_ptr<memory_store> store,
                                         std::function<int64_t()> now_ms,
                                         std::shared_ptr<metrics::registry> registry);

// Validates cfg (errors name the key), loads cfg.snapshot_path if set (a
// missing file is an empty shard; a corrupt one is parse_error or io_error
// naming the file) and spawns the shard. Its first message is a cleanup, so
// retention applies to the loaded entries before any request is served.
// `now_ms` defaults to system_unix_ms. `registry`: where the shard records
// its metrics (memory_metrics.hpp); null: nowhere.
[[nodiscard]] caf::expected<memory_actor>
spawn_memory_shard(caf::actor_system& sys, const memory_config& cfg,
                   std::function<int64_t()> now_ms = {},
                   std::shared_ptr<metrics::registry> registry = nullptr);

}  // namespace agentgraph

// The front of a memory shard with `replicas = R` > 1 (net/cluster/DESIGN.md
// §8.7): it serves memory_actor under the shard's name, so agents and the
// Runtime's memory ref use it unchanged, and keeps every entry on R nodes.
//
//   replica set   the R nodes that rendezvous hashing of the shard's name
//                 ranks highest (agent_group.hpp's rendezvous_pick, the
//                 groups' own) among the nodes offering the shard now: this
//                 node's own shard and the offers in the replica_table.
//                 Every node computes the same set from the same directory.
//   store         the front assigns the id and created_ms, then sends the
//                 entry to every replica of the set (replica_store_atom)
//                 under one deadline, and answers when all have answered:
//                 the id when at least one stored it and none failed other
//                 than `unavailable` (its node went down: the entry reaches
//                 it again by re-replication), the first other error if one
//                 did (the entry may be on the others, as after a commit
//                 timeout), `unavailable` when no replica lives.
//   recall        to one replica, this node's first, then in rendezvous
//                 order, moving on when one is `unavailable`. Access fields
//                 (last_access_ms, access_count) are kept per replica.
//                 recall_scoped_atom goes the same way: every replica holds
//                 the same entries, so the same scopes.
//   re-replication  whenever the set changes, or a node starts offering the
//                 shard (a healed partition), and this node is in it, this
//                 node's shard is filled from EVERY other node offering the
//                 shard now, set member or not, one after the other (a node
//                 that dropped out of the set, e.g. one that was alone before
//                 higher-ranked nodes joined, or the other side of a healed
//                 partition, may hold entries no member has), with
//                 export/import pages: one page in flight, idempotent by id,
//                 counted in agentgraph_memory_rereplicated_entries_total and
//                 logged. A page whose ids are not strictly ascending above
//                 the cursor drops its source for the pass (it would loop or
//                 skip). A second pass follows after `settle`, for stores
//                 that fronts with an older view sent to the old set only
//                 while the first pass ran. A pass that did not end clean (a
//                 source failed or timed out, too many requests in flight,
//                 this node's shard restarting or failing an import) is
//                 retried after settle, doubled per failed pass in a row up to
//                 32 x settle, until one ends clean or the set changes. Each
//                 node fills its own shard, so no two nodes ever copy into
//                 the same one.
//   stats, snapshot, cleanup  go to this node's shard (stats: to the first
//                 replica when this node holds none).
//
// Known limits: while a node's copy is being filled, only that node's
// front knows it (and reads it last); another node's front may recall from
// it and miss entries not copied yet (there is no "filled" state in the
// directory). A replica_store of an id an import added but the shard has not
// committed yet (commit durability) is answered at once, before that
// commit: a crash in between loses the entry on that replica only. A store acknowledged by the old set
// only, by a front whose view lagged, reaches the new replica by the
// settle pass, not at once. An entry retention evicted on a replica comes
// back if a fill copies it from one that still holds it (retention then
// decides again).
//
// Why ids are 62-bit pseudo-random numbers (splitmix64 of a seed drawn per
// front incarnation and a counter) and not (node tag, counter): every
// replica must file an entry under the same id, and fronts on every node
// assign ids at once with no coordination. A tag short enough to leave
// room for a counter collides between incarnations (W writers over a
// shard's life: about W^2 / 2^(tag bits)), and then every id of the two
// collides. Random ids collide only pairwise, with probability at most
// n^2 / 2^63 for n entries held (1e-13 at the default 1,000 entries; 1e-7
// at a million); a collision loses the second entry on replicas that hold
// the first, nothing else. Creation order is kept by created_ms, which the
// front also assigns, so every replica's retention evicts the same entries.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <caf/actor_system.hpp>
#include <caf/expected.hpp>
#include <caf/typed_actor.hpp>

#include "actors/host/cluster/replica_table.hpp"
#include "actors/memory/memory_replica_interface.hpp"
#include "runtime/metrics/registry.hpp"
#include "runtime/supervised_ref.hpp"

namespace agentgraph {

// Tells a front that its shard's offers changed (replica_table::watch).
using replicas_changed_atom = caf::atom_constant<caf::atom("ag_repchg")>;
// A front's own timer: the settle pass of fill generation N.
using replica_settle_atom = caf::atom_constant<caf::atom("ag_repsetl")>;

using replicated_memory_actor = memory_actor::extend<caf::reacts_to<replicas_changed_atom>,
                                                     caf::reacts_to<replica_settle_atom, uint64_t>>;

// Requests a front has in flight to replicas at most (stores count R each);
// beyond, a store or recall is answered `overloaded` at once.
constexpr size_t replicated_memory_calls_max = 4096;
// Entries per page when filling a replica.
constexpr uint32_t replica_fill_page = 256;
// A failed fill pass is retried after `settle` doubled once per failed pass
// in a row, at most this many times (so at most 32 x settle apart), until a
// pass ends clean or the set changes.
constexpr uint32_t replica_fill_retry_doublings = 5;

struct replicated_memory_args {
  std::string name;       // the shard's name
  uint32_t replicas = 2;  // R
  dep<memory_actor> local;  // this node's shard (serves memory_replica_actor)
  std::shared_ptr<replica_table> table;
  std::function<int64_t()> now_ms;  // unix ms, for created_ms
  // Seed of the ids; 0: drawn from std::random_device at each spawn, so
  // a restarted front never repeats its predecessor's ids.
  uint64_t seed = 0;
  // The deadline of every request to a replica (a store's fan-out shares one).
  std::chrono::milliseconds call_timeout{30'000};
  // How long after a fill the second pass starts.
  std::chrono::milliseconds settle{2'000};
  std::shared_ptr<metrics::registry> metrics;  // null: nothing recorded
};

// The id a front's seed and counter give: in [1, memory_replica_id_limit).
[[nodiscard]] uint64_t replica_entry_id(uint64_t seed, uint64_t counter);

// Spawns a front and registers it with args.table (notify: this handle).
// Errors: invalid_argument (empty name, replicas outside [2,
// memory_replicas_max], no table, no local shard, no clock).
[[nodiscard]] caf::expected<replicated_memory_actor> spawn_replicated_memory(
  caf::actor_system& sys, replicated_memory_args args);

}  // namespace agentgraph

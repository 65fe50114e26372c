// What a memory shard serves besides memory_actor when it is one replica of
// a replicated shard (net/cluster/DESIGN.md §8.7; the front is
// replicated_memory.hpp): a store under an id the front chose, so every
// replica holds the entry under the same id, and paging the shard's
// entries out and in, so a new replica is filled from a surviving one.
//
// Every memory shard serves this interface (memory_shard.hpp); agents and
// other callers only ever see memory_actor. Pages cross nodes, so importing
// one checks everything a peer could get wrong (memory_store::import_page).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include <caf/atom.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/typed_actor.hpp>

#include "actors/memory/memory_interface.hpp"

namespace agentgraph {

// Bounds of one page: entries, and the bytes of their texts, kinds and
// metadata. An entry may have 2 MiB (text and metadata at their bounds),
// so a page of 4 MiB always has room for one; it stays well inside one
// BASP message.
constexpr uint32_t memory_page_entries_max = 1000;
constexpr size_t memory_page_bytes_max = size_t{4} << 20;
// Ids a front assigns are below this (62 bits), so next_id stays a
// positive SQLite integer.
constexpr uint64_t memory_replica_id_limit = uint64_t{1} << 62;

// Entries of a shard in id order, after some id. `more`: entries with a
// larger id than the last one here remain (ask again after it).
struct memory_page {
  std::vector<memory_entry> entries;
  bool more = false;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, memory_page& x) {
  return f(caf::meta::type_name("agentgraph::memory_page"), x.entries, x.more);
}

// The bytes a page counts against memory_page_bytes_max for one entry.
[[nodiscard]] size_t memory_page_bytes(const memory_entry& e);

using replica_store_atom = caf::atom_constant<caf::atom("ag_rstore")>;
using memory_export_atom = caf::atom_constant<caf::atom("ag_mexport")>;
using memory_import_atom = caf::atom_constant<caf::atom("ag_mimport")>;

using memory_replica_actor = memory_actor::extend<
  // A store whose id (non-zero, below memory_replica_id_limit) and
  // created_ms (non-zero) the front assigned. Reply: the id. An id the
  // shard holds already changes nothing and is answered at once, so a
  // store retried or sent twice is never doubled. Otherwise as store_atom
  // (retention, commit durability, its errors).
  caf::replies_to<replica_store_atom, memory_entry>::with<uint64_t>,
  // At most `limit` (1..memory_page_entries_max) entries with an id above
  // `after_id`, in id order, within memory_page_bytes_max. Errors:
  // invalid_argument (limit out of bounds).
  caf::replies_to<memory_export_atom, uint64_t, uint32_t>::with<memory_page>,
  // Adds the page's entries the shard does not hold (by id; one it holds
  // is left as it is), then applies retention. Reply: entries added. The
  // whole page is checked first and refused whole (invalid_argument) if
  // any entry is out of bounds, an id repeats or the page is too big. In
  // commit durability the added entries are committed with the next batch;
  // the reply does not wait for it.
  caf::replies_to<memory_import_atom, memory_page>::with<uint64_t>>;

}  // namespace agentgraph

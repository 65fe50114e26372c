// Memory snapshots in SQLite (WAL mode): every entry of a shard with its
// text, kind, importance, metadata (JSON) and access fields, plus the next
// id so ids are never reused after a restart. Embeddings are not stored:
// the hashing embedder is deterministic, so they are recomputed on load.
//
// These functions BLOCK on disk I/O. Call them only where blocking is
// allowed: the shard's detached writer actor, or spawn_memory_shard before
// the shard serves. Never from a handler on a CAF scheduler thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <caf/expected.hpp>

#include "actors/memory/memory_interface.hpp"

namespace agentgraph {

// The table layout, schema version and busy timeout live in
// memory_sqlite.hpp, shared with the commit writer (memory_commit_file.hpp):
// a file written by either durability loads here.

struct memory_snapshot {
  std::vector<memory_entry> entries;  // in id order
  uint64_t next_id = 1;
  // The model and dimension the file's writer embedded with; absent in a
  // file written before they were recorded (only hash-<dim> existed then).
  std::optional<embedding_label> label;
};

// Replaces the snapshot at `path` with `entries` in one transaction: a
// reader (or a crash) sees either the old snapshot or the new one, never a
// mix. Creates the file and tables on first use.
// Returns entries written. Errors: io_error naming the file and SQLite's
// message; parse_error when the existing file is not SQLite or is corrupt.
[[nodiscard]] caf::expected<uint64_t> save_memory_snapshot(const std::string& path,
                                                           const std::vector<memory_entry>& entries,
                                                           uint64_t next_id,
                                                           const embedding_label& label);

// Reads the snapshot at `path`. A missing file, or an SQLite file with no
// tables at all (created but never written), is an empty snapshot. Errors:
// parse_error naming the file when it is not an SQLite database, is corrupt,
// lacks the memory tables, has another schema version or a malformed row;
// io_error naming the file when it cannot be opened or read.
[[nodiscard]] caf::expected<memory_snapshot> load_memory_snapshot(const std::string& path);

}  // namespace agentgraph

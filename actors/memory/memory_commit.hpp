// Commit durability (memory_config::durability = commit), the parts without
// CAF: which entries changed since the last commit (memory_commit_queue),
// what one commit carries (memory_commit_batch), and the SQLite file kept
// open by the writer that applies batches (memory_commit_file).
//
// The file has the snapshot's tables (memory_sqlite.hpp); a commit upserts
// the changed entries' rows, deletes the removed ones and sets next_id, in
// one transaction. So the file always holds what the shard held at its last
// commit, and load_memory_snapshot reads it like any snapshot, including
// after kill -9 (SQLite replays its WAL on open).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <caf/expected.hpp>
#include <caf/meta/type_name.hpp>

#include "actors/memory/memory_interface.hpp"
#include "runtime/sqlite_handles.hpp"

namespace agentgraph {

// One transaction's worth of changes.
struct memory_commit_batch {
  std::vector<memory_entry> upserts;  // rows written as they are (insert or replace)
  std::vector<uint64_t> deletes;      // rows removed (absent rows are skipped)
  uint64_t next_id = 1;               // the shard's next id when the batch was cut
  embedding_label label;              // the shard's vectors, recorded with next_id
  [[nodiscard]] size_t size() const { return upserts.size() + deletes.size(); }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, memory_commit_batch& x) {
  return f(caf::meta::type_name("agentgraph::memory_commit_batch"), x.upserts, x.deletes,
           x.next_id, x.label);
}

// Ids of a batch, cut from the queue; the shard fills in the entries.
struct memory_commit_cut {
  std::vector<uint64_t> upserts;
  std::vector<uint64_t> deletes;
  [[nodiscard]] size_t size() const { return upserts.size() + deletes.size(); }
};

// The entries changed and not yet handed to the writer, one change per id:
// a later change of an entry replaces an earlier one (a recall after a
// store is still one row to write; an eviction after either is a delete).
// Ids are never reused, so nothing follows a delete. The queue holds at
// most one change per entry the shard held since the last cut, so it is
// bounded by max_entries plus what was removed meanwhile.
//
// Not thread-safe: the shard owns it.
class memory_commit_queue {
 public:
  void upsert(uint64_t id);
  void remove(uint64_t id);
  // At most `max` changes, lowest ids first (the oldest stores, so their
  // callers wait least), removed from the queue.
  [[nodiscard]] memory_commit_cut take(size_t max);
  // Puts back the changes of a cut that failed to commit, except for ids
  // that changed again since (the newer change stands).
  void requeue(const memory_commit_cut& cut);
  [[nodiscard]] bool contains(uint64_t id) const { return changes_.count(id) != 0; }
  [[nodiscard]] size_t size() const { return changes_.size(); }
  [[nodiscard]] bool empty() const { return changes_.empty(); }

 private:
  std::map<uint64_t, bool> changes_;  // id -> removed
};

// The writer's connection: opened on first use with WAL and
// synchronous=FULL (memory_sqlite::open_for_writing says why FULL), kept
// open across commits, closed after any failure so that the next commit
// starts from a fresh connection.
//
// BLOCKS on disk I/O: only the shard's detached writer uses it.
class memory_commit_file {
 public:
  explicit memory_commit_file(std::string path) : path_(std::move(path)) {}

  // Applies `b` in one transaction and returns b.size(). A failure rolls
  // the whole batch back. Errors: io_error naming the file and SQLite's
  // message; parse_error when the file is not SQLite or is corrupt.
  [[nodiscard]] caf::expected<uint64_t> commit(const memory_commit_batch& b);

  // Compaction: checkpoints the WAL into the database and truncates it, so
  // the file does not grow between restarts. Returns the WAL frames that
  // were checkpointed. Errors: like commit.
  [[nodiscard]] caf::expected<uint64_t> compact();

 private:
  caf::error ensure_open();
  caf::error apply(const memory_commit_batch& b);

  const std::string path_;
  sqlite_db_ptr db_;
  sqlite_stmt_ptr upsert_;
  sqlite_stmt_ptr delete_;
};

}  // namespace agentgraph

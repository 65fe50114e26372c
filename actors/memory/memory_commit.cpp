#include "actors/memory/memory_commit.hpp"

#include <utility>

#include <sqlite3.h>

#include "actors/memory/memory_sqlite.hpp"
#include "runtime/error.hpp"

namespace agentgraph {

void memory_commit_queue::upsert(uint64_t id) {
  // emplace keeps an earlier remove: nothing follows a delete.
  changes_.emplace(id, false);
}

void memory_commit_queue::remove(uint64_t id) {
  changes_[id] = true;
}

memory_commit_cut memory_commit_queue::take(size_t max) {
  memory_commit_cut cut;
  auto it = changes_.begin();
  for (; it != changes_.end() && cut.size() < max; ++it)
    (it->second ? cut.deletes : cut.upserts).push_back(it->first);
  changes_.erase(changes_.begin(), it);
  return cut;
}

void memory_commit_queue::requeue(const memory_commit_cut& cut) {
  for (auto id : cut.upserts)
    changes_.emplace(id, false);
  for (auto id : cut.deletes)
    changes_.emplace(id, true);
}

caf::error memory_commit_file::ensure_open() {
  namespace s = memory_sqlite;
  if (db_)
    return caf::none;
  auto db = s::open_for_writing(path_);
  if (!db)
    return std::move(db.error());
  auto up = s::prepare(path_, db->get(), s::upsert_sql);
  if (!up)
    return std::move(up.error());
  auto del = s::prepare(path_, db->get(), "DELETE FROM memory_entries WHERE id = ?1;");
  if (!del)
    return std::move(del.error());
  // Statements before the connection: they must be finalized first.
  upsert_ = std::move(*up);
  delete_ = std::move(*del);
  db_ = std::move(*db);
  return caf::none;
}

caf::error memory_commit_file::apply(const memory_commit_batch& b) {
  namespace s = memory_sqlite;
  sqlite3* h = db_.get();
  if (auto err = s::exec(path_, h, "BEGIN IMMEDIATE;"))
    return err;
  for (const auto& e : b.upserts)
    if (auto err = s::upsert_entry(path_, h, upsert_.get(), e))
      return err;
  for (auto id : b.deletes) {
    sqlite3_reset(delete_.get());
    sqlite3_bind_int64(delete_.get(), 1, static_cast<sqlite3_int64>(id));
    if (int rc = sqlite3_step(delete_.get()); rc != SQLITE_DONE)
      return s::failure(path_, h, rc, "delete entry " + std::to_string(id));
  }
  if (auto err = s::write_meta(path_, h, b.next_id, b.label))
    return err;
  // With synchronous=FULL this COMMIT returns after the WAL is fsync'd.
  return s::exec(path_, h, "COMMIT;");
}

caf::expected<uint64_t> memory_commit_file::commit(const memory_commit_batch& b) {
  if (auto err = ensure_open())
    return err;
  if (auto err = apply(b)) {
    // Closing rolls back the open transaction (sqlite3_close_v2); the next
    // commit reopens, which also recovers from a file replaced underneath.
    upsert_.reset();
    delete_.reset();
    db_.reset();
    return err;
  }
  return static_cast<uint64_t>(b.size());
}

caf::expected<uint64_t> memory_commit_file::compact() {
  if (auto err = ensure_open())
    return err;
  int log_frames = 0;
  int checkpointed = 0;
  int rc = sqlite3_wal_checkpoint_v2(db_.get(), nullptr, SQLITE_CHECKPOINT_TRUNCATE, &log_frames,
                                     &checkpointed);
  if (rc != SQLITE_OK) {
    auto err = memory_sqlite::failure(path_, db_.get(), rc, "checkpoint");
    upsert_.reset();
    delete_.reset();
    db_.reset();
    return err;
  }
  return static_cast<uint64_t>(checkpointed < 0 ? 0 : checkpointed);
}

}  // namespace agentgraph

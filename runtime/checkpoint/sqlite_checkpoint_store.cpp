#include "runtime/checkpoint/sqlite_checkpoint_store.hpp"

#include <sqlite3.h>

#include "runtime/checkpoint/checkpoint_codec.hpp"
#include "runtime/error.hpp"
#include "runtime/sqlite_session.hpp"

namespace agentgraph {

namespace sqlite_checkpoint_store_detail {

using stmt_ptr = sqlite_stmt_ptr;

// WITHOUT ROWID: rows are clustered by (thread, id), so latest/list/prune
// read one contiguous range. checkpoint_threads holds each thread's id
// counter; its row lock (the file lock, in SQLite) serialises puts.
constexpr const char* schema_sql =
  "CREATE TABLE IF NOT EXISTS checkpoint_schema(version INTEGER NOT NULL);"
  "CREATE TABLE IF NOT EXISTS checkpoint_threads("
  " thread_id TEXT PRIMARY KEY, last_id INTEGER NOT NULL);"
  "CREATE TABLE IF NOT EXISTS checkpoints("
  " thread_id TEXT NOT NULL, checkpoint_id INTEGER NOT NULL, parent_id INTEGER NOT NULL,"
  " step INTEGER NOT NULL, state BLOB NOT NULL, pending BLOB NOT NULL, metadata BLOB NOT NULL,"
  " created_ms INTEGER NOT NULL, PRIMARY KEY(thread_id, checkpoint_id)) WITHOUT ROWID;"
  "INSERT INTO checkpoint_schema(version) SELECT 1 WHERE NOT EXISTS"
  " (SELECT 1 FROM checkpoint_schema);";

constexpr const char* bump_sql =
  "INSERT INTO checkpoint_threads(thread_id, last_id) VALUES(?1, 1)"
  " ON CONFLICT(thread_id) DO UPDATE SET last_id = last_id + 1 RETURNING last_id;";
constexpr const char* insert_sql =
  "INSERT INTO checkpoints(thread_id, checkpoint_id, parent_id, step, state, pending, metadata,"
  " created_ms) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8);";
constexpr const char* prune_sql =
  "DELETE FROM checkpoints WHERE thread_id = ?1 AND checkpoint_id <= ?2;";
constexpr const char* latest_sql =
  "SELECT checkpoint_id, parent_id, step, created_ms, metadata, state, pending FROM checkpoints"
  " WHERE thread_id = ?1 ORDER BY checkpoint_id DESC LIMIT 1;";
constexpr const char* get_sql =
  "SELECT checkpoint_id, parent_id, step, created_ms, metadata, state, pending FROM checkpoints"
  " WHERE thread_id = ?1 AND checkpoint_id = ?2;";
constexpr const char* list_sql =
  "SELECT checkpoint_id, parent_id, step, created_ms, metadata FROM checkpoints"
  " WHERE thread_id = ?1 ORDER BY checkpoint_id DESC LIMIT ?2;";
constexpr const char* threads_sql =
  "SELECT thread_id FROM checkpoint_threads ORDER BY thread_id LIMIT ?1;";
constexpr const char* delete_rows_sql = "DELETE FROM checkpoints WHERE thread_id = ?1;";
constexpr const char* delete_thread_sql = "DELETE FROM checkpoint_threads WHERE thread_id = ?1;";

using stmt_use = sqlite_stmt_use;

void bind_text(sqlite3_stmt* s, int i, const std::string& v) {
  sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
}

void bind_blob(sqlite3_stmt* s, int i, const std::string& v) {
  sqlite3_bind_blob64(s, i, v.data(), v.size(), SQLITE_STATIC);
}

std::string_view column_bytes(sqlite3_stmt* s, int col) {
  const auto* p = static_cast<const char*>(sqlite3_column_blob(s, col));
  auto n = static_cast<size_t>(sqlite3_column_bytes(s, col));
  return p == nullptr ? std::string_view{} : std::string_view{p, n};
}

// The store: one connection and its prepared statements (see the header).
class sqlite_store final : public checkpoint_store {
 public:
  sqlite_store(std::string where, const checkpoint_limits& limits)
    : checkpoint_store(limits, where), session_(std::move(where)) {}

  caf::error open(const std::string& path);

  const char* backend() const override { return "sqlite"; }

 private:
  caf::expected<uint64_t> do_put(const checkpoint& c, const encoded_checkpoint& enc) override;
  caf::expected<checkpoint> do_latest(const std::string& thread_id) override;
  caf::expected<checkpoint> do_get(const std::string& thread_id, uint64_t checkpoint_id) override;
  caf::expected<std::vector<checkpoint>> do_list(const std::string& thread_id,
                                                 uint32_t limit) override;
  caf::expected<std::vector<std::string>> do_list_threads(uint32_t limit) override;
  caf::expected<uint64_t> do_delete_thread(const std::string& thread_id) override;

  caf::expected<checkpoint> read_row(sqlite3_stmt* s, const std::string& thread_id, bool full);
  // Steps a latest/get statement whose parameters are bound: one row or not_found.
  caf::expected<checkpoint> read_one(sqlite3_stmt* s, const std::string& thread_id,
                                     const std::string& missing);
  caf::expected<uint64_t> put_in_txn(const checkpoint& c, const encoded_checkpoint& enc);

  // Helpers that name the session: every error carries its `where`.
  caf::error failure(int rc, const std::string& what) const { return session_.failure(rc, what); }

  sqlite_session session_;
  stmt_ptr bump_, insert_, prune_, latest_, get_, list_, threads_, delete_rows_, delete_thread_;
};

}  // namespace sqlite_checkpoint_store_detail

namespace sqlite_checkpoint_store_detail {

caf::error sqlite_store::open(const std::string& path) {
  if (auto err = session_.open(path, checkpoint_lock_timeout_ms))
    return err;
  if (auto err = session_.durable_wal())
    return err;
  if (auto err = session_.exec_in_write_txn(schema_sql, "create tables"))
    return err;
  if (auto err = session_.check_version("checkpoint_schema", checkpoint_schema_version))
    return err;
  const std::pair<stmt_ptr*, const char*> stmts[] = {
    {&bump_, bump_sql},       {&insert_, insert_sql},   {&prune_, prune_sql},
    {&latest_, latest_sql},   {&get_, get_sql},         {&list_, list_sql},
    {&threads_, threads_sql}, {&delete_rows_, delete_rows_sql},
    {&delete_thread_, delete_thread_sql}};
  for (const auto& [stmt, sql] : stmts)
    if (auto err = session_.prepare(*stmt, sql))
      return err;
  return caf::none;
}

caf::expected<checkpoint> sqlite_store::read_row(sqlite3_stmt* s, const std::string& thread_id,
                                                 bool full) {
  checkpoint c;
  c.thread_id = thread_id;
  c.checkpoint_id = static_cast<uint64_t>(sqlite3_column_int64(s, 0));
  c.parent_id = static_cast<uint64_t>(sqlite3_column_int64(s, 1));
  c.step = static_cast<uint64_t>(sqlite3_column_int64(s, 2));
  c.created_ms = sqlite3_column_int64(s, 3);
  const char* names[] = {"metadata", "state", "pending"};
  Value* targets[] = {&c.metadata, &c.state, &c.pending};
  for (int i = 0; i < (full ? 3 : 1); ++i) {
    auto v = decode_checkpoint_value(column_bytes(s, 4 + i), names[i], thread_id,
                                     c.checkpoint_id, where());
    if (!v)
      return std::move(v.error());
    *targets[i] = std::move(*v);
  }
  return c;
}

caf::expected<checkpoint> sqlite_store::read_one(sqlite3_stmt* s, const std::string& thread_id,
                                                 const std::string& missing) {
  int rc = sqlite3_step(s);
  if (rc == SQLITE_DONE)
    return make_error(errc::not_found, where() + "thread '" + thread_id + "' has no " + missing);
  if (rc != SQLITE_ROW)
    return failure(rc, "read " + missing);
  return read_row(s, thread_id, true);
}

caf::expected<uint64_t> sqlite_store::put_in_txn(const checkpoint& c,
                                                 const encoded_checkpoint& enc) {
  uint64_t id = 0;
  {
    stmt_use use{bump_.get()};
    bind_text(use.s, 1, c.thread_id);
    if (int rc = sqlite3_step(use.s); rc != SQLITE_ROW)
      return failure(rc, "next checkpoint id");
    id = static_cast<uint64_t>(sqlite3_column_int64(use.s, 0));
  }
  if (auto err = check_parent(c, id, where()))
    return err;
  {
    stmt_use use{insert_.get()};
    bind_text(use.s, 1, c.thread_id);
    sqlite3_bind_int64(use.s, 2, static_cast<sqlite3_int64>(id));
    sqlite3_bind_int64(use.s, 3, static_cast<sqlite3_int64>(c.parent_id));
    sqlite3_bind_int64(use.s, 4, static_cast<sqlite3_int64>(c.step));
    bind_blob(use.s, 5, enc.state);
    bind_blob(use.s, 6, enc.pending);
    bind_blob(use.s, 7, enc.metadata);
    sqlite3_bind_int64(use.s, 8, checkpoint_now_ms());
    if (int rc = sqlite3_step(use.s); rc != SQLITE_DONE)
      return failure(rc, "insert checkpoint");
  }
  if (id > limits().keep_last) {
    stmt_use use{prune_.get()};
    bind_text(use.s, 1, c.thread_id);
    sqlite3_bind_int64(use.s, 2, static_cast<sqlite3_int64>(id - limits().keep_last));
    if (int rc = sqlite3_step(use.s); rc != SQLITE_DONE)
      return failure(rc, "prune");
  }
  return id;
}

caf::expected<uint64_t> sqlite_store::do_put(const checkpoint& c, const encoded_checkpoint& enc) {
  return session_.in_write_txn([&] { return put_in_txn(c, enc); });
}

caf::expected<checkpoint> sqlite_store::do_latest(const std::string& thread_id) {
  stmt_use use{latest_.get()};
  bind_text(use.s, 1, thread_id);
  return read_one(use.s, thread_id, "checkpoint");
}

caf::expected<checkpoint> sqlite_store::do_get(const std::string& thread_id,
                                               uint64_t checkpoint_id) {
  stmt_use use{get_.get()};
  bind_text(use.s, 1, thread_id);
  sqlite3_bind_int64(use.s, 2, static_cast<sqlite3_int64>(checkpoint_id));
  return read_one(use.s, thread_id, "checkpoint " + std::to_string(checkpoint_id));
}

caf::expected<std::vector<checkpoint>> sqlite_store::do_list(const std::string& thread_id,
                                                          uint32_t limit) {
  stmt_use use{list_.get()};
  bind_text(use.s, 1, thread_id);
  sqlite3_bind_int64(use.s, 2, limit);
  std::vector<checkpoint> out;
  int rc;
  while ((rc = sqlite3_step(use.s)) == SQLITE_ROW) {
    auto c = read_row(use.s, thread_id, false);
    if (!c)
      return std::move(c.error());
    out.push_back(std::move(*c));
  }
  if (rc != SQLITE_DONE)
    return failure(rc, "list checkpoints");
  return out;
}

caf::expected<std::vector<std::string>> sqlite_store::do_list_threads(uint32_t limit) {
  stmt_use use{threads_.get()};
  sqlite3_bind_int64(use.s, 1, limit);
  std::vector<std::string> out;
  int rc;
  while ((rc = sqlite3_step(use.s)) == SQLITE_ROW)
    out.emplace_back(column_bytes(use.s, 0));
  if (rc != SQLITE_DONE)
    return failure(rc, "list threads");
  return out;
}

caf::expected<uint64_t> sqlite_store::do_delete_thread(const std::string& thread_id) {
  return session_.in_write_txn([&]() -> caf::expected<uint64_t> {
    uint64_t deleted = 0;
    for (sqlite3_stmt* s : {delete_rows_.get(), delete_thread_.get()}) {
      stmt_use use{s};
      bind_text(use.s, 1, thread_id);
      if (int rc = sqlite3_step(use.s); rc != SQLITE_DONE)
        return failure(rc, "delete thread");
      if (s == delete_rows_.get())
        deleted = static_cast<uint64_t>(sqlite3_changes64(session_.db()));
    }
    if (deleted == 0)
      return make_error(errc::not_found, where() + "thread '" + thread_id + "' has no checkpoint");
    return deleted;
  });
}

}  // namespace sqlite_checkpoint_store_detail

caf::expected<std::unique_ptr<checkpoint_store>>
open_sqlite_checkpoint_store(const std::string& path, const checkpoint_limits& limits) {
  auto where = "checkpoint store sqlite '" + path + "': ";
  if (auto err = check_checkpoint_limits(limits, where))
    return err;
  auto store = std::make_unique<sqlite_checkpoint_store_detail::sqlite_store>(where, limits);
  if (auto err = store->open(path))
    return err;
  return std::unique_ptr<checkpoint_store>{std::move(store)};
}

}  // namespace agentgraph

#include "runtime/journal/sqlite_task_journal.hpp"

#include <algorithm>

#include <sqlite3.h>

#include "runtime/error.hpp"
#include "runtime/journal/journal_checks.hpp"
#include "runtime/sqlite_session.hpp"

namespace agentgraph {

namespace sqlite_task_journal_detail {

// seq (AUTOINCREMENT: never reused, even after a delete) is the accept order
// open_of pages by. finished_seq orders finishing, for pruning the oldest
// finished; it is NULL while open. journal_owners counts each owner's open
// records, so that accept checks open_max in O(1) instead of counting rows.
constexpr const char* schema_sql =
  "CREATE TABLE IF NOT EXISTS journal_schema(version INTEGER NOT NULL);"
  "CREATE TABLE IF NOT EXISTS journal_tasks("
  " seq INTEGER PRIMARY KEY AUTOINCREMENT, task_id TEXT NOT NULL UNIQUE, target TEXT NOT NULL,"
  " payload BLOB NOT NULL, owner TEXT NOT NULL, owner_epoch INTEGER NOT NULL,"
  " state INTEGER NOT NULL, assigned TEXT NOT NULL, attempts INTEGER NOT NULL,"
  " result BLOB NOT NULL, finished_seq INTEGER);"
  "CREATE INDEX IF NOT EXISTS journal_open_by_owner ON journal_tasks(owner, seq)"
  " WHERE state = 0;"
  "CREATE INDEX IF NOT EXISTS journal_finished_order ON journal_tasks(finished_seq);"
  "CREATE TABLE IF NOT EXISTS journal_owners("
  " owner TEXT PRIMARY KEY, open_count INTEGER NOT NULL) WITHOUT ROWID;"
  "INSERT INTO journal_schema(version) SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM journal_schema);";

#define AG_JOURNAL_COLUMNS \
  "task_id, target, payload, owner, owner_epoch, state, assigned, attempts, result"

constexpr const char* insert_sql =
  "INSERT INTO journal_tasks(task_id, target, payload, owner, owner_epoch, state, assigned,"
  " attempts, result) VALUES(?1, ?2, ?3, ?4, ?5, 0, '', 0, X'')"
  " ON CONFLICT(task_id) DO NOTHING;";
constexpr const char* count_add_sql =
  "INSERT INTO journal_owners(owner, open_count) VALUES(?1, ?2)"
  " ON CONFLICT(owner) DO UPDATE SET open_count = open_count + ?2 RETURNING open_count;";
constexpr const char* count_drop_empty_sql =
  "DELETE FROM journal_owners WHERE owner = ?1 AND open_count <= 0;";
constexpr const char* get_sql =
  "SELECT " AG_JOURNAL_COLUMNS " FROM journal_tasks WHERE task_id = ?1;";
constexpr const char* assign_sql =
  "UPDATE journal_tasks SET assigned = ?2, attempts = attempts + 1"
  " WHERE task_id = ?1 AND state = 0 AND owner = ?3 AND owner_epoch = ?4;";
constexpr const char* complete_sql =
  "UPDATE journal_tasks SET state = ?2, result = ?3,"
  " finished_seq = (SELECT COALESCE(MAX(finished_seq), 0) + 1 FROM journal_tasks)"
  " WHERE task_id = ?1 AND state = 0 RETURNING owner, finished_seq;";
constexpr const char* prune_sql = "DELETE FROM journal_tasks WHERE finished_seq <= ?1;";
constexpr const char* cursor_sql = "SELECT seq FROM journal_tasks WHERE task_id = ?1;";
constexpr const char* open_of_sql =
  "SELECT " AG_JOURNAL_COLUMNS " FROM journal_tasks"
  " WHERE owner = ?1 AND state = 0 AND seq > ?2 ORDER BY seq LIMIT ?3;";
constexpr const char* adopt_sql =
  "UPDATE journal_tasks SET owner = ?3, owner_epoch = ?4"
  " WHERE owner = ?1 AND state = 0 AND (?2 = 0 OR owner_epoch = ?2);";

#undef AG_JOURNAL_COLUMNS

void bind_text(sqlite3_stmt* s, int i, const std::string& v) {
  sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
}

// A zero-length blob from an empty vector (whose data() may be null, which
// SQLite would bind as NULL and the NOT NULL column refuse).
void bind_blob(sqlite3_stmt* s, int i, const std::vector<uint8_t>& v) {
  if (v.empty())
    sqlite3_bind_zeroblob(s, i, 0);
  else
    sqlite3_bind_blob64(s, i, v.data(), v.size(), SQLITE_STATIC);
}

// Epochs are uids up to 2^64 - 1; SQLite integers are signed 64-bit, so the
// bits are stored as they are and compared for equality only.
void bind_u64(sqlite3_stmt* s, int i, uint64_t v) {
  sqlite3_bind_int64(s, i, static_cast<sqlite3_int64>(v));
}

std::string column_text(sqlite3_stmt* s, int col) {
  const auto* p = static_cast<const char*>(sqlite3_column_blob(s, col));
  auto n = static_cast<size_t>(sqlite3_column_bytes(s, col));
  return p == nullptr ? std::string{} : std::string{p, n};
}

std::vector<uint8_t> column_blob(sqlite3_stmt* s, int col) {
  const auto* p = static_cast<const uint8_t*>(sqlite3_column_blob(s, col));
  auto n = static_cast<size_t>(sqlite3_column_bytes(s, col));
  return p == nullptr ? std::vector<uint8_t>{} : std::vector<uint8_t>(p, p + n);
}

// The journal: one connection and its prepared statements (see the header).
class sqlite_journal final : public task_journal {
 public:
  sqlite_journal(std::string where, const journal_limits& limits)
    : task_journal(limits, where), session_(std::move(where)) {}

  caf::error open(const std::string& path);

  std::string backend() const override { return "sqlite"; }

 private:
  caf::expected<accept_outcome> do_accept(const journal_record& r) override;
  caf::error do_assign(const std::string& task_id, const std::string& member,
                       const std::string& owner, uint64_t owner_epoch) override;
  caf::expected<journal_record> do_complete(const std::string& task_id, task_state final_state,
                                            const std::vector<uint8_t>& result) override;
  caf::expected<std::vector<journal_record>> do_open_of(const std::string& owner, uint32_t limit,
                                                        const std::string& after) override;
  caf::expected<uint64_t> do_adopt(const std::string& from, uint64_t from_epoch,
                                   const std::string& to, uint64_t to_epoch) override;
  caf::expected<std::optional<journal_record>> do_get(const std::string& task_id) override;

  caf::error check_foreign();
  caf::expected<journal_record> read_row(sqlite3_stmt* s);
  caf::expected<std::optional<journal_record>> find(const std::string& task_id);
  caf::error add_open(const std::string& owner, int64_t delta, int64_t* count_after);
  caf::expected<journal_record> complete_in_txn(const std::string& task_id,
                                                task_state final_state,
                                                const std::vector<uint8_t>& result);

  // Helpers that name the session: every error carries its `where`.
  caf::error failure(int rc, const std::string& what) const { return session_.failure(rc, what); }
  caf::error prepare(sqlite_stmt_ptr& out, const char* sql) { return session_.prepare(out, sql); }

  sqlite_session session_;
  sqlite_stmt_ptr insert_, count_add_, count_drop_, get_, assign_, complete_, prune_, cursor_,
    open_of_, adopt_;
};

// Refuses an SQLite database that holds tables but not a journal's (another
// program's file, a checkpoint store), before anything changes it.
caf::error sqlite_journal::check_foreign() {
  sqlite_stmt_ptr stmt;
  if (auto err = prepare(stmt, "SELECT name FROM sqlite_schema WHERE type = 'table'"
                               " AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name;"))
    return err;
  std::vector<std::string> tables;
  int rc;
  while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW)
    tables.push_back(column_text(stmt.get(), 0));
  if (rc != SQLITE_DONE)
    return failure(rc, "read its tables");
  if (tables.empty() || std::find(tables.begin(), tables.end(), "journal_schema") != tables.end())
    return caf::none;
  return make_error(errc::parse_error,
                    where() + "not a task journal: the database holds other tables (first: '"
                      + tables.front() + "'); choose another file");
}

caf::error sqlite_journal::open(const std::string& path) {
  if (auto err = session_.open(path, journal_lock_timeout_ms))
    return err;
  if (auto err = check_foreign())
    return err;
  if (auto err = session_.durable_wal())
    return err;
  if (auto err = session_.exec_in_write_txn(schema_sql, "create tables"))
    return err;
  if (auto err = session_.check_version("journal_schema", journal_schema_version))
    return err;
  const std::pair<sqlite_stmt_ptr*, const char*> stmts[] = {
    {&insert_, insert_sql},     {&count_add_, count_add_sql}, {&count_drop_, count_drop_empty_sql},
    {&get_, get_sql},           {&assign_, assign_sql},       {&complete_, complete_sql},
    {&prune_, prune_sql},       {&cursor_, cursor_sql},       {&open_of_, open_of_sql},
    {&adopt_, adopt_sql}};
  for (const auto& [stmt, sql] : stmts)
    if (auto err = prepare(*stmt, sql))
      return err;
  return caf::none;
}

caf::expected<journal_record> sqlite_journal::read_row(sqlite3_stmt* s) {
  journal_record r;
  r.task_id = column_text(s, 0);
  r.target = column_text(s, 1);
  r.payload = column_blob(s, 2);
  r.owner = column_text(s, 3);
  r.owner_epoch = static_cast<uint64_t>(sqlite3_column_int64(s, 4));
  auto state = sqlite3_column_int64(s, 5);
  r.assigned = column_text(s, 6);
  auto attempts = sqlite3_column_int64(s, 7);
  r.result = column_blob(s, 8);
  return stored_record(std::move(r), state, attempts, where());
}

caf::expected<std::optional<journal_record>> sqlite_journal::find(const std::string& task_id) {
  sqlite_stmt_use use{get_.get()};
  bind_text(use.s, 1, task_id);
  int rc = sqlite3_step(use.s);
  if (rc == SQLITE_DONE)
    return std::optional<journal_record>{};
  if (rc != SQLITE_ROW)
    return failure(rc, "read task '" + task_id + "'");
  auto r = read_row(use.s);
  if (!r)
    return std::move(r.error());
  return std::optional<journal_record>{std::move(*r)};
}

// Adds `delta` to the owner's open count (a row appears at its first open
// record and goes when the count is back to 0).
caf::error sqlite_journal::add_open(const std::string& owner, int64_t delta,
                                    int64_t* count_after) {
  {
    sqlite_stmt_use use{count_add_.get()};
    bind_text(use.s, 1, owner);
    sqlite3_bind_int64(use.s, 2, delta);
    if (int rc = sqlite3_step(use.s); rc != SQLITE_ROW)
      return failure(rc, "count open tasks");
    if (count_after != nullptr)
      *count_after = sqlite3_column_int64(use.s, 0);
  }
  if (delta >= 0)
    return caf::none;
  sqlite_stmt_use use{count_drop_.get()};
  bind_text(use.s, 1, owner);
  int rc = sqlite3_step(use.s);
  return rc == SQLITE_DONE ? caf::error{} : failure(rc, "count open tasks");
}

caf::expected<accept_outcome> sqlite_journal::do_accept(const journal_record& r) {
  return session_.in_write_txn([&]() -> caf::expected<accept_outcome> {
    {
      sqlite_stmt_use use{insert_.get()};
      bind_text(use.s, 1, r.task_id);
      bind_text(use.s, 2, r.target);
      bind_blob(use.s, 3, r.payload);
      bind_text(use.s, 4, r.owner);
      bind_u64(use.s, 5, r.owner_epoch);
      if (int rc = sqlite3_step(use.s); rc != SQLITE_DONE)
        return failure(rc, "accept task '" + r.task_id + "'");
    }
    if (sqlite3_changes(session_.db()) == 0) {  // the id is taken: the stored record
      auto existing = find(r.task_id);
      if (!existing)
        return std::move(existing.error());
      if (!*existing)
        return make_error(errc::internal, where() + "task '" + r.task_id + "' vanished");
      return accept_outcome{false, std::move(**existing)};
    }
    int64_t open = 0;
    if (auto err = add_open(r.owner, 1, &open))
      return err;
    if (open > static_cast<int64_t>(limits().open_max))  // rolled back with the insert
      return make_error(errc::overloaded,
                        where() + "owner '" + r.owner + "' has " + std::to_string(open - 1)
                          + " open tasks (open_max " + std::to_string(limits().open_max) + ")");
    return accept_outcome{true, r};
  });
}

caf::error sqlite_journal::do_assign(const std::string& task_id, const std::string& member,
                                     const std::string& owner, uint64_t owner_epoch) {
  auto done = session_.in_write_txn([&]() -> caf::expected<void> {
    {
      sqlite_stmt_use use{assign_.get()};
      bind_text(use.s, 1, task_id);
      bind_text(use.s, 2, member);
      bind_text(use.s, 3, owner);
      bind_u64(use.s, 4, owner_epoch);
      if (int rc = sqlite3_step(use.s); rc != SQLITE_DONE)
        return failure(rc, "assign task '" + task_id + "'");
    }
    if (sqlite3_changes(session_.db()) == 1)
      return {};
    auto stored = find(task_id);
    if (!stored)
      return stored.error();
    return assign_refusal(*stored, task_id, owner, owner_epoch, where());
  });
  return done ? caf::error{} : done.error();
}

caf::expected<journal_record> sqlite_journal::complete_in_txn(const std::string& task_id,
                                                              task_state final_state,
                                                              const std::vector<uint8_t>& result) {
  std::string owner;
  int64_t finished_seq = 0;
  {
    sqlite_stmt_use use{complete_.get()};
    bind_text(use.s, 1, task_id);
    sqlite3_bind_int(use.s, 2, static_cast<int>(final_state));
    bind_blob(use.s, 3, result);
    int rc = sqlite3_step(use.s);
    if (rc == SQLITE_ROW) {
      owner = column_text(use.s, 0);
      finished_seq = sqlite3_column_int64(use.s, 1);
      rc = sqlite3_step(use.s);  // RETURNING: runs the statement to its end
    }
    if (rc != SQLITE_DONE)
      return failure(rc, "complete task '" + task_id + "'");
  }
  if (finished_seq > 0) {  // this call finished it: first writer
    if (auto err = add_open(owner, -1, nullptr))
      return err;
    auto keep = static_cast<int64_t>(limits().results_kept);
    if (finished_seq > keep) {
      sqlite_stmt_use use{prune_.get()};
      sqlite3_bind_int64(use.s, 1, finished_seq - keep);
      if (int rc = sqlite3_step(use.s); rc != SQLITE_DONE)
        return failure(rc, "prune finished tasks");
    }
  }
  auto stored = find(task_id);
  if (!stored)
    return std::move(stored.error());
  if (!*stored)
    return make_error(errc::not_found, where() + "no task '" + task_id + "'");
  return std::move(**stored);
}

caf::expected<journal_record> sqlite_journal::do_complete(const std::string& task_id,
                                                          task_state final_state,
                                                          const std::vector<uint8_t>& result) {
  return session_.in_write_txn([&] { return complete_in_txn(task_id, final_state, result); });
}

caf::expected<std::vector<journal_record>>
sqlite_journal::do_open_of(const std::string& owner, uint32_t limit, const std::string& after) {
  // One read transaction: the cursor and the page come from one snapshot.
  if (auto err = session_.exec("BEGIN;", "begin"))
    return err;
  sqlite_write_txn txn{session_.db()};  // nothing to undo: ends the read
  int64_t from_seq = 0;
  if (!after.empty()) {
    sqlite_stmt_use use{cursor_.get()};
    bind_text(use.s, 1, after);
    int rc = sqlite3_step(use.s);
    if (rc == SQLITE_DONE)
      return make_error(errc::not_found, where() + "open_of after '" + after
                                           + "': no such task (pruned?); page again from the start");
    if (rc != SQLITE_ROW)
      return failure(rc, "open_of");
    from_seq = sqlite3_column_int64(use.s, 0);
  }
  sqlite_stmt_use use{open_of_.get()};
  bind_text(use.s, 1, owner);
  sqlite3_bind_int64(use.s, 2, from_seq);
  sqlite3_bind_int64(use.s, 3, limit);
  std::vector<journal_record> out;
  uint64_t bytes = 0;
  int rc;
  while ((rc = sqlite3_step(use.s)) == SQLITE_ROW) {
    // Sizes first: a record that would overfill the page is not even read.
    bytes += static_cast<uint64_t>(sqlite3_column_bytes(use.s, 2))
             + static_cast<uint64_t>(sqlite3_column_bytes(use.s, 8));
    if (!out.empty() && bytes > limits().page_bytes_max)
      return out;
    auto r = read_row(use.s);
    if (!r)
      return std::move(r.error());
    out.push_back(std::move(*r));
  }
  if (rc != SQLITE_DONE)
    return failure(rc, "open_of");
  return out;
}

caf::expected<uint64_t> sqlite_journal::do_adopt(const std::string& from, uint64_t from_epoch,
                                                 const std::string& to, uint64_t to_epoch) {
  return session_.in_write_txn([&]() -> caf::expected<uint64_t> {
    {
      sqlite_stmt_use use{adopt_.get()};
      bind_text(use.s, 1, from);
      bind_u64(use.s, 2, from_epoch);
      bind_text(use.s, 3, to);
      bind_u64(use.s, 4, to_epoch);
      if (int rc = sqlite3_step(use.s); rc != SQLITE_DONE)
        return failure(rc, "adopt the tasks of '" + from + "'");
    }
    auto moved = static_cast<int64_t>(sqlite3_changes64(session_.db()));
    if (moved > 0 && from != to) {
      if (auto err = add_open(from, -moved, nullptr))
        return err;
      if (auto err = add_open(to, moved, nullptr))
        return err;
    }
    return static_cast<uint64_t>(moved);
  });
}

caf::expected<std::optional<journal_record>> sqlite_journal::do_get(const std::string& task_id) {
  return find(task_id);
}

}  // namespace sqlite_task_journal_detail

caf::expected<std::unique_ptr<task_journal>>
open_sqlite_task_journal(const std::string& path, const journal_limits& limits) {
  auto where = "task journal sqlite '" + path + "': ";
  if (auto err = check_journal_limits(limits, where))
    return err;
  auto journal = std::make_unique<sqlite_task_journal_detail::sqlite_journal>(where, limits);
  if (auto err = journal->open(path))
    return err;
  return std::unique_ptr<task_journal>{std::move(journal)};
}

}  // namespace agentgraph

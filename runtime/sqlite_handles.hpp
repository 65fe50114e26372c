// Owning handles for SQLite connections and statements, and the two scope
// guards every transaction needs, shared by every SQLite user (memory
// snapshots, the checkpoint store, the task journal).
#pragma once

#include <memory>

#include <sqlite3.h>

namespace agentgraph {

struct sqlite_db_closer {
  // close_v2 also rolls back a transaction left open by an error path.
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct sqlite_stmt_finalizer {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using sqlite_db_ptr = std::unique_ptr<sqlite3, sqlite_db_closer>;
using sqlite_stmt_ptr = std::unique_ptr<sqlite3_stmt, sqlite_stmt_finalizer>;

// Resets a reused statement when the call is done with it. A SELECT left
// un-reset would keep its WAL read snapshot open, and later reads on this
// connection would not see other connections' commits.
struct sqlite_stmt_use {
  sqlite3_stmt* s;
  explicit sqlite_stmt_use(sqlite3_stmt* stmt) : s(stmt) {}
  ~sqlite_stmt_use() {
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
  }
  sqlite_stmt_use(const sqlite_stmt_use&) = delete;
  sqlite_stmt_use& operator=(const sqlite_stmt_use&) = delete;
};

// Rolls back unless committed: every early return of a transaction undoes
// its writes.
struct sqlite_write_txn {
  sqlite3* db;
  bool committed = false;
  ~sqlite_write_txn() {
    if (!committed)
      sqlite3_exec(db, "ROLLBACK;", nullptr, nullptr, nullptr);
  }
};

}  // namespace agentgraph

// Owning handles for SQLite connections and statements, shared by every
// SQLite user (memory snapshots, the checkpoint store).
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

}  // namespace agentgraph

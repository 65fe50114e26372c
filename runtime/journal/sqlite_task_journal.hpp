// The embedded journal backend: one SQLite file per node, in WAL mode.
//
// Durability: synchronous=FULL, one transaction per call. A gateway
// acknowledges a task after accept returned, so "accept returned" must mean
// "on disk": FULL fsyncs the WAL at every commit. (NORMAL survives kill -9
// of the process too, but may lose the last commits on power loss.)
//
// Scope: a file belongs to one node, so when that node dies its open tasks
// wait for it: its restart pages through open_of(self), adopts them under its
// new epoch (adopt(self, 0, self, new_uid)) and re-dispatches them. No other
// node can take them over; that needs the shared PostgreSQL backend.
//
// Concurrency: one connection per journal object; objects in several
// threads or processes may open the same file. Writers serialise on the
// file lock (BEGIN IMMEDIATE) and wait up to journal_lock_timeout_ms for
// each other; WAL readers never block.
#pragma once

#include <memory>
#include <string>

#include "runtime/journal/task_journal.hpp"

namespace agentgraph {

// Opens or creates the journal at `path` (and its directory). A new or
// empty file gets the tables; a file that is not SQLite, an SQLite database
// of another program (tables, but no journal's), or a journal of another
// schema version is refused with parse_error naming the file, and left as
// it was. Errors: invalid_argument (limits), io_error (permissions, a lock
// held past the timeout), parse_error.
[[nodiscard]] caf::expected<std::unique_ptr<task_journal>>
open_sqlite_task_journal(const std::string& path, const journal_limits& limits = {});

}  // namespace agentgraph

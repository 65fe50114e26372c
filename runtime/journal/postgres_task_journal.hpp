// The shared journal backend: a PostgreSQL server (libpqxx 6.4) that every
// node of a cluster writes, so that when a node dies the majority's leader
// adopts its open tasks (adopt(dead, dead_uid, self, self_uid)) and a
// client resubmitting a task id to any node finds the task.
//
// Durability: one transaction per call; with the server's default
// synchronous_commit=on, COMMIT returns after the WAL record is flushed, so
// an accept that returned survives a crash of our process and of the server.
//
// Concurrency: one connection per journal object; any number of objects
// (threads, processes, nodes) may share a schema. Two accepts of one id:
// INSERT ... ON CONFLICT DO NOTHING keeps one, the other gets it back. Two
// completes: the second waits for the first's row lock, then finds the
// record finished and returns it (first writer wins). adopt is one UPDATE
// ... WHERE owner and epoch match, so an assign naming the old owner, even
// one racing the adopt, either ran before it or is fenced. Accepts of one
// owner serialise on that owner's open counter row (exact open_max).
// lock_timeout bounds every wait; a lost connection fails the call in
// progress with io_error and the next call reconnects; connect_timeout (added
// to the URL unless it has one) and statement_timeout bound a hung server.
// The URL appears in errors with its password replaced by "***".
#pragma once

#include <memory>
#include <string>

#include "runtime/journal/task_journal.hpp"

namespace agentgraph {

// Connects to `url`, creates `schema` and the tables in it if missing
// (serialised across processes by an advisory lock) and prepares the
// statements. `schema` is a lowercase SQL identifier; a cluster shares one.
// Errors: invalid_argument (limits, schema name), io_error naming the
// redacted URL (connect, permissions), parse_error (tables of another
// schema version).
[[nodiscard]] caf::expected<std::unique_ptr<task_journal>>
open_postgres_task_journal(const std::string& url, const journal_limits& limits = {},
                           const std::string& schema = "public");

}  // namespace agentgraph

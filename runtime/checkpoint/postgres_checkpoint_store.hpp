// The shared checkpoint backend: a PostgreSQL server (libpqxx 6.4), for
// checkpoints that any node of a cluster can resume.
//
// Durability: each put is one transaction; with the server's default
// synchronous_commit=on, COMMIT returns after the WAL record is flushed, so a
// put that returned survives a crash of our process and of the server.
// The converse needs care: when our process dies (kill -9) during a put,
// the server still commits it if the COMMIT had arrived, a few milliseconds
// after the death. A run resumed at once by another process may read the
// latest checkpoint just before that commit lands (the contract test waits
// for the dead writer's session to end: pg_stat_activity, application_name).
//
// Concurrency: one connection per store object; any number of objects
// (threads, processes, nodes) may share a database. Puts to one thread
// serialise on that thread's row in checkpoint_threads; lock_timeout bounds
// the wait. A lost connection fails the call in progress with io_error; the
// next call reconnects. connect_timeout (added to the URL unless it has one)
// and statement_timeout bound how long a call can hang. The connection URL
// appears in errors with its password replaced by "***".
#pragma once

#include <memory>
#include <string>

#include "runtime/checkpoint/checkpoint_store.hpp"

namespace agentgraph {

// Connects to `url` (postgresql://user[:password]@host[:port]/db?...; libpq
// also accepts key=value strings), creates `schema` and the tables in it if
// missing (serialised across processes by an advisory lock) and prepares the
// statements. `schema` is a lowercase SQL identifier; a cluster shares one,
// tests use one each. Errors: invalid_argument (limits, schema name),
// io_error naming the redacted URL (connect, permissions), parse_error
// (tables of another schema version).
[[nodiscard]] caf::expected<std::unique_ptr<checkpoint_store>>
open_postgres_checkpoint_store(const std::string& url, const checkpoint_limits& limits = {},
                               const std::string& schema = "public");

}  // namespace agentgraph

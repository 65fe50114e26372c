// The shared population store: a PostgreSQL server (libpqxx 6.4) that every
// node of a cluster writes, so that a key whose node died is activated on
// another node with its last saved state, and the dead node's instance, if
// it is in fact alive, finds its saves fenced.
//
// Durability: one transaction per call. A save commits with the server's
// synchronous_commit (on by default: flushed before COMMIT returns). A claim
// sets synchronous_commit=off for its own transaction only (SET LOCAL): it
// waits for no flush, and the server flushes it within its WAL writer delay
// or with the next synchronous commit (a later save's); a server crash may
// forget it, and the key is simply claimed again.
//
// Round trips: a claim is one statement for its whole batch (the keys as
// one text[] parameter); a save is one statement per 16 MiB of states (the
// states concatenated in one bytea parameter, cut by offsets on the
// server), so a batch of 1,000 small states is one round trip, not 1,000.
//
// Concurrency: one connection per store object; any number of objects
// (threads, processes, nodes) may share a schema. Claims lock their rows in
// key order, so two claims of overlapping batches wait for each other
// instead of deadlocking. A save racing a claim of the same key either
// committed before it (the claimant reads that state) or is fenced. A save
// locks its rows in the server's join order, so a save and a claim sharing
// two or more keys may still deadlock: the server detects it and fails one
// of them with io_error (every call is safe to retry).
// lock_timeout bounds every wait; a lost connection fails the call in
// progress with io_error and the next call reconnects. The URL appears in
// errors with its password replaced by "***".
#pragma once

#include <memory>
#include <string>

#include "runtime/population/population_store.hpp"

namespace agentgraph {

// Connects to `url`, creates `schema` and the table in it if missing
// (serialised across processes by an advisory lock) and prepares the
// statements. `schema` is a lowercase SQL identifier; a cluster shares one.
// Errors: invalid_argument (limits, schema name), io_error naming the
// redacted URL (connect, permissions), parse_error (tables of another
// schema version).
[[nodiscard]] caf::expected<std::unique_ptr<population_store>>
open_postgres_population_store(const std::string& url, const population_store_limits& limits = {},
                               const std::string& schema = "public");

}  // namespace agentgraph

// The embedded population store: one SQLite file per node, in WAL mode.
//
// Durability: a save commits with synchronous=FULL (fsync of the WAL), so a
// passivated key's state is on disk when save returns. A claim commits with
// synchronous=NORMAL on the same connection (the pragma is switched between
// transactions): no fsync of its own, which keeps an activation off the
// disk's flush latency. Its WAL frames are written before the commit
// returns, so it survives kill -9 of the process, and the next FULL commit
// on the file (the next save) fsyncs them with its own; a power loss may
// forget it, and the key is simply claimed again.
//
// Scope: a file belongs to one node; a key cannot move to another node
// with its state (that needs the shared PostgreSQL backend).
//
// Concurrency: one connection per store object; objects in several threads
// or processes may open the same file. Writers serialise on the file lock
// (BEGIN IMMEDIATE) and wait up to population_lock_timeout_ms for each
// other; WAL readers (keys, count) never block.
#pragma once

#include <memory>
#include <string>

#include "runtime/population/population_store.hpp"

namespace agentgraph {

// Opens or creates the store at `path` (and its directory). A file that is
// not SQLite, or a store of another schema version, is refused with
// parse_error naming the file. Errors: invalid_argument (limits), io_error
// (permissions, a lock held past the timeout), parse_error.
[[nodiscard]] caf::expected<std::unique_ptr<population_store>>
open_sqlite_population_store(const std::string& path, const population_store_limits& limits = {});

}  // namespace agentgraph

// The embedded checkpoint backend: one SQLite file in WAL mode.
//
// Durability: synchronous=FULL. Under WAL, NORMAL would already survive
// kill -9 of the process (a committed transaction is in the WAL file, which
// lives in the OS page cache, not in our process), but it may lose the last
// commits on power loss or an OS crash. A workflow acts on the world after a
// checkpoint (it calls tools, answers callers), so "put returned" must mean
// "on disk": FULL fsyncs the WAL at every commit, one fsync per super-step
// (figures in runtime/README.md).
//
// Concurrency: one connection per store object; objects in several threads
// or processes may open the same file. SQLite's file locks serialise writers
// (BEGIN IMMEDIATE) and a busy timeout of checkpoint_lock_timeout_ms makes a
// writer wait for another instead of failing at once; WAL readers never block.
#pragma once

#include <memory>
#include <string>

#include "runtime/checkpoint/checkpoint_store.hpp"

namespace agentgraph {

// Opens or creates the database at `path` (and its directory) and creates
// the tables if missing. Errors: invalid_argument (limits), io_error naming
// the file, parse_error when the file is not SQLite or holds another schema
// version.
[[nodiscard]] caf::expected<std::unique_ptr<checkpoint_store>>
open_sqlite_checkpoint_store(const std::string& path, const checkpoint_limits& limits = {});

}  // namespace agentgraph

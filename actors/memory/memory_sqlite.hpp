// The SQLite pieces shared by the two ways a shard reaches its file: the
// whole-shard snapshot (memory_snapshot.*) and the per-entry commit writer
// (memory_commit_file.*). One table layout, one error mapping, one way to
// bind an entry, so a file written either way loads the same.
//
// Everything here BLOCKS on disk I/O: detached writers and spawn only.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "actors/memory/memory_interface.hpp"
#include "runtime/sqlite_handles.hpp"

namespace agentgraph::memory_sqlite {

// Format of the tables below; a file of another version is a parse_error.
// Both durabilities write this same layout: commit mode keeps the rows
// current one by one, snapshot mode rewrites them all.
constexpr int64_t schema_version = 1;
// How long SQLite waits for a lock held by another connection (e.g. a
// backup tool) before the call fails with io_error.
constexpr std::chrono::milliseconds busy_timeout{5'000};

constexpr const char* create_tables_sql =
  "CREATE TABLE IF NOT EXISTS memory_meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL);"
  "CREATE TABLE IF NOT EXISTS memory_entries("
  " id INTEGER PRIMARY KEY, text TEXT NOT NULL, kind TEXT NOT NULL, importance REAL NOT NULL,"
  " metadata TEXT NOT NULL, created_ms INTEGER NOT NULL, last_access_ms INTEGER NOT NULL,"
  " access_count INTEGER NOT NULL);";

// INSERT OR REPLACE: the snapshot inserts into an emptied table, the commit
// writer replaces a recalled entry's row; one statement serves both.
constexpr const char* upsert_sql =
  "INSERT OR REPLACE INTO memory_entries(id, text, kind, importance, metadata, created_ms,"
  " last_access_ms, access_count) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8);";

// "memory snapshot '<path>': ", the prefix of every error about the file.
[[nodiscard]] std::string where(const std::string& path);

// A database that is not SQLite or is damaged is a parse_error (retrying
// cannot help); anything else (permissions, disk full, locks) is io_error.
[[nodiscard]] caf::error failure(const std::string& path, sqlite3* db, int rc,
                                 const std::string& what);

// Creates the parent directory when missing (a fresh data_dir), then opens
// with `flags` and sets the busy timeout.
[[nodiscard]] caf::expected<sqlite_db_ptr> open(const std::string& path, int flags);
// Opens for writing: creates the file, journal_mode=WAL, synchronous=FULL
// and the tables. FULL, not NORMAL: in WAL mode NORMAL fsyncs only at
// checkpoints, so a commit that was answered "stored" could be lost to a
// power cut (it would survive kill -9); the reply promises it is on disk.
[[nodiscard]] caf::expected<sqlite_db_ptr> open_for_writing(const std::string& path);

[[nodiscard]] caf::error exec(const std::string& path, sqlite3* db, const char* sql);
[[nodiscard]] caf::expected<sqlite_stmt_ptr> prepare(const std::string& path, sqlite3* db,
                                                     const char* sql);

// Runs `stmt` (upsert_sql, prepared on db) for one entry.
[[nodiscard]] caf::error upsert_entry(const std::string& path, sqlite3* db, sqlite3_stmt* stmt,
                                      const memory_entry& e);
// schema_version, next_id and the embedding label (rows embedding_model,
// text, and embedding_dimension) into memory_meta. Files written before
// the label existed load without one (memory_snapshot::label).
[[nodiscard]] caf::error write_meta(const std::string& path, sqlite3* db, uint64_t next_id,
                                    const embedding_label& label);

}  // namespace agentgraph::memory_sqlite

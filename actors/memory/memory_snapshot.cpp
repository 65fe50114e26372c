#include "actors/memory/memory_snapshot.hpp"

#include <filesystem>
#include <limits>
#include <memory>
#include <set>

#include <sqlite3.h>

#include "runtime/error.hpp"
#include "runtime/sqlite_handles.hpp"

namespace agentgraph {

namespace memory_snapshot_detail {

using db_ptr = sqlite_db_ptr;
using stmt_ptr = sqlite_stmt_ptr;

constexpr const char* create_tables_sql =
  "CREATE TABLE IF NOT EXISTS memory_meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL);"
  "CREATE TABLE IF NOT EXISTS memory_entries("
  " id INTEGER PRIMARY KEY, text TEXT NOT NULL, kind TEXT NOT NULL, importance REAL NOT NULL,"
  " metadata TEXT NOT NULL, created_ms INTEGER NOT NULL, last_access_ms INTEGER NOT NULL,"
  " access_count INTEGER NOT NULL);";

constexpr const char* insert_sql =
  "INSERT INTO memory_entries(id, text, kind, importance, metadata, created_ms, last_access_ms,"
  " access_count) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8);";

constexpr const char* select_sql =
  "SELECT id, text, kind, importance, metadata, created_ms, last_access_ms, access_count"
  " FROM memory_entries ORDER BY id;";

std::string where(const std::string& path) {
  return "memory snapshot '" + path + "': ";
}

// A database that is not SQLite or is damaged is a parse_error (retrying
// cannot help); anything else (permissions, disk full, locks) is io_error.
caf::error sqlite_failure(const std::string& path, sqlite3* db, int rc, const std::string& what) {
  int primary = rc & 0xff;
  auto code = (primary == SQLITE_NOTADB || primary == SQLITE_CORRUPT) ? errc::parse_error
                                                                       : errc::io_error;
  std::string detail = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  return make_error(code, where(path) + what + ": " + detail);
}

caf::expected<db_ptr> open(const std::string& path, int flags) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  db_ptr db{raw};
  if (rc != SQLITE_OK)
    return sqlite_failure(path, db.get(), rc, "open");
  sqlite3_busy_timeout(db.get(), static_cast<int>(memory_snapshot_busy_timeout.count()));
  return db;
}

caf::error exec(const std::string& path, sqlite3* db, const char* sql) {
  int rc = sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK)
    return sqlite_failure(path, db, rc, sql);
  return caf::none;
}

caf::expected<stmt_ptr> prepare(const std::string& path, sqlite3* db, const char* sql) {
  sqlite3_stmt* raw = nullptr;
  int rc = sqlite3_prepare_v2(db, sql, -1, &raw, nullptr);
  stmt_ptr stmt{raw};
  if (rc != SQLITE_OK)
    return sqlite_failure(path, db, rc, "prepare");
  return stmt;
}

caf::error insert_entry(const std::string& path, sqlite3* db, sqlite3_stmt* stmt,
                        const memory_entry& e) {
  auto metadata = e.metadata.to_json();
  sqlite3_reset(stmt);
  sqlite3_bind_int64(stmt, 1, static_cast<sqlite3_int64>(e.id));
  sqlite3_bind_text(stmt, 2, e.text.data(), static_cast<int>(e.text.size()), SQLITE_STATIC);
  sqlite3_bind_text(stmt, 3, e.kind.data(), static_cast<int>(e.kind.size()), SQLITE_STATIC);
  sqlite3_bind_double(stmt, 4, e.importance);
  sqlite3_bind_text(stmt, 5, metadata.data(), static_cast<int>(metadata.size()), SQLITE_STATIC);
  sqlite3_bind_int64(stmt, 6, e.created_ms);
  sqlite3_bind_int64(stmt, 7, e.last_access_ms);
  sqlite3_bind_int64(stmt, 8, e.access_count);
  int rc = sqlite3_step(stmt);
  if (rc != SQLITE_DONE)
    return sqlite_failure(path, db, rc, "insert entry " + std::to_string(e.id));
  return caf::none;
}

caf::error write_meta(const std::string& path, sqlite3* db, uint64_t next_id) {
  auto stmt = prepare(path, db, "INSERT OR REPLACE INTO memory_meta(key, value) VALUES(?1, ?2);");
  if (!stmt)
    return std::move(stmt.error());
  const std::pair<const char*, int64_t> rows[] = {
    {"schema_version", memory_snapshot_schema_version},
    {"next_id", static_cast<int64_t>(next_id)}};
  for (const auto& [k, v] : rows) {
    sqlite3_reset(stmt->get());
    sqlite3_bind_text(stmt->get(), 1, k, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt->get(), 2, v);
    if (int rc = sqlite3_step(stmt->get()); rc != SQLITE_DONE)
      return sqlite_failure(path, db, rc, std::string{"write "} + k);
  }
  return caf::none;
}

caf::expected<std::set<std::string>> table_names(const std::string& path, sqlite3* db) {
  auto stmt = prepare(path, db, "SELECT name FROM sqlite_master WHERE type = 'table';");
  if (!stmt)
    return std::move(stmt.error());
  std::set<std::string> names;
  int rc;
  while ((rc = sqlite3_step(stmt->get())) == SQLITE_ROW)
    names.emplace(reinterpret_cast<const char*>(sqlite3_column_text(stmt->get(), 0)));
  if (rc != SQLITE_DONE)
    return sqlite_failure(path, db, rc, "list tables");
  return names;
}

caf::expected<uint64_t> read_meta(const std::string& path, sqlite3* db) {
  auto stmt = prepare(path, db, "SELECT key, value FROM memory_meta;");
  if (!stmt)
    return std::move(stmt.error());
  int64_t version = -1;
  int64_t next_id = -1;
  int rc;
  while ((rc = sqlite3_step(stmt->get())) == SQLITE_ROW) {
    std::string k = reinterpret_cast<const char*>(sqlite3_column_text(stmt->get(), 0));
    if (k == "schema_version")
      version = sqlite3_column_int64(stmt->get(), 1);
    else if (k == "next_id")
      next_id = sqlite3_column_int64(stmt->get(), 1);
  }
  if (rc != SQLITE_DONE)
    return sqlite_failure(path, db, rc, "read memory_meta");
  if (version != memory_snapshot_schema_version)
    return make_error(errc::parse_error, where(path) + "schema version "
                                           + std::to_string(version) + ", expected "
                                           + std::to_string(memory_snapshot_schema_version));
  if (next_id < 1)
    return make_error(errc::parse_error, where(path) + "next_id missing or below 1");
  return static_cast<uint64_t>(next_id);
}

bool column_is(sqlite3_stmt* s, int col, int type) {
  return sqlite3_column_type(s, col) == type;
}

std::string column_string(sqlite3_stmt* s, int col) {
  const auto* p = static_cast<const char*>(sqlite3_column_blob(s, col));
  return p == nullptr ? std::string{} : std::string(p, static_cast<size_t>(sqlite3_column_bytes(s, col)));
}

caf::expected<memory_entry> read_row(const std::string& path, sqlite3_stmt* s) {
  auto id = sqlite3_column_int64(s, 0);
  auto bad = [&](const char* what) {
    return make_error(errc::parse_error, where(path) + "entry " + std::to_string(id) + ": " + what);
  };
  if (!column_is(s, 0, SQLITE_INTEGER) || id < 1 || !column_is(s, 1, SQLITE_TEXT)
      || !column_is(s, 2, SQLITE_TEXT) || !column_is(s, 4, SQLITE_TEXT)
      || !column_is(s, 5, SQLITE_INTEGER) || !column_is(s, 6, SQLITE_INTEGER)
      || !column_is(s, 7, SQLITE_INTEGER)
      || !(column_is(s, 3, SQLITE_FLOAT) || column_is(s, 3, SQLITE_INTEGER)))
    return bad("a column has the wrong type");
  memory_entry e;
  e.id = static_cast<uint64_t>(id);
  e.text = column_string(s, 1);
  e.kind = column_string(s, 2);
  e.importance = sqlite3_column_double(s, 3);
  auto metadata = Value::from_json(column_string(s, 4));
  if (!metadata)
    return bad("metadata is not valid JSON");
  e.metadata = std::move(*metadata);
  e.created_ms = sqlite3_column_int64(s, 5);
  e.last_access_ms = sqlite3_column_int64(s, 6);
  auto count = sqlite3_column_int64(s, 7);
  if (count < 0 || count > std::numeric_limits<uint32_t>::max())
    return bad("access_count out of range");
  e.access_count = static_cast<uint32_t>(count);
  return e;
}

caf::expected<std::vector<memory_entry>> read_entries(const std::string& path, sqlite3* db) {
  auto stmt = prepare(path, db, select_sql);
  if (!stmt)
    return std::move(stmt.error());
  std::vector<memory_entry> entries;
  int rc;
  while ((rc = sqlite3_step(stmt->get())) == SQLITE_ROW) {
    auto e = read_row(path, stmt->get());
    if (!e)
      return std::move(e.error());
    entries.push_back(std::move(*e));
  }
  if (rc != SQLITE_DONE)
    return sqlite_failure(path, db, rc, "read memory_entries");
  return entries;
}

}  // namespace memory_snapshot_detail

caf::expected<uint64_t> save_memory_snapshot(const std::string& path,
                                             const std::vector<memory_entry>& entries,
                                             uint64_t next_id) {
  namespace d = memory_snapshot_detail;
  // A configured snapshot path may point into a directory that does not
  // exist yet (a fresh checkout, a new data_dir): create it, as SQLite
  // creates only the file.
  auto parent = std::filesystem::path{path}.parent_path();
  std::error_code ec;
  if (!parent.empty())
    std::filesystem::create_directories(parent, ec);
  if (ec)
    return make_error(errc::io_error, d::where(path) + "cannot create its directory: " + ec.message());
  auto db = d::open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  if (!db)
    return std::move(db.error());
  sqlite3* h = db->get();
  // WAL: readers (a backup, a restarting shard) never block the writer.
  // synchronous=FULL: a snapshot that replied "written" survives power loss;
  // snapshots are rare, so the extra fsync is cheap.
  for (const char* sql : {"PRAGMA journal_mode=WAL;", "PRAGMA synchronous=FULL;",
                          "BEGIN IMMEDIATE;", d::create_tables_sql,
                          "DELETE FROM memory_entries;"})
    if (auto err = d::exec(path, h, sql))
      return err;
  auto insert = d::prepare(path, h, d::insert_sql);
  if (!insert)
    return std::move(insert.error());
  for (const auto& e : entries)
    if (auto err = d::insert_entry(path, h, insert->get(), e))
      return err;
  insert->reset();
  if (auto err = d::write_meta(path, h, next_id))
    return err;
  if (auto err = d::exec(path, h, "COMMIT;"))
    return err;
  return static_cast<uint64_t>(entries.size());
}

caf::expected<memory_snapshot> load_memory_snapshot(const std::string& path) {
  namespace d = memory_snapshot_detail;
  std::error_code ec;
  bool exists = std::filesystem::exists(path, ec);
  if (ec)
    return make_error(errc::io_error, d::where(path) + "cannot stat: " + ec.message());
  if (!exists)
    return memory_snapshot{};
  // READWRITE without CREATE: WAL recovery after a crash needs to write.
  auto db = d::open(path, SQLITE_OPEN_READWRITE);
  if (!db)
    return std::move(db.error());
  auto tables = d::table_names(path, db->get());
  if (!tables)
    return std::move(tables.error());
  if (tables->empty())
    return memory_snapshot{};
  if (tables->count("memory_entries") == 0 || tables->count("memory_meta") == 0)
    return make_error(errc::parse_error, d::where(path) + "not a memory snapshot (no memory tables)");
  auto next_id = d::read_meta(path, db->get());
  if (!next_id)
    return std::move(next_id.error());
  auto entries = d::read_entries(path, db->get());
  if (!entries)
    return std::move(entries.error());
  return memory_snapshot{std::move(*entries), *next_id};
}

}  // namespace agentgraph

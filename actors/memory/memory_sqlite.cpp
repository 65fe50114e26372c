#include "actors/memory/memory_sqlite.hpp"

#include <filesystem>
#include <utility>

#include <sqlite3.h>

#include "runtime/error.hpp"

namespace agentgraph::memory_sqlite {

std::string where(const std::string& path) {
  return "memory snapshot '" + path + "': ";
}

caf::error failure(const std::string& path, sqlite3* db, int rc, const std::string& what) {
  int primary = rc & 0xff;
  auto code = (primary == SQLITE_NOTADB || primary == SQLITE_CORRUPT) ? errc::parse_error
                                                                       : errc::io_error;
  std::string detail = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  return make_error(code, where(path) + what + ": " + detail);
}

caf::expected<sqlite_db_ptr> open(const std::string& path, int flags) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  sqlite_db_ptr db{raw};
  if (rc != SQLITE_OK)
    return failure(path, db.get(), rc, "open");
  sqlite3_busy_timeout(db.get(), static_cast<int>(busy_timeout.count()));
  return db;
}

caf::expected<sqlite_db_ptr> open_for_writing(const std::string& path) {
  // A configured path may point into a directory that does not exist yet
  // (a fresh checkout, a new data_dir): create it, as SQLite creates only
  // the file.
  auto parent = std::filesystem::path{path}.parent_path();
  std::error_code ec;
  if (!parent.empty())
    std::filesystem::create_directories(parent, ec);
  if (ec)
    return make_error(errc::io_error, where(path) + "cannot create its directory: " + ec.message());
  auto db = open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  if (!db)
    return std::move(db.error());
  // WAL: readers (a backup, a restarting shard) never block the writer.
  for (const char* sql :
       {"PRAGMA journal_mode=WAL;", "PRAGMA synchronous=FULL;", create_tables_sql})
    if (auto err = exec(path, db->get(), sql))
      return err;
  return db;
}

caf::error exec(const std::string& path, sqlite3* db, const char* sql) {
  int rc = sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK)
    return failure(path, db, rc, sql);
  return caf::none;
}

caf::expected<sqlite_stmt_ptr> prepare(const std::string& path, sqlite3* db, const char* sql) {
  sqlite3_stmt* raw = nullptr;
  int rc = sqlite3_prepare_v2(db, sql, -1, &raw, nullptr);
  sqlite_stmt_ptr stmt{raw};
  if (rc != SQLITE_OK)
    return failure(path, db, rc, "prepare");
  return stmt;
}

caf::error upsert_entry(const std::string& path, sqlite3* db, sqlite3_stmt* stmt,
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
    return failure(path, db, rc, "write entry " + std::to_string(e.id));
  return caf::none;
}

caf::error write_meta(const std::string& path, sqlite3* db, uint64_t next_id,
                      const embedding_label& label) {
  auto stmt = prepare(path, db, "INSERT OR REPLACE INTO memory_meta(key, value) VALUES(?1, ?2);");
  if (!stmt)
    return std::move(stmt.error());
  const std::pair<const char*, int64_t> rows[] = {{"schema_version", schema_version},
                                                  {"next_id", static_cast<int64_t>(next_id)}};
  for (const auto& [k, v] : rows) {
    sqlite3_reset(stmt->get());
    sqlite3_bind_text(stmt->get(), 1, k, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt->get(), 2, v);
    if (int rc = sqlite3_step(stmt->get()); rc != SQLITE_DONE)
      return failure(path, db, rc, std::string{"write "} + k);
  }
  // The model is text in a column declared INTEGER: SQLite keeps a value
  // that is not a number as TEXT, so the table needs no change.
  sqlite3_reset(stmt->get());
  sqlite3_bind_text(stmt->get(), 1, "embedding_model", -1, SQLITE_STATIC);
  sqlite3_bind_text(stmt->get(), 2, label.model.data(), static_cast<int>(label.model.size()),
                    SQLITE_STATIC);
  if (int rc = sqlite3_step(stmt->get()); rc != SQLITE_DONE)
    return failure(path, db, rc, "write embedding_model");
  sqlite3_reset(stmt->get());
  sqlite3_bind_text(stmt->get(), 1, "embedding_dimension", -1, SQLITE_STATIC);
  sqlite3_bind_int64(stmt->get(), 2, label.dimension);
  if (int rc = sqlite3_step(stmt->get()); rc != SQLITE_DONE)
    return failure(path, db, rc, "write embedding_dimension");
  return caf::none;
}

}  // namespace agentgraph::memory_sqlite

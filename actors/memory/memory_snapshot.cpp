#include "actors/memory/memory_snapshot.hpp"

#include <filesystem>
#include <limits>
#include <set>

#include <sqlite3.h>

#include "actors/memory/memory_sqlite.hpp"
#include "runtime/error.hpp"

namespace agentgraph {

namespace memory_snapshot_detail {

using namespace memory_sqlite;

constexpr const char* select_sql =
  "SELECT id, text, kind, importance, metadata, created_ms, last_access_ms, access_count"
  " FROM memory_entries ORDER BY id;";

caf::expected<std::set<std::string>> table_names(const std::string& path, sqlite3* db) {
  auto stmt = prepare(path, db, "SELECT name FROM sqlite_master WHERE type = 'table';");
  if (!stmt)
    return std::move(stmt.error());
  std::set<std::string> names;
  int rc;
  while ((rc = sqlite3_step(stmt->get())) == SQLITE_ROW)
    names.emplace(reinterpret_cast<const char*>(sqlite3_column_text(stmt->get(), 0)));
  if (rc != SQLITE_DONE)
    return failure(path, db, rc, "list tables");
  return names;
}

// Whether `table` has no rows.
caf::expected<bool> table_empty(const std::string& path, sqlite3* db, const std::string& table) {
  auto sql = "SELECT EXISTS(SELECT 1 FROM " + table + ");";
  auto stmt = prepare(path, db, sql.c_str());
  if (!stmt)
    return std::move(stmt.error());
  int rc = sqlite3_step(stmt->get());
  if (rc != SQLITE_ROW)
    return failure(path, db, rc, "count " + table);
  return sqlite3_column_int64(stmt->get(), 0) == 0;
}

std::string column_string(sqlite3_stmt* s, int col) {
  const auto* p = static_cast<const char*>(sqlite3_column_blob(s, col));
  return p == nullptr ? std::string{} : std::string(p, static_cast<size_t>(sqlite3_column_bytes(s, col)));
}

// memory_meta's rows: next_id (checked) and the embedding label, if any.
struct meta_rows {
  uint64_t next_id = 1;
  std::optional<embedding_label> label;
};

caf::expected<meta_rows> read_meta(const std::string& path, sqlite3* db) {
  auto stmt = prepare(path, db, "SELECT key, value FROM memory_meta;");
  if (!stmt)
    return std::move(stmt.error());
  int64_t version = -1;
  int64_t next_id = -1;
  std::optional<std::string> model;
  int64_t dimension = -1;
  int rc;
  while ((rc = sqlite3_step(stmt->get())) == SQLITE_ROW) {
    std::string k = column_string(stmt->get(), 0);
    if (k == "schema_version")
      version = sqlite3_column_int64(stmt->get(), 1);
    else if (k == "next_id")
      next_id = sqlite3_column_int64(stmt->get(), 1);
    else if (k == "embedding_model")
      model = column_string(stmt->get(), 1);
    else if (k == "embedding_dimension")
      dimension = sqlite3_column_int64(stmt->get(), 1);
  }
  if (rc != SQLITE_DONE)
    return failure(path, db, rc, "read memory_meta");
  if (version != schema_version)
    return make_error(errc::parse_error, where(path) + "schema version "
                                           + std::to_string(version) + ", expected "
                                           + std::to_string(schema_version));
  if (next_id < 1)
    return make_error(errc::parse_error, where(path) + "next_id missing or below 1");
  meta_rows out;
  out.next_id = static_cast<uint64_t>(next_id);
  if (model.has_value() != (dimension >= 0) || dimension > int64_t{UINT32_MAX})
    return make_error(errc::parse_error, where(path) + "embedding_model and embedding_dimension "
                                                       "must both be present, the dimension in "
                                                       "[0, 2^32)");
  if (model)
    out.label = embedding_label{std::move(*model), static_cast<uint32_t>(dimension)};
  return out;
}

bool column_is(sqlite3_stmt* s, int col, int type) {
  return sqlite3_column_type(s, col) == type;
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
    return failure(path, db, rc, "read memory_entries");
  return entries;
}

}  // namespace memory_snapshot_detail

caf::expected<uint64_t> save_memory_snapshot(const std::string& path,
                                             const std::vector<memory_entry>& entries,
                                             uint64_t next_id,
                                             const embedding_label& label) {
  namespace d = memory_snapshot_detail;
  // synchronous=FULL (open_for_writing): a snapshot that replied "written"
  // survives power loss; snapshots are rare, so the extra fsync is cheap.
  auto db = d::open_for_writing(path);
  if (!db)
    return std::move(db.error());
  sqlite3* h = db->get();
  for (const char* sql : {"BEGIN IMMEDIATE;", "DELETE FROM memory_entries;"})
    if (auto err = d::exec(path, h, sql))
      return err;
  auto insert = d::prepare(path, h, d::upsert_sql);
  if (!insert)
    return std::move(insert.error());
  for (const auto& e : entries)
    if (auto err = d::upsert_entry(path, h, insert->get(), e))
      return err;
  insert->reset();
  if (auto err = d::write_meta(path, h, next_id, label))
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
  // Every writer puts entries and memory_meta in one transaction, after
  // creating the tables in a transaction of their own. Tables with no rows
  // in either are a file whose first writer stopped in between (killed, or
  // its runtime failed to start): nothing was ever committed, so it is a
  // fresh snapshot, not a corrupt one. Entries without meta stay an error.
  auto meta_empty = d::table_empty(path, db->get(), "memory_meta");
  if (!meta_empty)
    return std::move(meta_empty.error());
  auto entries_empty = d::table_empty(path, db->get(), "memory_entries");
  if (!entries_empty)
    return std::move(entries_empty.error());
  if (*meta_empty && *entries_empty)
    return memory_snapshot{};
  auto meta = d::read_meta(path, db->get());
  if (!meta)
    return std::move(meta.error());
  auto entries = d::read_entries(path, db->get());
  if (!entries)
    return std::move(entries.error());
  return memory_snapshot{std::move(*entries), meta->next_id, std::move(meta->label)};
}

}  // namespace agentgraph

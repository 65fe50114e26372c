#include "actors/provider/recording_store.hpp"

#include <filesystem>
#include <system_error>

#include <sqlite3.h>

#include "runtime/error.hpp"
#include "runtime/sqlite_handles.hpp"
#include "runtime/sqlite_session.hpp"

namespace agentgraph {

namespace recording_store_detail {

constexpr const char* schema_sql =
  "CREATE TABLE IF NOT EXISTS recording_format(format TEXT NOT NULL, version INTEGER NOT NULL);"
  "INSERT INTO recording_format(format, version)"
  " SELECT 'agentgraph provider recording', 1"
  " WHERE NOT EXISTS (SELECT 1 FROM recording_format);"
  "CREATE TABLE IF NOT EXISTS recording_calls("
  " seq INTEGER PRIMARY KEY AUTOINCREMENT, request_hash TEXT NOT NULL, call INTEGER NOT NULL,"
  " provider TEXT NOT NULL, model TEXT NOT NULL, error_code INTEGER NOT NULL,"
  " error_text TEXT NOT NULL, response BLOB NOT NULL, chunks BLOB NOT NULL,"
  " ttft_us INTEGER NOT NULL, latency_us INTEGER NOT NULL, prompt_tokens INTEGER NOT NULL,"
  " completion_tokens INTEGER NOT NULL, recorded_unix_ms INTEGER NOT NULL);";

constexpr const char* insert_sql =
  "INSERT INTO recording_calls(request_hash, call, provider, model, error_code, error_text,"
  " response, chunks, ttft_us, latency_us, prompt_tokens, completion_tokens, recorded_unix_ms)"
  " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13);";

constexpr const char* select_sql =
  "SELECT seq, request_hash, call, provider, model, error_code, error_text, response, chunks,"
  " ttft_us, latency_us, prompt_tokens, completion_tokens, recorded_unix_ms"
  " FROM recording_calls ORDER BY seq;";

// A writer waits this long for another writer of the same file (a second
// process recording into it) before its append fails.
constexpr int64_t busy_timeout_ms = 5'000;

void bind_text(sqlite3_stmt* s, int i, const std::string& v) {
  sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
}

// A zero-length blob for an empty string (whose data SQLite could bind as
// NULL, which the NOT NULL column refuses).
void bind_blob(sqlite3_stmt* s, int i, const std::string& v) {
  if (v.empty())
    sqlite3_bind_zeroblob(s, i, 0);
  else
    sqlite3_bind_blob64(s, i, v.data(), v.size(), SQLITE_STATIC);
}

std::string column_bytes(sqlite3_stmt* s, int col) {
  const auto* p = static_cast<const char*>(sqlite3_column_blob(s, col));
  auto n = static_cast<size_t>(sqlite3_column_bytes(s, col));
  return p == nullptr ? std::string{} : std::string{p, n};
}

// parse_error unless the file holds exactly our format row.
caf::error check_format(sqlite_session& db) {
  sqlite_stmt_ptr stmt;
  if (auto err = db.prepare(stmt, "SELECT format, version FROM recording_format;")) {
    // Not SQLite, or damaged: the session's own error says which.
    if (error_context(err).find("no such table") == std::string::npos)
      return err;
    return make_error(errc::parse_error,
                      db.where() + "not a provider recording (no recording_format table)");
  }
  std::vector<std::pair<std::string, int64_t>> rows;
  int rc = SQLITE_DONE;
  // Two rows are already one too many: read no further.
  while (rows.size() < 2 && (rc = sqlite3_step(stmt.get())) == SQLITE_ROW)
    rows.emplace_back(column_bytes(stmt.get(), 0), sqlite3_column_int64(stmt.get(), 1));
  if (rows.size() == 2)
    rc = SQLITE_DONE;
  if (rc != SQLITE_DONE)
    return db.failure(rc, "read the format row");
  if (rows.size() != 1 || rows[0].first != recording_format_name)
    return make_error(errc::parse_error, db.where() + "not a provider recording (format row)");
  if (rows[0].second != recording_format_version)
    return make_error(errc::parse_error, db.where() + "recording format version "
                                           + std::to_string(rows[0].second) + ", this build reads "
                                           + std::to_string(recording_format_version));
  return caf::none;
}

// A file with tables but no recording_format is someone else's database:
// refuse it before creating our tables in it.
caf::error check_not_foreign(sqlite_session& db) {
  sqlite_stmt_ptr stmt;
  if (auto err = db.prepare(stmt, "SELECT name FROM sqlite_master WHERE type = 'table';"))
    return err;
  bool any = false;
  bool ours = false;
  int rc;
  while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
    any = true;
    ours = ours || column_bytes(stmt.get(), 0) == "recording_format";
  }
  if (rc != SQLITE_DONE)
    return db.failure(rc, "list tables");
  if (any && !ours)
    return make_error(errc::parse_error,
                      db.where() + "not a provider recording (a SQLite file of something else)");
  return caf::none;
}

recording_row read_row(sqlite3_stmt* s) {
  recording_row row;
  row.seq = sqlite3_column_int64(s, 0);
  row.request_hash = column_bytes(s, 1);
  row.call = sqlite3_column_int64(s, 2);
  row.provider = column_bytes(s, 3);
  row.model = column_bytes(s, 4);
  row.error_code = sqlite3_column_int64(s, 5);
  row.error_text = column_bytes(s, 6);
  row.response = column_bytes(s, 7);
  row.chunks = column_bytes(s, 8);
  row.ttft_us = sqlite3_column_int64(s, 9);
  row.latency_us = sqlite3_column_int64(s, 10);
  row.prompt_tokens = sqlite3_column_int64(s, 11);
  row.completion_tokens = sqlite3_column_int64(s, 12);
  row.recorded_unix_ms = sqlite3_column_int64(s, 13);
  return row;
}

}  // namespace recording_store_detail

struct recording_writer::impl {
  std::string path;
  sqlite_session session;
  sqlite_stmt_ptr insert;
  explicit impl(std::string p) : path(p), session("provider recording '" + p + "': ") {}
};

recording_writer::recording_writer(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
recording_writer::~recording_writer() = default;

const std::string& recording_writer::path() const {
  return impl_->path;
}

caf::expected<std::unique_ptr<recording_writer>> recording_writer::open(const std::string& path) {
  using namespace recording_store_detail;
  auto p = std::make_unique<impl>(path);
  auto& db = p->session;
  if (auto err = db.open(path, busy_timeout_ms))
    return err;
  if (auto err = check_not_foreign(db))
    return err;
  // WAL, synchronous=NORMAL: a commit survives the process dying (the point
  // of recording a run that may crash) without an fsync per call; a power
  // loss may cost the last calls, which a recording can afford.
  for (const char* sql : {"PRAGMA journal_mode=WAL;", "PRAGMA synchronous=NORMAL;"})
    if (auto err = db.exec(sql, sql))
      return err;
  if (auto err = db.exec_in_write_txn(schema_sql, "create the recording tables"))
    return err;
  if (auto err = check_format(db))
    return err;
  if (auto err = db.prepare(p->insert, insert_sql))
    return err;
  return std::unique_ptr<recording_writer>{new recording_writer{std::move(p)}};
}

caf::error recording_writer::append(const recording_row& row) {
  using namespace recording_store_detail;
  auto* s = impl_->insert.get();
  sqlite_stmt_use use{s};
  bind_text(s, 1, row.request_hash);
  sqlite3_bind_int64(s, 2, row.call);
  bind_text(s, 3, row.provider);
  bind_text(s, 4, row.model);
  sqlite3_bind_int64(s, 5, row.error_code);
  bind_text(s, 6, row.error_text);
  bind_blob(s, 7, row.response);
  bind_blob(s, 8, row.chunks);
  sqlite3_bind_int64(s, 9, row.ttft_us);
  sqlite3_bind_int64(s, 10, row.latency_us);
  sqlite3_bind_int64(s, 11, row.prompt_tokens);
  sqlite3_bind_int64(s, 12, row.completion_tokens);
  sqlite3_bind_int64(s, 13, row.recorded_unix_ms);
  // One statement is its own transaction (autocommit): no BEGIN/COMMIT pair.
  int rc = sqlite3_step(s);
  return rc == SQLITE_DONE ? caf::error{} : impl_->session.failure(rc, "append");
}

caf::expected<recording> load_recording(const std::string& path, uint64_t entries_max) {
  using namespace recording_store_detail;
  sqlite_session db{"provider recording '" + path + "': "};
  // The session's open creates a missing file; a replay must not.
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    return make_error(errc::io_error, db.where() + "no such file");
  if (auto err = db.open(path, busy_timeout_ms))
    return err;
  if (auto err = check_format(db))
    return err;
  sqlite_stmt_ptr count;
  if (auto err = db.prepare(count, "SELECT COUNT(*) FROM recording_calls;"))
    return err;
  int rc = sqlite3_step(count.get());
  if (rc != SQLITE_ROW)
    return db.failure(rc, "count the calls");
  const auto rows = sqlite3_column_int64(count.get(), 0);
  if (rows < 0 || static_cast<uint64_t>(rows) > entries_max)
    return make_error(errc::invalid_argument,
                      db.where() + std::to_string(rows) + " recorded calls, more than "
                        + "recording_entries_max (" + std::to_string(entries_max) + ")");
  sqlite_stmt_ptr select;
  if (auto err = db.prepare(select, select_sql))
    return err;
  recording out;
  out.path = path;
  while ((rc = sqlite3_step(select.get())) == SQLITE_ROW) {
    auto row = read_row(select.get());
    auto rec = decode_recording_row(row);
    if (!rec)
      return make_error(errc::parse_error, db.where() + "row " + std::to_string(row.seq) + ": "
                                             + error_context(rec.error()));
    // A writer appending meanwhile could pass the count checked above.
    if (++out.entries > entries_max)
      return make_error(errc::invalid_argument,
                        db.where() + "more than recording_entries_max ("
                          + std::to_string(entries_max) + ") recorded calls");
    out.by_hash[rec->request_hash].push_back(std::move(*rec));
  }
  if (rc != SQLITE_DONE)
    return db.failure(rc, "read the calls");
  return out;
}

}  // namespace agentgraph

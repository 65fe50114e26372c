// One SQLite connection as the SQLite stores use it (the checkpoint store,
// the task journal): open the file (creating its directory), WAL with
// synchronous=FULL, a busy timeout, one write transaction per call, a schema
// version check, and SQLite's result codes turned into our errors, each
// prefixed with the store's `where` ("task journal sqlite 'PATH': ").
//
// Header only, so that agentgraph_runtime, which links no SQLite, never
// compiles it; only storage .cpp files include it. Not thread-safe: one
// session per store object, used by one thread at a time.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <sqlite3.h>

#include "runtime/error.hpp"
#include "runtime/sqlite_handles.hpp"

namespace agentgraph {

class sqlite_session {
 public:
  explicit sqlite_session(std::string where) : where_(std::move(where)) {}

  [[nodiscard]] sqlite3* db() const { return db_.get(); }
  [[nodiscard]] const std::string& where() const { return where_; }

  // Creates the directory of `path`, opens (or creates) the file and sets
  // the busy timeout: a writer waits that long for another before io_error.
  [[nodiscard]] caf::error open(const std::string& path, int64_t busy_timeout_ms) {
    auto parent = std::filesystem::path{path}.parent_path();
    std::error_code ec;
    if (!parent.empty())
      std::filesystem::create_directories(parent, ec);
    if (ec)
      return make_error(errc::io_error, where_ + "cannot create its directory: " + ec.message());
    sqlite3* raw = nullptr;
    int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                             nullptr);
    db_.reset(raw);
    if (rc != SQLITE_OK)
      return failure(rc, "open");
    sqlite3_busy_timeout(db_.get(), static_cast<int>(busy_timeout_ms));
    return caf::none;
  }

  // WAL, and a commit returns only after an fsync of the WAL
  // (synchronous=FULL). journal_mode=WAL persists in the file; synchronous
  // is per connection.
  [[nodiscard]] caf::error durable_wal() {
    for (const char* sql : {"PRAGMA journal_mode=WAL;", "PRAGMA synchronous=FULL;"})
      if (auto err = exec(sql, sql))
        return err;
    return caf::none;
  }

  // A file that is not SQLite or is damaged is a parse_error (retrying cannot
  // help); anything else (permissions, disk full, busy past the timeout) is io_error.
  [[nodiscard]] caf::error failure(int rc, const std::string& what) const {
    int primary = rc & 0xff;
    auto code = (primary == SQLITE_NOTADB || primary == SQLITE_CORRUPT) ? errc::parse_error
                                                                         : errc::io_error;
    std::string detail = db_ ? sqlite3_errmsg(db_.get()) : sqlite3_errstr(rc);
    return make_error(code, where_ + what + ": " + detail);
  }

  [[nodiscard]] caf::error exec(const char* sql, const char* what) {
    int rc = sqlite3_exec(db_.get(), sql, nullptr, nullptr, nullptr);
    return rc == SQLITE_OK ? caf::error{} : failure(rc, what);
  }

  [[nodiscard]] caf::error prepare(sqlite_stmt_ptr& out, const char* sql) {
    sqlite3_stmt* raw = nullptr;
    int rc = sqlite3_prepare_v3(db_.get(), sql, -1, SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
    out.reset(raw);
    return rc == SQLITE_OK ? caf::error{} : failure(rc, "prepare");
  }

  // Runs `f` in a write transaction and commits only when it succeeded; an
  // error, or an early return, rolls everything back. BEGIN IMMEDIATE takes
  // the write lock at once (waiting up to the busy timeout), so two writers
  // never deadlock upgrading read locks. `f` returns a caf::expected.
  template <class F>
  auto in_write_txn(F f) -> decltype(f()) {
    if (auto err = exec("BEGIN IMMEDIATE;", "begin"))
      return err;
    sqlite_write_txn txn{db_.get()};
    auto out = f();
    if (!out)
      return out;
    if (auto err = exec("COMMIT;", "commit"))
      return err;
    txn.committed = true;
    return out;
  }

  // Runs `sql` (any number of statements: a schema) in one write transaction.
  [[nodiscard]] caf::error exec_in_write_txn(const char* sql, const char* what) {
    auto done = in_write_txn([&]() -> caf::expected<void> {
      if (auto err = exec(sql, what))
        return err;
      return {};
    });
    return done ? caf::error{} : done.error();
  }

  // parse_error unless `table` holds exactly one row whose version is `version`.
  [[nodiscard]] caf::error check_version(const char* table, int64_t version) {
    sqlite_stmt_ptr stmt;
    if (auto err = prepare(stmt, (std::string{"SELECT version FROM "} + table + ";").c_str()))
      return err;
    std::vector<int64_t> versions;
    int rc;
    while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW)
      versions.push_back(sqlite3_column_int64(stmt.get(), 0));
    if (rc != SQLITE_DONE)
      return failure(rc, "read schema version");
    if (versions.size() != 1 || versions[0] != version)
      return make_error(errc::parse_error,
                        where_ + "schema version is not " + std::to_string(version));
    return caf::none;
  }

 private:
  const std::string where_;
  sqlite_db_ptr db_;
};

}  // namespace agentgraph

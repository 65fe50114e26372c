// One libpqxx (6.4) connection as the PostgreSQL stores use it (the
// checkpoint store, the task journal): connect on first use, set the
// session's search_path and timeouts, register the prepared statements, and
// turn libpqxx's exceptions into io_error. A call that finds the connection
// lost fails; the next call reconnects. (libpqxx 6.4's own reactivation was
// measured failing two calls, not one.)
//
// Internal to agentgraph_storage: only its .cpp files include this header,
// so no public header shows a libpqxx type. Not thread-safe: one session
// per store object, used by one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <utility>

#include <pqxx/pqxx>

#include "runtime/error.hpp"

namespace agentgraph {

// A prepared statement: its name and its SQL.
using postgres_statement = std::pair<const char*, const char*>;

struct postgres_session_settings {
  std::string url;     // with its password: never put it in a message
  std::string schema;  // a valid_postgres_schema_name
  int64_t connect_timeout_s = 10;
  int64_t lock_timeout_ms = 10'000;
  int64_t statement_timeout_ms = 30'000;
};

// A lowercase SQL identifier of at most 63 bytes: safe to quote and to
// use as a schema name without surprises about case.
[[nodiscard]] inline bool valid_postgres_schema_name(const std::string& s) {
  if (s.empty() || s.size() > 63 || (s[0] >= '0' && s[0] <= '9'))
    return false;
  for (char ch : s)
    if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_'))
      return false;
  return true;
}

// `url` with connect_timeout added (libpq waits forever by default) unless
// it sets one.
[[nodiscard]] inline std::string with_connect_timeout(const std::string& url, int64_t seconds) {
  if (url.find("connect_timeout") != std::string::npos)
    return url;
  auto param = "connect_timeout=" + std::to_string(seconds);
  bool is_url = url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0;
  if (!is_url)
    return url + " " + param;
  return url + (url.find('?') == std::string::npos ? "?" : "&") + param;
}

class postgres_session {
 public:
  // `where` prefixes every error ("task journal postgresql 'URL': ").
  postgres_session(postgres_session_settings settings, std::string where,
                   std::span<const postgres_statement> statements)
    : settings_(std::move(settings)), where_(std::move(where)), statements_(statements) {
    settings_.url = with_connect_timeout(settings_.url, settings_.connect_timeout_s);
  }

  // The live connection; only inside a `guarded` function.
  [[nodiscard]] pqxx::connection& conn() { return *conn_; }

  // Runs `f` on a live connection, turning libpqxx's exceptions into
  // io_error: a lost connection, a commit whose outcome is unknown, an SQL
  // error. Their texts carry the server's message, never the URL.
  template <class F>
  auto guarded(const char* what, F f) -> decltype(f()) {
    try {
      if (!conn_ || !conn_->is_open())
        connect();
      return f();
    } catch (const pqxx::broken_connection& e) {
      conn_.reset();
      return make_error(errc::io_error, where_ + what + ": connection lost: " + e.what());
    } catch (const pqxx::in_doubt_error& e) {
      conn_.reset();
      return make_error(errc::io_error, where_ + what + ": commit outcome unknown: " + e.what());
    } catch (const std::exception& e) {
      return make_error(errc::io_error, where_ + what + ": " + e.what());
    }
  }

  // In a transaction of its own: creates the schema and runs `tables_sql`
  // under the advisory lock `lock_key` (CREATE ... IF NOT EXISTS alone races
  // between two processes in PostgreSQL), then checks that the single row
  // of `version_table` holds `version`; parse_error otherwise.
  [[nodiscard]] caf::error create_tables(int64_t lock_key, const char* tables_sql,
                                         const char* version_table, int64_t version) {
    return guarded("connect and create tables", [&]() -> caf::expected<void> {
             pqxx::work txn{*conn_};
             txn.exec("SELECT pg_advisory_xact_lock(" + std::to_string(lock_key) + ")");
             txn.exec("CREATE SCHEMA IF NOT EXISTS " + txn.quote_name(settings_.schema));
             txn.exec(tables_sql);
             auto r = txn.exec(std::string{"SELECT version FROM "} + version_table);
             if (r.size() != 1 || r[0][0].as<int64_t>() != version)
               return make_error(errc::parse_error, where_ + "schema version is not "
                                                      + std::to_string(version));
             txn.commit();
             return {};
           })
      .error();
  }

 private:
  // Opens the connection, sets the session and registers the statements
  // (libpqxx 6.4 prepares them on the server at first use). Throws.
  void connect() {
    conn_ = std::make_unique<pqxx::connection>(settings_.url);
    conn_->set_variable("search_path", conn_->quote_name(settings_.schema));
    conn_->set_variable("lock_timeout", std::to_string(settings_.lock_timeout_ms));
    conn_->set_variable("statement_timeout", std::to_string(settings_.statement_timeout_ms));
    for (const auto& [name, sql] : statements_)
      conn_->prepare(name, sql);
  }

  postgres_session_settings settings_;
  const std::string where_;
  const std::span<const postgres_statement> statements_;  // static storage
  std::unique_ptr<pqxx::connection> conn_;  // null after a lost connection
};

}  // namespace agentgraph

#include "runtime/checkpoint/postgres_checkpoint_store.hpp"

#include "runtime/checkpoint/checkpoint_codec.hpp"
#include "runtime/error.hpp"
#include "runtime/postgres_session.hpp"

namespace agentgraph {

namespace postgres_checkpoint_store_detail {

// Any constant: the key of the advisory lock that serialises schema creation
// (postgres_session::create_tables).
constexpr int64_t schema_lock_key = 0x61676370;  // "agcp"

constexpr const char* tables_sql =
  "CREATE TABLE IF NOT EXISTS checkpoint_schema(version BIGINT NOT NULL);"
  "CREATE TABLE IF NOT EXISTS checkpoint_threads("
  " thread_id TEXT PRIMARY KEY, last_id BIGINT NOT NULL);"
  "CREATE TABLE IF NOT EXISTS checkpoints("
  " thread_id TEXT NOT NULL, checkpoint_id BIGINT NOT NULL, parent_id BIGINT NOT NULL,"
  " step BIGINT NOT NULL, state BYTEA NOT NULL, pending BYTEA NOT NULL, metadata BYTEA NOT NULL,"
  " created_ms BIGINT NOT NULL, PRIMARY KEY(thread_id, checkpoint_id));"
  "INSERT INTO checkpoint_schema(version) SELECT 1 WHERE NOT EXISTS"
  " (SELECT 1 FROM checkpoint_schema);";

// Prepared statements: name and text. Column orders match the SQLite backend.
constexpr postgres_statement statements[] = {
  {"cp_bump", "INSERT INTO checkpoint_threads(thread_id, last_id) VALUES($1, 1)"
              " ON CONFLICT(thread_id) DO UPDATE SET last_id = checkpoint_threads.last_id + 1"
              " RETURNING last_id"},
  {"cp_insert", "INSERT INTO checkpoints(thread_id, checkpoint_id, parent_id, step, state,"
                " pending, metadata, created_ms) VALUES($1, $2, $3, $4, $5, $6, $7, $8)"},
  {"cp_prune", "DELETE FROM checkpoints WHERE thread_id = $1 AND checkpoint_id <= $2"},
  {"cp_latest", "SELECT checkpoint_id, parent_id, step, created_ms, metadata, state, pending"
                " FROM checkpoints WHERE thread_id = $1 ORDER BY checkpoint_id DESC LIMIT 1"},
  {"cp_get", "SELECT checkpoint_id, parent_id, step, created_ms, metadata, state, pending"
             " FROM checkpoints WHERE thread_id = $1 AND checkpoint_id = $2"},
  {"cp_list", "SELECT checkpoint_id, parent_id, step, created_ms, metadata FROM checkpoints"
              " WHERE thread_id = $1 ORDER BY checkpoint_id DESC LIMIT $2"},
  {"cp_threads", "SELECT thread_id FROM checkpoint_threads ORDER BY thread_id COLLATE \"C\""
                 " LIMIT $1"},
  {"cp_delete_rows", "DELETE FROM checkpoints WHERE thread_id = $1"},
  {"cp_delete_thread", "DELETE FROM checkpoint_threads WHERE thread_id = $1"},
};

pqxx::binarystring bytes_param(const std::string& bytes) {
  return pqxx::binarystring{bytes.data(), bytes.size()};
}

// The store: one libpqxx connection, which keeps the prepared statements.
class pg_store final : public checkpoint_store {
 public:
  pg_store(std::string where, const checkpoint_limits& limits, postgres_session_settings settings)
    : checkpoint_store(limits, where), session_(std::move(settings), std::move(where), statements) {}

  caf::error open() {
    return session_.create_tables(schema_lock_key, tables_sql, "checkpoint_schema",
                                  checkpoint_schema_version);
  }

  const char* backend() const override { return "postgresql"; }

 private:
  caf::expected<uint64_t> do_put(const checkpoint& c, const encoded_checkpoint& enc) override;
  caf::expected<checkpoint> do_latest(const std::string& thread_id) override;
  caf::expected<checkpoint> do_get(const std::string& thread_id, uint64_t checkpoint_id) override;
  caf::expected<std::vector<checkpoint>> do_list(const std::string& thread_id,
                                                 uint32_t limit) override;
  caf::expected<std::vector<std::string>> do_list_threads(uint32_t limit) override;
  caf::expected<uint64_t> do_delete_thread(const std::string& thread_id) override;

  caf::expected<checkpoint> read_row(const pqxx::row& r, const std::string& thread_id, bool full);
  // Runs a latest/get statement: one row or not_found.
  template <class... Ts>
  caf::expected<checkpoint> read_one(const char* statement, const std::string& thread_id,
                                     const std::string& missing, Ts... args) {
    return session_.guarded(statement, [&]() -> caf::expected<checkpoint> {
      pqxx::read_transaction txn{session_.conn()};
      auto r = txn.exec_prepared(statement, thread_id, args...);
      if (r.empty())
        return make_error(errc::not_found,
                          where() + "thread '" + thread_id + "' has no " + missing);
      return read_row(r[0], thread_id, true);
    });
  }

  postgres_session session_;
};

caf::expected<checkpoint> pg_store::read_row(const pqxx::row& r, const std::string& thread_id,
                                             bool full) {
  checkpoint c;
  c.thread_id = thread_id;
  c.checkpoint_id = r[0].as<uint64_t>();
  c.parent_id = r[1].as<uint64_t>();
  c.step = r[2].as<uint64_t>();
  c.created_ms = r[3].as<int64_t>();
  const char* names[] = {"metadata", "state", "pending"};
  Value* targets[] = {&c.metadata, &c.state, &c.pending};
  for (int i = 0; i < (full ? 3 : 1); ++i) {
    pqxx::binarystring bytes{r[4 + i]};
    auto v = decode_checkpoint_value(std::string_view{bytes.get(), bytes.size()}, names[i],
                                     thread_id, c.checkpoint_id, where());
    if (!v)
      return std::move(v.error());
    *targets[i] = std::move(*v);
  }
  return c;
}

caf::expected<uint64_t> pg_store::do_put(const checkpoint& c, const encoded_checkpoint& enc) {
  return session_.guarded("put", [&]() -> caf::expected<uint64_t> {
    pqxx::work txn{session_.conn()};
    auto id = txn.exec_prepared1("cp_bump", c.thread_id)[0].as<uint64_t>();
    if (auto err = check_parent(c, id, where()))
      return err;  // ~work rolls back, the counter too
    txn.exec_prepared0("cp_insert", c.thread_id, id, c.parent_id, c.step,
                       bytes_param(enc.state), bytes_param(enc.pending),
                       bytes_param(enc.metadata), checkpoint_now_ms());
    if (id > limits().keep_last)
      txn.exec_prepared0("cp_prune", c.thread_id, id - limits().keep_last);
    txn.commit();
    return id;
  });
}

caf::expected<checkpoint> pg_store::do_latest(const std::string& thread_id) {
  return read_one("cp_latest", thread_id, "checkpoint");
}

caf::expected<checkpoint> pg_store::do_get(const std::string& thread_id, uint64_t checkpoint_id) {
  return read_one("cp_get", thread_id, "checkpoint " + std::to_string(checkpoint_id),
                  checkpoint_id);
}

caf::expected<std::vector<checkpoint>> pg_store::do_list(const std::string& thread_id,
                                                      uint32_t limit) {
  return session_.guarded("list", [&]() -> caf::expected<std::vector<checkpoint>> {
    pqxx::read_transaction txn{session_.conn()};
    auto r = txn.exec_prepared("cp_list", thread_id, limit);
    std::vector<checkpoint> out;
    out.reserve(r.size());
    for (const auto& row : r) {
      auto c = read_row(row, thread_id, false);
      if (!c)
        return std::move(c.error());
      out.push_back(std::move(*c));
    }
    return out;
  });
}

caf::expected<std::vector<std::string>> pg_store::do_list_threads(uint32_t limit) {
  return session_.guarded("list_threads", [&]() -> caf::expected<std::vector<std::string>> {
    pqxx::read_transaction txn{session_.conn()};
    auto r = txn.exec_prepared("cp_threads", limit);
    std::vector<std::string> out;
    out.reserve(r.size());
    for (const auto& row : r)
      out.push_back(row[0].as<std::string>());
    return out;
  });
}

caf::expected<uint64_t> pg_store::do_delete_thread(const std::string& thread_id) {
  return session_.guarded("delete_thread", [&]() -> caf::expected<uint64_t> {
    pqxx::work txn{session_.conn()};
    auto deleted = static_cast<uint64_t>(txn.exec_prepared0("cp_delete_rows", thread_id)
                                           .affected_rows());
    if (deleted == 0)
      return make_error(errc::not_found, where() + "thread '" + thread_id + "' has no checkpoint");
    txn.exec_prepared0("cp_delete_thread", thread_id);
    txn.commit();
    return deleted;
  });
}

}  // namespace postgres_checkpoint_store_detail

caf::expected<std::unique_ptr<checkpoint_store>>
open_postgres_checkpoint_store(const std::string& url, const checkpoint_limits& limits,
                               const std::string& schema) {
  namespace d = postgres_checkpoint_store_detail;
  auto where = "checkpoint store postgresql '" + redact_connection_url(url) + "': ";
  if (auto err = check_checkpoint_limits(limits, where))
    return err;
  if (!valid_postgres_schema_name(schema))
    return make_error(errc::invalid_argument,
                      where + "schema '" + schema + "' is not a lowercase SQL identifier");
  postgres_session_settings settings{url, schema, checkpoint_connect_timeout_s,
                                     checkpoint_lock_timeout_ms, checkpoint_statement_timeout_ms};
  auto store = std::make_unique<d::pg_store>(where, limits, std::move(settings));
  if (auto err = store->open())
    return err;
  return std::unique_ptr<checkpoint_store>{std::move(store)};
}

}  // namespace agentgraph

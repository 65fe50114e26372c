#include "runtime/population/postgres_population_store.hpp"

#include <unordered_map>
#include <unordered_set>

#include "runtime/checkpoint/checkpoint_codec.hpp"
#include "runtime/error.hpp"
#include "runtime/population/population_checks.hpp"
#include "runtime/postgres_session.hpp"

namespace agentgraph {

namespace postgres_population_store_detail {

// Any constant unlike the checkpoint store's and the journal's: the key of
// the advisory lock that serialises schema creation.
constexpr int64_t schema_lock_key = 0x61677073;  // "agps"

// As in the SQLite backend; COLLATE "C" makes the key order byte order
// whatever the database's default collation.
constexpr const char* tables_sql =
  "CREATE TABLE IF NOT EXISTS population_schema(version BIGINT NOT NULL);"
  "CREATE TABLE IF NOT EXISTS population_keys("
  " population TEXT COLLATE \"C\" NOT NULL, key TEXT COLLATE \"C\" NOT NULL,"
  " owner TEXT NOT NULL, owner_epoch BIGINT NOT NULL, state BYTEA,"
  " PRIMARY KEY(population, key));"
  "CREATE INDEX IF NOT EXISTS population_saved ON population_keys(population, key)"
  " WHERE state IS NOT NULL;"
  "INSERT INTO population_schema(version) SELECT 1"
  " WHERE NOT EXISTS (SELECT 1 FROM population_schema);";

// Prepared statements: name and text.
constexpr postgres_statement statements[] = {
  // The whole batch in one statement, rows locked in key order (ORDER BY).
  // RETURNING gives the row as updated: an existing row's state.
  {"ps_claim", "INSERT INTO population_keys(population, key, owner, owner_epoch, state)"
               " SELECT $1, k, $3, $4, NULL FROM unnest($2::text[]) AS t(k)"
               " ORDER BY k COLLATE \"C\" ON CONFLICT(population, key) DO UPDATE"
               " SET owner = EXCLUDED.owner, owner_epoch = EXCLUDED.owner_epoch"
               " RETURNING key, state"},
  // $2 holds the states one after another; entry i is $4[i] bytes from
  // offset $3[i] (1-based). Returns the keys it wrote.
  {"ps_save", "UPDATE population_keys AS p SET state = substring($2::bytea FROM e.off FOR e.len)"
              " FROM unnest($5::text[], $3::int[], $4::int[]) AS e(k, off, len)"
              " WHERE p.population = $1 AND p.key = e.k AND p.owner = $6"
              " AND p.owner_epoch = $7 RETURNING p.key"},
  {"ps_keys", "SELECT key FROM population_keys WHERE population = $1 AND key > $2"
              " AND state IS NOT NULL ORDER BY key LIMIT $3"},
  {"ps_count", "SELECT count(*) FROM population_keys WHERE population = $1"
               " AND state IS NOT NULL"},
  {"ps_erase", "DELETE FROM population_keys WHERE population = $1 AND key = $2"},
};

// One save statement carries at most this many bytes of states (and at
// least one entry): far below PostgreSQL's 1 GB per value, and a 4,096-key
// batch of 1 MiB states is 256 statements, not one 4 GiB message.
constexpr size_t save_chunk_bytes = 16u << 20;

// A PostgreSQL array literal of `n` elements, element(i) each: quoted, with
// '"' and '\' escaped (names hold no control characters: checked).
template <class Element>
std::string array_literal(size_t n, Element element) {
  std::string out = "{";
  for (size_t i = 0; i < n; ++i) {
    if (i > 0)
      out += ',';
    out += '"';
    for (char ch : element(i)) {
      if (ch == '"' || ch == '\\')
        out += '\\';
      out += ch;
    }
    out += '"';
  }
  out += '}';
  return out;
}

// The store: one session (one connection, which keeps the statements).
class pg_store final : public population_store {
 public:
  pg_store(std::string where, const population_store_limits& limits,
           postgres_session_settings settings)
    : population_store(limits, where),
      session_(std::move(settings), std::move(where), statements) {}

  caf::error open() {
    return session_.create_tables(schema_lock_key, tables_sql, "population_schema",
                                  population_schema_version);
  }

  std::string backend() const override { return "postgresql"; }

 private:
  caf::expected<std::vector<population_claim>> do_claim(const std::string& population,
                                                        const std::vector<std::string>& keys,
                                                        const std::string& owner,
                                                        uint64_t owner_epoch) override;
  caf::expected<std::vector<std::string>> do_save(const std::string& population,
                                                  const std::string& owner, uint64_t owner_epoch,
                                                  const std::vector<population_save>& batch) override;
  caf::expected<std::vector<std::string>> do_keys(const std::string& population,
                                                  const std::string& after,
                                                  uint32_t limit) override;
  caf::expected<uint64_t> do_count(const std::string& population) override;
  caf::expected<bool> do_erase(const std::string& population, const std::string& key) override;

  postgres_session session_;
};

// Epochs are uids up to 2^64 - 1; BIGINT is signed, so the bits are stored
// as they are and compared for equality only.
int64_t as_bigint(uint64_t v) {
  return static_cast<int64_t>(v);
}

caf::expected<std::vector<population_claim>>
pg_store::do_claim(const std::string& population, const std::vector<std::string>& keys,
                   const std::string& owner, uint64_t owner_epoch) {
  auto key_array = array_literal(keys.size(), [&](size_t i) -> const std::string& {
    return keys[i];
  });
  return session_.guarded("claim", [&]() -> caf::expected<std::vector<population_claim>> {
    pqxx::work txn{session_.conn()};
    txn.exec0("SET LOCAL synchronous_commit = off");
    auto rows = txn.exec_prepared("ps_claim", population, key_array, owner, as_bigint(owner_epoch));
    std::unordered_map<std::string_view, size_t> position;
    position.reserve(keys.size());
    for (size_t i = 0; i < keys.size(); ++i)
      position.emplace(keys[i], i);
    std::vector<population_claim> out(keys.size());
    for (const auto& row : rows) {
      auto it = position.find(row[0].c_str());
      if (it == position.end() || row[1].is_null())
        continue;
      pqxx::binarystring state{row[1]};
      out[it->second].existed = true;
      out[it->second].state.assign(state.data(), state.data() + state.size());
    }
    if (rows.size() != keys.size())
      return make_error(errc::internal, where() + "claim of " + std::to_string(keys.size())
                                          + " keys returned " + std::to_string(rows.size())
                                          + " rows");
    txn.commit();
    return out;
  });
}

caf::expected<std::vector<std::string>>
pg_store::do_save(const std::string& population, const std::string& owner, uint64_t owner_epoch,
                  const std::vector<population_save>& batch) {
  return session_.guarded("save", [&]() -> caf::expected<std::vector<std::string>> {
    pqxx::work txn{session_.conn()};
    std::unordered_set<std::string> written;  // keys saved; the others are fenced
    written.reserve(batch.size());
    std::string states;
    for (size_t first = 0; first < batch.size();) {
      // One chunk: entries [first, end) whose states fit save_chunk_bytes.
      size_t end = first;
      size_t bytes = 0;
      while (end < batch.size()
             && (end == first || bytes + batch[end].state.size() <= save_chunk_bytes))
        bytes += batch[end++].state.size();
      states.clear();
      std::string offsets = "{";
      std::string lengths = "{";
      for (size_t i = first; i < end; ++i) {
        const auto& s = batch[i].state;
        offsets += (i > first ? "," : "") + std::to_string(states.size() + 1);
        lengths += (i > first ? "," : "") + std::to_string(s.size());
        states.append(s.begin(), s.end());
      }
      offsets += '}';
      lengths += '}';
      auto keys = array_literal(end - first, [&](size_t i) -> const std::string& {
        return batch[first + i].key;
      });
      static const uint8_t none = 0;  // a valid pointer for an empty buffer
      pqxx::binarystring blob{states.empty() ? &none : reinterpret_cast<const uint8_t*>(states.data()),
                              states.size()};
      auto rows = txn.exec_prepared("ps_save", population, blob, offsets, lengths, keys, owner,
                                    as_bigint(owner_epoch));
      for (const auto& row : rows)
        written.insert(row[0].as<std::string>());
      first = end;
    }
    txn.commit();
    std::vector<std::string> fenced;
    for (const auto& entry : batch)
      if (written.count(entry.key) == 0)
        fenced.push_back(entry.key);
    return fenced;
  });
}

caf::expected<std::vector<std::string>> pg_store::do_keys(const std::string& population,
                                                          const std::string& after,
                                                          uint32_t limit) {
  return session_.guarded("keys", [&]() -> caf::expected<std::vector<std::string>> {
    pqxx::read_transaction txn{session_.conn()};
    auto rows = txn.exec_prepared("ps_keys", population, after, static_cast<int64_t>(limit));
    std::vector<std::string> out;
    out.reserve(rows.size());
    for (const auto& row : rows)
      out.push_back(row[0].as<std::string>());
    return out;
  });
}

caf::expected<uint64_t> pg_store::do_count(const std::string& population) {
  return session_.guarded("count", [&]() -> caf::expected<uint64_t> {
    pqxx::read_transaction txn{session_.conn()};
    return static_cast<uint64_t>(txn.exec_prepared1("ps_count", population)[0].as<int64_t>());
  });
}

caf::expected<bool> pg_store::do_erase(const std::string& population, const std::string& key) {
  return session_.guarded("erase", [&]() -> caf::expected<bool> {
    pqxx::work txn{session_.conn()};
    auto erased = txn.exec_prepared0("ps_erase", population, key).affected_rows() > 0;
    txn.commit();
    return erased;
  });
}

}  // namespace postgres_population_store_detail

caf::expected<std::unique_ptr<population_store>>
open_postgres_population_store(const std::string& url, const population_store_limits& limits,
                               const std::string& schema) {
  namespace d = postgres_population_store_detail;
  auto where = "population store postgresql '" + redact_connection_url(url) + "': ";
  if (auto err = check_population_limits(limits, where))
    return err;
  if (!valid_postgres_schema_name(schema))
    return make_error(errc::invalid_argument,
                      where + "schema '" + schema + "' is not a lowercase SQL identifier");
  postgres_session_settings settings{url, schema, population_connect_timeout_s,
                                     population_lock_timeout_ms, population_statement_timeout_ms};
  auto store = std::make_unique<d::pg_store>(where, limits, std::move(settings));
  if (auto err = store->open())
    return err;
  return std::unique_ptr<population_store>{std::move(store)};
}

}  // namespace agentgraph

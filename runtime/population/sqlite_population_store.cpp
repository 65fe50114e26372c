#include "runtime/population/sqlite_population_store.hpp"

#include <sqlite3.h>

#include "runtime/error.hpp"
#include "runtime/population/population_checks.hpp"
#include "runtime/sqlite_session.hpp"

namespace agentgraph {

namespace sqlite_population_store_detail {

// One row per claimed key; state is NULL until the key's first save, so
// "saved" is `state IS NOT NULL`. WITHOUT ROWID: a claim finds, inserts or
// updates its row in one b-tree instead of the key index plus the table
// (measured with tests/bench/population_store_bench, 100,000 keys of 300
// bytes: claims of new keys 178k rows/s instead of 57k, a claim of one
// saved key p50 27 us instead of 42 us, saves 136k rows/s instead of 120k). The partial index holds exactly the saved
// keys in byte order (BINARY collation is memcmp): keys and count read it
// alone, without touching the rows and their states.
constexpr const char* schema_sql =
  "CREATE TABLE IF NOT EXISTS population_schema(version INTEGER NOT NULL);"
  "CREATE TABLE IF NOT EXISTS population_keys("
  " population TEXT NOT NULL, key TEXT NOT NULL, owner TEXT NOT NULL,"
  " owner_epoch INTEGER NOT NULL, state BLOB, PRIMARY KEY(population, key)) WITHOUT ROWID;"
  "CREATE INDEX IF NOT EXISTS population_saved ON population_keys(population, key)"
  " WHERE state IS NOT NULL;"
  "INSERT INTO population_schema(version) SELECT 1"
  " WHERE NOT EXISTS (SELECT 1 FROM population_schema);";

// The newest claim wins: an existing row takes the new owner and epoch and
// keeps its state, which RETURNING hands back.
constexpr const char* claim_sql =
  "INSERT INTO population_keys(population, key, owner, owner_epoch, state)"
  " VALUES(?1, ?2, ?3, ?4, NULL) ON CONFLICT(population, key) DO UPDATE"
  " SET owner = excluded.owner, owner_epoch = excluded.owner_epoch RETURNING state;";
// A key this owner and epoch claimed already (passivated and activated
// again on the node that holds it) needs no write: its claim stands.
constexpr const char* owned_sql =
  "SELECT state FROM population_keys"
  " WHERE population = ?1 AND key = ?2 AND owner = ?3 AND owner_epoch = ?4;";
constexpr const char* save_sql =
  "UPDATE population_keys SET state = ?5"
  " WHERE population = ?1 AND key = ?2 AND owner = ?3 AND owner_epoch = ?4;";
constexpr const char* keys_sql =
  "SELECT key FROM population_keys WHERE population = ?1 AND key > ?2"
  " AND state IS NOT NULL ORDER BY key LIMIT ?3;";
constexpr const char* count_sql =
  "SELECT count(*) FROM population_keys WHERE population = ?1 AND state IS NOT NULL;";
constexpr const char* erase_sql =
  "DELETE FROM population_keys WHERE population = ?1 AND key = ?2;";
constexpr const char* sync_normal_sql = "PRAGMA synchronous=NORMAL;";
constexpr const char* sync_full_sql = "PRAGMA synchronous=FULL;";

void bind_str(sqlite3_stmt* s, int i, const std::string& v) {
  sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
}

// An empty state is a saved state: a zero-length blob, never NULL (which
// SQLite would bind for an empty vector's null data()).
void bind_state(sqlite3_stmt* s, int i, const std::vector<uint8_t>& v) {
  if (v.empty())
    sqlite3_bind_zeroblob(s, i, 0);
  else
    sqlite3_bind_blob64(s, i, v.data(), v.size(), SQLITE_STATIC);
}

// The store: one connection and its prepared statements (see the header).
class sqlite_store final : public population_store {
 public:
  sqlite_store(std::string where, const population_store_limits& limits)
    : population_store(limits, where), session_(std::move(where)) {}

  caf::error open(const std::string& path);

  std::string backend() const override { return "sqlite"; }

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

  // Sets synchronous=FULL or NORMAL for the next commits, unless it is
  // already so (a pragma outside any transaction; it costs no I/O).
  caf::error synchronous(bool full);

  caf::error failure(int rc, const std::string& what) const { return session_.failure(rc, what); }

  sqlite_session session_;
  bool full_ = true;  // what durable_wal set at open
  // Fills out[i] for the keys (owner, epoch) holds already; returns the
  // indexes of the others.
  caf::expected<std::vector<size_t>> read_owned(const std::string& population,
                                                const std::vector<std::string>& keys,
                                                const std::string& owner, uint64_t owner_epoch,
                                                std::vector<population_claim>& out);

  sqlite_stmt_ptr claim_, owned_, save_, keys_, count_, erase_, sync_normal_, sync_full_;
};

caf::error sqlite_store::open(const std::string& path) {
  if (auto err = session_.open(path, population_lock_timeout_ms))
    return err;
  if (auto err = session_.durable_wal())  // a file that is not SQLite fails here: parse_error
    return err;
  if (auto err = session_.exec_in_write_txn(schema_sql, "create tables"))
    return err;
  if (auto err = session_.check_version("population_schema", population_schema_version))
    return err;
  const std::pair<sqlite_stmt_ptr*, const char*> stmts[] = {
    {&claim_, claim_sql}, {&owned_, owned_sql}, {&save_, save_sql},   {&keys_, keys_sql},
    {&count_, count_sql}, {&erase_, erase_sql}, {&sync_normal_, sync_normal_sql},
    {&sync_full_, sync_full_sql}};
  for (const auto& [stmt, sql] : stmts)
    if (auto err = session_.prepare(*stmt, sql))
      return err;
  return caf::none;
}

caf::error sqlite_store::synchronous(bool full) {
  if (full_ == full)
    return caf::none;
  sqlite_stmt_use use{full ? sync_full_.get() : sync_normal_.get()};
  if (int rc = sqlite3_step(use.s); rc != SQLITE_DONE)
    return failure(rc, "set synchronous");
  full_ = full;
  return caf::none;
}

// Epochs are uids up to 2^64 - 1, stored as their bits in a signed 64-bit
// integer and compared for equality only.
void bind_epoch(sqlite3_stmt* s, int i, uint64_t owner_epoch) {
  sqlite3_bind_int64(s, i, static_cast<sqlite3_int64>(owner_epoch));
}

// A row's state column into `c` (NULL: the key was claimed, never saved).
void read_state(sqlite3_stmt* s, population_claim& c) {
  if (sqlite3_column_type(s, 0) == SQLITE_NULL)
    return;
  c.existed = true;
  const auto* p = static_cast<const uint8_t*>(sqlite3_column_blob(s, 0));
  c.state.assign(p, p + sqlite3_column_bytes(s, 0));  // p is null for 0 bytes
}

caf::expected<std::vector<size_t>>
sqlite_store::read_owned(const std::string& population, const std::vector<std::string>& keys,
                         const std::string& owner, uint64_t owner_epoch,
                         std::vector<population_claim>& out) {
  // One read transaction for the batch: a consistent view, and no
  // per-statement lock churn.
  sqlite_stmt_use use{owned_.get()};
  bind_str(use.s, 1, population);
  bind_str(use.s, 3, owner);
  bind_epoch(use.s, 4, owner_epoch);
  std::vector<size_t> others;
  if (int rc = sqlite3_exec(session_.db(), "BEGIN;", nullptr, nullptr, nullptr); rc != SQLITE_OK)
    return failure(rc, "begin a read");
  for (size_t i = 0; i < keys.size(); ++i) {
    sqlite3_reset(use.s);  // keeps the bindings above
    bind_str(use.s, 2, keys[i]);
    int rc = sqlite3_step(use.s);
    if (rc == SQLITE_ROW) {
      read_state(use.s, out[i]);
    } else if (rc == SQLITE_DONE) {
      others.push_back(i);
    } else {
      sqlite3_reset(use.s);
      sqlite3_exec(session_.db(), "ROLLBACK;", nullptr, nullptr, nullptr);
      return failure(rc, "read key '" + keys[i] + "'");
    }
  }
  sqlite3_reset(use.s);
  if (int rc = sqlite3_exec(session_.db(), "COMMIT;", nullptr, nullptr, nullptr); rc != SQLITE_OK)
    return failure(rc, "end a read");
  return others;
}

caf::expected<std::vector<population_claim>>
sqlite_store::do_claim(const std::string& population, const std::vector<std::string>& keys,
                       const std::string& owner, uint64_t owner_epoch) {
  std::vector<population_claim> out(keys.size());
  auto others = read_owned(population, keys, owner, owner_epoch, out);
  if (!others)
    return std::move(others.error());
  if (others->empty())
    return out;
  if (auto err = synchronous(false))
    return err;
  return session_.in_write_txn([&]() -> caf::expected<std::vector<population_claim>> {
    sqlite_stmt_use use{claim_.get()};
    bind_str(use.s, 1, population);
    bind_str(use.s, 3, owner);
    bind_epoch(use.s, 4, owner_epoch);
    for (size_t i : *others) {
      sqlite3_reset(use.s);  // keeps the bindings above
      bind_str(use.s, 2, keys[i]);
      int rc = sqlite3_step(use.s);
      if (rc != SQLITE_ROW)
        return failure(rc, "claim key '" + keys[i] + "'");
      read_state(use.s, out[i]);
      if (rc = sqlite3_step(use.s); rc != SQLITE_DONE)  // RETURNING: run to the end
        return failure(rc, "claim key '" + keys[i] + "'");
    }
    return out;
  });
}

caf::expected<std::vector<std::string>>
sqlite_store::do_save(const std::string& population, const std::string& owner,
                      uint64_t owner_epoch, const std::vector<population_save>& batch) {
  if (auto err = synchronous(true))
    return err;
  return session_.in_write_txn([&]() -> caf::expected<std::vector<std::string>> {
    std::vector<std::string> fenced;
    sqlite_stmt_use use{save_.get()};
    bind_str(use.s, 1, population);
    bind_str(use.s, 3, owner);
    bind_epoch(use.s, 4, owner_epoch);
    for (const auto& entry : batch) {
      sqlite3_reset(use.s);
      bind_str(use.s, 2, entry.key);
      bind_state(use.s, 5, entry.state);
      if (int rc = sqlite3_step(use.s); rc != SQLITE_DONE)
        return failure(rc, "save key '" + entry.key + "'");
      if (sqlite3_changes(session_.db()) == 0)
        fenced.push_back(entry.key);
    }
    return fenced;
  });
}

caf::expected<std::vector<std::string>> sqlite_store::do_keys(const std::string& population,
                                                              const std::string& after,
                                                              uint32_t limit) {
  sqlite_stmt_use use{keys_.get()};
  bind_str(use.s, 1, population);
  bind_str(use.s, 2, after);
  sqlite3_bind_int64(use.s, 3, limit);
  std::vector<std::string> out;
  int rc;
  while ((rc = sqlite3_step(use.s)) == SQLITE_ROW) {
    const auto* p = static_cast<const char*>(sqlite3_column_blob(use.s, 0));
    out.emplace_back(p, static_cast<size_t>(sqlite3_column_bytes(use.s, 0)));
  }
  if (rc != SQLITE_DONE)
    return failure(rc, "list keys");
  return out;
}

caf::expected<uint64_t> sqlite_store::do_count(const std::string& population) {
  sqlite_stmt_use use{count_.get()};
  bind_str(use.s, 1, population);
  if (int rc = sqlite3_step(use.s); rc != SQLITE_ROW)
    return failure(rc, "count keys");
  return static_cast<uint64_t>(sqlite3_column_int64(use.s, 0));
}

caf::expected<bool> sqlite_store::do_erase(const std::string& population,
                                           const std::string& key) {
  if (auto err = synchronous(true))
    return err;
  sqlite_stmt_use use{erase_.get()};
  bind_str(use.s, 1, population);
  bind_str(use.s, 2, key);
  if (int rc = sqlite3_step(use.s); rc != SQLITE_DONE)  // autocommit: one transaction
    return failure(rc, "erase key '" + key + "'");
  return sqlite3_changes(session_.db()) > 0;
}

}  // namespace sqlite_population_store_detail

caf::expected<std::unique_ptr<population_store>>
open_sqlite_population_store(const std::string& path, const population_store_limits& limits) {
  auto where = "population store sqlite '" + path + "': ";
  if (auto err = check_population_limits(limits, where))
    return err;
  auto store = std::make_unique<sqlite_population_store_detail::sqlite_store>(where, limits);
  if (auto err = store->open(path))
    return err;
  return std::unique_ptr<population_store>{std::move(store)};
}

}  // namespace agentgraph

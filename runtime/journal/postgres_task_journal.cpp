#include "runtime/journal/postgres_task_journal.hpp"

#include "runtime/checkpoint/checkpoint_codec.hpp"
#include "runtime/error.hpp"
#include "runtime/journal/journal_checks.hpp"
#include "runtime/postgres_session.hpp"

namespace agentgraph {

namespace postgres_task_journal_detail {

// Any constant unlike the checkpoint store's: the key of the advisory lock
// that serialises schema creation.
constexpr int64_t schema_lock_key = 0x61676a6e;  // "agjn"

// As in the SQLite backend: seq is the accept order, finished_seq (from a
// sequence: gaps only where a finishing transaction rolled back, so at most
// results_kept records are kept) the finishing order, journal_owners the
// open count per owner.
constexpr const char* tables_sql =
  "CREATE TABLE IF NOT EXISTS journal_schema(version BIGINT NOT NULL);"
  "CREATE TABLE IF NOT EXISTS journal_tasks("
  " seq BIGSERIAL PRIMARY KEY, task_id TEXT NOT NULL UNIQUE, target TEXT NOT NULL,"
  " payload BYTEA NOT NULL, owner TEXT NOT NULL, owner_epoch BIGINT NOT NULL,"
  " state SMALLINT NOT NULL, assigned TEXT NOT NULL, attempts BIGINT NOT NULL,"
  " result BYTEA NOT NULL, finished_seq BIGINT);"
  "CREATE INDEX IF NOT EXISTS journal_open_by_owner ON journal_tasks(owner, seq)"
  " WHERE state = 0;"
  "CREATE INDEX IF NOT EXISTS journal_finished_order ON journal_tasks(finished_seq);"
  "CREATE SEQUENCE IF NOT EXISTS journal_finish_seq;"
  "CREATE TABLE IF NOT EXISTS journal_owners(owner TEXT PRIMARY KEY, open_count BIGINT NOT NULL);"
  "INSERT INTO journal_schema(version) SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM journal_schema);";

#define AG_JOURNAL_COLUMNS \
  "task_id, target, payload, owner, owner_epoch, state, assigned, attempts, result"

// Prepared statements: name and text. Column orders match the SQLite backend.
constexpr postgres_statement statements[] = {
  {"jn_insert", "INSERT INTO journal_tasks(task_id, target, payload, owner, owner_epoch, state,"
                " assigned, attempts, result) VALUES($1, $2, $3, $4, $5, 0, '', 0, ''::bytea)"
                " ON CONFLICT(task_id) DO NOTHING RETURNING seq"},
  {"jn_count_add", "INSERT INTO journal_owners(owner, open_count) VALUES($1, $2::bigint)"
                   " ON CONFLICT(owner) DO UPDATE"
                   " SET open_count = journal_owners.open_count + $2::bigint RETURNING open_count"},
  {"jn_count_drop", "DELETE FROM journal_owners WHERE owner = $1 AND open_count <= 0"},
  {"jn_get", "SELECT " AG_JOURNAL_COLUMNS " FROM journal_tasks WHERE task_id = $1"},
  {"jn_assign", "UPDATE journal_tasks SET assigned = $2, attempts = attempts + 1"
                " WHERE task_id = $1 AND state = 0 AND owner = $3 AND owner_epoch = $4"},
  {"jn_complete", "UPDATE journal_tasks SET state = $2, result = $3,"
                  " finished_seq = nextval('journal_finish_seq')"
                  " WHERE task_id = $1 AND state = 0 RETURNING owner, finished_seq"},
  {"jn_prune", "DELETE FROM journal_tasks WHERE finished_seq <= $1"},
  {"jn_cursor", "SELECT seq FROM journal_tasks WHERE task_id = $1"},
  // The page ends before the record whose payloads and results would pass
  // $4 bytes (the first record always comes): the server streams the
  // running sum over the index, so an oversized page is never sent.
  {"jn_open_of", "SELECT " AG_JOURNAL_COLUMNS " FROM (SELECT *,"
                 " SUM(octet_length(payload) + octet_length(result)) OVER (ORDER BY seq) AS bytes,"
                 " ROW_NUMBER() OVER (ORDER BY seq) AS n FROM journal_tasks"
                 " WHERE owner = $1 AND state = 0 AND seq > $2 ORDER BY seq LIMIT $3) page"
                 " WHERE n = 1 OR bytes <= $4 ORDER BY seq"},
  // $2 typed once: `$2 = 0` alone would make it an int4 and refuse large epochs.
  {"jn_adopt", "UPDATE journal_tasks SET owner = $3, owner_epoch = $4 WHERE owner = $1"
               " AND state = 0 AND ($2::bigint = 0 OR owner_epoch = $2::bigint)"},
};

#undef AG_JOURNAL_COLUMNS

// Epochs are uids up to 2^64 - 1; BIGINT is signed, so the bits are stored
// as they are and compared for equality only.
int64_t as_bigint(uint64_t v) {
  return static_cast<int64_t>(v);
}

pqxx::binarystring bytes_param(const std::vector<uint8_t>& v) {
  static const uint8_t none = 0;  // a valid pointer for an empty vector
  return pqxx::binarystring{v.empty() ? &none : v.data(), v.size()};
}

std::vector<uint8_t> bytes_of(const pqxx::field& f) {
  pqxx::binarystring bytes{f};
  return std::vector<uint8_t>(bytes.data(), bytes.data() + bytes.size());
}

// The journal: one session (one connection, which keeps the statements).
class pg_journal final : public task_journal {
 public:
  pg_journal(std::string where, const journal_limits& limits, postgres_session_settings settings)
    : task_journal(limits, where), session_(std::move(settings), std::move(where), statements) {}

  caf::error open() {
    return session_.create_tables(schema_lock_key, tables_sql, "journal_schema",
                                  journal_schema_version);
  }

  std::string backend() const override { return "postgresql"; }

 private:
  caf::expected<accept_outcome> do_accept(const journal_record& r) override;
  caf::error do_assign(const std::string& task_id, const std::string& member,
                       const std::string& owner, uint64_t owner_epoch) override;
  caf::expected<journal_record> do_complete(const std::string& task_id, task_state final_state,
                                            const std::vector<uint8_t>& result) override;
  caf::expected<std::vector<journal_record>> do_open_of(const std::string& owner, uint32_t limit,
                                                        const std::string& after) override;
  caf::expected<uint64_t> do_adopt(const std::string& from, uint64_t from_epoch,
                                   const std::string& to, uint64_t to_epoch) override;
  caf::expected<std::optional<journal_record>> do_get(const std::string& task_id) override;

  caf::expected<journal_record> read_row(const pqxx::row& row) const;
  template <class Txn>
  caf::expected<std::optional<journal_record>> find(Txn& txn, const std::string& task_id) const;
  // Adds `delta` to the owner's open count; returns the count after.
  int64_t add_open(pqxx::work& txn, const std::string& owner, int64_t delta) const;

  postgres_session session_;
};

caf::expected<journal_record> pg_journal::read_row(const pqxx::row& row) const {
  journal_record r;
  r.task_id = row[0].as<std::string>();
  r.target = row[1].as<std::string>();
  r.payload = bytes_of(row[2]);
  r.owner = row[3].as<std::string>();
  r.owner_epoch = static_cast<uint64_t>(row[4].as<int64_t>());
  auto state = row[5].as<int64_t>();
  r.assigned = row[6].as<std::string>();
  auto attempts = row[7].as<int64_t>();
  r.result = bytes_of(row[8]);
  return stored_record(std::move(r), state, attempts, where());
}

template <class Txn>
caf::expected<std::optional<journal_record>> pg_journal::find(Txn& txn,
                                                              const std::string& task_id) const {
  auto rows = txn.exec_prepared("jn_get", task_id);
  if (rows.empty())
    return std::optional<journal_record>{};
  auto r = read_row(rows[0]);
  if (!r)
    return std::move(r.error());
  return std::optional<journal_record>{std::move(*r)};
}

int64_t pg_journal::add_open(pqxx::work& txn, const std::string& owner, int64_t delta) const {
  auto count = txn.exec_prepared1("jn_count_add", owner, delta)[0].as<int64_t>();
  if (delta < 0)
    txn.exec_prepared0("jn_count_drop", owner);
  return count;
}

caf::expected<accept_outcome> pg_journal::do_accept(const journal_record& r) {
  return session_.guarded("accept", [&]() -> caf::expected<accept_outcome> {
    pqxx::work txn{session_.conn()};
    auto inserted = txn.exec_prepared("jn_insert", r.task_id, r.target, bytes_param(r.payload),
                                      r.owner, as_bigint(r.owner_epoch));
    if (inserted.empty()) {  // the id is taken: the stored record (a new snapshot sees it)
      auto existing = find(txn, r.task_id);
      if (!existing)
        return std::move(existing.error());
      if (!*existing)
        return make_error(errc::io_error, where() + "task '" + r.task_id
                                            + "' was pruned while accepted again; retry");
      return accept_outcome{false, std::move(**existing)};
    }
    auto open = add_open(txn, r.owner, 1);
    if (open > static_cast<int64_t>(limits().open_max))  // ~work rolls back the insert
      return make_error(errc::overloaded,
                        where() + "owner '" + r.owner + "' has " + std::to_string(open - 1)
                          + " open tasks (open_max " + std::to_string(limits().open_max) + ")");
    txn.commit();
    return accept_outcome{true, r};
  });
}

caf::error pg_journal::do_assign(const std::string& task_id, const std::string& member,
                                 const std::string& owner, uint64_t owner_epoch) {
  auto done = session_.guarded("assign", [&]() -> caf::expected<void> {
    pqxx::work txn{session_.conn()};
    auto updated = txn.exec_prepared0("jn_assign", task_id, member, owner, as_bigint(owner_epoch));
    if (updated.affected_rows() == 1) {
      txn.commit();
      return {};
    }
    auto stored = find(txn, task_id);
    if (!stored)
      return stored.error();
    return assign_refusal(*stored, task_id, owner, owner_epoch, where());
  });
  return done ? caf::error{} : done.error();
}

caf::expected<journal_record> pg_journal::do_complete(const std::string& task_id,
                                                      task_state final_state,
                                                      const std::vector<uint8_t>& result) {
  return session_.guarded("complete", [&]() -> caf::expected<journal_record> {
    pqxx::work txn{session_.conn()};
    auto finished = txn.exec_prepared("jn_complete", task_id, static_cast<int>(final_state),
                                      bytes_param(result));
    if (!finished.empty()) {  // this call finished it: first writer
      add_open(txn, finished[0][0].as<std::string>(), -1);
      auto seq = finished[0][1].as<int64_t>();
      auto keep = static_cast<int64_t>(limits().results_kept);
      if (seq > keep)
        txn.exec_prepared0("jn_prune", seq - keep);
    }
    auto stored = find(txn, task_id);
    if (!stored)
      return std::move(stored.error());
    if (!*stored)
      return make_error(errc::not_found, where() + "no task '" + task_id + "'");
    txn.commit();
    return std::move(**stored);
  });
}

caf::expected<std::vector<journal_record>>
pg_journal::do_open_of(const std::string& owner, uint32_t limit, const std::string& after) {
  return session_.guarded("open_of", [&]() -> caf::expected<std::vector<journal_record>> {
    // REPEATABLE READ: the cursor and the page come from one snapshot.
    pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> txn{session_.conn()};
    int64_t from_seq = 0;
    if (!after.empty()) {
      auto cursor = txn.exec_prepared("jn_cursor", after);
      if (cursor.empty())
        return make_error(errc::not_found,
                          where() + "open_of after '" + after
                            + "': no such task (pruned?); page again from the start");
      from_seq = cursor[0][0].as<int64_t>();
    }
    auto rows = txn.exec_prepared("jn_open_of", owner, from_seq, static_cast<int64_t>(limit),
                                  static_cast<int64_t>(limits().page_bytes_max));
    std::vector<journal_record> out;
    out.reserve(rows.size());
    for (const auto& row : rows) {
      auto r = read_row(row);
      if (!r)
        return std::move(r.error());
      out.push_back(std::move(*r));
    }
    return out;
  });
}

caf::expected<uint64_t> pg_journal::do_adopt(const std::string& from, uint64_t from_epoch,
                                             const std::string& to, uint64_t to_epoch) {
  return session_.guarded("adopt", [&]() -> caf::expected<uint64_t> {
    pqxx::work txn{session_.conn()};
    auto moved = static_cast<int64_t>(
      txn.exec_prepared0("jn_adopt", from, as_bigint(from_epoch), to, as_bigint(to_epoch))
        .affected_rows());
    if (moved > 0 && from != to) {
      // Counter rows in name order, so two adopts in opposite directions
      // cannot deadlock on them.
      bool from_first = from < to;
      add_open(txn, from_first ? from : to, from_first ? -moved : moved);
      add_open(txn, from_first ? to : from, from_first ? moved : -moved);
    }
    txn.commit();
    return static_cast<uint64_t>(moved);
  });
}

caf::expected<std::optional<journal_record>> pg_journal::do_get(const std::string& task_id) {
  return session_.guarded("get", [&]() -> caf::expected<std::optional<journal_record>> {
    pqxx::read_transaction txn{session_.conn()};
    return find(txn, task_id);
  });
}

}  // namespace postgres_task_journal_detail

caf::expected<std::unique_ptr<task_journal>>
open_postgres_task_journal(const std::string& url, const journal_limits& limits,
                           const std::string& schema) {
  namespace d = postgres_task_journal_detail;
  auto where = "task journal postgresql '" + redact_connection_url(url) + "': ";
  if (auto err = check_journal_limits(limits, where))
    return err;
  if (!valid_postgres_schema_name(schema))
    return make_error(errc::invalid_argument,
                      where + "schema '" + schema + "' is not a lowercase SQL identifier");
  postgres_session_settings settings{url, schema, journal_connect_timeout_s,
                                     journal_lock_timeout_ms, journal_statement_timeout_ms};
  auto journal = std::make_unique<d::pg_journal>(where, limits, std::move(settings));
  if (auto err = journal->open())
    return err;
  return std::unique_ptr<task_journal>{std::move(journal)};
}

}  // namespace agentgraph

// The per-key audit of `agentgraph sim` (sim_keys.hpp): the triggers that
// copy the shared population store's claims and saves into an audit
// table, and the replay that checks them.
#include "actors/sim/sim_keys.hpp"

#include <sqlite3.h>

#include <map>
#include <memory>
#include <utility>

#include "actors/population/population_state.hpp"
#include "runtime/error.hpp"
#include "runtime/sqlite_session.hpp"

namespace agentgraph::sim {

namespace sim_keys_detail {

// The audit table and its triggers on the store's population_keys
// (runtime/population/sqlite_population_store.cpp). Triggers live in the
// database, so every node's connection runs them inside its own claim or
// save transaction: the audit's seq is the order of the commits. A save is
// recorded with the claim the row held when it was accepted (OLD): the
// product's save only matches its own claim, so that is the saver's,
// unless a fence was lost, which the state's lineage then shows.
constexpr const char* audit_sql =
  "CREATE TABLE IF NOT EXISTS sim_key_audit(seq INTEGER PRIMARY KEY AUTOINCREMENT,"
  " kind TEXT NOT NULL, population TEXT NOT NULL, key TEXT NOT NULL, owner TEXT NOT NULL,"
  " owner_epoch INTEGER NOT NULL, state BLOB);"
  "CREATE TRIGGER IF NOT EXISTS sim_key_audit_insert AFTER INSERT ON population_keys BEGIN"
  " INSERT INTO sim_key_audit(kind, population, key, owner, owner_epoch, state)"
  "  VALUES('claim', NEW.population, NEW.key, NEW.owner, NEW.owner_epoch, NULL);"
  " INSERT INTO sim_key_audit(kind, population, key, owner, owner_epoch, state)"
  "  SELECT 'save', NEW.population, NEW.key, NEW.owner, NEW.owner_epoch, NEW.state"
  "  WHERE NEW.state IS NOT NULL;"
  " END;"
  "CREATE TRIGGER IF NOT EXISTS sim_key_audit_claim AFTER UPDATE OF owner, owner_epoch"
  " ON population_keys WHEN OLD.owner IS NOT NEW.owner OR OLD.owner_epoch IS NOT NEW.owner_epoch"
  " BEGIN"
  " INSERT INTO sim_key_audit(kind, population, key, owner, owner_epoch, state)"
  "  VALUES('claim', NEW.population, NEW.key, NEW.owner, NEW.owner_epoch, NULL);"
  " END;"
  "CREATE TRIGGER IF NOT EXISTS sim_key_audit_save AFTER UPDATE OF state ON population_keys"
  " BEGIN"
  " INSERT INTO sim_key_audit(kind, population, key, owner, owner_epoch, state)"
  "  VALUES('save', NEW.population, NEW.key, OLD.owner, OLD.owner_epoch, NEW.state);"
  " END;"
  "CREATE TRIGGER IF NOT EXISTS sim_key_audit_erase AFTER DELETE ON population_keys BEGIN"
  " INSERT INTO sim_key_audit(kind, population, key, owner, owner_epoch, state)"
  "  VALUES('erase', OLD.population, OLD.key, OLD.owner, OLD.owner_epoch, NULL);"
  " END;";

// A run starts its audit from the store as it is (a data directory an
// earlier run left): its rows become each key's first claim and state.
constexpr const char* restart_sql =
  "DELETE FROM sim_key_audit;"
  "INSERT INTO sim_key_audit(kind, population, key, owner, owner_epoch, state)"
  " SELECT 'claim', population, key, owner, owner_epoch, NULL FROM population_keys;"
  "INSERT INTO sim_key_audit(kind, population, key, owner, owner_epoch, state)"
  " SELECT 'save', population, key, owner, owner_epoch, state FROM population_keys"
  " WHERE state IS NOT NULL;";

constexpr const char* read_sql =
  "SELECT seq, kind, population, key, owner, owner_epoch, state FROM sim_key_audit ORDER BY seq;";

constexpr int64_t busy_ms = 10'000;

caf::expected<std::string> sqlite_path_of(const std::string& location) {
  const std::string prefix = "sqlite:";
  if (location.rfind(prefix, 0) != 0)
    return make_error(errc::invalid_argument,
                      "the key audit needs a SQLite store, not '" + location + "'");
  return location.substr(prefix.size());
}

std::string column_text(sqlite3_stmt* s, int i) {
  const auto* p = static_cast<const char*>(sqlite3_column_blob(s, i));
  return p == nullptr ? std::string{} : std::string(p, static_cast<size_t>(sqlite3_column_bytes(s, i)));
}

std::string claim_name(const std::string& owner, uint64_t epoch) {
  return owner + "#" + std::to_string(epoch % 100000);
}

}  // namespace sim_keys_detail

const char* key_audit_schema_sql() {
  return sim_keys_detail::audit_sql;
}

namespace sim_keys_detail {

// The store's SQLite file of a location, opened for the audit.
caf::error open_audit_db(const std::string& store_location, std::unique_ptr<sqlite_session>& out) {
  auto path = sqlite_path_of(store_location);
  if (!path)
    return path.error();
  out = std::make_unique<sqlite_session>("key audit '" + *path + "': ");
  return out->open(*path, busy_ms);
}

}  // namespace sim_keys_detail

caf::error install_key_audit(const std::string& store_location) {
  std::unique_ptr<sqlite_session> session;
  if (auto err = sim_keys_detail::open_audit_db(store_location, session))
    return err;
  auto& db = *session;
  const std::string sql = std::string{sim_keys_detail::audit_sql} + sim_keys_detail::restart_sql;
  return db.exec_in_write_txn(sql.c_str(), "install the key audit");
}

caf::error read_key_audit(const std::string& store_location, key_audit_checker& checker,
                          uint64_t rows_max) {
  std::unique_ptr<sqlite_session> session;
  if (auto err = sim_keys_detail::open_audit_db(store_location, session))
    return err;
  auto& db = *session;
  sqlite_stmt_ptr stmt;
  if (auto err = db.prepare(stmt, sim_keys_detail::read_sql))
    return err;
  sqlite_stmt_use use{stmt.get()};
  uint64_t n = 0;
  int rc;
  while ((rc = sqlite3_step(use.s)) == SQLITE_ROW) {
    if (++n > rows_max)
      return make_error(errc::limit_exceeded,
                        "the key audit holds more than " + std::to_string(rows_max) + " rows");
    key_audit_row r;
    r.seq = static_cast<uint64_t>(sqlite3_column_int64(use.s, 0));
    r.kind = sim_keys_detail::column_text(use.s, 1);
    r.population = sim_keys_detail::column_text(use.s, 2);
    r.key = sim_keys_detail::column_text(use.s, 3);
    r.owner = sim_keys_detail::column_text(use.s, 4);
    r.owner_epoch = static_cast<uint64_t>(sqlite3_column_int64(use.s, 5));
    if (const auto* p = static_cast<const uint8_t*>(sqlite3_column_blob(use.s, 6)))
      r.state.assign(p, p + sqlite3_column_bytes(use.s, 6));
    checker.add(r);
  }
  if (rc != SQLITE_DONE)
    return db.failure(rc, "read the audit");
  return {};
}

task_of_turn task_numbers_of(const std::string& input_template) {
  const auto at = input_template.find("{id}");
  if (at == std::string::npos)
    return [](const std::string&) { return std::optional<uint64_t>{}; };
  auto prefix = input_template.substr(0, at);
  auto suffix = input_template.substr(at + 4);
  return [prefix, suffix](const std::string& turn) -> std::optional<uint64_t> {
    constexpr size_t digits_max = 19;  // below 2^64
    if (turn.size() <= prefix.size() + suffix.size() || turn.compare(0, prefix.size(), prefix) != 0
        || turn.compare(turn.size() - suffix.size(), suffix.size(), suffix) != 0)
      return std::nullopt;
    const auto mid = turn.substr(prefix.size(), turn.size() - prefix.size() - suffix.size());
    if (mid.size() > digits_max || mid.find_first_not_of("0123456789") != std::string::npos)
      return std::nullopt;
    return std::stoull(mid);
  };
}

// -- the replay ----------------------------------------------------------------

struct key_audit_checker::impl {
  struct key_track {
    bool claimed = false;
    std::string owner;
    uint64_t epoch = 0;
    uint64_t claim_seq = 0;  // the audit row of the newest claim: one claim event
    std::string saved_by;    // the claim of the last save, in words
    std::vector<std::string> history;  // the last saved state's
    uint64_t tasks_completed = 0;
    // Task number -> the claim event that first added its turn.
    std::map<uint64_t, uint64_t> applied;
  };

  task_of_turn task_of;
  ran_again again;
  std::map<std::pair<std::string, std::string>, key_track> keys;
  key_figures fig;

  void violation(uint64_t& counter, std::string what) {
    ++counter;
    if (fig.details.size() < key_details_max)
      fig.details.push_back(std::move(what));
  }

  static std::string name(const key_audit_row& r) { return r.population + "/" + r.key; }

  void claim(const key_audit_row& r, key_track& k) {
    ++fig.claims;
    if (k.claimed && k.owner != r.owner && k.owner != preload_owner)
      ++fig.claims_moved;
    k.claimed = true;
    k.owner = r.owner;
    k.epoch = r.owner_epoch;
    k.claim_seq = r.seq;
  }

  void save(const key_audit_row& r, key_track& k);
  // The new state's turns not in the previous one, or none when it does
  // not extend it (then a violation).
  std::optional<size_t> lineage(const key_audit_row& r, key_track& k,
                                const population_key_state& s);
  void count_turns(const key_audit_row& r, key_track& k, const std::vector<std::string>& h,
                   size_t first);
};

void key_audit_checker::impl::save(const key_audit_row& r, key_track& k) {
  ++fig.saves;
  const auto by = sim_keys_detail::claim_name(r.owner, r.owner_epoch);
  if (!k.claimed || k.owner != r.owner || k.epoch != r.owner_epoch)
    violation(fig.saves_superseded,
              name(r) + ": save #" + std::to_string(r.seq) + " accepted under " + by
                + (k.claimed ? " after the newer claim of " + sim_keys_detail::claim_name(k.owner, k.epoch)
                             : " with no claim"));
  auto s = decode_population_state(r.state);
  if (!s) {
    violation(fig.saves_undecodable,
              name(r) + ": save #" + std::to_string(r.seq) + " by " + by + " does not decode");
    return;
  }
  if (auto first = lineage(r, k, *s))
    count_turns(r, k, s->agent.history, *first);
  k.history = std::move(s->agent.history);
  k.tasks_completed = s->agent.tasks_completed;
  k.saved_by = by;
}

std::optional<size_t> key_audit_checker::impl::lineage(const key_audit_row& r, key_track& k,
                                                       const population_key_state& s) {
  // Each completed task appends one (user, assistant) turn and counts one
  // (agent.cpp `succeed`); the window drops the oldest. So the new history
  // is the old one plus 2 * (new count - old count) entries, cut to its
  // length from the front: what the two share must match.
  const auto& old_h = k.history;
  const auto& new_h = s.agent.history;
  const auto stale = [&](const std::string& why) {
    violation(fig.saves_stale, name(r) + ": save #" + std::to_string(r.seq) + " by "
                                 + sim_keys_detail::claim_name(r.owner, r.owner_epoch)
                                 + " is not based on the state saved before"
                                 + (k.saved_by.empty() ? "" : " by " + k.saved_by) + ": " + why);
    return std::nullopt;
  };
  if (s.agent.tasks_completed < k.tasks_completed)
    return stale("tasks completed went back from " + std::to_string(k.tasks_completed) + " to "
                 + std::to_string(s.agent.tasks_completed));
  const uint64_t added = 2 * (s.agent.tasks_completed - k.tasks_completed);
  const size_t kept = added >= new_h.size() ? 0 : new_h.size() - static_cast<size_t>(added);
  if (kept > old_h.size())
    return stale("it holds " + std::to_string(kept) + " earlier history entries, the state had "
                 + std::to_string(old_h.size()));
  for (size_t i = 0; i < kept; ++i)
    if (new_h[i] != old_h[old_h.size() - kept + i])
      return stale("its history differs at entry " + std::to_string(i) + " of the "
                   + std::to_string(kept) + " it keeps");
  return kept;
}

void key_audit_checker::impl::count_turns(const key_audit_row& r, key_track& k,
                                          const std::vector<std::string>& h, size_t first) {
  // User turns sit at even positions (user, assistant, ...); `first` is even
  // whenever the history is whole turns.
  for (size_t i = first; i < h.size(); i += 2) {
    auto task = task_of(h[i]);
    if (!task)
      continue;
    auto [it, fresh] = k.applied.emplace(*task, k.claim_seq);
    if (fresh)
      continue;
    if (it->second != k.claim_seq || again(*task)) {
      ++fig.tasks_reapplied;
      continue;
    }
    violation(fig.tasks_applied_twice,
              name(r) + ": task " + std::to_string(*task) + " added again by save #"
                + std::to_string(r.seq) + " under the same claim "
                + sim_keys_detail::claim_name(r.owner, r.owner_epoch) + ", and it ran once");
  }
}

key_audit_checker::key_audit_checker(task_of_turn task_of, ran_again again)
  : impl_(std::make_unique<impl>()) {
  impl_->task_of = std::move(task_of);
  impl_->again = std::move(again);
  impl_->fig.audited = true;
}

key_audit_checker::~key_audit_checker() = default;

void key_audit_checker::add(const key_audit_row& row) {
  auto& im = *impl_;
  ++im.fig.audit_rows;
  auto& k = im.keys[{row.population, row.key}];
  if (row.kind == "claim")
    im.claim(row, k);
  else if (row.kind == "save")
    im.save(row, k);
  else if (row.kind == "erase")
    k = {};
}

key_figures key_audit_checker::figures() const {
  auto f = impl_->fig;
  f.keys = impl_->keys.size();
  return f;
}

void add_key_figures(key_figures& sum, const key_figures& one) {
  if (!one.audited)
    return;
  sum.audited = true;
  for (auto [to, from] : {std::pair{&sum.keys, one.keys}, {&sum.claims, one.claims},
                          {&sum.claims_moved, one.claims_moved}, {&sum.saves, one.saves},
                          {&sum.tasks_reapplied, one.tasks_reapplied},
                          {&sum.saves_superseded, one.saves_superseded},
                          {&sum.saves_stale, one.saves_stale},
                          {&sum.saves_undecodable, one.saves_undecodable},
                          {&sum.tasks_applied_twice, one.tasks_applied_twice},
                          {&sum.audit_rows, one.audit_rows}})
    *to += from;
  for (const auto& d : one.details)
    if (sum.details.size() < key_details_max)
      sum.details.push_back(d);
}

std::string describe_keys(const key_figures& f) {
  auto n = [](uint64_t v) { return std::to_string(v); };
  return "keys: " + n(f.keys) + " keys, " + n(f.claims) + " claims (" + n(f.claims_moved)
         + " moved), " + n(f.saves) + " saves, " + n(f.tasks_reapplied)
         + " task turns added again after a second run; broken: superseded saves "
         + n(f.saves_superseded) + ", stale saves " + n(f.saves_stale) + ", undecodable "
         + n(f.saves_undecodable) + ", tasks applied twice " + n(f.tasks_applied_twice);
}

key_figures check_key_audit(const std::vector<key_audit_row>& rows, const task_of_turn& task_of,
                            const ran_again& again) {
  key_audit_checker c{task_of, again};
  for (const auto& r : rows)
    c.add(r);
  return c.figures();
}

}  // namespace agentgraph::sim

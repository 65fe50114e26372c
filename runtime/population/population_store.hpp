// Where a population's keys keep their state while passivated (issue 14,
// actors/population/DESIGN.md): one row per (population, key) holding the
// key's encoded state (opaque here; actors/population/population_state.hpp
// encodes it) and the claim of the node whose instance may save it.
//
// A claim is the fence that keeps one key from being saved by two live
// instances: `claim` records (owner, owner_epoch) on the row and returns its
// state; from then on a `save` by any other owner or epoch is refused for
// that key. The newest claim always wins: a node that activates a key
// because the key's previous node was declared down takes it over, and the
// previous node, if it is in fact alive, finds its saves fenced and drops
// its instance.
//
// One interface, two backends, one contract suite
// (tests/unit/population_store_contract.hpp): sqlite_population_store (a
// file per node, WAL, synchronous=FULL) and postgres_population_store
// (shared by a cluster, so a key can move to another node with its state).
//
// Every call BLOCKS on disk or network I/O. Never call a store from a
// handler on a CAF scheduler thread: use population_store_actor.hpp, which
// runs it in a detached actor. A store object is NOT thread-safe (it owns
// one database connection); use one object per thread. Several objects, in
// one process or many, may share one database: each call is one transaction.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>
#include <caf/meta/type_name.hpp>

namespace agentgraph {

// What `claim` found.
struct population_claim {
  bool existed = false;          // the key had a saved state before this claim
  std::vector<uint8_t> state;    // its saved state; empty when !existed
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, population_claim& x) {
  return f(caf::meta::type_name("agentgraph::population_claim"), x.existed, x.state);
}

// One key's state to save.
struct population_save {
  std::string key;
  std::vector<uint8_t> state;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, population_save& x) {
  return f(caf::meta::type_name("agentgraph::population_save"), x.key, x.state);
}

// Bounds of one store object. Each says what happens when it is hit.
struct population_store_limits {
  // Population names and keys: 1 byte to this many, UTF-8 without control
  // characters; anything else is invalid_argument. Owners likewise.
  uint32_t name_bytes_max = 128;
  uint32_t key_bytes_max = 128;
  uint32_t owner_bytes_max = 256;
  // A state above this is invalid_argument; nothing of its batch is written.
  uint64_t state_bytes_max = 1u << 20;
  // Keys per save batch and per `keys` page; above (or 0) is invalid_argument.
  uint32_t batch_max = 4'096;
};

// Upper bounds on the limits themselves (checked when a store is opened).
// Names and keys stay far below PostgreSQL's ~2.7 kB bound on one entry of
// the (population, key) index.
constexpr uint32_t population_name_bytes_max_max = 1'024;
constexpr uint32_t population_owner_bytes_max_max = 4'096;
constexpr uint64_t population_state_bytes_max_max = 64u << 20;
constexpr uint32_t population_batch_max_max = 100'000;
// How long a call waits for a lock held by another connection before it
// fails with io_error (SQLite busy_timeout, PostgreSQL lock_timeout).
constexpr int64_t population_lock_timeout_ms = 10'000;
// PostgreSQL only: a connection attempt and one statement fail with
// io_error after these.
constexpr int64_t population_connect_timeout_s = 10;
constexpr int64_t population_statement_timeout_ms = 30'000;

// The interface both backends implement. The public calls check their
// arguments against the limits (the same way for every backend) and then
// call the backend's do_* function. Errors (caf::error of errc):
// - invalid_argument: a bad name, key, owner, size, epoch 0 or limit.
// - io_error: the backend failed; the message names the backend and the
//   file or the URL without its password. Every call is safe to retry.
// - parse_error: the database is not a population store's (or a newer
//   schema version).
class population_store {
 public:
  virtual ~population_store() = default;
  population_store(const population_store&) = delete;
  population_store& operator=(const population_store&) = delete;

  // "sqlite" or "postgresql".
  [[nodiscard]] virtual std::string backend() const = 0;
  [[nodiscard]] const population_store_limits& limits() const { return limits_; }

  // Claims each key for (owner, owner_epoch) in one transaction: records
  // them as the key's claimant, creating the row (without state) when the
  // key is new, and returns the saved states, in `keys` order. The newest
  // claim wins, whoever held the key before. A claim needs no fsync of its
  // own (SQLite: committed with synchronous=NORMAL; PostgreSQL:
  // synchronous_commit off for its transaction): it is durable no later
  // than the next `save` of the same store, and a claim lost in a crash is
  // simply made again. 1..batch_max keys, each at most once;
  // owner_epoch above 0.
  [[nodiscard]] caf::expected<std::vector<population_claim>> claim(
    const std::string& population, const std::vector<std::string>& keys,
    const std::string& owner, uint64_t owner_epoch);

  // Saves each entry's state in one transaction, each only where the row's
  // claim is still exactly (owner, owner_epoch); entries of keys claimed by
  // someone else since (or never claimed) are not written. Returns those
  // fenced keys, in batch order (empty: everything was saved). 1..batch_max
  // entries; a key twice in one batch is invalid_argument. Durable
  // (fsync'd, or committed on the PostgreSQL server) before it returns.
  [[nodiscard]] caf::expected<std::vector<std::string>> save(
    const std::string& population, const std::string& owner, uint64_t owner_epoch,
    const std::vector<population_save>& batch);

  // Keys of the population that have a saved state, in byte order, after
  // `after` ("" = from the first), at most `limit` (1..batch_max): page with
  // the last key of each page until a page is empty.
  [[nodiscard]] caf::expected<std::vector<std::string>> keys(const std::string& population,
                                                             const std::string& after,
                                                             uint32_t limit);

  // How many keys of the population have a saved state.
  [[nodiscard]] caf::expected<uint64_t> count(const std::string& population);

  // Removes the key's row (state and claim). Returns whether it existed.
  [[nodiscard]] caf::expected<bool> erase(const std::string& population, const std::string& key);

 protected:
  // `where` prefixes every error: "population store sqlite 'PATH': ".
  population_store(const population_store_limits& limits, std::string where)
    : limits_(limits), where_(std::move(where)) {}
  [[nodiscard]] const std::string& where() const { return where_; }

  // Called with checked arguments only.
  virtual caf::expected<std::vector<population_claim>> do_claim(
    const std::string& population, const std::vector<std::string>& keys,
    const std::string& owner, uint64_t owner_epoch) = 0;
  virtual caf::expected<std::vector<std::string>> do_save(
    const std::string& population, const std::string& owner, uint64_t owner_epoch,
    const std::vector<population_save>& batch) = 0;
  virtual caf::expected<std::vector<std::string>> do_keys(const std::string& population,
                                                          const std::string& after,
                                                          uint32_t limit) = 0;
  virtual caf::expected<uint64_t> do_count(const std::string& population) = 0;
  virtual caf::expected<bool> do_erase(const std::string& population, const std::string& key) = 0;

 private:
  const population_store_limits limits_;
  const std::string where_;
};

// Opens a store from one location string, for configs and tools:
// "sqlite:PATH", or a PostgreSQL URL "postgresql://..." / "postgres://..."
// (tables in `postgres_schema`). Errors: invalid_argument for anything else
// (the URL's password never appears), plus those of the backend's open.
[[nodiscard]] caf::expected<std::unique_ptr<population_store>>
open_population_store(const std::string& location, const population_store_limits& limits = {},
                      const std::string& postgres_schema = "public");

}  // namespace agentgraph

// The task journal of a cluster (issue 12, net/cluster/DESIGN.md §9): no
// task lost, no task answered twice. A node's dispatcher journals each task
// its gateway accepts BEFORE acknowledging it, records where it runs, and
// stores its result; if the node running it dies the task is re-dispatched,
// and a client gets one result per task id even if the task ran twice,
// because `complete` keeps the first result and returns the stored one.
//
// One record per task id, for ever (until pruned after it finished):
//
//   accept ──> open ──assign*──> open ──complete──> done | failed ──pruned──> gone
//                 └──adopt (owner moves to another node, or a new epoch)──┘
//
// One interface, two backends, one contract suite
// (tests/unit/journal_contract.hpp): sqlite_task_journal (a file per node,
// WAL, synchronous=FULL) and postgres_task_journal (shared by a cluster, so
// a surviving node can adopt a dead node's open tasks).
//
// Every call BLOCKS on disk or network I/O. Never call a journal from a
// handler on a CAF scheduler thread: use journal_actor.hpp, which runs it in
// a detached actor. A journal object is NOT thread-safe (it owns one
// database connection); use one object per thread. Several objects, in one
// process or many, may share one database: each call is one transaction.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>
#include <caf/meta/type_name.hpp>

namespace agentgraph {

// Where a task is. Values travel as their number; a journal refuses any
// other number (a peer's bad message) as invalid_argument.
enum class task_state : uint8_t { open, done, failed };

// "open", "done", "failed", or "invalid" for any other number.
[[nodiscard]] const char* to_string(task_state s);

// One task as the journal keeps it.
struct journal_record {
  std::string task_id;            // the client's id: one record per id, cluster-wide
  std::string target;             // agent or group name
  std::vector<uint8_t> payload;   // opaque: the dispatcher's encoding of the request
  std::string owner;              // cluster member name that accepted it (or adopted it)
  uint64_t owner_epoch = 0;       // the owner's incarnation uid: fences a stale owner
  task_state state = task_state::open;
  std::string assigned;           // member running it now ("" before the first assign)
  uint32_t attempts = 0;          // assigns so far
  std::vector<uint8_t> result;    // opaque, set by complete
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, journal_record& x) {
  return f(caf::meta::type_name("agentgraph::journal_record"), x.task_id, x.target, x.payload,
           x.owner, x.owner_epoch, x.state, x.assigned, x.attempts, x.result);
}

// What accept found: a new record (fresh) or the one already stored.
struct accept_outcome {
  bool fresh = false;
  journal_record record;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, accept_outcome& x) {
  return f(caf::meta::type_name("agentgraph::accept_outcome"), x.fresh, x.record);
}

// Bounds of one journal object. Each says what happens when it is hit.
struct journal_limits {
  // Names: UTF-8 text without control characters, 1 byte to this many;
  // anything else is invalid_argument. `owner` bounds member names (owner,
  // assigned, adopt's from and to).
  uint32_t task_id_bytes_max = 256;
  uint32_t target_bytes_max = 256;
  uint32_t owner_bytes_max = 256;
  // Larger payloads (accept) and results (complete) are invalid_argument;
  // nothing is written.
  uint64_t payload_bytes_max = 1u << 20;
  uint64_t result_bytes_max = 4u << 20;
  // Open records per owner (any epoch): a fresh accept beyond it is
  // `overloaded` (the gateway's 429) and writes nothing. adopt ignores it
  // (the adopted tasks were accepted already; refusing them would lose
  // them): an adopter above it is overloaded until it has finished enough.
  uint32_t open_max = 10'000;
  // Finished (done or failed) records kept per database: a complete that
  // finishes one more deletes the oldest finished ones (in finishing order)
  // in its own transaction. A client that asks for a result after that gets
  // not_found, and a re-submitted id is a new task.
  uint64_t results_kept = 100'000;
  // open_of's limit above this (or 0) is invalid_argument.
  uint32_t list_max = 1'000;
  // open_of ends a page early rather than let its payloads and results
  // pass this many bytes (a page of list_max records of payload_bytes_max
  // each would be a GiB); a page holds at least one record all the same.
  uint64_t page_bytes_max = 16u << 20;
};

// Upper bounds on the limits themselves (checked when a journal is opened).
constexpr uint32_t journal_name_bytes_max = 4'096;
constexpr uint64_t journal_blob_bytes_max = 64u << 20;
constexpr uint32_t journal_open_max_max = 1'000'000;
constexpr uint64_t journal_results_kept_max = 100'000'000;
constexpr uint32_t journal_list_max_max = 100'000;
constexpr uint64_t journal_page_bytes_max_max = 1u << 30;
// How long a call waits for a lock held by another connection before it
// fails with io_error (SQLite busy_timeout, PostgreSQL lock_timeout).
constexpr int64_t journal_lock_timeout_ms = 10'000;
// PostgreSQL only: a connection attempt and one statement fail with io_error
// after these (a hung server must not hold the dispatcher forever).
constexpr int64_t journal_connect_timeout_s = 10;
constexpr int64_t journal_statement_timeout_ms = 30'000;

// The interface both backends implement. The public calls check their
// arguments against the limits (the same way for every backend) and then
// call the backend's do_* function. Errors (caf::error of errc):
// - invalid_argument: a bad name, size, state, epoch or limit. Never retry.
// - not_found: no record with that id.
// - conflict: assign to a record that is finished, or fenced (its owner or
//   owner epoch is no longer the caller's: another node adopted it).
// - overloaded: accept beyond open_max. Retry after backing off.
// - io_error: the backend failed; the message names the backend and the
//   file or the connection URL without its password. Retry may help: every
//   call is idempotent or first-writer-wins, except assign (attempts + 1).
// - parse_error: a stored row or the database itself is not a journal's.
class task_journal {
 public:
  virtual ~task_journal() = default;
  task_journal(const task_journal&) = delete;
  task_journal& operator=(const task_journal&) = delete;

  // "sqlite" or "postgresql".
  [[nodiscard]] virtual std::string backend() const = 0;
  [[nodiscard]] const journal_limits& limits() const { return limits_; }

  // A new id: stores `r` open with attempts 0, durably before it returns
  // (fresh = true, the stored record). An id already present, in any state
  // and of any owner: writes nothing and returns the stored record (fresh =
  // false), even when the owner is at open_max. `r` must be open, with no
  // assigned member, no attempts and no result, and an owner_epoch above 0.
  [[nodiscard]] caf::expected<accept_outcome> accept(const journal_record& r);

  // Records that `member` runs the task now (attempts + 1), only when the
  // record is open AND its owner and owner_epoch are the given ones.
  // not_found; conflict "fenced ..." when owner or epoch differ (another
  // node adopted it: stop, do not run it); conflict "... finished" when done
  // or failed (answer the stored result instead).
  [[nodiscard]] caf::error assign(const std::string& task_id, const std::string& member,
                                  const std::string& owner, uint64_t owner_epoch);

  // First writer wins: on an open record, stores `final_state` (done or
  // failed) and `result`; on a finished one, changes nothing. Returns the
  // stored record either way: answer the client with ITS result. Not fenced:
  // a result is a result, whoever computed it. not_found; invalid_argument
  // for state open or a result above result_bytes_max.
  [[nodiscard]] caf::expected<journal_record> complete(const std::string& task_id,
                                                       task_state final_state,
                                                       const std::vector<uint8_t>& result);

  // Open records of `owner` (any epoch), oldest accepted first (the order of
  // a sequence the journal assigns at accept, not wall time), at most
  // `limit` (1..list_max) and at most page_bytes_max bytes of payloads and
  // results (but at least one record), starting after the record `after`
  // in that order ("" = from the start): page with the last id of each page
  // until a page is empty. `after` may have finished or moved meanwhile;
  // not_found if it no longer exists (pruned: start again from "").
  [[nodiscard]] caf::expected<std::vector<journal_record>>
  open_of(const std::string& owner, uint32_t limit, const std::string& after = "");

  // Moves every open record owned by (from, from_epoch) to (to, to_epoch)
  // in one transaction; from_epoch 0 = any epoch of `from`. Returns how
  // many moved. Later assigns naming the old owner or epoch are fenced.
  // from == to with a new epoch is how a restarted node takes back its own
  // open tasks (SQLite: nobody else can). to_epoch must be above 0.
  [[nodiscard]] caf::expected<uint64_t> adopt(const std::string& from, uint64_t from_epoch,
                                              const std::string& to, uint64_t to_epoch);

  // The record, or nothing if the id is unknown (never accepted, or pruned).
  [[nodiscard]] caf::expected<std::optional<journal_record>> get(const std::string& task_id);

 protected:
  // `where` prefixes every error: "task journal sqlite 'PATH': ".
  task_journal(const journal_limits& limits, std::string where)
    : limits_(limits), where_(std::move(where)) {}
  [[nodiscard]] const std::string& where() const { return where_; }

  // Called with checked arguments only.
  virtual caf::expected<accept_outcome> do_accept(const journal_record& r) = 0;
  virtual caf::error do_assign(const std::string& task_id, const std::string& member,
                               const std::string& owner, uint64_t owner_epoch) = 0;
  virtual caf::expected<journal_record> do_complete(const std::string& task_id,
                                                    task_state final_state,
                                                    const std::vector<uint8_t>& result) = 0;
  virtual caf::expected<std::vector<journal_record>>
  do_open_of(const std::string& owner, uint32_t limit, const std::string& after) = 0;
  virtual caf::expected<uint64_t> do_adopt(const std::string& from, uint64_t from_epoch,
                                           const std::string& to, uint64_t to_epoch) = 0;
  virtual caf::expected<std::optional<journal_record>> do_get(const std::string& task_id) = 0;

 private:
  const journal_limits limits_;
  const std::string where_;
};

// Opens a journal from one location string, for configs and tools:
// "sqlite:PATH", or a PostgreSQL URL "postgresql://..." / "postgres://..."
// (tables in `postgres_schema`). Errors: invalid_argument for anything else
// (the URL's password never appears), plus those of the backend's open.
[[nodiscard]] caf::expected<std::unique_ptr<task_journal>>
open_task_journal(const std::string& location, const journal_limits& limits = {},
                  const std::string& postgres_schema = "public");

}  // namespace agentgraph

// The durable checkpoint store of graph workflows (issue 5). A workflow run
// has a thread id; after every super-step it puts one checkpoint (its state,
// what runs next, metadata) into the store, and `resume` continues from the
// latest checkpoint of the thread or from a chosen one. History per thread is
// bounded: a put keeps the newest `keep_last` checkpoints and deletes older
// ones in the same transaction.
//
// One interface, two backends: sqlite_checkpoint_store (embedded default, one
// file in WAL mode) and postgres_checkpoint_store (a server shared by a
// cluster). Both pass the same contract suite (tests/unit/checkpoint_contract.hpp).
//
// Every call BLOCKS on disk or network I/O. Never call a store from a handler
// on a CAF scheduler thread: use checkpoint_actor.hpp, which runs the store in
// a detached actor. A store object is NOT thread-safe (it owns one database
// connection); use one object per thread. Several objects, in one process or
// many, may share one database: each put is one transaction.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <caf/expected.hpp>
#include <caf/meta/type_name.hpp>

#include "runtime/value.hpp"

namespace agentgraph {

// One saved super-step of a workflow thread.
struct checkpoint {
  std::string thread_id;
  // Assigned by put: 1 for the first checkpoint of a thread, then +1 per put
  // (also across processes sharing the database), so ids are monotonic and
  // contiguous per thread. 0 in a put request.
  uint64_t checkpoint_id = 0;
  // The checkpoint this one continues from; 0 for the first of a run. Must
  // not be newer than the thread's latest checkpoint. May have been pruned.
  // Step 0 with parent 0 starts a run: only on a thread without checkpoints.
  uint64_t parent_id = 0;
  uint64_t step = 0;  // the super-step number, as the workflow counts
  Value state;        // the workflow state after the step
  Value pending;      // what runs next (nodes, pending writes); opaque to the store
  Value metadata;     // anything the caller wants to find in `list` (source, writes)
  int64_t created_ms = 0;  // unix ms; set by put
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, checkpoint& x) {
  return f(caf::meta::type_name("agentgraph::checkpoint"), x.thread_id, x.checkpoint_id,
           x.parent_id, x.step, x.state, x.pending, x.metadata, x.created_ms);
}

// Bounds of one store object. Each says what happens when it is hit.
struct checkpoint_limits {
  // Longer (or empty) thread ids are invalid_argument, as are ids that are
  // not UTF-8 text or hold control characters.
  uint32_t thread_id_bytes_max = 256;
  // Encoded (msgpack) sizes above these are limit_exceeded; nothing is written.
  uint64_t state_bytes_max = 16u << 20;
  uint64_t pending_bytes_max = 4u << 20;
  uint64_t metadata_bytes_max = 64u << 10;
  // Checkpoints kept per thread; a put deletes the older ones. In [1, keep_last_max].
  uint32_t keep_last = 20;
  // `list` and `list_threads` limits above these (or 0) are invalid_argument.
  uint32_t list_max = 1'000;
  uint32_t threads_listed_max = 1'000;
};

// Upper bounds on the limits themselves (checked when a store is opened).
constexpr uint32_t checkpoint_keep_last_max = 100'000;
constexpr uint64_t checkpoint_value_bytes_max = 256u << 20;
// How long a store waits for a lock held by another connection before a
// call fails with io_error (SQLite busy_timeout, PostgreSQL lock_timeout).
constexpr int64_t checkpoint_lock_timeout_ms = 10'000;
// PostgreSQL only: a connection attempt and one statement fail with io_error
// after these (a hung server must not hold the caller forever).
constexpr int64_t checkpoint_connect_timeout_s = 10;
constexpr int64_t checkpoint_statement_timeout_ms = 30'000;

// The checkpoint's Values as a backend stores them: msgpack bytes
// (Value::to_msgpack), already checked against their bounds.
struct encoded_checkpoint {
  std::string state;
  std::string pending;
  std::string metadata;
};

// The interface both backends implement. The public calls check their
// arguments against the limits (the same way for every backend) and then
// call the backend's do_* function. Errors (caf::error of errc):
// - invalid_argument: a bad thread id, limit, parent id or checkpoint id.
// - limit_exceeded: an encoded Value is larger than its bound.
// - not_found: no such thread or checkpoint.
// - io_error: the backend failed; the message names the backend and the file
//   or the connection URL without its password. Retry may help.
// - parse_error: a stored row cannot be decoded (corrupt or foreign data).
// - conflict: a put of step 0 without a parent (a new run's first
//   checkpoint) to a thread that already has checkpoints; nothing is
//   written, so a second run can never silently take over a thread.
class checkpoint_store {
 public:
  virtual ~checkpoint_store() = default;
  checkpoint_store(const checkpoint_store&) = delete;
  checkpoint_store& operator=(const checkpoint_store&) = delete;

  // "sqlite" or "postgresql".
  [[nodiscard]] virtual const char* backend() const = 0;
  [[nodiscard]] const checkpoint_limits& limits() const { return limits_; }

  // Saves `c` (its checkpoint_id and created_ms are ignored) and prunes the
  // thread to keep_last, atomically. Durable when it returns: a crash of the
  // process, or (SQLite synchronous=FULL, PostgreSQL synchronous_commit=on)
  // of the machine, after the reply cannot lose it. Returns the new id.
  [[nodiscard]] caf::expected<uint64_t> put(const checkpoint& c);

  // The newest checkpoint of the thread. not_found if the thread has none.
  [[nodiscard]] caf::expected<checkpoint> latest(const std::string& thread_id);

  // One checkpoint. not_found if it never existed or was pruned.
  [[nodiscard]] caf::expected<checkpoint> get(const std::string& thread_id,
                                              uint64_t checkpoint_id);

  // At most `limit` checkpoints of the thread, newest first, WITHOUT state
  // and pending (both null): list is for choosing, get fetches the one
  // chosen. An unknown thread gives an empty list.
  [[nodiscard]] caf::expected<std::vector<checkpoint>> list(const std::string& thread_id,
                                                            uint32_t limit);

  // At most `limit` thread ids that have checkpoints, in byte order.
  [[nodiscard]] caf::expected<std::vector<std::string>> list_threads(uint32_t limit);

  // Deletes every checkpoint of the thread and its id counter (a new run
  // under the same thread id starts again at 1). Returns checkpoints
  // deleted. not_found if the thread has none.
  [[nodiscard]] caf::expected<uint64_t> delete_thread(const std::string& thread_id);

 protected:
  // `where` prefixes every error: "checkpoint store sqlite 'PATH': ".
  checkpoint_store(const checkpoint_limits& limits, std::string where)
    : limits_(limits), where_(std::move(where)) {}
  [[nodiscard]] const std::string& where() const { return where_; }

  // Called with checked arguments only.
  virtual caf::expected<uint64_t> do_put(const checkpoint& c, const encoded_checkpoint& enc) = 0;
  virtual caf::expected<checkpoint> do_latest(const std::string& thread_id) = 0;
  virtual caf::expected<checkpoint> do_get(const std::string& thread_id,
                                           uint64_t checkpoint_id) = 0;
  virtual caf::expected<std::vector<checkpoint>> do_list(const std::string& thread_id,
                                                         uint32_t limit) = 0;
  virtual caf::expected<std::vector<std::string>> do_list_threads(uint32_t limit) = 0;
  virtual caf::expected<uint64_t> do_delete_thread(const std::string& thread_id) = 0;

 private:
  const checkpoint_limits limits_;
  const std::string where_;
};

// Opens a store from one location string, for configs and tools:
// "sqlite:PATH" (or a path ending in .db/.sqlite), or a PostgreSQL URL
// "postgresql://..." / "postgres://..." (tables in `postgres_schema`).
// Errors: invalid_argument for anything else, plus those of the backend's open.
[[nodiscard]] caf::expected<std::unique_ptr<checkpoint_store>>
open_checkpoint_store(const std::string& location, const checkpoint_limits& limits = {},
                      const std::string& postgres_schema = "public");

}  // namespace agentgraph

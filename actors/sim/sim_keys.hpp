// Per-key invariants of `agentgraph sim` (issue 15: "two live instances of
// one key, split-brain ownership"). The real system allows a stale
// instance of a key on a second node for a while (a frozen or cut-off
// owner) and fences its saves with the shared store's claim: a save under
// a claim that was superseded answers `conflict` and writes nothing. So
// what must hold is what reaches the store, per key:
// - every accepted save is made under the key's newest claim (owner and
//   epoch), and its state extends the key's previous saved state: the
//   agent's completed-task count never goes back, and the history is the
//   previous one with the new turns appended (oldest turns may fall out of
//   the window). A save from an instance that was superseded (its fence
//   lost) starts from an older state and breaks this: a lost update;
// - a task's turn is added to a key's history once, except where the
//   product documents at-least-once: the task ran again (a journal
//   adoption, a re-dispatch after a node went, a key moved to a new
//   owner: then it was added under a second claim).
//
// How it is seen, with no change to the product: triggers on the shared
// SQLite store's table (installed before the nodes start) copy every claim
// and save into an audit table, in commit order; the run reads it at the
// end and `check_key_audit` replays it. Blocking SQLite calls: setup and
// end of a run only, never inside an actor.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>

namespace agentgraph::sim {

// One audited write to the store's population_keys table.
struct key_audit_row {
  uint64_t seq = 0;          // commit order
  std::string kind;          // claim | save | erase
  std::string population;
  std::string key;
  std::string owner;         // claim: the new claimant; save: the row's claimant it was accepted under
  uint64_t owner_epoch = 0;  // the same for the epoch
  std::vector<uint8_t> state;  // save: the state written
};

// What the audit of one run found (report.json `keys`). The first four
// are figures, the rest invariants: each above 0 is a violation, except
// tasks_reapplied (the at-least-once the design allows).
struct key_figures {
  bool audited = false;      // the run had a shared population store
  uint64_t keys = 0;         // keys claimed or saved during the run
  uint64_t claims = 0;       // claims that changed a key's claimant (the preload's included)
  uint64_t claims_moved = 0; // of which took a key another node's claim held
  uint64_t saves = 0;        // saves the store accepted
  // A task's turn added to a key's history a second time where a second
  // run explains it (under another claim, or the task ran again).
  uint64_t tasks_reapplied = 0;
  // Violations.
  uint64_t saves_superseded = 0;   // accepted under a claim that is not the key's newest
  uint64_t saves_stale = 0;        // a state that does not extend the previous one
  uint64_t saves_undecodable = 0;  // a state the product wrote that does not decode
  uint64_t tasks_applied_twice = 0;  // a turn added twice, nothing ran twice
  std::vector<std::string> details;  // the first few violations, in words
  uint64_t audit_rows = 0;
};

// Details kept per run; past it violations are only counted.
constexpr size_t key_details_max = 8;
// Audit rows read per run at most: a run past it is not checked (its
// figures say so: audited stays false, with a detail).
constexpr uint64_t key_audit_rows_max = 20'000'000;

// The SQL that makes the audit table and triggers in a population store
// database (exposed for the tests). Idempotent.
[[nodiscard]] const char* key_audit_schema_sql();

// Opens the SQLite file of a store location ("sqlite:PATH") and installs
// the audit (the store's schema must exist: open the store first), which
// starts from the rows the store holds.
[[nodiscard]] caf::error install_key_audit(const std::string& store_location);

// How the check reads a key's history: the task number in a user turn
// ("task 17" -> 17 for the scenario input "task {id}"), none when the turn
// is not a simulated task's.
using task_of_turn = std::function<std::optional<uint64_t>(const std::string& user_turn)>;
// Whether the task may have run more than once (journal adoption, a second
// attempt, a node it entered at died or restarted): a second turn of it
// under the same claim is then at-least-once, not a violation.
using ran_again = std::function<bool(uint64_t task)>;

// A task_of_turn for an input template with one "{id}" (none without it).
[[nodiscard]] task_of_turn task_numbers_of(const std::string& input_template);

// The writer of sim_setup's preloaded states: taking a key from it is no move.
constexpr const char* preload_owner = "sim-preload";

// Replays audit rows (fed in commit order) and checks the invariants
// above. Holds each key's last state and which claim added each task's
// turn: bounded by the store's keys and the run's tasks.
class key_audit_checker {
 public:
  key_audit_checker(task_of_turn task_of, ran_again again);
  ~key_audit_checker();
  key_audit_checker(const key_audit_checker&) = delete;
  key_audit_checker& operator=(const key_audit_checker&) = delete;

  void add(const key_audit_row& row);
  [[nodiscard]] key_figures figures() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

// Feeds every audited row of the store (a location, "sqlite:PATH"), in
// commit order, to `checker`; at most `rows_max` (limit_exceeded past it).
[[nodiscard]] caf::error read_key_audit(const std::string& store_location,
                                        key_audit_checker& checker,
                                        uint64_t rows_max = key_audit_rows_max);

// Adds one run's figures to a sweep's (details up to key_details_max).
void add_key_figures(key_figures& sum, const key_figures& one);

// One line: "keys: 60 keys, 812 claims (95 moved), 1180 saves, ... ;
// superseded 0, stale 0, undecodable 0, applied twice 0".
[[nodiscard]] std::string describe_keys(const key_figures& f);

// The rows at once (the tests).
[[nodiscard]] key_figures check_key_audit(const std::vector<key_audit_row>& rows,
                                          const task_of_turn& task_of, const ran_again& again);

}  // namespace agentgraph::sim

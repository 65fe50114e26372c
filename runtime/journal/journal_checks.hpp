// What both journal backends share, so that they check alike: limit and
// argument validation, and the decoding of a stored state number. Internal
// to runtime/journal/; pure, no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <caf/error.hpp>

#include "runtime/journal/task_journal.hpp"

namespace agentgraph {

// Format of the tables of both backends; another version is a parse_error.
constexpr int64_t journal_schema_version = 1;

// invalid_argument when a limit is 0 or above its own bound.
[[nodiscard]] caf::error check_journal_limits(const journal_limits& limits,
                                              const std::string& where);

// invalid_argument for an empty name, one above `max` bytes, or one that is
// not UTF-8 text without control characters (PostgreSQL's TEXT refuses
// invalid UTF-8 and libpq cuts a parameter at NUL, so both backends accept
// exactly these). `what` names the argument in the message ("task id").
[[nodiscard]] caf::error check_journal_name(const std::string& name, uint32_t max,
                                            const char* what, const std::string& where);

// invalid_argument when `bytes` is above `max`.
[[nodiscard]] caf::error check_journal_bytes(const std::vector<uint8_t>& bytes, uint64_t max,
                                             const char* what, const std::string& where);

// Validates a record for accept: names, payload size, and a new record's
// shape (open, no assigned member, no attempts, no result, epoch above 0).
[[nodiscard]] caf::error check_accept(const journal_record& r, const journal_limits& limits,
                                      const std::string& where);

// invalid_argument unless `s` is done or failed.
[[nodiscard]] caf::error check_final_state(task_state s, const std::string& where);

// Why an assign changed nothing, from the record as stored (or nothing):
// not_found; conflict "... finished" for done or failed; conflict
// "fenced ..." when the owner or the epoch differ. `stored` matching every
// condition is internal (the update should have matched it).
[[nodiscard]] caf::error assign_refusal(const std::optional<journal_record>& stored,
                                        const std::string& task_id, const std::string& owner,
                                        uint64_t owner_epoch, const std::string& where);

// A row a backend read, with its state and attempts as stored: `r` with
// them set, or parse_error naming the task when either is out of range (a
// damaged row, or one another program wrote).
[[nodiscard]] caf::expected<journal_record> stored_record(journal_record r, int64_t state,
                                                          int64_t attempts,
                                                          const std::string& where);

}  // namespace agentgraph

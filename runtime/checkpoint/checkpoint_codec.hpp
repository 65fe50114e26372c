// What both checkpoint backends share, so that they check and encode alike:
// argument and limit validation, msgpack encoding of the three Values with
// their size bounds, decoding of stored bytes, the clock, and the redaction
// of passwords from connection URLs before they appear in an error.
// Internal to runtime/checkpoint/; pure, no I/O.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "runtime/checkpoint/checkpoint_store.hpp"

namespace agentgraph {

// Format of the tables of both backends; another version is a parse_error.
constexpr int64_t checkpoint_schema_version = 1;

// invalid_argument when a limit is 0 or above its own bound.
[[nodiscard]] caf::error check_checkpoint_limits(const checkpoint_limits& limits,
                                                 const std::string& where);

// invalid_argument for an empty thread id, one above thread_id_bytes_max,
// or one that is not UTF-8 text without control characters (NUL included).
[[nodiscard]] caf::error check_thread_id(const std::string& thread_id,
                                         const checkpoint_limits& limits, const std::string& where);

// True for well-formed UTF-8 without control characters (NUL included):
// the text both backends store as it is (also the task journal's names).
[[nodiscard]] bool printable_utf8(std::string_view s);

// invalid_argument for a limit of 0 or above `max`.
[[nodiscard]] caf::error check_list_limit(uint32_t limit, uint32_t max, const char* what,
                                          const std::string& where);

// Validates a put request and encodes its Values. Errors: invalid_argument
// (thread id), limit_exceeded (an encoded Value above its bound).
[[nodiscard]] caf::expected<encoded_checkpoint>
encode_checkpoint(const checkpoint& c, const checkpoint_limits& limits, const std::string& where);

// parse_error naming the column and the checkpoint when `bytes` is not a
// Value in msgpack.
[[nodiscard]] caf::expected<Value> decode_checkpoint_value(std::string_view bytes,
                                                           const char* column,
                                                           const std::string& thread_id,
                                                           uint64_t checkpoint_id,
                                                           const std::string& where);

// Checks `c` against the id the put is about to give it, inside the put's
// transaction: invalid_argument when its parent is newer than that; conflict
// when `c` starts a run (step 0, no parent) on a thread that already has
// checkpoints, which would silently make another run's thread its own.
[[nodiscard]] caf::error check_parent(const checkpoint& c, uint64_t new_id,
                                      const std::string& where);

// Wall-clock unix milliseconds, for created_ms.
[[nodiscard]] int64_t checkpoint_now_ms();

// `url` with any password replaced by "***": the userinfo password of a URL
// (postgresql://user:secret@host/db) and `password=` values in a query
// string or a libpq key/value string.
[[nodiscard]] std::string redact_connection_url(std::string_view url);

}  // namespace agentgraph

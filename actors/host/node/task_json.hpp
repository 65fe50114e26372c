// The gateway's JSON: request bodies it accepts (validated, each error
// naming the field) and the task results, errors and statuses it returns,
// plus the table from error codes to HTTP statuses. Pure: no actors, no
// sockets.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "actors/agent/agent_interface.hpp"
#include "runtime/error.hpp"
#include "runtime/value.hpp"

namespace agentgraph {

namespace task_json_detail {
// invalid_argument "<field>: <problem>".
[[nodiscard]] caf::error field_error(std::string_view field, std::string_view problem);
// `body` parsed, when it is a JSON object ("body: ..." errors otherwise).
[[nodiscard]] caf::expected<Value> object_body(std::string_view body);
// A required, non-empty string field of the object `body`.
[[nodiscard]] caf::expected<std::string> required_string(const Value& body,
                                                         const std::string& field);
}  // namespace task_json_detail

// Task ids a client may choose: 1..128 of [A-Za-z0-9._:-], so they are safe
// in a URL path, a log line and a metric label.
constexpr size_t task_id_bytes_max = 128;
[[nodiscard]] bool valid_task_id(std::string_view id);

enum class task_mode : uint8_t { sync, background };

// POST /v1/tasks, validated.
struct task_submission {
  std::string agent;
  std::string input;
  Value context;
  task_mode mode = task_mode::sync;
  std::string task_id;  // empty: the gateway picks one
};

// Errors: invalid_argument, its message naming the field
// ("agent: must be a non-empty string", "unknown field 'colour'").
[[nodiscard]] caf::expected<task_submission> parse_task_submission(std::string_view body,
                                                                   const std::string& path_agent = {});

enum class task_status : uint8_t { running, completed, failed, cancelled };
[[nodiscard]] const char* to_string(task_status s);

// The HTTP status of an error the gateway returns for a task:
//   invalid_argument, parse_error 400 | not_found 404 | cancelled 409 |
//   limit_exceeded 422 | overloaded 429 | unsupported 501 |
//   provider_error, tool_error, sandbox_violation 502 | unavailable 503 |
//   timeout 504 | anything else (io_error, internal, foreign errors) 500.
[[nodiscard]] int http_status_of(const caf::error& err);

// {"code","message"} of an error.
[[nodiscard]] Value error_object(const caf::error& err);

// {"task_id","agent","status":"completed","output","usage":{...},
//  "model_calls","tool_calls":[{"tool","ok","error","from_cache"}],"latency_ms"}
[[nodiscard]] Value result_json(const task_result& r);

// {"task_id","agent","status":"failed"|"cancelled","error":{"code","message"}}
[[nodiscard]] Value failure_json(const std::string& task_id, const std::string& agent,
                                 task_status status, const caf::error& err);

}  // namespace agentgraph

// agentgraph's single error category. Every failure that crosses an actor
// boundary is a caf::error built from `errc`, so a caller on any node can
// decide what to do next from the code alone. The comment on each code says
// whether a retry can help.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <caf/atom.hpp>
#include <caf/error.hpp>

namespace agentgraph {

enum class errc : uint8_t {
  none = 0,
  // The deadline passed. The work may still have happened: retry only
  // idempotent work (tasks and tool calls are keyed by id for this reason).
  timeout,
  // A bounded queue is full. Retry after backing off, or try another replica.
  overloaded,
  // The target is down or restarting. Retry with backoff.
  unavailable,
  // The request itself is wrong (bad argument, bad config value). Never retry.
  invalid_argument,
  // A named agent, tool, shard or entry does not exist. Never retry.
  not_found,
  // The LLM provider failed or answered something we cannot use. Retry may help.
  provider_error,
  // A tool ran and failed. The agent reports it to the model; no automatic retry.
  tool_error,
  // A tool argument tried to leave its sandbox (path escape, host not allowed).
  // Never retry.
  sandbox_violation,
  // A bounded loop (tool iterations, workflow steps) hit its limit. Never retry
  // with the same limits.
  limit_exceeded,
  // Input could not be parsed (config file, rules file, JSON, wire message).
  parse_error,
  // A file or database operation failed. Retry may help if the cause is transient.
  io_error,
  // The feature is not built in this version. Never retry.
  unsupported,
  // The caller or a shutdown cancelled the work. Do not retry automatically.
  cancelled,
  // A broken invariant inside agentgraph: a bug. Report it.
  internal,
  // The stored state conflicts with the request or with the current
  // definition (a checkpoint naming a node the workflow no longer has, a
  // thread that already ended, a thread id already taken). Never retry
  // unchanged: fix the definition or choose another thread. Appended last so
  // the codes above keep their numbers on the wire.
  conflict,
  // The peer did not prove what admission asks (a cluster node without the
  // cluster's shared secret). Never retry unchanged: fix its configuration.
  // Appended for the same reason as conflict.
  unauthorized,
};

// The last code: arrays indexed by code are sized from it. Move it with
// every code appended above.
constexpr errc errc_last = errc::unauthorized;

// The category atom under which `errc` values travel inside caf::error.
constexpr caf::atom_value error_category = caf::atom("agentgraph");

[[nodiscard]] const char* to_string(errc code);

// Builds a caf::error of our category; `context` is a human-readable detail
// (which key, which file, which tool). Never put secrets in it.
[[nodiscard]] caf::error make_error(errc code, std::string context = {});

// Returns our code if `err` belongs to our category, nothing otherwise.
[[nodiscard]] std::optional<errc> errc_of(const caf::error& err);

// The context string stored by make_error, or "" for foreign errors.
[[nodiscard]] std::string error_context(const caf::error& err);

// One line for humans: "tool_error: division by zero" or CAF's rendering for
// errors of other categories (e.g. "system_error(request_timeout)").
[[nodiscard]] std::string describe(const caf::error& err);

// True for codes that a retry with backoff may cure (timeout, overloaded,
// unavailable, provider_error, io_error) and for CAF's request_timeout.
[[nodiscard]] bool is_retryable(const caf::error& err);

// CAF's own request errors in our vocabulary, naming whom the caller asked
// (`subject`, e.g. "agent 'planner'"): sec::request_timeout becomes
// errc::timeout "<subject> gave no reply in time", sec::request_receiver_down
// becomes errc::unavailable "<subject> is down". Every other error, ours or
// CAF's, passes through unchanged. The one place this mapping is written.
[[nodiscard]] caf::error from_request_error(caf::error err, std::string_view subject);

// The same for a caller that names the deadline it gave: sec::request_timeout
// becomes errc::timeout "<subject> gave no reply within <N> ms", so the
// operator sees which bound to raise. request_receiver_down as above.
[[nodiscard]] caf::error from_request_error(caf::error err, std::string_view subject,
                                            std::chrono::milliseconds timeout);

// For a request to the caller's own worker (a detached actor doing one
// blocking job): errors of our category come from the job and pass through,
// sec::request_timeout becomes errc::timeout as above, and any other CAF
// error (the worker died with the job, request_receiver_down included)
// becomes `failure` "<subject> failed: <what CAF said>": the job failed,
// there is no other target to retry.
[[nodiscard]] caf::error from_worker_error(const caf::error& err, std::string_view subject,
                                           std::chrono::milliseconds timeout, errc failure);

}  // namespace agentgraph

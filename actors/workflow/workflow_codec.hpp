// The one place where the workflow run's typed control data
// (workflow_types.hpp: interrupt_request, workflow_pending) meets the
// Values it is saved as. Everything else in the run is typed; these
// encodings are formats (checkpoints written by earlier versions must
// resume, and the state key `interrupt` is visible to nodes and clients),
// so they change here or nowhere:
//
//   checkpoint `pending`  {"next": ["node", ...], "joins": {"<edge index>": ["source", ...]}}
//   state key `interrupt` [{"node": "name", "request": <any>}], null once answered
//   node update           {"__interrupt__": <any>, ...}  (workflow_interrupt_key)
//
// Pure; no actors.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <caf/expected.hpp>

#include "actors/workflow/workflow_types.hpp"
#include "runtime/value.hpp"

namespace agentgraph {

// The state key holding the pending interrupt requests.
inline constexpr const char* workflow_interrupt_state_key = "interrupt";

// `pending` as a checkpoint stores it.
[[nodiscard]] Value to_checkpoint_pending(const workflow_pending& p);

// A checkpoint's `pending` read back. Errors: parse_error saying what is
// wrong (no next/joins, a next node or join source that is not a name, a
// join key that is not an edge index), without the checkpoint's name: the
// caller adds it. Whether the nodes and edges exist is check_start's
// business, not the codec's.
[[nodiscard]] caf::expected<workflow_pending> from_checkpoint_pending(const Value& pending);

// The run's own update of the state key `interrupt` after a step:
// {"interrupt": [requests]} when nodes asked, {"interrupt": null} (answered)
// when none did.
[[nodiscard]] Value to_interrupt_state_update(const std::vector<interrupt_request>& asks);

// The requests the state key `interrupt` holds, as to_interrupt_state_update
// wrote them. Lenient, because the state also passes through nodes and
// human input: anything that is not such a request is skipped.
[[nodiscard]] std::vector<interrupt_request> from_interrupt_state(const Value& state);

// Removes workflow_interrupt_key from a node's update and returns what it
// held; nullopt (update untouched) when the node did not ask.
[[nodiscard]] std::optional<Value> take_interrupt_request(Value& update);

// The checkpoint metadata a run writes: the workflow's name and what the
// checkpoint follows ("input" for a fresh run's input, "step").
[[nodiscard]] Value to_checkpoint_metadata(const std::string& workflow, const char* source);

}  // namespace agentgraph

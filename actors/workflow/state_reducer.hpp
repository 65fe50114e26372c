// Applying node updates to the workflow state. Each node returns an update
// (a Value object: key -> value); each key's reducer says how the value
// combines with what the state holds:
//   overwrite  the new value replaces the old (the default for undeclared keys)
//   append     arrays concatenate; a non-array value is appended as one element
//   merge      objects merge key by key, the update winning (shallow)
//   function   a registered C++ reducer: f(current, update) -> new value
//
// Determinism: the updates of one super-step are applied in the order of
// their node names, never in the order the nodes finished, so parallel
// branches give the same state whatever their timing (what AgentGraph's
// engine got wrong: it kept only the last branch's state).
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "actors/workflow/workflow_graph.hpp"
#include "runtime/value.hpp"

namespace agentgraph {

// Bound on an appended array, so a cycle appending every step cannot grow
// the state (and every checkpoint) without limit.
constexpr size_t state_array_items_max = 10'000;

using reducer_fn = std::function<caf::expected<Value>(const Value& current, const Value& update)>;

// Named reducers for reducer_kind::function; shared read-only once built.
class reducer_registry {
 public:
  // invalid_argument for an empty name or a name registered twice.
  caf::error add(std::string name, reducer_fn fn);
  [[nodiscard]] const reducer_fn* find(const std::string& name) const;

 private:
  std::map<std::string, reducer_fn, std::less<>> fns_;
};

// Applies one node's update to `state` (an object). Errors: invalid_argument
// naming the node and key (update not an object, merge of non-objects, an
// unregistered reducer), limit_exceeded (state_array_items_max), and the
// reducer function's own errors. On error `state` is unchanged.
[[nodiscard]] caf::error apply_update(Value& state, const std::string& node, const Value& update,
                                      const workflow_graph& g, const reducer_registry& reducers);

// The name apply_step gives the run's own update in its errors.
inline constexpr const char* workflow_run_update_source = "(the run)";

// Applies every (node, update) pair of one super-step, sorted by node name,
// then `run_update` (the run's own keys, e.g. `interrupt`), if any, last.
// All or nothing: on error `state` is unchanged.
[[nodiscard]] caf::error apply_step(Value& state,
                                    std::vector<std::pair<std::string, Value>> updates,
                                    const workflow_graph& g, const reducer_registry& reducers,
                                    std::optional<Value> run_update = std::nullopt);

// One node's update in a step as the run holds it: the node's name (owned
// by the graph, which outlives the step) and the update.
struct node_update {
  const std::string* node = nullptr;
  Value update;
};

// apply_step's work for updates already in node-name order (the run keeps
// them so), then `run_update` if not null. The updates' values are moved
// from. All or nothing without copying the state: each write is logged and
// undone on error, so a step costs what it changes, not the state's size.
[[nodiscard]] caf::error apply_ordered_updates(Value& state, std::vector<node_update>& updates,
                                               const workflow_graph& g,
                                               const reducer_registry& reducers,
                                               Value* run_update);

}  // namespace agentgraph

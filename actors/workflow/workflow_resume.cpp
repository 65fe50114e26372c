// Reading a saved checkpoint back into a run's start, and the one check
// that a start fits the graph it will run on. A workflow file can change
// between a run and its resume (a node renamed or removed); the run actor
// looks nodes up by name and joins by edge index, so everything it will
// look up is checked here first and a mismatch is an error naming the
// missing node, never a dereference of nothing. No actors here.
#include <algorithm>
#include <limits>

#include "actors/workflow/workflow_codec.hpp"
#include "actors/workflow/workflow_run.hpp"
#include "runtime/error.hpp"

namespace agentgraph {

namespace workflow_resume_detail {

const char* type_name(const Value& v) {
  if (v.is_null())
    return "null";
  if (v.is_bool())
    return "a boolean";
  if (v.is_number())
    return "a number";
  if (v.is_string())
    return "a string";
  if (v.is_array())
    return "an array";
  return "an object";
}

// "thread 't' checkpoint 3 does not fit workflow 'w': " for a resume,
// "workflow 'w' run 't': " for a fresh start.
std::string where(const workflow_graph& g, const workflow_start& s) {
  if (!s.resuming)
    return "workflow '" + g.name + "' run '" + s.thread_id + "': ";
  return "thread '" + s.thread_id + "' checkpoint " + std::to_string(s.parent_checkpoint)
         + " does not fit workflow '" + g.name + "': ";
}

std::string missing_node(const std::string& role, const std::string& node) {
  return role + " '" + node + "' is not a node of the graph (renamed or removed since it was saved?)";
}

// The first join entry that does not name a join edge and its sources, or "".
std::string bad_join(const workflow_graph& g, const std::map<size_t, std::set<std::string>>& joins) {
  for (const auto& [index, seen] : joins) {
    if (index >= g.edges.size())
      return "pending join of edge #" + std::to_string(index) + ": the graph has only "
             + std::to_string(g.edges.size()) + " edges";
    const auto& e = g.edges[index];
    if (e.kind != edge_kind::join)
      return "pending join of edge #" + std::to_string(index) + ": that edge is now the "
             + e.describe() + ", not a join";
    for (const auto& source : seen)
      if (std::find(e.from.begin(), e.from.end(), source) == e.from.end())
        return "pending join of edge #" + std::to_string(index) + " (" + e.describe()
               + ") has seen '" + source + "', which is not one of its sources";
  }
  return {};
}

// The first pending interrupt request in the state (workflow_codec.hpp)
// naming a node the graph lacks, or "".
std::string bad_interrupt(const workflow_graph& g, const Value& state) {
  for (const auto& ask : from_interrupt_state(state))
    if (g.find_node(ask.node) == nullptr)
      return missing_node("the pending interrupt request of node", ask.node);
  return {};
}

}  // namespace workflow_resume_detail

caf::error check_start(const workflow_graph& g, const workflow_start& start) {
  namespace d = workflow_resume_detail;
  const auto code = start.resuming ? errc::conflict : errc::invalid_argument;
  auto bad = [&](const std::string& what) { return make_error(code, d::where(g, start) + what); };
  if (!start.state.is_object())
    return bad(std::string{"the state is "} + d::type_name(start.state) + ", not an object");
  if (start.resuming && start.next.empty())
    return bad("the thread has already ended (nothing left to run); start a new run instead");
  if (start.next.empty() && g.find_node(g.entry) == nullptr)
    return bad(d::missing_node("the entry", g.entry));
  for (const auto& n : start.next)
    if (g.find_node(n) == nullptr)
      return bad(d::missing_node("next node", n));
  if (auto why = d::bad_join(g, start.joins); !why.empty())
    return bad(why);
  // Only a saved run holds requests the run wrote; a fresh run's input may
  // use the key for anything.
  if (auto why = start.resuming ? d::bad_interrupt(g, start.state) : ""; !why.empty())
    return bad(why);
  return {};
}

caf::expected<workflow_start> checkpoint_to_start(const workflow_graph& g, const checkpoint& c,
                                                  const Value& input) {
  auto bad = [&](const std::string& what) {
    return make_error(errc::parse_error, "checkpoint " + std::to_string(c.checkpoint_id)
                                           + " of thread '" + c.thread_id + "': " + what);
  };
  auto pending = from_checkpoint_pending(c.pending);
  if (!pending)
    return bad(error_context(pending.error()));
  if (c.step > std::numeric_limits<uint32_t>::max())
    return bad("step " + std::to_string(c.step) + " is out of range");
  workflow_start start;
  start.thread_id = c.thread_id;
  start.resuming = true;
  start.parent_checkpoint = c.checkpoint_id;
  // Never replaced by {}: a state that is not an object is reported by
  // check_start, and `input` is merged only into an object.
  start.state = c.state;
  if (start.state.is_object() && input.is_object())
    for (const auto& [k, v] : input.as_object())
      start.state[k] = v;
  start.step = static_cast<uint32_t>(c.step);
  start.next = std::move(pending->next);
  start.joins = std::move(pending->joins);
  if (auto err = check_start(g, start))
    return err;
  return start;
}

}  // namespace agentgraph

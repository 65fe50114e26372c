// The plain parts of workflow runs: names of enums, the function registry,
// templates over the state, and reading a saved checkpoint back into a
// run's start. No actors here.
#include <charconv>

#include "actors/workflow/workflow_run.hpp"
#include "runtime/error.hpp"

namespace agentgraph {

const char* to_string(workflow_event_kind k) {
  switch (k) {
    case workflow_event_kind::run_started: return "run_started";
    case workflow_event_kind::node_started: return "node_started";
    case workflow_event_kind::node_completed: return "node_completed";
    case workflow_event_kind::node_failed: return "node_failed";
    case workflow_event_kind::state_updated: return "state_updated";
    case workflow_event_kind::token: return "token";
    case workflow_event_kind::interrupted: return "interrupted";
    case workflow_event_kind::run_completed: return "run_completed";
    case workflow_event_kind::run_failed: return "run_failed";
  }
  return "?";
}

const char* to_string(workflow_status s) {
  switch (s) {
    case workflow_status::completed: return "completed";
    case workflow_status::interrupted: return "interrupted";
    case workflow_status::failed: return "failed";
  }
  return "?";
}

caf::error function_registry::add(std::string name, node_function fn) {
  if (name.empty() || !fn)
    return make_error(errc::invalid_argument, "a workflow function needs a name and a body");
  if (fns_.count(name) > 0)
    return make_error(errc::invalid_argument, "workflow function '" + name + "' is registered twice");
  fns_.emplace(std::move(name), std::move(fn));
  return {};
}

const node_function* function_registry::find(const std::string& name) const {
  auto it = fns_.find(name);
  return it == fns_.end() ? nullptr : &it->second;
}

caf::expected<std::string> render_template(const std::string& text, const Value& state) {
  std::string out;
  size_t pos = 0;
  // Bounded: each pass consumes at least one placeholder or ends.
  while (pos < text.size()) {
    auto open = text.find("{{", pos);
    if (open == std::string::npos) {
      out.append(text, pos, std::string::npos);
      break;
    }
    out.append(text, pos, open - pos);
    auto close = text.find("}}", open + 2);
    if (close == std::string::npos)
      return make_error(errc::invalid_argument, "template: unclosed {{ at offset "
                                                  + std::to_string(open));
    auto c = parse_condition(text.substr(open + 2, close - open - 2));  // a bare path
    if (!c || c->op != condition_op::truthy)
      return make_error(errc::invalid_argument,
                        "template: '" + text.substr(open, close - open + 2) + "' is not a path");
    const Value* v = lookup_path(state, c->path);
    if (v == nullptr)
      return make_error(errc::invalid_argument,
                        "template: the state has no '" + c->text + "'");
    out += v->is_string() ? v->as_string() : v->to_json();
    pos = close + 2;
  }
  return out;
}

caf::expected<workflow_start> checkpoint_to_start(const checkpoint& c, const Value& input) {
  auto bad = [&](const std::string& what) {
    return make_error(errc::parse_error, "checkpoint " + std::to_string(c.checkpoint_id)
                                           + " of thread '" + c.thread_id + "': " + what);
  };
  const Value* next = c.pending.is_object() ? c.pending.find("next") : nullptr;
  const Value* joins = c.pending.is_object() ? c.pending.find("joins") : nullptr;
  if (next == nullptr || !next->is_array() || joins == nullptr || !joins->is_object())
    return bad("`pending` lacks next/joins: not a workflow checkpoint");
  workflow_start start;
  start.thread_id = c.thread_id;
  start.state = c.state.is_object() ? c.state : Value::object();
  if (input.is_object())
    for (const auto& [k, v] : input.as_object())
      start.state[k] = v;
  start.step = static_cast<uint32_t>(c.step);
  for (const auto& n : next->as_array()) {
    if (!n.is_string())
      return bad("a next node is not a name");
    start.next.push_back(n.as_string());
  }
  for (const auto& [edge, sources] : joins->as_object()) {
    size_t index = 0;
    auto [p, ec] = std::from_chars(edge.data(), edge.data() + edge.size(), index);
    if (ec != std::errc{} || p != edge.data() + edge.size() || !sources.is_array())
      return bad("a join entry is malformed");
    for (const auto& n : sources.as_array())
      if (n.is_string())
        start.joins[index].insert(n.as_string());
  }
  start.resuming = true;
  start.parent_checkpoint = c.checkpoint_id;
  return start;
}

}  // namespace agentgraph

// The plain parts of workflow runs: names of enums, the function registry,
// templates over the state and fresh thread ids. No actors here.
#include <chrono>
#include <cstdio>
#include <ctime>
#include <random>

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

std::string new_thread_id(const std::string& graph_name) {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm utc{};
  gmtime_r(&now, &utc);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &utc);
  std::random_device rd;
  const uint64_t bits = (uint64_t{rd()} << 32) | rd();
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(bits));
  return graph_name + "-" + stamp + "-" + hex;
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

}  // namespace agentgraph

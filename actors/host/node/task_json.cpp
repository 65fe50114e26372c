#include "actors/host/node/task_json.hpp"

namespace agentgraph {

namespace task_json_detail {

caf::error field_error(std::string_view field, std::string_view problem) {
  return make_error(errc::invalid_argument, std::string{field} + ": " + std::string{problem});
}

// A required, non-empty string field.
caf::expected<std::string> required_string(const Value& body, const std::string& field) {
  const Value* v = body.find(field);
  if (v == nullptr)
    return field_error(field, "required");
  if (!v->is_string() || v->as_string().empty())
    return field_error(field, "must be a non-empty string");
  return v->as_string();
}

caf::expected<Value> object_body(std::string_view body) {
  auto parsed = Value::from_json(body);
  if (!parsed)
    return make_error(errc::invalid_argument, "body: not valid JSON: " + describe(parsed.error()));
  if (!parsed->is_object())
    return field_error("body", "must be a JSON object");
  return parsed;
}

}  // namespace task_json_detail

bool valid_task_id(std::string_view id) {
  if (id.empty() || id.size() > task_id_bytes_max)
    return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
              || c == '.' || c == '_' || c == ':' || c == '-';
    if (!ok)
      return false;
  }
  return true;
}

caf::expected<task_submission> parse_task_submission(std::string_view body,
                                                     const std::string& path_agent) {
  using namespace task_json_detail;
  auto parsed = object_body(body);
  if (!parsed)
    return std::move(parsed.error());
  for (const auto& [key, value] : parsed->as_object())
    if (key != "agent" && key != "input" && key != "context" && key != "mode"
        && key != "task_id")
      return make_error(errc::invalid_argument,
                        "unknown field '" + key
                          + "' (known: agent, input, context, mode, task_id)");
  task_submission out;
  if (!path_agent.empty()) {
    // POST /v1/agents/<name>/tasks: the path names the agent; a body that
    // names one too must name the same.
    const Value* named = parsed->find("agent");
    if (named != nullptr && !(named->is_string() && named->as_string() == path_agent))
      return field_error("agent", "must be absent or \"" + path_agent
                                    + "\", the agent the path names");
    out.agent = path_agent;
  } else {
    auto agent = required_string(*parsed, "agent");
    if (!agent)
      return std::move(agent.error());
    out.agent = std::move(*agent);
  }
  auto input = required_string(*parsed, "input");
  if (!input)
    return std::move(input.error());
  out.input = std::move(*input);
  if (const Value* ctx = parsed->find("context"))
    out.context = *ctx;
  if (const Value* mode = parsed->find("mode")) {
    if (mode->is_string() && mode->as_string() == "sync")
      out.mode = task_mode::sync;
    else if (mode->is_string() && mode->as_string() == "background")
      out.mode = task_mode::background;
    else
      return field_error("mode", "must be \"sync\" or \"background\"");
  }
  if (const Value* id = parsed->find("task_id")) {
    if (!id->is_string() || !valid_task_id(id->as_string()))
      return field_error("task_id", "must be 1..128 characters of A-Z a-z 0-9 . _ : -");
    out.task_id = id->as_string();
  }
  return out;
}

const char* to_string(task_status s) {
  switch (s) {
    case task_status::running:
      return "running";
    case task_status::completed:
      return "completed";
    case task_status::failed:
      return "failed";
    case task_status::cancelled:
      return "cancelled";
  }
  return "unknown";
}

int http_status_of(const caf::error& err) {
  auto code = errc_of(err);
  if (!code)
    return 500;
  switch (*code) {
    case errc::invalid_argument:
    case errc::parse_error:
      return 400;
    case errc::unauthorized:
      return 403;
    case errc::not_found:
      return 404;
    case errc::cancelled:
    case errc::conflict:
      return 409;
    case errc::limit_exceeded:
      return 422;
    case errc::overloaded:
      return 429;
    case errc::unsupported:
      return 501;
    case errc::provider_error:
    case errc::tool_error:
    case errc::sandbox_violation:
      return 502;
    case errc::unavailable:
      return 503;
    case errc::timeout:
      return 504;
    default:
      return 500;
  }
}

Value error_object(const caf::error& err) {
  Value e = Value::object();
  auto code = errc_of(err);
  e["code"] = Value{code ? to_string(*code) : "internal"};
  e["message"] = Value{code ? error_context(err) : describe(err)};
  return e;
}

Value result_json(const task_result& r) {
  Value out = Value::object();
  out["task_id"] = Value{r.task_id};
  out["agent"] = Value{r.agent};
  out["status"] = Value{"completed"};
  out["output"] = Value{r.output};
  Value usage = Value::object();
  usage["prompt_tokens"] = Value{static_cast<long long>(r.usage.prompt_tokens)};
  usage["completion_tokens"] = Value{static_cast<long long>(r.usage.completion_tokens)};
  usage["total_tokens"] = Value{static_cast<long long>(r.usage.total())};
  out["usage"] = std::move(usage);
  out["model_calls"] = Value{static_cast<long long>(r.model_calls)};
  Value calls = Value::array();
  for (const auto& c : r.tool_calls) {
    Value call = Value::object();
    call["tool"] = Value{c.tool};
    call["ok"] = Value{c.ok};
    call["error"] = Value{c.error};
    call["from_cache"] = Value{c.from_cache};
    calls.push_back(std::move(call));
  }
  out["tool_calls"] = std::move(calls);
  out["latency_ms"] = Value{static_cast<double>(r.latency_us) / 1000.0};
  return out;
}

Value failure_json(const std::string& task_id, const std::string& agent, task_status status,
                   const caf::error& err) {
  Value out = Value::object();
  out["task_id"] = Value{task_id};
  out["agent"] = Value{agent};
  out["status"] = Value{to_string(status)};
  out["error"] = error_object(err);
  return out;
}

}  // namespace agentgraph

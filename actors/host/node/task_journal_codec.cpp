#include "actors/host/node/task_journal_codec.hpp"

#include "runtime/error.hpp"

namespace agentgraph {

namespace {

std::vector<uint8_t> bytes_of(const std::string& text) {
  return std::vector<uint8_t>(text.begin(), text.end());
}

caf::expected<Value> json_of(const std::vector<uint8_t>& bytes, const char* what) {
  auto v = Value::from_json(std::string_view{reinterpret_cast<const char*>(bytes.data()),
                                             bytes.size()});
  if (!v || !v->is_object())
    return make_error(errc::parse_error,
                      std::string{"task journal: a stored "} + what + " is not a JSON object");
  return v;
}

}  // namespace

std::vector<uint8_t> journal_payload(const std::string& agent, const task_request& task) {
  Value v = Value::object();
  v["agent"] = Value{agent};
  v["input"] = Value{task.input};
  v["context"] = task.context;
  return bytes_of(v.to_json());
}

caf::expected<std::pair<std::string, task_request>> journal_task_of(const journal_record& r) {
  auto v = json_of(r.payload, "task");
  if (!v)
    return std::move(v.error());
  const auto* agent = v->find("agent");
  const auto* input = v->find("input");
  if (agent == nullptr || !agent->is_string() || input == nullptr || !input->is_string())
    return make_error(errc::parse_error, "task journal: task '" + r.task_id
                                           + "' has no agent or input");
  const auto* context = v->find("context");
  return std::pair<std::string, task_request>{
    agent->as_string(),
    task_request{r.task_id, input->as_string(), context ? *context : Value{}}};
}

std::vector<uint8_t> journal_answer(int http_status, const Value& body) {
  Value v = Value::object();
  v["http_status"] = Value{static_cast<long long>(http_status)};
  v["body"] = body;
  return bytes_of(v.to_json());
}

caf::expected<std::pair<int, Value>> journal_answer_of(const journal_record& r) {
  auto v = json_of(r.result, "answer");
  if (!v)
    return std::move(v.error());
  const auto* status = v->find("http_status");
  const auto* body = v->find("body");
  if (status == nullptr || !status->is_int() || body == nullptr)
    return make_error(errc::parse_error,
                      "task journal: the answer of task '" + r.task_id + "' is incomplete");
  const auto code = status->as_int();
  if (code < 100 || code > 599)
    return make_error(errc::parse_error,
                      "task journal: the answer of task '" + r.task_id + "' has no HTTP status");
  return std::pair<int, Value>{static_cast<int>(code), *body};
}

}  // namespace agentgraph

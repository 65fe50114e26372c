#include "actors/workflow/workflow_codec.hpp"

#include <charconv>
#include <system_error>

#include "runtime/error.hpp"

namespace agentgraph {

Value to_checkpoint_pending(const workflow_pending& p) {
  Value next = Value::array();
  for (const auto& n : p.next)
    next.as_array().emplace_back(n);
  Value joins = Value::object();
  for (const auto& [edge, seen] : p.joins) {
    Value sources = Value::array();
    for (const auto& n : seen)
      sources.as_array().emplace_back(n);
    joins[std::to_string(edge)] = std::move(sources);
  }
  return Value{Value::Object{{"next", std::move(next)}, {"joins", std::move(joins)}}};
}

caf::expected<workflow_pending> from_checkpoint_pending(const Value& pending) {
  auto bad = [](const char* what) { return make_error(errc::parse_error, what); };
  const Value* next = pending.is_object() ? pending.find("next") : nullptr;
  const Value* joins = pending.is_object() ? pending.find("joins") : nullptr;
  if (next == nullptr || !next->is_array() || joins == nullptr || !joins->is_object())
    return bad("`pending` lacks next/joins: not a workflow checkpoint");
  workflow_pending out;
  for (const auto& n : next->as_array()) {
    if (!n.is_string())
      return bad("a next node is not a name");
    out.next.push_back(n.as_string());
  }
  for (const auto& [edge, sources] : joins->as_object()) {
    size_t index = 0;
    auto [p, ec] = std::from_chars(edge.data(), edge.data() + edge.size(), index);
    if (ec != std::errc{} || p != edge.data() + edge.size() || !sources.is_array())
      return bad("a join entry is malformed");
    for (const auto& n : sources.as_array()) {
      if (!n.is_string())
        return bad("a join source is not a name");
      out.joins[index].insert(n.as_string());
    }
  }
  return out;
}

Value to_interrupt_state_update(const std::vector<interrupt_request>& asks) {
  if (asks.empty())
    return Value{Value::Object{{workflow_interrupt_state_key, Value{}}}};
  Value requests = Value::array();
  for (const auto& ask : asks)
    requests.as_array().push_back(
      Value{Value::Object{{"node", Value{ask.node}}, {"request", ask.request}}});
  return Value{Value::Object{{workflow_interrupt_state_key, std::move(requests)}}};
}

std::vector<interrupt_request> from_interrupt_state(const Value& state) {
  std::vector<interrupt_request> out;
  const Value* asks = state.is_object() ? state.find(workflow_interrupt_state_key) : nullptr;
  if (asks == nullptr || !asks->is_array())
    return out;
  for (const auto& ask : asks->as_array()) {
    const Value* node = ask.is_object() ? ask.find("node") : nullptr;
    if (node == nullptr || !node->is_string())
      continue;
    const Value* request = ask.find("request");
    out.push_back({node->as_string(), request != nullptr ? *request : Value{}});
  }
  return out;
}

std::optional<Value> take_interrupt_request(Value& update) {
  if (!update.is_object())
    return std::nullopt;
  static const std::string key{workflow_interrupt_key};  // asked of every update: built once
  auto it = update.as_object().find(key);
  if (it == update.as_object().end())
    return std::nullopt;
  Value request = std::move(it->second);
  update.as_object().erase(it);
  return request;
}

Value to_checkpoint_metadata(const std::string& workflow, const char* source) {
  return Value{Value::Object{{"workflow", Value{workflow}}, {"source", Value{source}}}};
}

}  // namespace agentgraph

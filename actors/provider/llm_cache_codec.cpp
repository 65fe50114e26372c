#include "actors/provider/llm_cache_codec.hpp"

#include <cmath>

namespace agentgraph {

namespace llm_cache_codec_detail {

Value calls_to_value(const std::vector<tool_call>& calls) {
  Value out = Value::array();
  for (const auto& c : calls)
    out.as_array().push_back(Value{Value::Object{
      {"id", Value{c.id}}, {"name", Value{c.name}}, {"arguments", c.arguments}}});
  return out;
}

bool calls_from_value(const Value* v, std::vector<tool_call>& out) {
  if (v == nullptr || !v->is_array())
    return false;
  for (const auto& c : v->as_array()) {
    if (!c.is_object() || c.find("arguments") == nullptr)
      return false;
    out.push_back({c.get_string("id"), c.get_string("name"), *c.find("arguments")});
  }
  return true;
}

}  // namespace llm_cache_codec_detail

Value tool_calls_to_value(const std::vector<tool_call>& calls) {
  return llm_cache_codec_detail::calls_to_value(calls);
}

bool tool_calls_from_value(const Value* v, std::vector<tool_call>& out) {
  return llm_cache_codec_detail::calls_from_value(v, out);
}

std::string llm_cache_key(const chat_request& req) {
  using namespace llm_cache_codec_detail;
  Value messages = Value::array();
  for (const auto& m : req.messages)
    messages.as_array().push_back(Value{Value::Object{{"role", Value{to_string(m.role)}},
                                                      {"content", Value{m.content}},
                                                      {"tool_calls", calls_to_value(m.tool_calls)},
                                                      {"tool_call_id", Value{m.tool_call_id}},
                                                      {"name", Value{m.name}}}});
  Value tools = Value::array();
  for (const auto& t : req.tools)
    tools.as_array().push_back(Value{Value::Object{{"name", Value{t.name}},
                                                   {"description", Value{t.description}},
                                                   {"parameters", t.parameters}}});
  // Temperature as an exact decimal string: 0.1 and 0.1000000001 differ.
  char temp[32];
  std::snprintf(temp, sizeof temp, "%.17g", req.temperature);
  return Value{Value::Object{{"model", Value{req.model}},
                             {"messages", std::move(messages)},
                             {"tools", std::move(tools)},
                             {"temperature", Value{std::string{temp}}},
                             {"max_tokens", Value{static_cast<int64_t>(req.max_tokens)}}}}
    .to_json();
}

Value response_to_value(const chat_response& r) {
  using namespace llm_cache_codec_detail;
  return Value{Value::Object{
    {"content", Value{r.message.content}},
    {"tool_calls", calls_to_value(r.message.tool_calls)},
    {"prompt_tokens", Value{r.usage.prompt_tokens}},
    {"completion_tokens", Value{r.usage.completion_tokens}},
    {"finish", Value{static_cast<int64_t>(r.finish)}},
    {"model", Value{r.model}}}};
}

std::optional<chat_response> response_from_value(const Value& v) {
  using namespace llm_cache_codec_detail;
  if (!v.is_object())
    return std::nullopt;
  const Value* content = v.find("content");
  const Value* finish = v.find("finish");
  const Value* pt = v.find("prompt_tokens");
  const Value* ct = v.find("completion_tokens");
  if (content == nullptr || !content->is_string() || finish == nullptr || !finish->is_int()
      || finish->as_int() < 0 || finish->as_int() > static_cast<int64_t>(finish_reason::length)
      || pt == nullptr || !pt->is_int() || ct == nullptr || !ct->is_int())
    return std::nullopt;
  chat_response r;
  r.message.role = chat_role::assistant;
  r.message.content = content->as_string();
  if (!calls_from_value(v.find("tool_calls"), r.message.tool_calls))
    return std::nullopt;
  r.usage = {pt->as_int(), ct->as_int()};
  r.finish = static_cast<finish_reason>(finish->as_int());
  r.model = v.get_string("model");
  return r;
}

}  // namespace agentgraph

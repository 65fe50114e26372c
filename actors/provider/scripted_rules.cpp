#include "actors/provider/scripted_rules.hpp"

#include <algorithm>
#include <functional>
#include <initializer_list>
#include <set>

#include "runtime/error.hpp"
#include "runtime/file_open.hpp"

namespace agentgraph {

namespace scripted_rules_detail {

// Names the place an error is about: "<origin>: rules[3] (\"name\")".
struct location {
  std::string where;

  [[nodiscard]] caf::error bad(std::string_view field, std::string_view why) const {
    std::string msg = where;
    msg.append(": ").append(field).append(": ").append(why);
    return make_error(errc::invalid_argument, std::move(msg));
  }
};

std::string lowercase(std::string_view s) {
  std::string out{s};
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) {
    return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  });
  return out;
}

// Rejects keys outside `allowed`, so a typo ("user_contain") is an error
// instead of a silently dropped condition.
caf::error check_keys(const Value& obj, std::initializer_list<std::string_view> allowed,
                      const location& loc, std::string_view prefix) {
  for (const auto& [key, _] : obj.as_object()) {
    if (std::find(allowed.begin(), allowed.end(), key) != allowed.end())
      continue;
    std::string known;
    for (auto k : allowed)
      known.append(known.empty() ? "" : ", ").append(k);
    return loc.bad(std::string{prefix} + key, "unknown field (known: " + known + ")");
  }
  return caf::none;
}

caf::expected<std::optional<std::string>> get_string(const Value& obj, const std::string& key,
                                                     const location& loc,
                                                     std::string_view field) {
  const Value* v = obj.find(key);
  if (v == nullptr)
    return std::optional<std::string>{};
  if (!v->is_string() || v->as_string().empty())
    return loc.bad(field, "must be a non-empty string");
  return std::optional<std::string>{v->as_string()};
}

// A string or an array of strings: alternatives of which any may match.
caf::expected<std::vector<std::string>> get_alternatives(const Value& obj, const std::string& key,
                                                         const location& loc,
                                                         std::string_view field) {
  std::vector<std::string> out;
  const Value* v = obj.find(key);
  if (v == nullptr)
    return out;
  auto items = v->is_array() ? v->as_array() : Value::Array{*v};
  if ((!v->is_array() && !v->is_string()) || items.empty()
      || items.size() > scripted_alternatives_max)
    return loc.bad(field, "must be a string or an array of 1.."
                            + std::to_string(scripted_alternatives_max) + " strings");
  for (const auto& item : items) {
    if (!item.is_string() || item.as_string().empty())
      return loc.bad(field, "every alternative must be a non-empty string");
    out.push_back(lowercase(item.as_string()));
  }
  return out;
}

caf::expected<std::optional<scripted_regex>> get_regex(const Value& obj, const std::string& key,
                                                       const location& loc,
                                                       std::string_view field) {
  auto pattern = get_string(obj, key, loc, field);
  if (!pattern)
    return std::move(pattern.error());
  if (!*pattern)
    return std::optional<scripted_regex>{};
  if ((*pattern)->size() > scripted_regex_pattern_bytes_max)
    return loc.bad(field, "pattern longer than "
                            + std::to_string(scripted_regex_pattern_bytes_max) + " bytes");
  try {
    scripted_regex r{**pattern, std::regex{**pattern, std::regex::ECMAScript}, 0};
    r.groups = r.re.mark_count();
    return std::optional<scripted_regex>{std::move(r)};
  } catch (const std::regex_error& e) {
    return loc.bad(field, std::string{"invalid ECMAScript regex: "} + e.what());
  }
}

caf::expected<std::vector<std::string>> get_field_path(const Value& obj, const location& loc) {
  auto field = get_string(obj, "tool_result_field", loc, "when.tool_result_field");
  if (!field)
    return std::move(field.error());
  std::vector<std::string> path;
  if (!*field)
    return path;
  size_t start = 0;
  const std::string& s = **field;
  while (true) {
    auto dot = s.find('.', start);
    path.push_back(s.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (path.back().empty() || path.size() > scripted_path_segments_max)
      return loc.bad("when.tool_result_field",
                     "must be field names joined by '.', at most "
                       + std::to_string(scripted_path_segments_max));
    if (dot == std::string::npos)
      return path;
    start = dot + 1;
  }
}

caf::expected<scripted_last_role> get_last_role(const Value& obj, const location& loc) {
  auto role = get_string(obj, "last_role", loc, "when.last_role");
  if (!role)
    return std::move(role.error());
  if (!*role)
    return scripted_last_role::any;
  if (**role == "user")
    return scripted_last_role::user;
  if (**role == "tool")
    return scripted_last_role::tool;
  return loc.bad("when.last_role", "must be \"user\" or \"tool\", got \"" + **role + "\"");
}

// Assigns `*out` from `x` or returns its error; keeps parse_when flat.
template <class T, class U>
caf::error take(caf::expected<T> x, U& out) {
  if (!x)
    return std::move(x.error());
  out = std::move(*x);
  return caf::none;
}

caf::expected<scripted_conditions> parse_when(const Value* when, const location& loc) {
  scripted_conditions c;
  if (when == nullptr)
    return c;
  if (!when->is_object())
    return loc.bad("when", "must be an object");
  const Value& w = *when;
  if (auto err = check_keys(w, {"agent", "user_contains", "user_regex", "last_role", "after_tool",
                                "tool_result_field", "tool_result_contains", "tool_result_regex",
                                "context_contains"},
                            loc, "when."))
    return err;
  std::optional<std::string> agent, after_tool;
  caf::error err;
  if ((err = take(get_string(w, "agent", loc, "when.agent"), agent))
      || (err = take(get_alternatives(w, "user_contains", loc, "when.user_contains"),
                     c.user_contains))
      || (err = take(get_regex(w, "user_regex", loc, "when.user_regex"), c.user_regex))
      || (err = take(get_last_role(w, loc), c.last_role))
      || (err = take(get_string(w, "after_tool", loc, "when.after_tool"), after_tool))
      || (err = take(get_field_path(w, loc), c.tool_result_field))
      || (err = take(get_alternatives(w, "tool_result_contains", loc,
                                      "when.tool_result_contains"),
                     c.tool_result_contains))
      || (err = take(get_regex(w, "tool_result_regex", loc, "when.tool_result_regex"),
                     c.tool_result_regex))
      || (err = take(get_alternatives(w, "context_contains", loc, "when.context_contains"),
                     c.context_contains)))
    return err;
  c.agent = agent.value_or("");
  c.after_tool = after_tool.value_or("");
  return c;
}

caf::expected<scripted_template> parse_template(const Value& v, const location& loc,
                                                std::string_view field) {
  if (!v.is_string())
    return loc.bad(field, "must be a string");
  auto t = scripted_template::parse(v.as_string());
  if (!t)
    return loc.bad(field, error_context(t.error()));
  return t;
}

// Every string inside tool call arguments is a template; walks them all.
caf::error check_argument_templates(const Value& v, const location& loc, const std::string& field,
                                    const std::function<caf::error(const scripted_template&,
                                                                   const std::string&)>& visit) {
  if (v.is_string()) {
    auto t = parse_template(v, loc, field);
    if (!t)
      return std::move(t.error());
    return visit(*t, field);
  }
  if (v.is_array()) {
    for (size_t i = 0; i < v.as_array().size(); ++i)
      if (auto err = check_argument_templates(v.as_array()[i], loc,
                                              field + "[" + std::to_string(i) + "]", visit))
        return err;
  } else if (v.is_object()) {
    for (const auto& [key, child] : v.as_object())
      if (auto err = check_argument_templates(child, loc, field + "." + key, visit))
        return err;
  }
  return caf::none;
}

caf::expected<scripted_tool_call_spec> parse_tool_call(const Value& v, const location& loc,
                                                       const std::string& field) {
  if (!v.is_object())
    return loc.bad(field, "must be an object {\"name\": ..., \"arguments\": {...}}");
  if (auto err = check_keys(v, {"name", "arguments"}, loc, field + "."))
    return err;
  scripted_tool_call_spec spec;
  auto name = get_string(v, "name", loc, field + ".name");
  if (!name)
    return std::move(name.error());
  if (!*name)
    return loc.bad(field + ".name", "is required");
  spec.name = **name;
  const Value* args = v.find("arguments");
  spec.arguments = args != nullptr ? *args : Value::object();
  if (!spec.arguments.is_object())
    return loc.bad(field + ".arguments", "must be a JSON object");
  auto none = [](const scripted_template&, const std::string&) -> caf::error { return caf::none; };
  if (auto err = check_argument_templates(spec.arguments, loc, field + ".arguments", none))
    return err;
  return spec;
}

caf::error parse_tool_calls(const Value& obj, const location& loc, scripted_reply_spec& out) {
  const Value* calls = obj.find("tool_calls");
  if (calls == nullptr)
    return caf::none;
  if (!calls->is_array() || calls->as_array().empty()
      || calls->as_array().size() > scripted_tool_calls_per_rule_max)
    return loc.bad("tool_calls", "must be an array of 1.."
                                   + std::to_string(scripted_tool_calls_per_rule_max)
                                   + " tool calls");
  for (size_t i = 0; i < calls->as_array().size(); ++i) {
    auto spec = parse_tool_call(calls->as_array()[i], loc, "tool_calls[" + std::to_string(i) + "]");
    if (!spec)
      return std::move(spec.error());
    out.tool_calls.push_back(std::move(*spec));
  }
  return caf::none;
}

caf::expected<int64_t> get_bounded_int(const Value& v, int64_t max, const location& loc,
                                       std::string_view field) {
  if (!v.is_int() || v.as_int() < 0 || v.as_int() > max)
    return loc.bad(field, "must be an integer in 0.." + std::to_string(max));
  return v.as_int();
}

caf::error parse_usage(const Value& obj, const location& loc, scripted_reply_spec& out) {
  const Value* usage = obj.find("usage");
  if (usage == nullptr)
    return caf::none;
  if (!usage->is_object())
    return loc.bad("usage", "must be an object {\"prompt_tokens\": N, \"completion_tokens\": N}");
  if (auto err = check_keys(*usage, {"prompt_tokens", "completion_tokens"}, loc, "usage."))
    return err;
  for (auto [key, slot] : {std::pair{"prompt_tokens", &out.prompt_tokens},
                           std::pair{"completion_tokens", &out.completion_tokens}}) {
    if (const Value* v = usage->find(key)) {
      auto n = get_bounded_int(*v, scripted_usage_tokens_max, loc, std::string{"usage."} + key);
      if (!n)
        return std::move(n.error());
      *slot = *n;
    }
  }
  return caf::none;
}

caf::error parse_finish(const Value& obj, const location& loc, scripted_reply_spec& out) {
  auto finish = get_string(obj, "finish", loc, "finish");
  if (!finish)
    return std::move(finish.error());
  if (!*finish)
    return caf::none;
  for (auto r : {finish_reason::stop, finish_reason::tool_calls, finish_reason::length})
    if (**finish == to_string(r)) {
      out.finish = r;
      return caf::none;
    }
  return loc.bad("finish", "must be \"stop\", \"tool_calls\" or \"length\", got \"" + **finish
                             + "\"");
}

// The answer fields shared by rules and `default`.
caf::expected<scripted_reply_spec> parse_reply(const Value& obj, const location& loc) {
  scripted_reply_spec out;
  if (const Value* text = obj.find("reply")) {
    auto t = parse_template(*text, loc, "reply");
    if (!t)
      return std::move(t.error());
    out.text = std::move(*t);
  }
  if (const Value* error = obj.find("error")) {
    auto t = parse_template(*error, loc, "error");
    if (!t)
      return std::move(t.error());
    out.error = std::move(*t);
  }
  if (auto err = parse_tool_calls(obj, loc, out))
    return err;
  if (auto err = parse_finish(obj, loc, out))
    return err;
  if (auto err = parse_usage(obj, loc, out))
    return err;
  if (const Value* delay = obj.find("delay_ms")) {
    auto ms = get_bounded_int(*delay, scripted_delay_ms_max, loc, "delay_ms");
    if (!ms)
      return std::move(ms.error());
    out.delay = std::chrono::milliseconds{*ms};
  }
  bool answers = out.text || !out.tool_calls.empty();
  if (!answers && !out.error)
    return loc.bad("reply", "a rule needs \"reply\", \"tool_calls\" or \"error\"");
  if (out.error && (answers || out.finish))
    return loc.bad("error", "an error rule cannot also have reply, tool_calls or finish");
  return out;
}

// {{match.N}} needs when.user_regex with at least N groups; likewise
// {{tool_match.N}} and when.tool_result_regex.
caf::error check_captures(const scripted_reply_spec& reply, const scripted_conditions& when,
                          const location& loc) {
  auto visit = [&](const scripted_template& t, const std::string& field) -> caf::error {
    auto check = [&](int used, const std::optional<scripted_regex>& re, const char* placeholder,
                     const char* condition) -> caf::error {
      if (used < 0)
        return caf::none;
      if (!re)
        return loc.bad(field, std::string{"uses {{"} + placeholder + "." + std::to_string(used)
                                + "}} but the rule has no " + condition);
      if (static_cast<size_t>(used) > re->groups)
        return loc.bad(field, std::string{"uses {{"} + placeholder + "." + std::to_string(used)
                                + "}} but " + condition + " has "
                                + std::to_string(re->groups) + " capture groups");
      return caf::none;
    };
    if (auto err = check(t.match_index_max(), when.user_regex, "match", "when.user_regex"))
      return err;
    return check(t.tool_match_index_max(), when.tool_result_regex, "tool_match",
                 "when.tool_result_regex");
  };
  if (reply.text)
    if (auto err = visit(*reply.text, "reply"))
      return err;
  if (reply.error)
    if (auto err = visit(*reply.error, "error"))
      return err;
  for (size_t i = 0; i < reply.tool_calls.size(); ++i)
    if (auto err = check_argument_templates(reply.tool_calls[i].arguments, loc,
                                            "tool_calls[" + std::to_string(i) + "].arguments",
                                            visit))
      return err;
  return caf::none;
}

caf::expected<scripted_rule> parse_rule(const Value& v, size_t index, const std::string& origin) {
  location loc{origin + ": rules[" + std::to_string(index) + "]"};
  if (!v.is_object())
    return loc.bad("rule", "must be an object");
  auto name = get_string(v, "name", loc, "name");
  if (!name)
    return std::move(name.error());
  if (!*name)
    return loc.bad("name", "is required");
  loc.where += " (\"" + **name + "\")";
  if (auto err = check_keys(v, {"name", "comment", "when", "reply", "tool_calls", "finish",
                                "delay_ms", "error", "usage"},
                            loc, ""))
    return err;
  scripted_rule rule;
  rule.name = **name;
  auto when = parse_when(v.find("when"), loc);
  if (!when)
    return std::move(when.error());
  rule.when = std::move(*when);
  auto reply = parse_reply(v, loc);
  if (!reply)
    return std::move(reply.error());
  rule.reply = std::move(*reply);
  if (auto err = check_captures(rule.reply, rule.when, loc))
    return err;
  return rule;
}

// `default` is a reply text, or an object with the answer fields of a rule.
caf::expected<scripted_reply_spec> parse_default(const Value& v, const std::string& origin) {
  location loc{origin + ": default"};
  Value obj = v;
  if (v.is_string()) {
    obj = Value::object();
    obj["reply"] = v;
  } else if (!v.is_object()) {
    return location{origin}.bad("default", "must be a reply string or an object");
  }
  if (auto err = check_keys(obj, {"comment", "reply", "tool_calls", "finish", "delay_ms", "error",
                                  "usage"},
                            loc, ""))
    return err;
  auto reply = parse_reply(obj, loc);
  if (!reply)
    return reply;
  if (auto err = check_captures(*reply, scripted_conditions{}, loc))
    return err;
  return reply;
}

caf::error parse_rule_list(const Value& doc, scripted_rules& out) {
  location top{out.origin};
  const Value* rules = doc.find("rules");
  if (rules == nullptr || !rules->is_array())
    return top.bad("rules", "is required and must be an array");
  if (rules->as_array().size() > scripted_rules_max)
    return top.bad("rules", "has " + std::to_string(rules->as_array().size())
                              + " rules; at most " + std::to_string(scripted_rules_max));
  std::set<std::string> names;
  for (size_t i = 0; i < rules->as_array().size(); ++i) {
    auto rule = parse_rule(rules->as_array()[i], i, out.origin);
    if (!rule)
      return std::move(rule.error());
    if (!names.insert(rule->name).second)
      return top.bad("rules[" + std::to_string(i) + "].name",
                     "duplicate rule name \"" + rule->name + "\"");
    out.rules.push_back(std::move(*rule));
  }
  return caf::none;
}

}  // namespace scripted_rules_detail

caf::expected<scripted_rules> parse_scripted_rules(std::string_view json_text,
                                                   std::string origin) {
  using namespace scripted_rules_detail;
  auto doc = Value::from_json(json_text);
  if (!doc)
    return make_error(errc::parse_error, origin + ": " + error_context(doc.error()));
  scripted_rules out;
  out.origin = std::move(origin);
  location top{out.origin};
  if (!doc->is_object())
    return top.bad("document", "must be a JSON object with \"rules\"");
  if (auto err = check_keys(*doc, {"comment", "rules", "default", "embeddings"}, top, ""))
    return err;
  if (auto err = parse_rule_list(*doc, out))
    return err;
  if (const Value* fallback = doc->find("default")) {
    auto reply = parse_default(*fallback, out.origin);
    if (!reply)
      return std::move(reply.error());
    out.fallback = std::move(*reply);
  }
  if (const Value* section = doc->find("embeddings")) {
    auto space = scripted_embedding_space::parse(*section, out.origin);
    if (!space)
      return std::move(space.error());
    out.embeddings = std::move(*space);
  }
  return out;
}

caf::expected<scripted_rules> load_scripted_rules(const std::string& path) {
  // read_regular_file: a FIFO or a device is refused at once, not read.
  auto text = read_regular_file(path, scripted_rules_file_bytes_max, "rules file");
  if (!text)
    return std::move(text.error());
  return parse_scripted_rules(*text, path);
}

}  // namespace agentgraph

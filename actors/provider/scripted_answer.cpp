#include "actors/provider/scripted_answer.hpp"
#include "runtime/config/config_text.hpp"  // trim

#include <algorithm>

#include "actors/provider/token_count.hpp"
#include "runtime/error.hpp"

namespace agentgraph {

namespace scripted_answer_detail {

using captures = std::vector<std::optional<std::string>>;

// Facts about the request that every rule looks at, computed once.
struct request_view {
  std::string system_text;  // all system messages, joined by '\n'
  std::optional<std::string> last_user;
  std::string last_user_lower;
  chat_role last_role = chat_role::user;
  std::string last_tool_name;  // set when the last message is a tool result
  std::string all_lower;       // every message's content, joined by '\n'
  scripted_context base;       // the template context without regex captures
};

std::string lowercase(std::string_view s) {
  std::string out{s};
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) {
    return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  });
  return out;
}

bool is_blank(std::string_view line) {
  return std::all_of(line.begin(), line.end(),
                     [](char c) { return c == ' ' || c == '\t' || c == '\r'; });
}

// A tool message names its tool; if an agent left `name` empty, the
// assistant message whose call it answers does.
std::string tool_name_of(const chat_request& req, size_t index) {
  const auto& msg = req.messages[index];
  if (!msg.name.empty() || msg.tool_call_id.empty())
    return msg.name;
  for (size_t i = index; i-- > 0;)
    for (const auto& call : req.messages[i].tool_calls)
      if (call.id == msg.tool_call_id)
        return call.name;
  return {};
}

request_view make_view(const chat_request& req) {
  request_view v;
  v.base = make_scripted_context(req);
  for (const auto& msg : req.messages) {
    if (msg.role == chat_role::system)
      v.system_text.append(v.system_text.empty() ? "" : "\n").append(msg.content);
    v.all_lower.append(lowercase(msg.content)).append("\n");
  }
  v.last_user = v.base.user;
  if (v.last_user)
    v.last_user_lower = lowercase(*v.last_user);
  v.last_role = req.messages.back().role;
  if (v.last_role == chat_role::tool)
    v.last_tool_name = tool_name_of(req, req.messages.size() - 1);
  return v;
}

bool contains_any(std::string_view haystack_lower, const std::vector<std::string>& alternatives) {
  return std::any_of(alternatives.begin(), alternatives.end(), [&](const std::string& a) {
    return haystack_lower.find(a) != std::string_view::npos;
  });
}

// Searches the leading scripted_regex_subject_bytes_max bytes of `subject`.
// Returns the groups on a match, nullopt otherwise. std::regex reports
// runaway matching by throwing; that becomes a provider_error.
caf::expected<std::optional<captures>> search(const scripted_regex& re, std::string_view subject) {
  subject = subject.substr(0, scripted_regex_subject_bytes_max);
  std::match_results<std::string_view::const_iterator> m;
  try {
    if (!std::regex_search(subject.begin(), subject.end(), m, re.re))
      return std::optional<captures>{};
  } catch (const std::regex_error& e) {
    return make_error(errc::provider_error,
                      "regex /" + re.pattern + "/ failed on its input: " + e.what());
  }
  captures groups;
  for (size_t i = 0; i < m.size(); ++i)
    groups.push_back(m[i].matched ? std::optional<std::string>{m[i].str()} : std::nullopt);
  return std::optional<captures>{std::move(groups)};
}

// What tool_result_* conditions look at: the most recent tool message's
// content, or the field when.tool_result_field selects; nullopt if absent.
std::optional<std::string> tool_subject(const scripted_conditions& c, const request_view& v) {
  if (!v.base.last_tool)
    return std::nullopt;
  if (c.tool_result_field.empty())
    return v.base.last_tool->content;
  auto field = select_json_path(v.base.last_tool->content, c.tool_result_field);
  if (!field)
    return std::nullopt;
  return render_value(*field);
}

bool plain_conditions_hold(const scripted_conditions& c, const request_view& v) {
  if (!c.agent.empty() && v.system_text.find(c.agent) == std::string::npos)
    return false;
  if (!c.user_contains.empty() && (!v.last_user || !contains_any(v.last_user_lower, c.user_contains)))
    return false;
  if (c.last_role == scripted_last_role::user && v.last_role != chat_role::user)
    return false;
  if (c.last_role == scripted_last_role::tool && v.last_role != chat_role::tool)
    return false;
  if (!c.after_tool.empty() && (v.last_role != chat_role::tool || v.last_tool_name != c.after_tool))
    return false;
  if (!c.context_contains.empty() && !contains_any(v.all_lower, c.context_contains))
    return false;
  return true;
}

// True when every condition holds; fills the regex captures on the way.
// Cheap conditions run first so most rules never reach a regex.
caf::expected<bool> rule_matches(const scripted_conditions& c, const request_view& v,
                                 captures& match, captures& tool_match) {
  if (!plain_conditions_hold(c, v))
    return false;
  bool wants_tool = !c.tool_result_field.empty() || !c.tool_result_contains.empty()
                    || c.tool_result_regex;
  auto subject = wants_tool ? tool_subject(c, v) : std::nullopt;
  if (wants_tool && !subject)
    return false;
  if (!c.tool_result_contains.empty() && !contains_any(lowercase(*subject), c.tool_result_contains))
    return false;
  if (c.user_regex) {
    if (!v.last_user)
      return false;
    auto found = search(*c.user_regex, *v.last_user);
    if (!found)
      return std::move(found.error());
    if (!*found)
      return false;
    match = std::move(**found);
  }
  if (c.tool_result_regex) {
    auto found = search(*c.tool_result_regex, *subject);
    if (!found)
      return std::move(found.error());
    if (!*found)
      return false;
    tool_match = std::move(**found);
  }
  return true;
}

caf::error in_rule(const std::string& rule, const caf::error& err) {
  return make_error(errc::provider_error, "rule '" + rule + "': " + error_context(err));
}

// Renders every string inside tool call arguments; the loader already
// checked that each one parses.
caf::expected<Value> render_arguments(const Value& v, const scripted_context& ctx) {
  if (v.is_string()) {
    auto t = scripted_template::parse(v.as_string());
    if (!t)
      return std::move(t.error());
    auto text = t->render(ctx);
    if (!text)
      return std::move(text.error());
    return Value{std::move(*text)};
  }
  Value out = v;
  if (v.is_array()) {
    for (auto& item : out.as_array()) {
      auto r = render_arguments(item, ctx);
      if (!r)
        return r;
      item = std::move(*r);
    }
  } else if (v.is_object()) {
    for (auto& [key, item] : out.as_object()) {
      auto r = render_arguments(item, ctx);
      if (!r)
        return r;
      item = std::move(*r);
    }
  }
  return out;
}

caf::expected<chat_response> build_response(const scripted_reply_spec& spec,
                                            const scripted_context& ctx,
                                            const chat_request& req) {
  chat_response resp;
  resp.message.role = chat_role::assistant;
  if (spec.text) {
    auto text = spec.text->render(ctx);
    if (!text)
      return std::move(text.error());
    resp.message.content = std::move(*text);
  }
  for (size_t i = 0; i < spec.tool_calls.size(); ++i) {
    auto args = render_arguments(spec.tool_calls[i].arguments, ctx);
    if (!args)
      return std::move(args.error());
    // Deterministic ids let tests and journals refer to calls by name.
    resp.message.tool_calls.push_back(
      {"call_" + req.request_id + "_" + std::to_string(i + 1), spec.tool_calls[i].name,
       std::move(*args)});
  }
  resp.finish = spec.finish.value_or(spec.tool_calls.empty() ? finish_reason::stop
                                                             : finish_reason::tool_calls);
  resp.model = req.model.empty() ? "scripted" : req.model;
  resp.usage.prompt_tokens = spec.prompt_tokens.value_or(count_prompt_tokens(req));
  resp.usage.completion_tokens = spec.completion_tokens.value_or(
    count_completion_tokens(resp.message));
  return resp;
}

caf::expected<scripted_outcome> make_outcome(const std::string& rule,
                                             const scripted_reply_spec& spec,
                                             const scripted_context& ctx,
                                             const chat_request& req) {
  scripted_outcome out;
  out.rule = rule;
  out.delay = spec.delay;
  if (spec.error) {
    auto text = spec.error->render(ctx);
    if (!text)
      return in_rule(rule, text.error());
    out.error = make_error(errc::provider_error, "rule '" + rule + "': " + *text);
    return out;
  }
  auto resp = build_response(spec, ctx, req);
  if (!resp)
    return in_rule(rule, resp.error());
  out.response = std::move(*resp);
  return out;
}

caf::error no_match(const scripted_rules& rules, const request_view& v) {
  std::string msg = "no rule matched in " + rules.origin + " (" + std::to_string(rules.rules.size())
                    + " rules, no default); ";
  if (!v.last_user) {
    msg += "the request has no user message";
  } else {
    auto quote = v.last_user->substr(0, scripted_quote_chars_max);
    msg += "last user message starts \"" + quote + "\"";
  }
  return make_error(errc::provider_error, std::move(msg));
}

}  // namespace scripted_answer_detail

caf::error validate_chat_request(const chat_request& req) {
  if (req.messages.empty())
    return make_error(errc::invalid_argument, "chat request has no messages");
  if (req.messages.size() > scripted_request_messages_max)
    return make_error(errc::invalid_argument,
                      "chat request has " + std::to_string(req.messages.size())
                        + " messages; at most "
                        + std::to_string(scripted_request_messages_max));
  if (req.request_id.empty())
    return make_error(errc::invalid_argument, "chat request has an empty request_id");
  return caf::none;
}

caf::expected<scripted_outcome> answer_scripted(const scripted_rules& rules,
                                                const chat_request& req) {
  using namespace scripted_answer_detail;
  if (auto err = validate_chat_request(req))
    return err;
  auto view = make_view(req);
  for (const auto& rule : rules.rules) {
    captures match;
    captures tool_match;
    auto hit = rule_matches(rule.when, view, match, tool_match);
    if (!hit)
      return in_rule(rule.name, hit.error());
    if (!*hit)
      continue;
    auto ctx = view.base;
    ctx.match = std::move(match);
    ctx.tool_match = std::move(tool_match);
    return make_outcome(rule.name, rule.reply, ctx, req);
  }
  if (rules.fallback)
    return make_outcome("default", *rules.fallback, view.base, req);
  return no_match(rules, view);
}

std::string extract_memory(std::string_view system_text) {
  using namespace scripted_answer_detail;
  std::string memory;
  bool inside = false;
  size_t pos = 0;
  while (pos <= system_text.size()) {
    auto end = system_text.find('\n', pos);
    if (end == std::string_view::npos)
      end = system_text.size();
    auto line = system_text.substr(pos, end - pos);
    pos = end + 1;
    if (!inside) {
      inside = trim(line) == scripted_memory_marker;
      continue;
    }
    if (is_blank(line))
      break;
    if (!line.empty() && line.back() == '\r')
      line.remove_suffix(1);
    memory.append(memory.empty() ? "" : "\n").append(line);
  }
  return memory;
}

scripted_context make_scripted_context(const chat_request& req) {
  using namespace scripted_answer_detail;
  scripted_context ctx;
  for (size_t i = 0; i < req.messages.size(); ++i) {
    const auto& msg = req.messages[i];
    if (msg.role == chat_role::user)
      ctx.user = msg.content;
    else if (msg.role == chat_role::tool)
      ctx.tool_results.push_back({tool_name_of(req, i), msg.content});
    else if (msg.role == chat_role::system && ctx.memory.empty())
      ctx.memory = extract_memory(msg.content);
  }
  if (!ctx.tool_results.empty())
    ctx.last_tool = ctx.tool_results.back();
  return ctx;
}

std::vector<std::string> split_stream_pieces(std::string_view text, size_t pieces_max) {
  auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  std::vector<std::string> pieces;
  size_t pos = 0;
  while (pos < text.size() && pieces_max > 0) {
    if (pieces.size() + 1 == pieces_max) {
      pieces.emplace_back(text.substr(pos));
      break;
    }
    size_t end = pos;
    while (end < text.size() && is_space(text[end]))  // only before the first word
      ++end;
    while (end < text.size() && !is_space(text[end]))
      ++end;
    while (end < text.size() && is_space(text[end]))
      ++end;
    pieces.emplace_back(text.substr(pos, end - pos));
    pos = end;
  }
  return pieces;
}

}  // namespace agentgraph

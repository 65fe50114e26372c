#include "actors/provider/scripted_template.hpp"
#include "runtime/config/config_text.hpp"  // trim

#include <algorithm>
#include <cmath>

#include "runtime/error.hpp"

namespace agentgraph {

namespace scripted_template_detail {

constexpr std::string_view known_placeholders =
  "known: user, match.N, tool_match.N, tool_output, tool_output.<field>, tool.<name>, "
  "tool.<name>.<field>, memory";

std::vector<std::string> split_dots(std::string_view s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    auto dot = s.find('.', start);
    out.emplace_back(s.substr(start, dot == std::string_view::npos ? s.npos : dot - start));
    if (dot == std::string_view::npos)
      return out;
    start = dot + 1;
  }
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

caf::error bad_placeholder(std::string_view inner, std::string_view why) {
  std::string msg = "placeholder {{";
  msg.append(inner).append("}}: ").append(why);
  return make_error(errc::invalid_argument, std::move(msg));
}

// Parses the text between "{{" and "}}" into a segment.
caf::expected<scripted_segment> parse_placeholder(std::string_view inner) {
  scripted_segment seg;
  seg.text = "{{" + std::string{inner} + "}}";
  auto parts = split_dots(inner);
  if (std::any_of(parts.begin(), parts.end(), [](const auto& p) { return p.empty(); }))
    return bad_placeholder(inner, "empty name segment");
  const std::string& head = parts.front();
  if ((head == "user" || head == "memory") && parts.size() == 1) {
    seg.slot = head == "user" ? scripted_slot::user : scripted_slot::memory;
    return seg;
  }
  if (head == "match" || head == "tool_match") {
    if (parts.size() != 2 || !all_digits(parts[1]) || parts[1].size() > 2
        || std::stoi(parts[1]) > scripted_capture_index_max)
      return bad_placeholder(inner, "expects a capture number 0.."
                                      + std::to_string(scripted_capture_index_max));
    seg.slot = head == "match" ? scripted_slot::match : scripted_slot::tool_match;
    seg.index = std::stoi(parts[1]);
    return seg;
  }
  if (head == "tool_output") {
    seg.slot = scripted_slot::tool_output;
    seg.path.assign(parts.begin() + 1, parts.end());
  } else if (head == "tool" && parts.size() >= 2) {
    seg.slot = scripted_slot::tool;
    seg.tool_name = parts[1];
    seg.path.assign(parts.begin() + 2, parts.end());
  } else {
    return bad_placeholder(inner, std::string{"unknown name; "}.append(known_placeholders));
  }
  if (seg.path.size() > scripted_path_segments_max)
    return bad_placeholder(inner, "field path longer than "
                                    + std::to_string(scripted_path_segments_max) + " segments");
  return seg;
}

caf::error missing(const scripted_segment& seg, std::string why) {
  return make_error(errc::provider_error, seg.text + ": " + why);
}

caf::expected<std::string> render_field(const scripted_segment& seg, const std::string& content) {
  if (seg.path.empty())
    return content;
  auto v = select_json_path(content, seg.path);
  if (!v)
    return missing(seg, error_context(v.error()));
  return render_value(*v);
}

caf::expected<std::string> render_capture(const scripted_segment& seg,
                                          const std::vector<std::optional<std::string>>& groups) {
  auto i = static_cast<size_t>(seg.index);
  if (i >= groups.size())
    return missing(seg, "the rule's regex has no such capture group");
  return groups[i].value_or(std::string{});
}

caf::expected<std::string> render_segment(const scripted_segment& seg,
                                          const scripted_context& ctx) {
  switch (seg.slot) {
    case scripted_slot::literal:
      return seg.text;
    case scripted_slot::memory:
      return ctx.memory;
    case scripted_slot::user:
      if (!ctx.user)
        return missing(seg, "the request has no user message");
      return *ctx.user;
    case scripted_slot::match:
      return render_capture(seg, ctx.match);
    case scripted_slot::tool_match:
      return render_capture(seg, ctx.tool_match);
    case scripted_slot::tool_output:
      if (!ctx.last_tool)
        return missing(seg, "the conversation has no tool message");
      return render_field(seg, ctx.last_tool->content);
    case scripted_slot::tool: {
      auto& results = ctx.tool_results;
      auto it = std::find_if(results.rbegin(), results.rend(),
                             [&](const auto& r) { return r.name == seg.tool_name; });
      if (it == results.rend())
        return missing(seg, "no result of tool '" + seg.tool_name + "' in the conversation");
      return render_field(seg, it->content);
    }
  }
  return make_error(errc::internal, "unhandled template slot");
}

}  // namespace scripted_template_detail

caf::expected<scripted_template> scripted_template::parse(std::string_view source) {
  using namespace scripted_template_detail;
  if (source.size() > scripted_template_bytes_max)
    return make_error(errc::invalid_argument,
                      "template longer than " + std::to_string(scripted_template_bytes_max)
                        + " bytes");
  scripted_template out;
  out.source_ = std::string{source};
  size_t pos = 0;
  while (pos < source.size()) {
    auto open = source.find("{{", pos);
    if (open == std::string_view::npos) {
      out.segments_.push_back({scripted_slot::literal, std::string{source.substr(pos)}, {}, 0, {}});
      break;
    }
    if (open > pos)
      out.segments_.push_back(
        {scripted_slot::literal, std::string{source.substr(pos, open - pos)}, {}, 0, {}});
    auto close = source.find("}}", open + 2);
    if (close == std::string_view::npos)
      return make_error(errc::invalid_argument,
                        "unterminated '{{' at byte " + std::to_string(open));
    auto seg = parse_placeholder(trim(source.substr(open + 2, close - open - 2)));
    if (!seg)
      return std::move(seg.error());
    out.segments_.push_back(std::move(*seg));
    pos = close + 2;
  }
  return out;
}

caf::expected<std::string> scripted_template::render(const scripted_context& ctx) const {
  std::string out;
  for (const auto& seg : segments_) {
    auto piece = scripted_template_detail::render_segment(seg, ctx);
    if (!piece)
      return std::move(piece.error());
    out += *piece;
  }
  return out;
}

int scripted_template::match_index_max() const {
  int n = -1;
  for (const auto& seg : segments_)
    if (seg.slot == scripted_slot::match)
      n = std::max(n, seg.index);
  return n;
}

int scripted_template::tool_match_index_max() const {
  int n = -1;
  for (const auto& seg : segments_)
    if (seg.slot == scripted_slot::tool_match)
      n = std::max(n, seg.index);
  return n;
}

std::string render_value(const Value& v) {
  // Below 2^53 every integer is exact in a double, so printing it without a
  // fraction loses nothing.
  constexpr double exact_integer_limit = 9007199254740992.0;
  switch (v.kind()) {
    case Value::Kind::string:
      return v.as_string();
    case Value::Kind::integer:
      return std::to_string(v.as_int());
    case Value::Kind::number: {
      double d = v.as_double();
      if (std::isfinite(d) && d == std::trunc(d) && std::fabs(d) < exact_integer_limit)
        return std::to_string(static_cast<int64_t>(d));
      return v.to_json();
    }
    default:
      return v.to_json();
  }
}

caf::expected<Value> select_json_path(std::string_view content,
                                      const std::vector<std::string>& path) {
  auto doc = Value::from_json(content);
  if (!doc)
    return make_error(errc::provider_error, "the tool output is not JSON");
  const Value* cur = &*doc;
  std::string walked;
  for (const auto& seg : path) {
    walked += walked.empty() ? seg : "." + seg;
    const Value* next = nullptr;
    if (cur->is_object()) {
      next = cur->find(seg);
    } else if (cur->is_array() && scripted_template_detail::all_digits(seg) && seg.size() < 10) {
      auto i = std::stoul(seg);
      if (i < cur->as_array().size())
        next = &cur->as_array()[i];
    }
    if (next == nullptr)
      return make_error(errc::provider_error, "the tool output has no field '" + walked + "'");
    cur = next;
  }
  return *cur;
}

}  // namespace agentgraph

#include "net/sse/sse_parser.hpp"

#include <algorithm>

#include "runtime/error.hpp"

namespace agentgraph {

namespace sse_parser_detail {

constexpr std::string_view bom = "\xEF\xBB\xBF";
// A `retry:` value longer than this is ignored (it would overflow and no
// server means a delay of 10^19 ms).
constexpr size_t retry_digits_max = 18;

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace sse_parser_detail

bool is_done_sentinel(const sse_event& ev) {
  return ev.data == "[DONE]";
}

sse_parser::sse_parser(sse_limits limits) : limits_(limits) {}

caf::error sse_parser::feed(std::string_view bytes, std::vector<sse_event>& out) {
  using sse_parser_detail::bom;
  if (failed_)
    return failed_;
  // The BOM is stripped once, at the very start of the stream; it may arrive
  // split across calls, so count how much of it matched so far.
  while (!bom_checked_ && !bytes.empty()) {
    if (bytes.front() == bom[bom_bytes_matched_]) {
      bytes.remove_prefix(1);
      if (++bom_bytes_matched_ == bom.size())
        bom_checked_ = true;
      continue;
    }
    bom_checked_ = true;
    // Not a BOM after all: the bytes held back are ordinary input.
    if (auto err = feed_lines(bom.substr(0, bom_bytes_matched_), out))
      return failed_ = err;
  }
  if (auto err = feed_lines(bytes, out))
    failed_ = err;
  return failed_;
}

caf::error sse_parser::feed_lines(std::string_view bytes, std::vector<sse_event>& out) {
  while (!bytes.empty()) {
    if (skip_lf_) {
      skip_lf_ = false;
      if (bytes.front() == '\n') {
        bytes.remove_prefix(1);
        continue;
      }
    }
    auto end = bytes.find_first_of("\r\n");
    auto piece = bytes.substr(0, end);
    if (line_.size() + piece.size() > limits_.line_bytes_max)
      return make_error(errc::limit_exceeded, "SSE line longer than "
                                                  + std::to_string(limits_.line_bytes_max)
                                                  + " bytes");
    line_.append(piece);
    if (end == std::string_view::npos)
      return caf::none;
    skip_lf_ = bytes[end] == '\r';
    bytes.remove_prefix(end + 1);
    if (auto err = take_line(out))
      return err;
  }
  return caf::none;
}

caf::error sse_parser::take_line(std::vector<sse_event>& out) {
  // line_ keeps its capacity for the next line; clear it on every path.
  auto err = interpret_line(line_, out);
  line_.clear();
  return err;
}

caf::error sse_parser::interpret_line(std::string_view view, std::vector<sse_event>& out) {
  if (view.empty()) {
    dispatch(out);
    return caf::none;
  }
  if (view.front() == ':')  // comment, e.g. a keep-alive
    return caf::none;
  auto colon = view.find(':');
  if (colon == std::string_view::npos)
    return apply_field(view, {});
  auto value = view.substr(colon + 1);
  if (!value.empty() && value.front() == ' ')
    value.remove_prefix(1);
  return apply_field(view.substr(0, colon), value);
}

caf::error sse_parser::apply_field(std::string_view field, std::string_view value) {
  if (field == "data") {
    if (data_.size() + value.size() + 1 > limits_.event_data_bytes_max)
      return make_error(errc::limit_exceeded, "SSE event data longer than "
                                                  + std::to_string(limits_.event_data_bytes_max)
                                                  + " bytes");
    data_.append(value);
    data_.push_back('\n');
  } else if (field == "event") {
    event_type_.assign(value);
  } else if (field == "id") {
    if (value.find('\0') == std::string_view::npos)
      last_id_.assign(value);
  } else if (field == "retry") {
    if (sse_parser_detail::all_digits(value)
        && value.size() <= sse_parser_detail::retry_digits_max)
      retry_ms_ = std::stoull(std::string{value});
  } else {
    return caf::none;  // unknown fields are ignored, as the spec says
  }
  fields_pending_ = true;
  return caf::none;
}

void sse_parser::dispatch(std::vector<sse_event>& out) {
  fields_pending_ = false;
  if (data_.empty()) {
    // An event with no data is not dispatched; its type is forgotten.
    event_type_.clear();
    return;
  }
  data_.pop_back();  // the '\n' added after the last data line
  sse_event ev;
  if (!event_type_.empty())
    ev.type = std::move(event_type_);
  ev.data = std::move(data_);
  ev.id = last_id_;
  out.push_back(std::move(ev));
  event_type_.clear();
  data_.clear();
}

caf::error sse_parser::finish() {
  if (failed_)
    return failed_;
  if (fields_pending_ || !line_.empty() || (!bom_checked_ && bom_bytes_matched_ > 0))
    return make_error(errc::parse_error, "SSE stream ended inside an event");
  return caf::none;
}

}  // namespace agentgraph

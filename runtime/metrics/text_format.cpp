#include "runtime/metrics/text_format.hpp"

#include <charconv>
#include <cmath>
#include <system_error>

#include "runtime/assert.hpp"

namespace agentgraph::metrics {

namespace text_format_detail {

// The two escapings differ only in the double quote, which ends a label
// value but is plain text in HELP.
void append_escaped(std::string& out, std::string_view text, bool escape_quote) {
  for (char c : text) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else if (c == '"' && escape_quote)
      out += "\\\"";
    else
      out += c;
  }
}

void append_label_pair(std::string& out, std::string_view name, std::string_view value) {
  out += name;
  out += "=\"";
  append_escaped_label_value(out, value);
  out += '"';
}

}  // namespace text_format_detail

void append_escaped_help(std::string& out, std::string_view help) {
  text_format_detail::append_escaped(out, help, false);
}

void append_escaped_label_value(std::string& out, std::string_view value) {
  text_format_detail::append_escaped(out, value, true);
}

void append_double(std::string& out, double value) {
  // Go's ParseFloat accepts "Inf"/"inf" too, but `+Inf` is what the format
  // document uses (and what `le` must say), so every writer agrees.
  if (std::isnan(value)) {
    out += "NaN";
    return;
  }
  if (std::isinf(value)) {
    out += value > 0 ? "+Inf" : "-Inf";
    return;
  }
  char buf[32];  // the shortest round-trip form of a double needs at most 24
  auto res = std::to_chars(buf, buf + sizeof buf, value);
  AG_ASSERT(res.ec == std::errc{});
  out.append(buf, res.ptr);
}

void append_uint(std::string& out, uint64_t value) {
  char buf[24];
  auto res = std::to_chars(buf, buf + sizeof buf, value);
  AG_ASSERT(res.ec == std::errc{});
  out.append(buf, res.ptr);
}

void append_labels(std::string& out, const std::vector<std::string>& names,
                   const std::vector<std::string>& values, std::string_view extra_name,
                   std::string_view extra_value) {
  AG_ASSERT(names.size() == values.size());
  if (names.empty() && extra_name.empty())
    return;
  out += '{';
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0)
      out += ',';
    text_format_detail::append_label_pair(out, names[i], values[i]);
  }
  if (!extra_name.empty()) {
    if (!names.empty())
      out += ',';
    text_format_detail::append_label_pair(out, extra_name, extra_value);
  }
  out += '}';
}

void append_family_header(std::string& out, std::string_view name, std::string_view help,
                          std::string_view type) {
  out += "# HELP ";
  out += name;
  out += ' ';
  append_escaped_help(out, help);
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

}  // namespace agentgraph::metrics

#include "runtime/config/config_value.hpp"

#include <charconv>
#include <cmath>
#include <limits>

#include "runtime/config/config_text.hpp"
#include "runtime/error.hpp"

namespace agentgraph {

const char* to_string(value_type t) {
  switch (t) {
    case value_type::string: return "string";
    case value_type::path: return "path";
    case value_type::boolean: return "bool";
    case value_type::integer: return "int";
    case value_type::unsigned_integer: return "uint";
    case value_type::number: return "double";
    case value_type::duration: return "duration";
    case value_type::string_list: return "list";
    case value_type::enumeration: return "enum";
    case value_type::uint_map: return "map";
  }
  return "unknown";
}

namespace config_value_detail {

caf::error bad_syntax(std::string_view text, std::string_view expected) {
  return make_error(errc::parse_error,
                    "'" + std::string{text} + "' is not " + std::string{expected});
}

// Compares against the rules' bounds; `shown` is the value as the user
// should read it in the message.
caf::error check_bounds(const value_rules& rules, long double v, const std::string& shown) {
  if (rules.min && v < *rules.min)
    return make_error(errc::invalid_argument,
                      shown + " is below the minimum " + format_bound(rules.type, *rules.min));
  if (rules.max && v > *rules.max)
    return make_error(errc::invalid_argument,
                      shown + " is above the maximum " + format_bound(rules.type, *rules.max));
  return {};
}

caf::expected<bool> parse_bool(std::string_view text) {
  auto t = to_lower(text);
  if (t == "true" || t == "yes" || t == "on" || t == "1")
    return true;
  if (t == "false" || t == "no" || t == "off" || t == "0")
    return false;
  return bad_syntax(text, "a bool (true/false, yes/no, on/off, 1/0)");
}

// from_chars over the whole text: a trailing "abc" or a leading "+" is an
// error rather than silently ignored.
template <class T>
caf::expected<T> parse_number(std::string_view text, std::string_view expected) {
  T v{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec == std::errc::result_out_of_range)
    return text.empty()
               ? bad_syntax(text, expected)
               : make_error(errc::invalid_argument, "'" + std::string{text} + "' is out of range");
  if (ec != std::errc{} || end != text.data() + text.size())
    return bad_syntax(text, expected);
  if constexpr (std::is_floating_point_v<T>)
    if (!std::isfinite(v))
      return bad_syntax(text, expected);
  return v;
}

// "<digits><unit>" with unit ms, s, m or h. A bare number is rejected: in
// a config "30" is as likely meant as seconds as milliseconds, and guessing
// wrong gives a timeout 1000 times too short or too long.
caf::expected<config_duration> parse_duration(std::string_view text) {
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9')
    ++digits;
  auto unit = text.substr(digits);
  if (digits > 0 && unit.empty())
    return make_error(errc::parse_error, "'" + std::string{text} +
                                             "' has no unit; write it with ms, s, m or h "
                                             "(e.g. 30s or 250ms)");
  int64_t factor = unit == "ms"  ? 1
                   : unit == "s" ? 1000
                   : unit == "m" ? 60'000
                   : unit == "h" ? 3'600'000
                                 : 0;
  if (digits == 0 || factor == 0)
    return bad_syntax(text, "a duration (a whole number with unit ms, s, m or h, e.g. 30s)");
  auto n = parse_number<int64_t>(text.substr(0, digits), "a whole number");
  if (!n)
    return std::move(n.error());
  if (*n > std::numeric_limits<int64_t>::max() / factor)
    return make_error(errc::invalid_argument, "'" + std::string{text} + "' is out of range");
  return config_duration{*n * factor};
}

// Builds the result in place inside the variant: returning a config_list
// and converting it trips a false -Wmaybe-uninitialized in g++ 12.
caf::expected<config_value> parse_list(std::string_view text) {
  config_value result{std::in_place_type<config_list>};
  auto& out = std::get<config_list>(result);
  if (text.empty())
    return result;
  for (auto item : split(text, ',')) {
    item = trim(item);
    if (item.empty())
      return make_error(errc::parse_error, "'" + std::string{text} +
                                               "' has an empty item in its comma-separated list");
    if (out.size() == config_list_items_max)
      return make_error(errc::invalid_argument,
                        "list has more than " + std::to_string(config_list_items_max) + " items");
    out.emplace_back(item);
  }
  return result;
}

caf::expected<config_value> parse_uint_map(const value_rules& rules, std::string_view text) {
  config_value result{std::in_place_type<config_uint_map>};
  auto& out = std::get<config_uint_map>(result);
  if (text.empty())
    return result;
  for (auto item : split(text, ',')) {
    item = trim(item);
    auto colon = item.find(':');
    if (colon == std::string_view::npos)
      return bad_syntax(item, "a 'name:number' pair");
    auto name = trim(item.substr(0, colon));
    auto count = trim(item.substr(colon + 1));
    if (name.empty())
      return bad_syntax(item, "a 'name:number' pair");
    auto n = parse_number<uint64_t>(count, "an unsigned integer");
    if (!n)
      return std::move(n.error());
    if (auto err = check_bounds(rules, static_cast<long double>(*n),
                                std::string{name} + ":" + std::to_string(*n)))
      return err;
    if (out.count(std::string{name}) > 0)
      return make_error(errc::invalid_argument, "'" + std::string{name} + "' is listed twice");
    if (out.size() == config_map_entries_max)
      return make_error(errc::invalid_argument,
                        "map has more than " + std::to_string(config_map_entries_max) + " entries");
    out.emplace(std::string{name}, *n);
  }
  return result;
}

caf::expected<config_value> parse_enum(const value_rules& rules, std::string_view text) {
  for (const auto& c : rules.choices)
    if (c == text)
      return config_value{c};
  std::string msg = "'" + std::string{text} + "' is not one of " + join(rules.choices, "|");
  if (auto hint = closest_name(text, rules.choices))
    msg += " (did you mean '" + *hint + "'?)";
  return make_error(errc::invalid_argument, std::move(msg));
}

// Parses numbers and durations, then checks bounds on the parsed value.
template <class T, class Parse>
caf::expected<config_value> parse_bounded(const value_rules& rules, std::string_view text,
                                          Parse parse) {
  auto v = parse(text);
  if (!v)
    return std::move(v.error());
  long double x;
  if constexpr (std::is_same_v<T, config_duration>)
    x = static_cast<long double>(v->count());
  else
    x = static_cast<long double>(*v);
  if (auto err = check_bounds(rules, x, std::string{text}))
    return err;
  return config_value{T{*v}};
}

}  // namespace config_value_detail

caf::expected<config_value> parse_config_value(const value_rules& rules, std::string_view text) {
  using namespace config_value_detail;
  if (text.size() > config_value_bytes_max)
    return make_error(errc::invalid_argument,
                      "value is longer than " + std::to_string(config_value_bytes_max) + " bytes");
  switch (rules.type) {
    case value_type::string:
    case value_type::path: return config_value{std::string{text}};
    case value_type::boolean: {
      auto b = parse_bool(text);
      if (!b)
        return std::move(b.error());
      return config_value{*b};
    }
    case value_type::integer:
      return parse_bounded<int64_t>(
          rules, text, [](std::string_view t) { return parse_number<int64_t>(t, "an integer"); });
    case value_type::unsigned_integer:
      return parse_bounded<uint64_t>(rules, text, [](std::string_view t) {
        return parse_number<uint64_t>(t, "an unsigned integer");
      });
    case value_type::number:
      return parse_bounded<double>(
          rules, text, [](std::string_view t) { return parse_number<double>(t, "a number"); });
    case value_type::duration: return parse_bounded<config_duration>(rules, text, parse_duration);
    case value_type::string_list: return parse_list(text);
    case value_type::enumeration: return parse_enum(rules, text);
    case value_type::uint_map: return parse_uint_map(rules, text);
  }
  return make_error(errc::internal, "unknown value type");
}

std::string format_double(double d) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), d);
  std::string s{buf, ec == std::errc{} ? end : buf};
  if (s.find_first_of(".e") == std::string::npos)
    s += ".0";
  return s;
}

std::string format_duration(config_duration d) {
  auto ms = d.count();
  if (ms != 0 && ms % 3'600'000 == 0)
    return std::to_string(ms / 3'600'000) + "h";
  if (ms != 0 && ms % 60'000 == 0)
    return std::to_string(ms / 60'000) + "m";
  if (ms % 1000 == 0)
    return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

std::string format_bound(value_type type, long double bound) {
  switch (type) {
    case value_type::integer: return std::to_string(static_cast<int64_t>(bound));
    case value_type::number: return format_double(static_cast<double>(bound));
    case value_type::duration: return format_duration(config_duration{static_cast<int64_t>(bound)});
    default: return std::to_string(static_cast<uint64_t>(bound));
  }
}

std::string format_config_value(const config_value& v) {
  struct printer {
    std::string operator()(const std::string& s) const { return s; }
    std::string operator()(bool b) const { return b ? "true" : "false"; }
    std::string operator()(int64_t i) const { return std::to_string(i); }
    std::string operator()(uint64_t u) const { return std::to_string(u); }
    std::string operator()(double d) const { return format_double(d); }
    std::string operator()(config_duration d) const { return format_duration(d); }
    std::string operator()(const config_list& l) const { return join(l, ", "); }
    std::string operator()(const config_uint_map& m) const {
      std::string out;
      for (const auto& [k, n] : m)
        out += (out.empty() ? "" : ", ") + k + ":" + std::to_string(n);
      return out;
    }
  };
  return std::visit(printer{}, v);
}

}  // namespace agentgraph

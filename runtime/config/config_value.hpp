// Typed config values and their text form (ARCHITECTURE §3.6).
//
// Every config value, whether it comes from a file, an environment variable
// or the command line, is text first. This header turns that text into one
// of a few typed values, checking the type's syntax, the key's bounds and
// the enum's choices, and prints values back in the same syntax (used for
// defaults in `agentgraph config schema` and configs/reference.ini).
//
// Pure code: no CAF actors, no I/O.
#pragma once

#include <caf/expected.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace agentgraph {

// The kinds of value a key can hold. `path` is a string that resolves
// against the config file's directory; `enumeration` is a string restricted
// to the key's choices. Both are stored as std::string.
enum class value_type : uint8_t {
  string,
  path,
  boolean,
  integer,           // int64
  unsigned_integer,  // uint64
  number,            // double
  duration,          // "250ms", "30s", "5m", "2h"
  string_list,       // "a, b, c"
  enumeration,       // one of the key's choices
  uint_map,          // "kind:limit, kind:limit"
};

// "string", "path", "bool", "int", "uint", "double", "duration", "list",
// "enum", "map": the names printed by describe_schema.
[[nodiscard]] const char* to_string(value_type t);

using config_duration = std::chrono::milliseconds;
using config_list = std::vector<std::string>;
using config_uint_map = std::map<std::string, uint64_t>;
using config_value = std::variant<std::string, bool, int64_t, uint64_t, double, config_duration,
                                  config_list, config_uint_map>;

// Limits on a single value. Lines are already bounded by the INI parser;
// these bound what one value can expand into.
constexpr size_t config_value_bytes_max = 4096;  // longer values are rejected
constexpr size_t config_list_items_max = 256;    // longer lists are rejected
constexpr size_t config_map_entries_max = 256;   // larger maps are rejected

// What a value must satisfy: its type, optional inclusive bounds and, for
// enumerations, the allowed words. Bounds are in the type's unit: the value
// itself for numbers, milliseconds for durations, each value for uint maps.
// long double holds every int64/uint64 bound exactly.
struct value_rules {
  value_type type = value_type::string;
  std::optional<long double> min;
  std::optional<long double> max;
  std::vector<std::string> choices;
};

// Parses `text` (already trimmed) as `rules.type` and checks bounds and
// choices. The error (parse_error for bad syntax, invalid_argument for a
// well-formed value outside the rules) says what is wrong with the value but
// not where it came from; callers prefix the origin, section and key.
[[nodiscard]] caf::expected<config_value> parse_config_value(const value_rules& rules,
                                                             std::string_view text);

// Prints a value in the syntax parse_config_value accepts, so that
// parse(format(v)) == v. Durations use the largest exact unit ("90s", not
// "1m30s", which the parser does not accept).
[[nodiscard]] std::string format_config_value(const config_value& v);

// Prints a bound in the unit of `type` ("2.0", "64", "250ms").
[[nodiscard]] std::string format_bound(value_type type, long double bound);

// Doubles print in shortest round-trip form with at least one decimal
// ("2.0", "0.25") so they cannot be mistaken for integers.
[[nodiscard]] std::string format_double(double d);

[[nodiscard]] std::string format_duration(config_duration d);

}  // namespace agentgraph

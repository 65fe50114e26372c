// Small text helpers shared by the config parser, resolver and printer.
// Pure functions over string_views; nothing here allocates more than its
// result.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace agentgraph {

// Strips ASCII spaces, tabs, CR and LF at both ends.
[[nodiscard]] std::string_view trim(std::string_view s);

// Splits at every `sep`; "a,,b" gives three parts, "" gives one empty part.
[[nodiscard]] std::vector<std::string_view> split(std::string_view s, char sep);

[[nodiscard]] std::string to_lower(std::string_view s);

[[nodiscard]] std::string join(const std::vector<std::string>& parts, std::string_view sep);

// The candidate closest to `name` by edit distance, if it is close enough to
// be a plausible typo (at most 2 edits, and fewer than half the letters).
// Used for "did you mean" hints on unknown sections, keys and enum words.
[[nodiscard]] std::optional<std::string> closest_name(std::string_view name,
                                                      const std::vector<std::string>& candidates);

// Whether a key's values are secrets: a '_'-separated part of its name is
// key, apikey, token, secret, password, passwd or credential(s). Names
// ending in "_env" hold a variable's name, not its value, and are not.
[[nodiscard]] bool secret_like_name(std::string_view key);

// Whether a value looks like a credential whatever its key: a vendor key
// prefix (sk-, sk_, ghp_, xox?-, AIza), a URL with a password
// (scheme://user:pass@host), or a run of at least secret_run_chars_min
// token characters [A-Za-z0-9_+=-] mixing letters and digits.
constexpr size_t secret_run_chars_min = 24;
[[nodiscard]] bool secret_like_value(std::string_view value);

// `value` itself, or "<redacted>" when the key or the value looks secret:
// what an error message may print of a config value.
[[nodiscard]] std::string shown_value(std::string_view key, std::string_view value);

}  // namespace agentgraph

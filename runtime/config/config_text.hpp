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

}  // namespace agentgraph

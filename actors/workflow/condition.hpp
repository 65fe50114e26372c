// Conditions of conditional edges: one comparison over the workflow state,
// parsed once when the workflow is loaded (so a typo is a load error naming
// the edge, not a failed run an hour later) and evaluated after each step.
//
//   score >= 0.8          review.verdict == "approve"      exists draft
//   tries < 3             tags contains "urgent"           not exists error
//   approved              (a bare path: true when present and truthy)
//
// A path is dot-separated object keys. Literals: numbers, "strings" (with
// \" and \\ escapes), true, false, null. Numbers compare numerically (int
// and double alike); other kinds compare only for (in)equality. A missing
// path is null. `contains` is substring for strings and element equality
// for arrays.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <caf/expected.hpp>

#include "runtime/value.hpp"

namespace agentgraph {

// Longest condition text and deepest path accepted.
constexpr size_t condition_text_max = 512;
constexpr size_t condition_path_depth_max = 16;

enum class condition_op : uint8_t { truthy, exists, not_exists, eq, ne, lt, le, gt, ge, contains };

struct condition {
  condition_op op = condition_op::truthy;
  std::vector<std::string> path;
  Value literal;
  std::string text;  // as written, for messages and events
};

// Errors: invalid_argument naming the problem and its column.
[[nodiscard]] caf::expected<condition> parse_condition(std::string_view text);

// The value at `path` in `state`, or nullptr.
[[nodiscard]] const Value* lookup_path(const Value& state, const std::vector<std::string>& path);

[[nodiscard]] bool evaluate(const condition& c, const Value& state);

}  // namespace agentgraph

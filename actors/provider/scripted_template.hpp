// Reply templates of the `scripted` provider. A template is text with
// `{{placeholder}}` holes filled from the conversation being answered:
//
//   {{user}}                   the last user message
//   {{match.N}}                capture N of the rule's when.user_regex
//   {{tool_match.N}}           capture N of the rule's when.tool_result_regex
//   {{tool_output}}            content of the most recent tool message
//   {{tool_output.<path>}}     a field of that content parsed as JSON
//   {{tool.<name>}}            content of the most recent result of tool <name>
//   {{tool.<name>.<path>}}     a field of it, parsed as JSON
//   {{memory}}                 the memory block of the system prompt (see
//                              extract_memory in scripted_answer.hpp)
//
// <path> is one or more field names separated by '.'; a segment made of
// digits indexes an array. Templates are parsed when the rules file loads,
// so an unknown placeholder is a load error, never a surprise mid-task.
// Rendering is pure: the context below is all it reads.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <caf/expected.hpp>

#include "runtime/value.hpp"

namespace agentgraph {

// Capture groups addressable as {{match.N}} / {{tool_match.N}}.
constexpr int scripted_capture_index_max = 9;
// Bytes of one template's source text; longer text is a load error.
constexpr size_t scripted_template_bytes_max = 64 * 1024;
// Segments of a template path ({{tool_output.a.b.c}} has 3).
constexpr size_t scripted_path_segments_max = 8;

// One tool message of the conversation: which tool produced it, what it said.
struct scripted_tool_result {
  std::string name;
  std::string content;
};

// Everything a template may read. Absent optionals mean "the conversation
// has no such thing"; rendering a placeholder that needs it is an error
// (except {{memory}}, which renders empty, and regex groups that did not
// take part in the match, which render empty as in ECMAScript).
struct scripted_context {
  std::optional<std::string> user;
  std::optional<scripted_tool_result> last_tool;
  std::vector<scripted_tool_result> tool_results;  // in conversation order
  std::string memory;
  // Index 0 is the whole match; nullopt for groups that did not participate.
  std::vector<std::optional<std::string>> match;
  std::vector<std::optional<std::string>> tool_match;
};

enum class scripted_slot : uint8_t {
  literal,
  user,
  match,
  tool_match,
  tool_output,
  tool,
  memory
};

struct scripted_segment {
  scripted_slot slot = scripted_slot::literal;
  std::string text;               // literal text, or the placeholder as written
  std::string tool_name;          // for `tool`
  int index = 0;                  // capture index for match / tool_match
  std::vector<std::string> path;  // field path for tool_output / tool
};

class scripted_template {
 public:
  // Errors: invalid_argument describing the bad placeholder (the caller
  // prefixes which rule and field it came from).
  [[nodiscard]] static caf::expected<scripted_template> parse(std::string_view source);

  // Errors: provider_error naming the placeholder that has no value in
  // this conversation (no user message, no tool result, missing field).
  [[nodiscard]] caf::expected<std::string> render(const scripted_context& ctx) const;

  [[nodiscard]] const std::string& source() const { return source_; }
  [[nodiscard]] const std::vector<scripted_segment>& segments() const { return segments_; }
  // Highest N used in {{match.N}} / {{tool_match.N}}, or -1 when unused;
  // the rules loader checks them against the regexes' group counts.
  [[nodiscard]] int match_index_max() const;
  [[nodiscard]] int tool_match_index_max() const;

 private:
  std::string source_;
  std::vector<scripted_segment> segments_;
};

// How a JSON value appears inside rendered text: strings raw (no quotes),
// integers and integral doubles below 2^53 without a fraction (a calculator's
// 1000.0 reads "1000"), other numbers, booleans and null as JSON, arrays
// and objects as compact JSON.
[[nodiscard]] std::string render_value(const Value& v);

// Follows `path` through `content` parsed as JSON. Errors: provider_error
// when the content is not JSON or the path does not exist.
[[nodiscard]] caf::expected<Value> select_json_path(std::string_view content,
                                                    const std::vector<std::string>& path);

}  // namespace agentgraph

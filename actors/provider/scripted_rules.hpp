// The rules file of the embedded `scripted` provider: the deterministic
// "model" that lets agentgraph run offline. A rules file is JSON (format in
// actors/provider/README.md): an ordered list of rules, each a set of
// conditions on the conversation (`when`) and the answer to give when they
// all hold, plus an optional `default` answer. The first matching rule wins.
//
// Loading validates everything it can up front (unknown fields, bad types,
// bad regexes, unknown template placeholders, captures the regex does not
// have, out-of-range limits), so a bad file fails at startup with a message
// naming the rule and field, never in the middle of a task.
//
// A loaded scripted_rules is immutable; actors share it by
// shared_ptr<const scripted_rules> (std::regex matching is const and
// thread-safe).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include <caf/expected.hpp>

#include "actors/provider/provider_interface.hpp"
#include "actors/provider/scripted_embeddings.hpp"
#include "actors/provider/scripted_template.hpp"
#include "runtime/value.hpp"

namespace agentgraph {

// Rules per file; more is a load error (first-match scanning is linear).
constexpr size_t scripted_rules_max = 1000;
// Size of a rules file; larger files are refused before parsing.
constexpr size_t scripted_rules_file_bytes_max = 4 * 1024 * 1024;
// Upper bound of a rule's delay_ms.
constexpr int64_t scripted_delay_ms_max = 60'000;
// Tool calls one rule may emit.
constexpr size_t scripted_tool_calls_per_rule_max = 16;
// Alternatives in one *_contains array.
constexpr size_t scripted_alternatives_max = 64;
// Length of one regex pattern.
constexpr size_t scripted_regex_pattern_bytes_max = 1024;
// A regex sees at most this many leading bytes of its subject: libstdc++'s
// std::regex recurses per character and could overflow an actor thread's
// stack on a huge tool output. Put the text a rule looks for near the start.
constexpr size_t scripted_regex_subject_bytes_max = 8 * 1024;
// Upper bound of a `usage` override.
constexpr int64_t scripted_usage_tokens_max = 100'000'000;

enum class scripted_last_role : uint8_t { any, user, tool };

struct scripted_regex {
  std::string pattern;
  std::regex re;         // ECMAScript
  size_t groups = 0;     // capture groups in the pattern (re.mark_count())
};

// All conditions must hold; an empty/unset condition always holds.
struct scripted_conditions {
  std::string agent;                         // marker text inside a system message
  std::vector<std::string> user_contains;    // lowercased alternatives, any may match
  std::optional<scripted_regex> user_regex;  // searched in the last user message
  scripted_last_role last_role = scripted_last_role::any;
  std::string after_tool;  // the last message is a result of this tool
  // The most recent tool message's content is a JSON object with this
  // field path; tool_result_contains / tool_result_regex then look at that
  // field instead of the whole content.
  std::vector<std::string> tool_result_field;
  std::vector<std::string> tool_result_contains;  // lowercased alternatives
  std::optional<scripted_regex> tool_result_regex;
  std::vector<std::string> context_contains;  // lowercased, any message
};

struct scripted_tool_call_spec {
  std::string name;
  // A JSON object; every string inside it is a template, validated at load.
  Value arguments;
};

// What to answer. Exactly one of: text and/or tool calls, or an error.
struct scripted_reply_spec {
  std::optional<scripted_template> text;
  std::vector<scripted_tool_call_spec> tool_calls;
  std::optional<finish_reason> finish;  // unset: tool_calls if calling tools, else stop
  std::chrono::milliseconds delay{0};
  std::optional<scripted_template> error;  // reply provider_error with this text
  std::optional<int64_t> prompt_tokens;      // usage overrides
  std::optional<int64_t> completion_tokens;
};

struct scripted_rule {
  std::string name;
  scripted_conditions when;
  scripted_reply_spec reply;
};

struct scripted_rules {
  std::string origin;  // file path or caller-given label, used in messages
  std::vector<scripted_rule> rules;
  std::optional<scripted_reply_spec> fallback;  // the file's `default`
  // The file's `embeddings`: answers every embedding model but hash-<dim>.
  std::optional<scripted_embedding_space> embeddings;
};

// Errors: parse_error (not JSON, with `origin`), invalid_argument naming
// `origin`, the rule as rules[<index>] ("<name>") and the field.
[[nodiscard]] caf::expected<scripted_rules> parse_scripted_rules(std::string_view json_text,
                                                                 std::string origin);

// Reads and parses the file. Blocking file I/O: call it from setup code,
// never from an actor handler. Errors: as parse_scripted_rules, io_error
// when the file cannot be read, invalid_argument when it exceeds
// scripted_rules_file_bytes_max.
[[nodiscard]] caf::expected<scripted_rules> load_scripted_rules(const std::string& path);

}  // namespace agentgraph

// What a cluster node's gateway stores in the task journal
// (runtime/journal/) per task and per answer: JSON text, so a journal file
// can be read by people and tools. The task: {"agent","input","context"};
// the answer: {"http_status","body"} (the body a client gets). Stored bytes
// are checked when read back (a journal is a file anyone may edit):
// decoding never trusts them (tests/fuzz/task_journal_codec_fuzz.cpp).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <caf/expected.hpp>

#include "actors/agent/agent_interface.hpp"
#include "runtime/journal/task_journal.hpp"
#include "runtime/value.hpp"

namespace agentgraph {

[[nodiscard]] std::vector<uint8_t> journal_payload(const std::string& agent,
                                                   const task_request& task);
// The agent and the task of `r` (task id from the record). Errors:
// parse_error (not a JSON object, no string agent or input).
[[nodiscard]] caf::expected<std::pair<std::string, task_request>>
journal_task_of(const journal_record& r);

[[nodiscard]] std::vector<uint8_t> journal_answer(int http_status, const Value& body);
// The stored answer of `r`. Errors: parse_error (not a JSON object, no
// integer http_status in 100-599, no body).
[[nodiscard]] caf::expected<std::pair<int, Value>> journal_answer_of(const journal_record& r);

}  // namespace agentgraph

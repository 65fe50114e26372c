// The pure part of an agent: building the messages for a model call, keeping
// the bounded conversation history, and accounting for the bytes it holds.
// No CAF here, so every rule is table-tested without an actor system.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "actors/agent/agent_config.hpp"
#include "actors/agent/agent_interface.hpp"
#include "actors/memory/memory_interface.hpp"
#include "actors/provider/provider_interface.hpp"
#include "actors/tool/tool_interface.hpp"

namespace agentgraph {

// The line that introduces recalled memory in the system message. Providers
// (the scripted one's {{memory}} template) rely on it: the memory block runs
// from this line to the next blank line.
inline constexpr const char* memory_block_header = "Relevant memory:";

// One finished exchange kept for later tasks.
struct conversation_turn {
  std::string user;
  std::string assistant;
};

// Conversation kept between tasks, bounded by turns_max (the agent's
// history_window). Oldest turns go first. A ring in a vector that is
// allocated on the first turn: an agent that never ran a task holds no
// heap for it (a std::deque allocates about 600 bytes when constructed,
// which at a million idle agents is 600 MB).
class conversation_history {
 public:
  explicit conversation_history(size_t turns_max) : turns_max_(turns_max) {}
  void add(conversation_turn turn);
  [[nodiscard]] size_t size() const { return turns_.size(); }
  // i = 0 is the oldest turn kept.
  [[nodiscard]] const conversation_turn& at(size_t i) const;
  [[nodiscard]] size_t heap_bytes() const;

 private:
  size_t turns_max_;
  std::vector<conversation_turn> turns_;  // at most turns_max_, a ring once full
  size_t oldest_ = 0;                     // index of the oldest turn once full
};

// System prompt, then the memory block if anything was recalled, then the
// history as user/assistant pairs, then the task (with its context as JSON).
[[nodiscard]] std::vector<chat_message> build_initial_messages(
  const agent_config& cfg, const conversation_history& history,
  const std::vector<memory_hit>& recalled, const task_request& task);

// The text stored in the memory shard after a task.
[[nodiscard]] std::string interaction_memory_text(const task_request& task,
                                                  const std::string& answer);

// The content of the tool message that answers a call: the output as JSON,
// or {"error": "..."} so the model learns that the call failed and why.
[[nodiscard]] std::string tool_message_content(const caf::expected<tool_result>& result);

// Heap bytes of a message list (strings and Values), for memory accounting.
[[nodiscard]] size_t heap_bytes(const std::vector<chat_message>& messages);

}  // namespace agentgraph

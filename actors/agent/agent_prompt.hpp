// The pure part of an agent: building the messages for a model call, keeping
// the bounded conversation history, and accounting for the bytes it holds.
// No CAF here, so every rule is table-tested without an actor system.
#pragma once

#include <deque>
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
// history_window). Oldest turns go first.
class conversation_history {
 public:
  explicit conversation_history(size_t turns_max) : turns_max_(turns_max) {}
  void add(conversation_turn turn);
  [[nodiscard]] const std::deque<conversation_turn>& turns() const { return turns_; }
  [[nodiscard]] size_t heap_bytes() const;

 private:
  size_t turns_max_;
  std::deque<conversation_turn> turns_;
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

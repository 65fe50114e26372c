#include "actors/agent/agent_prompt.hpp"

#include "runtime/assert.hpp"
#include "runtime/error.hpp"

namespace agentgraph {

namespace agent_prompt_detail {

size_t string_heap(const std::string& s) {
  return s.capacity() > 15 ? s.capacity() + 1 : 0;
}

}  // namespace agent_prompt_detail

void conversation_history::add(conversation_turn turn) {
  if (turns_max_ == 0)
    return;
  if (turns_.size() < turns_max_) {
    if (turns_.empty())
      turns_.reserve(turns_max_);
    turns_.push_back(std::move(turn));
    return;
  }
  AG_ASSERT(turns_.size() == turns_max_ && oldest_ < turns_max_);
  turns_[oldest_] = std::move(turn);
  oldest_ = (oldest_ + 1) % turns_max_;
}

const conversation_turn& conversation_history::at(size_t i) const {
  AG_ASSERT(i < turns_.size());
  return turns_[(oldest_ + i) % turns_.size()];
}

size_t conversation_history::heap_bytes() const {
  size_t total = turns_.capacity() * sizeof(conversation_turn);
  for (const auto& t : turns_)
    total += agent_prompt_detail::string_heap(t.user) + agent_prompt_detail::string_heap(t.assistant);
  return total;
}

std::vector<chat_message> build_initial_messages(const agent_config& cfg,
                                                 const conversation_history& history,
                                                 const std::vector<memory_hit>& recalled,
                                                 const task_request& task) {
  std::vector<chat_message> out;
  // System, two per turn, the task; a tool round appends to it later.
  out.reserve(2 * history.size() + 4);
  std::string system = cfg.system_prompt;
  if (!recalled.empty()) {
    if (!system.empty())
      system += "\n\n";
    system += memory_block_header;
    for (const auto& hit : recalled) {
      system += "\n- ";
      system += hit.entry.text;
    }
    system += "\n";
  }
  if (!system.empty())
    out.push_back({chat_role::system, std::move(system), {}, {}, {}});
  for (size_t i = 0; i < history.size(); ++i) {
    const auto& turn = history.at(i);
    out.push_back({chat_role::user, turn.user, {}, {}, {}});
    out.push_back({chat_role::assistant, turn.assistant, {}, {}, {}});
  }
  std::string user = task.input;
  if (!task.context.is_null()) {
    user += "\n\nContext: ";
    user += task.context.to_json();
  }
  out.push_back({chat_role::user, std::move(user), {}, {}, {}});
  return out;
}

std::string interaction_memory_text(const task_request& task, const std::string& answer) {
  return "Task: " + task.input + "\nAnswer: " + answer;
}

std::string tool_message_content(const caf::expected<tool_result>& result) {
  if (result)
    return result->output.to_json();
  Value err = Value::object();
  err["error"] = describe(result.error());
  return err.to_json();
}

size_t heap_bytes(const std::vector<chat_message>& messages) {
  using agent_prompt_detail::string_heap;
  size_t total = messages.capacity() * sizeof(chat_message);
  for (const auto& m : messages) {
    total += string_heap(m.content) + string_heap(m.tool_call_id) + string_heap(m.name);
    total += m.tool_calls.capacity() * sizeof(tool_call);
    for (const auto& c : m.tool_calls)
      total += string_heap(c.id) + string_heap(c.name) + c.arguments.heap_bytes();
  }
  return total;
}

}  // namespace agentgraph

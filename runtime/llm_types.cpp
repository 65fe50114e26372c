#include "runtime/llm_types.hpp"

namespace agentgraph {

const char* to_string(chat_role r) {
  switch (r) {
    case chat_role::system: return "system";
    case chat_role::user: return "user";
    case chat_role::assistant: return "assistant";
    case chat_role::tool: return "tool";
  }
  return "unknown";
}

const char* to_string(finish_reason r) {
  switch (r) {
    case finish_reason::stop: return "stop";
    case finish_reason::tool_calls: return "tool_calls";
    case finish_reason::length: return "length";
  }
  return "unknown";
}

}  // namespace agentgraph

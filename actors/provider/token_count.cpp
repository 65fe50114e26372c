#include "actors/provider/token_count.hpp"

namespace agentgraph {

namespace token_count_detail {

bool is_word_byte(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'
         || c >= 0x80;
}

bool is_space_byte(unsigned char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

}  // namespace token_count_detail

int64_t count_text_tokens(std::string_view text) {
  using namespace token_count_detail;
  int64_t tokens = 0;
  int64_t run = 0;
  auto close_run = [&] {
    tokens += (run + word_chars_per_token - 1) / word_chars_per_token;
    run = 0;
  };
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    if (is_word_byte(c)) {
      ++run;
      continue;
    }
    close_run();
    if (!is_space_byte(c))
      ++tokens;
  }
  close_run();
  return tokens;
}

int64_t count_tool_call_tokens(const tool_call& call) {
  return count_text_tokens(call.name) + count_text_tokens(call.arguments.to_json());
}

int64_t count_prompt_tokens(const chat_request& req) {
  int64_t tokens = 0;
  for (const auto& msg : req.messages) {
    tokens += message_overhead_tokens + count_text_tokens(msg.content)
              + count_text_tokens(msg.name);
    for (const auto& call : msg.tool_calls)
      tokens += count_tool_call_tokens(call);
  }
  for (const auto& tool : req.tools)
    tokens += count_text_tokens(tool.name) + count_text_tokens(tool.description)
              + count_text_tokens(tool.parameters.to_json());
  return tokens;
}

int64_t count_completion_tokens(const chat_message& reply) {
  int64_t tokens = count_text_tokens(reply.content);
  for (const auto& call : reply.tool_calls)
    tokens += count_tool_call_tokens(call);
  return tokens;
}

}  // namespace agentgraph

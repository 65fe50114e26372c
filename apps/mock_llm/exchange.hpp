// The vendor-neutral middle of one exchange: each wire format parses its
// request into a chat_request and renders a reply from the same `reply`, so
// the rules and faults are written once and every vendor answers alike.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "scenario.hpp"

namespace agentgraph::mock_llm {

// A request the mock refuses, rendered in the vendor's error JSON. `param`
// names the offending field (OpenAI reports it separately; the others put it
// in the message).
struct wire_error {
  int status = 400;
  std::string message;
  std::string param;
  std::string code;  // OpenAI's `code`, e.g. "invalid_api_key"; optional
};

struct chat_request {
  conversation conv;
  bool stream = false;
  bool include_usage = false;  // OpenAI stream_options.include_usage
  bool sse = true;             // Gemini: alt=sse; false streams a JSON array
};

struct tool_call {
  std::string id;
  std::string name;
  std::string arguments_json;  // compact JSON object text
};

struct usage {
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
};

struct reply {
  std::string id;  // response id, derived from the seed and the request number
  std::string text;
  std::vector<tool_call> tool_calls;
  usage use;
  uint32_t chunk_chars = 8;
  int64_t created_unix = 0;
};

// Parse outcome: `error` is set exactly when the request is refused.
struct parsed_chat {
  chat_request req;
  std::optional<wire_error> error;
};

struct embed_request {
  conversation conv;
  std::vector<std::string> inputs;
  uint32_t dimensions = 0;  // 0: the scenario's
  bool base64 = false;      // OpenAI encoding_format
};

struct parsed_embed {
  embed_request req;
  std::optional<wire_error> error;
};

}  // namespace agentgraph::mock_llm

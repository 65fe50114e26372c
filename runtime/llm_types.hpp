// The messages LLM providers exchange: chat messages with roles, tool
// definitions and tool calls, token usage, streamed chunks and embeddings.
// They live in runtime/ because both sides use them: the wire codecs in
// net/ encode and decode them, the provider and agent actors in actors/ send
// them. The typed interface itself is actors/provider/provider_interface.hpp.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/meta/type_name.hpp>

#include "runtime/value.hpp"

namespace agentgraph {

enum class chat_role : uint8_t { system, user, assistant, tool };
[[nodiscard]] const char* to_string(chat_role r);

// A model's request to run a tool. `id` pairs the call with its result.
struct tool_call {
  std::string id;
  std::string name;
  Value arguments;  // a JSON object, as the model produced it
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, tool_call& x) {
  return f(caf::meta::type_name("agentgraph::tool_call"), x.id, x.name, x.arguments);
}

struct chat_message {
  chat_role role = chat_role::user;
  std::string content;
  std::vector<tool_call> tool_calls;  // assistant messages only
  std::string tool_call_id;           // tool messages only: which call this answers
  std::string name;                   // tool messages: the tool's name
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, chat_message& x) {
  return f(caf::meta::type_name("agentgraph::chat_message"), x.role, x.content, x.tool_calls,
           x.tool_call_id, x.name);
}

// What the model is told about a tool: name, description and a JSON Schema
// object for its parameters.
struct tool_definition {
  std::string name;
  std::string description;
  Value parameters;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, tool_definition& x) {
  return f(caf::meta::type_name("agentgraph::tool_definition"), x.name, x.description,
           x.parameters);
}

struct token_usage {
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  [[nodiscard]] int64_t total() const { return prompt_tokens + completion_tokens; }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, token_usage& x) {
  return f(caf::meta::type_name("agentgraph::token_usage"), x.prompt_tokens, x.completion_tokens);
}

struct chat_request {
  std::string request_id;  // unique per call; cancellation and logs refer to it
  std::string model;
  std::vector<chat_message> messages;
  std::vector<tool_definition> tools;
  double temperature = 0.5;
  int32_t max_tokens = 1024;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, chat_request& x) {
  return f(caf::meta::type_name("agentgraph::chat_request"), x.request_id, x.model, x.messages,
           x.tools, x.temperature, x.max_tokens);
}

enum class finish_reason : uint8_t { stop, tool_calls, length };
[[nodiscard]] const char* to_string(finish_reason r);

struct chat_response {
  chat_message message;  // role assistant; content and/or tool_calls
  token_usage usage;
  finish_reason finish = finish_reason::stop;
  std::string model;  // the model that actually answered
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, chat_response& x) {
  return f(caf::meta::type_name("agentgraph::chat_response"), x.message, x.usage, x.finish,
           x.model);
}

// One piece of a streamed answer, sent to the caller's stream sink as it
// arrives. The final chat_response is still the reply to the request.
struct stream_chunk {
  std::string request_id;
  std::string delta_text;
  std::vector<tool_call> tool_calls;  // complete calls, once the model finished one
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, stream_chunk& x) {
  return f(caf::meta::type_name("agentgraph::stream_chunk"), x.request_id, x.delta_text,
           x.tool_calls);
}

struct embed_request {
  std::string model;
  std::vector<std::string> inputs;
  // Length of each vector, for models that can shorten theirs (OpenAI
  // `dimensions`, Gemini `outputDimensionality`); 0: the model's own.
  uint32_t dimensions = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, embed_request& x) {
  return f(caf::meta::type_name("agentgraph::embed_request"), x.model, x.inputs, x.dimensions);
}

struct embed_response {
  std::vector<std::vector<float>> vectors;  // one per input, same order
  token_usage usage;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, embed_response& x) {
  return f(caf::meta::type_name("agentgraph::embed_response"), x.vectors, x.usage);
}

}  // namespace agentgraph

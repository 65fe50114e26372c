// Names of the enums declared in the provider config header; the parse
// function is the inverse, used by tests and tools that take a kind as text.
#include "actors/provider/provider_config.hpp"

namespace agentgraph {

const char* to_string(provider_kind k) {
  switch (k) {
    case provider_kind::scripted: return "scripted";
    case provider_kind::openai: return "openai";
    case provider_kind::anthropic: return "anthropic";
    case provider_kind::gemini: return "gemini";
    case provider_kind::openrouter: return "openrouter";
    case provider_kind::openai_compatible: return "openai_compatible";
    case provider_kind::replay: return "replay";
  }
  return "unknown";
}

bool is_http_kind(provider_kind k) {
  switch (k) {
    case provider_kind::scripted:
    case provider_kind::replay: return false;
    case provider_kind::openai:
    case provider_kind::anthropic:
    case provider_kind::gemini:
    case provider_kind::openrouter:
    case provider_kind::openai_compatible: return true;
  }
  return false;
}

const char* to_string(replay_on_miss m) {
  switch (m) {
    case replay_on_miss::error: return "error";
    case replay_on_miss::scripted: return "scripted";
  }
  return "unknown";
}

const char* to_string(replay_timing t) {
  switch (t) {
    case replay_timing::recorded: return "recorded";
    case replay_timing::none: return "none";
  }
  return "unknown";
}

std::optional<provider_kind> parse_provider_kind(std::string_view word) {
  for (auto k : provider_kinds)
    if (word == to_string(k))
      return k;
  return std::nullopt;
}

}  // namespace agentgraph

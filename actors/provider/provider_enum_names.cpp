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

// Constructors of the three wire formats, for make_wire_codec only. Each
// takes settings that make_wire_codec already completed and checked.
#pragma once

#include <memory>

#include "net/llm/wire_codec.hpp"

namespace agentgraph::wire {

// openai, openrouter and openai_compatible: one codec, different settings.
[[nodiscard]] std::unique_ptr<wire_codec> make_openai_codec(wire_settings s, wire_limits l);
[[nodiscard]] std::unique_ptr<wire_codec> make_anthropic_codec(wire_settings s, wire_limits l);
[[nodiscard]] std::unique_ptr<wire_codec> make_gemini_codec(wire_settings s, wire_limits l);

}  // namespace agentgraph::wire

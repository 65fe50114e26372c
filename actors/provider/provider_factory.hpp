// Builds the provider actor a [provider.<name>] section describes. Each kind
// keeps its own construction here, behind one function, so agents and the
// node only ever see a provider_actor.
#pragma once

#include <array>
#include <string_view>

#include <caf/actor_system.hpp>
#include <caf/expected.hpp>

#include "actors/provider/provider_config.hpp"
#include "actors/provider/provider_interface.hpp"

namespace agentgraph {

// Every kind the config may name. Only `scripted` is built in this version;
// the others are reserved for the HTTP providers of a later issue.
inline constexpr std::array<std::string_view, 6> provider_kinds = {
  "scripted", "openai", "anthropic", "gemini", "openrouter", "openai_compatible"};

// Spawns the provider. Reads the scripted rules file synchronously: call it
// from setup code (node start, Runtime construction, tests), never from an
// actor handler.
// Errors: invalid_argument (unknown kind, listing the known ones; scripted
// without `rules`), unsupported (a known kind not built yet), and the errors
// of load_scripted_rules (io_error, parse_error, invalid_argument).
[[nodiscard]] caf::expected<provider_actor> spawn_provider(caf::actor_system& sys,
                                                           const provider_config& cfg);

}  // namespace agentgraph

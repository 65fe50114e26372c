// Builds tool actors from their [tool.<name>] config: validates the config
// (every error names the tool and the key), spawns the built-in for `kind`
// and wraps it in the caching tool when `cache` is set. Construction stays
// with each tool kind (calculator_tool.hpp, file_read_tool.hpp, ...); this
// file only dispatches.
#pragma once

#include <memory>

#include <caf/actor_system.hpp>
#include <caf/expected.hpp>

#include "runtime/supervised_ref.hpp"
#include "actors/agent/agent_interface.hpp"
#include "actors/tool/tool_config.hpp"
#include "actors/tool/tool_interface.hpp"
#include "runtime/cache/multi_level_cache.hpp"
#include "runtime/metrics/registry.hpp"

namespace agentgraph {

// Longest tool name: the limit OpenAI-style function names have, and the
// names are shown to every provider.
constexpr size_t tool_name_chars_max = 64;

// Checks `cfg` for its kind. Errors: invalid_argument naming the tool and
// the key (bad name, unknown kind, cache on a non-deterministic tool,
// missing or non-directory root, empty allowed_hosts, non-positive limits).
[[nodiscard]] caf::error validate_tool_config(const tool_config& cfg);

// The spec a tool built from `cfg` shows the model, computed without
// spawning anything: what the spawned tool (spawn_tool, or spawn_agent_tool
// for kind agent; wrapped in the caching tool when `cache` is set, which
// answers describe with the inner kind's spec unchanged) replies to
// describe_atom, named cfg.name as runtime_builder::add_tool names it. A
// node that does not build a pinned tool (actors/host/placement.hpp) still
// knows its spec this way. Errors: those of validate_tool_config, and for
// kind agent an empty `agent` (as spawn_agent_tool refuses it).
[[nodiscard]] caf::expected<tool_spec> tool_spec_of(const tool_config& cfg);

// Spawns calculator, file_read or http_get. Errors: those of
// validate_tool_config; invalid_argument for kind "agent" (use
// spawn_agent_tool, which needs the target agent's handle). `registry`:
// where the tool records its metrics (tool_metrics.hpp); null: nowhere.
// `tiers`: the process's shared cache levels (L2, Redis L3) behind a cached
// tool's own L1 (cache::make_cache_tiers from the [cache] section, made
// once per process); empty: the tool caches in its L1 only.
[[nodiscard]] caf::expected<tool_actor> spawn_tool(
  caf::actor_system& sys, const tool_config& cfg,
  std::shared_ptr<metrics::registry> registry = nullptr, cache::cache_tiers tiers = {});

// Spawns an agent tool that forwards its `task` to `target`. Errors: those
// of validate_tool_config; invalid_argument when `target` is invalid or
// cfg.kind is not "agent".
[[nodiscard]] caf::expected<tool_actor> spawn_agent_tool(
  caf::actor_system& sys, const tool_config& cfg, dep<agent_actor> target,
  std::shared_ptr<metrics::registry> registry = nullptr);

}  // namespace agentgraph

// The file_read built-in: {"path": string} relative to a configured root in,
// {"path", "bytes", "content"} out. Everything outside the root is refused
// with sandbox_violation, including escapes through symlinks. Reading blocks,
// so each call runs on a detached worker (blocking_tool.hpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include <caf/actor_system.hpp>
#include <caf/expected.hpp>

#include "actors/tool/tool_config.hpp"
#include "actors/tool/tool_interface.hpp"
#include "actors/tool/tool_metrics.hpp"

namespace agentgraph {

// Longer `path` arguments are refused (invalid_argument); Linux's PATH_MAX.
constexpr size_t file_read_path_chars_max = 4096;

[[nodiscard]] tool_spec file_read_spec(const std::string& name);

// The lexical checks, done before touching the file system. Returns the
// path normalised ("a/./b" -> "a/b"). Errors: invalid_argument (empty or
// longer than file_read_path_chars_max); sandbox_violation (NUL byte,
// absolute path, any ".." component).
[[nodiscard]] caf::expected<std::filesystem::path> check_relative_path(std::string_view path);

// Whether `path` equals `root` or lies below it, comparing whole components
// ("/srv/ab" is not below "/srv/a"). Both must already be canonical.
[[nodiscard]] bool is_within(const std::filesystem::path& root, const std::filesystem::path& path);

// Reads `path` below `root`, refusing anything whose canonical form (all
// symlinks resolved) leaves the canonical root. Blocking: call it only from
// a detached actor or a plain thread. Never reads more than
// file_bytes_max + 1 bytes. Errors: those of check_relative_path;
// sandbox_violation (resolves outside the root); invalid_argument (file
// larger than file_bytes_max, naming both); tool_error (missing, a
// directory, not a regular file, unreadable).
[[nodiscard]] caf::expected<Value> read_sandboxed_file(const std::filesystem::path& root,
                                                       std::string_view path,
                                                       uint64_t file_bytes_max);

// Expects a validated config (spawn_tool validates).
// `metrics`: series for this tool (tool_metrics.hpp); default: records nothing.
[[nodiscard]] tool_actor spawn_file_read_tool(caf::actor_system& sys, const tool_config& cfg,
                                             tool_metrics metrics = {});

}  // namespace agentgraph

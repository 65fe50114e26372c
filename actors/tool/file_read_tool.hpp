// The file_read built-in: {"path": string} relative to a configured root in,
// {"path", "bytes", "content"} out. Everything outside the root is refused
// with sandbox_violation, including escapes through symlinks, also ones
// planted while a call runs. Reading blocks,
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
#include "runtime/file_open.hpp"

namespace agentgraph {

// Longer `path` arguments are refused (invalid_argument); Linux's PATH_MAX.
constexpr size_t file_read_path_chars_max = 4096;

[[nodiscard]] tool_spec file_read_spec(const std::string& name);

// The lexical checks, done before touching the file system. Returns the
// path normalised ("a/./b" -> "a/b"). Errors: invalid_argument (empty or
// longer than file_read_path_chars_max); sandbox_violation (NUL byte,
// absolute path, any ".." component).
[[nodiscard]] caf::expected<std::filesystem::path> check_relative_path(std::string_view path);

// Reads `path` below `root`, resolved race-free from a descriptor of the
// root (open_beneath, runtime/file_open.hpp): symlinks are followed only
// while they stay below the root, so one that leads out, or a directory
// swapped for such a symlink while the call runs, is refused. Absolute
// symlinks are refused even when they point inside. Blocking: call it only
// from a detached actor or a plain thread. Never reads more than
// file_bytes_max + 1 bytes. Errors: those of check_relative_path;
// sandbox_violation (resolves outside the root); invalid_argument (file
// larger than file_bytes_max, naming both); tool_error (missing, a
// directory, not a regular file, unreadable). `method` exists for tests,
// which cover the openat2 path and the fallback walk alike.
[[nodiscard]] caf::expected<Value> read_sandboxed_file(
    const std::filesystem::path& root, std::string_view path, uint64_t file_bytes_max,
    beneath_method method = beneath_method::best);

// Expects a validated config (spawn_tool validates).
// `metrics`: series for this tool (tool_metrics.hpp); default: records nothing.
[[nodiscard]] tool_actor spawn_file_read_tool(caf::actor_system& sys, const tool_config& cfg,
                                             tool_metrics metrics = {});

}  // namespace agentgraph

// The http_get built-in: {"url": string} in, {"status", "content_type",
// "body"} out. Only hosts on the configured allow-list are fetched (exact,
// case-insensitive). The fetch blocks, so each call runs on a detached
// worker (blocking_tool.hpp).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/expected.hpp>

#include "actors/tool/tool_config.hpp"
#include "actors/tool/tool_interface.hpp"
#include "actors/tool/tool_metrics.hpp"

namespace agentgraph {

// Longer URLs are refused (invalid_argument) before parsing.
constexpr size_t http_get_url_chars_max = 8192;

[[nodiscard]] tool_spec http_get_spec(const std::string& name);

struct checked_url {
  std::string url;   // as re-serialised by libcurl's parser: what is fetched
  std::string host;  // lower case, without IPv6 brackets
};

// Parses `url` with libcurl's URL API (the same parser the fetch uses, so
// the checked host is the host contacted). Errors: invalid_argument
// (malformed, too long, control characters); sandbox_violation (scheme other
// than http/https, or host not in `allowed_hosts`).
[[nodiscard]] caf::expected<checked_url> check_url(std::string_view url,
                                                   const std::vector<std::string>& allowed_hosts);

// check_url, then the blocking fetch. Errors: those of check_url; timeout;
// tool_error (body over body_bytes_max naming the limit, connection failure,
// other transfer failures).
[[nodiscard]] caf::expected<Value> run_http_get(const tool_config& cfg, std::string_view url);

// Expects a validated config (spawn_tool validates).
// `metrics`: series for this tool (tool_metrics.hpp); default: records nothing.
[[nodiscard]] tool_actor spawn_http_get_tool(caf::actor_system& sys, const tool_config& cfg,
                                            tool_metrics metrics = {});

}  // namespace agentgraph

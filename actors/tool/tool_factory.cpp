#include "actors/tool/tool_factory.hpp"

#include <filesystem>
#include <system_error>

#include <caf/send.hpp>

#include "actors/tool/agent_tool.hpp"
#include "actors/tool/caching_tool.hpp"
#include "actors/tool/calculator_tool.hpp"
#include "actors/tool/file_read_tool.hpp"
#include "actors/tool/http_get_tool.hpp"
#include "actors/tool/publish_tool.hpp"
#include "actors/topic/topic_interface.hpp"
#include "actors/tool/tool_common.hpp"
#include "runtime/error.hpp"

namespace agentgraph {

namespace tool_factory_detail {

caf::error bad_key(const tool_config& cfg, const std::string& key, const std::string& why) {
  return make_error(errc::invalid_argument, "tool '" + cfg.name + "': " + key + " " + why);
}

bool name_char_ok(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'
         || c == '-';
}

// The spec of a built-in kind; agent tools are never deterministic.
tool_spec builtin_spec(const tool_config& cfg) {
  if (cfg.kind == "calculator")
    return calculator_spec(cfg.name);
  if (cfg.kind == "file_read")
    return file_read_spec(cfg.name);
  if (cfg.kind == "http_get")
    return http_get_spec(cfg.name);
  if (cfg.kind == "publish")
    return publish_spec(cfg.name, cfg.topics);
  return agent_tool_spec(cfg.name, cfg.agent);
}

caf::error validate_file_read(const tool_config& cfg) {
  if (cfg.root.empty())
    return bad_key(cfg, "root", "is required for kind file_read");
  std::error_code ec;
  if (!std::filesystem::exists(cfg.root, ec))
    return bad_key(cfg, "root", "'" + cfg.root + "' does not exist");
  if (!std::filesystem::is_directory(cfg.root, ec))
    return bad_key(cfg, "root", "'" + cfg.root + "' is not a directory");
  if (cfg.file_bytes_max == 0)
    return bad_key(cfg, "file_bytes_max", "must be at least 1");
  return caf::none;
}

caf::error validate_http_get(const tool_config& cfg) {
  if (cfg.allowed_hosts.empty())
    return bad_key(cfg, "allowed_hosts", "is empty, so every URL would be refused");
  for (const auto& h : cfg.allowed_hosts)
    if (h.empty())
      return bad_key(cfg, "allowed_hosts", "contains an empty host name");
  if (cfg.connect_timeout <= std::chrono::milliseconds::zero())
    return bad_key(cfg, "connect_timeout", "must be positive");
  if (cfg.body_bytes_max == 0)
    return bad_key(cfg, "body_bytes_max", "must be at least 1");
  return caf::none;
}

caf::error validate_publish(const tool_config& cfg) {
  if (cfg.topics.empty())
    return bad_key(cfg, "topics", "is required for kind publish");
  for (const auto& t : cfg.topics)
    if (auto err = check_topic_name(t))
      return bad_key(cfg, "topics", error_context(err));
  return caf::none;
}

caf::error validate_common(const tool_config& cfg) {
  if (cfg.name.empty() || cfg.name.size() > tool_name_chars_max)
    return make_error(errc::invalid_argument, "tool '" + cfg.name + "': name must have 1 to "
                                                + std::to_string(tool_name_chars_max)
                                                + " characters");
  for (char c : cfg.name)
    if (!name_char_ok(c))
      return bad_key(cfg, "name", "may only contain A-Z a-z 0-9 _ -");
  if (cfg.timeout <= std::chrono::milliseconds::zero())
    return bad_key(cfg, "timeout", "must be positive");
  return caf::none;
}

// Called once the kind is known to be valid.
caf::error validate_cache(const tool_config& cfg) {
  if (!cfg.cache)
    return caf::none;
  if (!builtin_spec(cfg).deterministic)
    return bad_key(cfg, "cache", "is set but kind " + cfg.kind
                                   + " is not deterministic, so its results cannot be cached");
  if (cfg.cache_entries_max == 0)
    return bad_key(cfg, "cache_entries_max", "must be at least 1");
  if (cfg.cache_ttl <= std::chrono::milliseconds::zero())
    return bad_key(cfg, "cache_ttl", "must be positive");
  return caf::none;
}

tool_actor spawn_builtin(caf::actor_system& sys, const tool_config& cfg, tool_metrics metrics) {
  if (cfg.kind == "calculator")
    return spawn_calculator_tool(sys, cfg.name, std::move(metrics));
  if (cfg.kind == "file_read")
    return spawn_file_read_tool(sys, cfg, std::move(metrics));
  return spawn_http_get_tool(sys, cfg, std::move(metrics));
}

}  // namespace tool_factory_detail

caf::error validate_tool_config(const tool_config& cfg) {
  using namespace tool_factory_detail;
  if (auto err = validate_common(cfg))
    return err;
  caf::error kind_err;
  if (cfg.kind == "file_read")
    kind_err = validate_file_read(cfg);
  else if (cfg.kind == "http_get")
    kind_err = validate_http_get(cfg);
  else if (cfg.kind == "publish")
    kind_err = validate_publish(cfg);
  else if (cfg.kind != "calculator" && cfg.kind != "agent")
    return bad_key(cfg, "kind", "'" + cfg.kind
                                + "' is unknown; expected calculator, file_read, http_get, agent "
                                  "or publish");
  if (kind_err)
    return kind_err;
  return validate_cache(cfg);
}

caf::expected<tool_spec> tool_spec_of(const tool_config& cfg) {
  using namespace tool_factory_detail;
  if (auto err = validate_tool_config(cfg))
    return err;
  if (cfg.kind == "agent" && cfg.agent.empty())
    return bad_key(cfg, "agent", "is required for kind agent");
  // Each kind's spawn function builds its spec from these same functions,
  // and the caching wrapper replies with builtin_spec(cfg) as given.
  auto spec = builtin_spec(cfg);
  spec.name = cfg.name;
  return spec;
}

caf::expected<tool_actor> spawn_tool(caf::actor_system& sys, const tool_config& cfg,
                                     std::shared_ptr<metrics::registry> registry,
                                     cache::cache_tiers tiers) {
  using namespace tool_factory_detail;
  if (auto err = validate_tool_config(cfg))
    return err;
  if (cfg.kind == "agent")
    return bad_key(cfg, "kind", "agent needs the target agent's handle: use spawn_agent_tool");
  if (cfg.kind == "publish")
    return bad_key(cfg, "kind", "publish needs the node's topic actor: use spawn_publish_tool");
  // Only the outermost actor records, so a cached call counts once.
  auto metrics = make_tool_metrics(std::move(registry), cfg.name, cfg.cache);
  if (!cfg.cache)
    return spawn_builtin(sys, cfg, std::move(metrics));
  auto tool = spawn_builtin(sys, cfg, {});
  caching_tool_config cc;
  cc.metrics = std::move(metrics);
  cc.ttl = cfg.cache_ttl;
  cc.entries_max = cfg.cache_entries_max;
  cc.tiers = std::move(tiers);
  // The inner tool's own deadline fires first; this is the backstop.
  cc.inner_timeout = cfg.timeout + 2 * tool_reply_grace;
  auto wrapped = spawn_caching_tool(sys, tool, builtin_spec(cfg), std::move(cc));
  if (!wrapped)
    caf::anon_send_exit(tool, caf::exit_reason::user_shutdown);
  return wrapped;
}

caf::expected<tool_actor> spawn_agent_tool(caf::actor_system& sys, const tool_config& cfg,
                                           dep<agent_actor> target,
                                           std::shared_ptr<metrics::registry> registry) {
  using namespace tool_factory_detail;
  if (auto err = validate_tool_config(cfg))
    return err;
  if (cfg.kind != "agent")
    return bad_key(cfg, "kind", "is '" + cfg.kind + "'; spawn_agent_tool needs kind agent");
  if (!target)
    return make_error(errc::invalid_argument, "tool '" + cfg.name + "': invalid agent handle");
  if (cfg.agent.empty())
    return bad_key(cfg, "agent", "is required for kind agent");
  return spawn_agent_tool_actor(sys, cfg, std::move(target),
                                make_tool_metrics(std::move(registry), cfg.name, false));
}

}  // namespace agentgraph

#include "actors/host/node_config_checks.hpp"

#include <algorithm>

#include "actors/memory/memory_store.hpp"
#include "actors/provider/provider_factory.hpp"
#include "actors/tool/tool_factory.hpp"
#include "actors/workflow/workflow_file.hpp"
#include "runtime/cache/multi_level_cache.hpp"
#include "runtime/resilience/price_table.hpp"

namespace agentgraph {

namespace node_config_checks_detail {

// A component validator names the key it refuses as "<section>.<key>: why"
// (memory_store.cpp). The error is re-issued in the config's own shape,
// blaming where that key was set, so `--set memory.m.embedding_model=x`
// is named as the source rather than the section header. Keys are tried
// longest first so "max_entries" is not taken for a shorter key inside it.
caf::error blame(const config_section& sec, const caf::error& err) {
  auto text = error_context(err);
  auto code = errc_of(err).value_or(errc::invalid_argument);
  std::vector<std::string> keys;
  for (const auto& [k, e] : sec.entries)
    keys.push_back(k);
  std::sort(keys.begin(), keys.end(),
            [](const auto& a, const auto& b) { return a.size() > b.size(); });
  for (const auto& k : keys) {
    auto needle = sec.name + "." + k + ": ";
    if (auto at = text.find(needle); at != std::string::npos)
      return config_error(code, sec.origin_of(k), sec.name, k, text.substr(at + needle.size()));
  }
  return config_error(code, sec.origin, sec.name, {}, text);
}

}  // namespace node_config_checks_detail

caf::error check_component_configs(const config_tree& tree, const node_config& cfg) {
  using namespace node_config_checks_detail;
  for (const auto& m : cfg.memories)
    if (auto err = validate_memory_config(m))
      return blame(*tree.find("memory." + m.name), err);
  // An empty member list passes the schema (a list may be empty) but no
  // group can run without members (spawn_agent_group refuses it).
  for (const auto& g : cfg.groups)
    if (g.agents.empty()) {
      const auto& sec = *tree.find("group." + g.name);
      return config_error(errc::invalid_argument, sec.origin_of("agents"), sec.name, "agents",
                          "a group needs at least one member agent");
    }
  return caf::none;
}

caf::error check_node_resources(const node_config& cfg) {
  if (!cfg.runtime.prices.empty())
    if (auto prices = load_price_table(cfg.runtime.prices); !prices)
      return make_error(errc_of(prices.error()).value_or(errc::invalid_argument),
                        "runtime.prices: " + error_context(prices.error()));
  // The very function the Runtime builds its cache levels with, so the
  // same settings fail the same way. Cheap: Redis is connected lazily, so
  // this only parses the URL and starts (then stops) an idle I/O thread.
  if (auto tiers = cache::make_cache_tiers(cfg.cache, nullptr); !tiers)
    return make_error(errc_of(tiers.error()).value_or(errc::invalid_argument),
                      "cache: " + error_context(tiers.error()));
  for (const auto& p : cfg.providers)
    if (auto err = check_provider_startable(p))
      return err;
  for (const auto& t : cfg.tools)
    if (auto err = validate_tool_config(t))
      return err;
  // Workflows are checked against the names the node will have: its agents,
  // its groups (addressed like agents) and its tools.
  graph_names names;
  names.has_agent = [&](const std::string& n) {
    auto named = [&](const auto& x) { return x.name == n; };
    return std::any_of(cfg.agents.begin(), cfg.agents.end(), named)
           || std::any_of(cfg.groups.begin(), cfg.groups.end(), named);
  };
  names.has_tool = [&](const std::string& n) {
    return std::any_of(cfg.tools.begin(), cfg.tools.end(),
                       [&](const auto& t) { return t.name == n; });
  };
  for (const auto& w : cfg.workflows)
    if (auto g = load_workflow(w.file, names); !g)
      return make_error(errc_of(g.error()).value_or(errc::invalid_argument),
                        "workflow '" + w.name + "': " + error_context(g.error()));
  return caf::none;
}

}  // namespace agentgraph

#include "actors/host/node_config_checks.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <string_view>
#include <utility>

#include "actors/host/placement.hpp"
#include "actors/memory/memory_store.hpp"
#include "actors/provider/provider_factory.hpp"
#include "actors/tool/tool_factory.hpp"
#include "actors/workflow/workflow_file.hpp"
#include "net/cluster/cluster_auth.hpp"
#include "net/cluster/cluster_config_keys.hpp"
#include "net/cluster/cluster_tls.hpp"
#include "net/cluster/node_actor.hpp"
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

// Where `key` starts in `text` as a whole word (not inside a longer key
// such as "port" in "transport_timeout", nor the "port" of "host:port"), or
// npos.
size_t word_at(std::string_view text, std::string_view key) {
  auto word_char = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  for (auto at = text.find(key); at != std::string_view::npos; at = text.find(key, at + 1)) {
    const bool starts = at == 0 || (!word_char(text[at - 1]) && text[at - 1] != ':');
    const bool ends = at + key.size() == text.size() || !word_char(text[at + key.size()]);
    if (starts && ends)
      return at;
  }
  return std::string_view::npos;
}

// cluster::validate says "[cluster] <key> ..." (or "[cluster] <key>: ...")
// and may name a second key it compares with. The error is re-issued
// blaming where its subject (the first key named) was set; when the subject
// kept its default, a key it names that somebody did set ("transport_timeout
// must be at least 4 x transport_heartbeat" after transport_heartbeat = 1s),
// else the section header, else whatever set a key of the section (the
// environment or the command line can give the section without a header).
caf::error blame_cluster(const config_section& sec, const caf::error& err) {
  auto text = error_context(err);
  const std::string prefix = "[" + sec.name + "] ";
  if (text.rfind(prefix, 0) == 0)
    text.erase(0, prefix.size());
  std::vector<std::pair<size_t, std::string>> named;
  for (const auto& f : cluster::cluster_fields())
    if (auto at = word_at(text, f.spec.name); at != std::string_view::npos)
      named.emplace_back(at, f.spec.name);
  std::sort(named.begin(), named.end());
  auto set = [&](const std::string& key) {
    auto e = sec.find(key);
    return e != nullptr && !e->is_default();
  };
  std::string origin;
  for (const auto& [at, key] : named)
    if (set(key)) {
      origin = sec.origin_of(key);
      break;
    }
  if (origin.empty() && sec.origin != config_default_origin)
    origin = sec.origin + " (default)";
  for (const auto& [key, e] : sec.entries)
    if (origin.empty() && !e.is_default())
      origin = e.origin;
  return config_error(errc_of(err).value_or(errc::invalid_argument), origin, sec.name, {}, text);
}

caf::error check_cluster(const config_section& sec, const cluster::cluster_config& c) {
  if (c.secret_env.empty())
    return config_error(errc::invalid_argument, sec.origin_of("secret_env"), sec.name,
                        "secret_env", "must name the environment variable of the secret");
  if (auto err = cluster::validate(c))
    return blame_cluster(sec, err);
  if (!c.journal_url.empty()) {
    // The node config fills journal_path from data_dir only without a URL,
    // so a path here was set by somebody.
    if (!c.journal_path.empty())
      return config_error(errc::invalid_argument, sec.origin_of("journal_url"), sec.name,
                          "journal_url", "and journal_path are both set: a node has one journal");
    if (c.journal_url.rfind("postgresql://", 0) != 0 && c.journal_url.rfind("postgres://", 0) != 0)
      return config_error(errc::invalid_argument, sec.origin_of("journal_url"), sec.name,
                          "journal_url", "must be a postgresql:// or postgres:// URL");
  }
  if (auto err = cluster::validate_tls(c))
    return blame(sec, err);
  return caf::none;
}

// The secret's variable: set, and accepted by the very function the node
// actor's secret comes from. Messages name the variable, never its value.
caf::error check_cluster_secret(const cluster::cluster_config& c) {
  const char* value = std::getenv(c.secret_env.c_str());
  if (value == nullptr)
    return make_error(errc::invalid_argument,
                      "cluster.secret_env: the environment variable " + c.secret_env +
                        " is not set; it must hold the cluster's shared secret (at least " +
                        std::to_string(cluster::secret_bytes_min) + " bytes)");
  auto secret = cluster::cluster_secret::make(value, "environment variable " + c.secret_env);
  if (!secret)
    return make_error(errc_of(secret.error()).value_or(errc::invalid_argument),
                      "cluster.secret_env: " + error_context(secret.error()));
  return caf::none;
}

// The secret's variable, then the TLS files and the passphrase's variable
// (cluster_tls.hpp loads them as caf-openssl will, so a bad file stops the
// node here rather than at its first connection).
caf::error check_cluster_env(const cluster::cluster_config& c) {
  if (auto err = check_cluster_secret(c))
    return err;
  if (cluster::tls_enabled(c))
    return cluster::check_tls_files(c);
  return caf::none;
}

// The `placement` key of every [<family>.<name>] section of `items`: its
// syntax, then a pin to a node needs a [cluster] section, since a lone node
// builds every component and the pin would silently do nothing.
template <class Config>
caf::error check_placements(const config_tree& tree, std::string_view family,
                            const std::vector<Config>& items, bool clustered) {
  for (const auto& item : items) {
    const auto& sec = *tree.find(std::string{family} + "." + item.name);
    auto blame_placement = [&](const std::string& why) {
      return config_error(errc::invalid_argument, sec.origin_of("placement"), sec.name,
                          "placement", why);
    };
    if (auto why = placement_syntax_problem(item.placement); !why.empty())
      return blame_placement(why);
    if (item.placement != placement_any && !clustered)
      return blame_placement("'" + item.placement + "' needs a [cluster] section; without one "
                             "every component runs on this node");
  }
  return caf::none;
}

// A provider's embedding model needs that provider, of a kind with an
// embeddings API.
caf::error check_embedding_provider(const config_tree& tree, const node_config& cfg,
                                    const memory_config& m) {
  auto spec = parse_embedding_spec(m.embedding_model);
  if (!spec || spec->hashing)
    return caf::none;
  const auto& sec = *tree.find("memory." + m.name);
  auto it = std::find_if(cfg.providers.begin(), cfg.providers.end(),
                         [&](const provider_config& p) { return p.name == spec->provider; });
  if (it == cfg.providers.end())
    return config_error(errc::invalid_argument, sec.origin_of("embedding_model"), sec.name,
                        "embedding_model",
                        "names provider '" + spec->provider + "', which has no [provider."
                          + spec->provider + "] section");
  if (it->kind == provider_kind::anthropic)
    return config_error(errc::invalid_argument, sec.origin_of("embedding_model"), sec.name,
                        "embedding_model",
                        "provider '" + spec->provider + "' is anthropic, which has no "
                                                        "embeddings API");
  return caf::none;
}

}  // namespace node_config_checks_detail

caf::error check_component_configs(const config_tree& tree, const node_config& cfg) {
  using namespace node_config_checks_detail;
  for (const auto& m : cfg.memories) {
    if (auto err = validate_memory_config(m))
      return blame(*tree.find("memory." + m.name), err);
    if (auto err = check_embedding_provider(tree, cfg, m))
      return err;
  }
  // An empty member list passes the schema (a list may be empty) but no
  // group can run without members (spawn_agent_group refuses it).
  for (const auto& g : cfg.groups)
    if (g.agents.empty()) {
      const auto& sec = *tree.find("group." + g.name);
      return config_error(errc::invalid_argument, sec.origin_of("agents"), sec.name, "agents",
                          "a group needs at least one member agent");
    }
  const bool clustered = cfg.cluster.has_value();
  if (auto err = check_placements(tree, "agent", cfg.agents, clustered))
    return err;
  if (auto err = check_placements(tree, "tool", cfg.tools, clustered))
    return err;
  if (auto err = check_placements(tree, "memory", cfg.memories, clustered))
    return err;
  // A population's placement is its template's (agent_config::placement).
  struct named_placement {
    std::string name;
    std::string placement;
  };
  std::vector<named_placement> populations;
  for (const auto& p : cfg.populations)
    populations.push_back({p.name, p.agent.placement});
  if (auto err = check_placements(tree, "population", populations, clustered))
    return err;
  // Copies live on other nodes; a lone node has none to keep them on.
  for (const auto& m : cfg.memories)
    if (m.replicas > 1 && !clustered) {
      const auto& sec = *tree.find("memory." + m.name);
      return config_error(errc::invalid_argument, sec.origin_of("replicas"), sec.name, "replicas",
                          std::to_string(m.replicas) + " copies need a [cluster] section; "
                          "without one the shard has one copy, on this node");
    }
  if (cfg.cluster)
    return check_cluster(*tree.find("cluster"), *cfg.cluster);
  return caf::none;
}

caf::error check_node_resources(const node_config& cfg) {
  using namespace node_config_checks_detail;
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
  if (cfg.cluster)
    return check_cluster_env(*cfg.cluster);
  return caf::none;
}

}  // namespace agentgraph

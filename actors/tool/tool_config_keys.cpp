#include "actors/tool/tool_config_keys.hpp"

#include "actors/placement_key.hpp"

namespace agentgraph {

using namespace std::chrono_literals;

const std::vector<field<tool_config>>& tool_fields() {
  static const auto fields = [] {
    using S = tool_config;
    const S d;
    auto only = [](key_spec k, std::string kind) {
      return applies_if(std::move(k), "kind", {std::move(kind)});
    };
    return std::vector<field<S>>{
        bind(required_key(enum_key("kind", "calculator",
                                   {"file_read", "http_get", "calculator", "agent", "publish"},
                                   "Built-in tool this section configures; only the keys of "
                                   "that kind apply.")),
             &S::kind),
        bind(bool_key("cache", d.cache,
                      "Wrap the tool in a result cache (for tools whose spec says "
                      "deterministic)."),
             &S::cache),
        bind(duration_key("cache_ttl", d.cache_ttl, 1s, 24h, "Lifetime of a cached result."),
             &S::cache_ttl),
        bind(uint_key("cache_entries_max", d.cache_entries_max, 1, 1'000'000,
                      "Cached results kept; the least recently used is evicted beyond this."),
             &S::cache_entries_max),
        bind(only(path_key("root", d.root,
                           "Directory reads are confined below (required for file_read); "
                           "relative: against the config file's directory."),
                  "file_read"),
             &S::root),
        bind(only(uint_key("file_bytes_max", d.file_bytes_max, 1, 1024 * mib,
                           "Files larger than this are refused."),
                  "file_read"),
             &S::file_bytes_max),
        bind(only(list_key("allowed_hosts",
                           "Exact host names the tool may fetch from; empty: none."),
                  "http_get"),
             &S::allowed_hosts),
        bind(only(duration_key("connect_timeout", d.connect_timeout, 1ms, 1min,
                               "Deadline for establishing the connection."),
                  "http_get"),
             &S::connect_timeout),
        bind(applies_if(duration_key("timeout", d.timeout, 1ms, 10min,
                                     "http_get: deadline for the whole request, body included. "
                                     "agent: deadline for the agent's whole task. publish: "
                                     "deadline of the node's topic actor's answer."),
                        "kind", {"http_get", "agent", "publish"}),
             &S::timeout),
        bind(only(uint_key("body_bytes_max", d.body_bytes_max, 1, 1024 * mib,
                           "Responses with a larger body are refused."),
                  "http_get"),
             &S::body_bytes_max),
        bind(only(string_key("agent", d.agent,
                             "Agent that receives the tool's task argument (required for "
                             "kind agent)."),
                  "agent"),
             &S::agent),
        bind(only(list_key("topics",
                           "Topics the tool may publish to (required for kind publish): "
                           "1-64 of a-z 0-9 _ . - each. A message reaches every agent "
                           "subscribed to its topic ([agent.x] subscribe) on every node."),
                  "publish"),
             &S::topics),
        bind(placement_key(d.placement), &S::placement),
    };
  }();
  return fields;
}

}  // namespace agentgraph

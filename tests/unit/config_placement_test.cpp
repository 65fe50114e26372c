// The `placement` key of [agent.<name>], [tool.<name>] and [memory.<name>]
// (issue 12, net/cluster/DESIGN.md §8.3): "any" by default, a node id stored
// as given, bad syntax refused naming the section and the key, a pin without
// a [cluster] section refused blaming where it was set, and placed_here()'s
// truth table.
#include <doctest/doctest.h>

#include <map>
#include <string>
#include <vector>

#include "actors/host/node_config.hpp"
#include "actors/host/placement.hpp"
#include "runtime/error.hpp"

using namespace agentgraph;

namespace config_placement_test {

// A provider, agent a (header on line 2, then its tools and memory keys),
// tool t listed by a, memory m used by a; each *_extra goes at the end of
// its section, `extra` after them all. With one extra line in one section
// (placed_in), that line is line 5 in [agent.a], 7 in [tool.t] and 8 in
// [memory.m].
std::string placement_config(const std::string& agent_extra, const std::string& tool_extra,
                             const std::string& memory_extra, const std::string& extra = {}) {
  return "[provider.scripted]\n"
         "[agent.a]\ntools = t\nmemory = m\n" + agent_extra +
         "[tool.t]\nkind = calculator\n" + tool_extra +
         "[memory.m]\n" + memory_extra + extra;
}

// A usable [cluster] section naming this node `node_id` (empty: none).
std::string cluster_section(const std::string& node_id) {
  return "[cluster]\nname = prod\nseeds = 10.0.0.5:7400\nsecret_env = AG_PLACEMENT_TEST_UNUSED\n"
         + (node_id.empty() ? std::string{} : "node_id = " + node_id + "\n");
}

caf::expected<node_config> placement_load(const std::string& text,
                                          const std::vector<std::string>& overrides = {},
                                          const std::map<std::string, std::string>& env = {}) {
  return parse_node_config(text, "node.ini", env, overrides);
}

std::string placement_error(const std::string& text,
                            const std::vector<std::string>& overrides = {},
                            const std::map<std::string, std::string>& env = {}) {
  auto cfg = placement_load(text, overrides, env);
  REQUIRE_FALSE_MESSAGE(cfg, "loaded although an error was expected");
  return error_context(cfg.error());
}

// The config with `line` (a "placement = ..." line) in section `family` only.
std::string placed_in(const std::string& family, const std::string& line,
                      const std::string& extra = {}) {
  return placement_config(family == "agent" ? line : "", family == "tool" ? line : "",
                          family == "memory" ? line : "", extra);
}

const std::vector<std::string> placement_families = {"agent", "tool", "memory"};

}  // namespace config_placement_test

using namespace config_placement_test;

TEST_CASE("config placement: every component is placed at any unless it says otherwise") {
  CHECK(agent_config{}.placement == "any");
  CHECK(tool_config{}.placement == "any");
  CHECK(memory_config{}.placement == "any");
  // Without a [cluster] section and with one.
  for (const auto& extra : {std::string{}, cluster_section("n1")}) {
    auto cfg = placement_load(placement_config("", "", "", extra));
    REQUIRE_MESSAGE(cfg, describe(cfg.error()));
    CHECK(cfg->agents.at(0).placement == "any");
    CHECK(cfg->tools.at(0).placement == "any");
    CHECK(cfg->memories.at(0).placement == "any");
  }
  // Said explicitly, it needs no [cluster] section either.
  auto explicit_any = placement_load(placement_config(
    "placement = any\n", "placement = any\n", "placement = any\n"));
  REQUIRE_MESSAGE(explicit_any, describe(explicit_any.error()));
}

TEST_CASE("config placement: a node id is stored as given, each section its own") {
  auto cfg = placement_load(placement_config("placement = n2\n", "placement = gpu-box.eu:7400\n",
                                             "placement = n1\n", cluster_section("n1")));
  REQUIRE_MESSAGE(cfg, describe(cfg.error()));
  CHECK(cfg->agents.at(0).placement == "n2");
  CHECK(cfg->tools.at(0).placement == "gpu-box.eu:7400");
  CHECK(cfg->memories.at(0).placement == "n1");
  // A pin to another node, or with this node's node_id left empty, is fine:
  // the config is often the same file on every node.
  auto unnamed = placement_load(placed_in("agent", "placement = n2\n", cluster_section("")));
  REQUIRE_MESSAGE(unnamed, describe(unnamed.error()));
  CHECK(unnamed->agents.at(0).placement == "n2");
  // 128 bytes is the longest, as for a node_id.
  const std::string longest(placement_bytes_max, 'x');
  auto edge = placement_load(placed_in("tool", "placement = " + longest + "\n",
                                       cluster_section("n1")));
  REQUIRE_MESSAGE(edge, describe(edge.error()));
  CHECK(edge->tools.at(0).placement == longest);
}

TEST_CASE("config placement: the environment and the command line set it") {
  auto cfg = placement_load(placement_config("", "", "", cluster_section("n1")),
                            {"tool.t.placement=n3"}, {{"AGENTGRAPH_MEMORY_M_PLACEMENT", "n4"}});
  REQUIRE_MESSAGE(cfg, describe(cfg.error()));
  CHECK(cfg->tools.at(0).placement == "n3");
  CHECK(cfg->memories.at(0).placement == "n4");
  CHECK(cfg->agents.at(0).placement == "any");
}

TEST_CASE("config placement: bad syntax is refused naming the section and the key") {
  const std::string too_long(placement_bytes_max + 1, 'x');
  struct bad_case {
    std::string value;
    std::string why;
  };
  const std::vector<bad_case> cases = {
    {"", "must be 1-128 bytes (any or a [cluster] node_id)"},
    {too_long, "must be 1-128 bytes (any or a [cluster] node_id)"},
    {"n1 n2", "contains whitespace or a control character (byte 3)"},
    {"n1\tn2", "contains whitespace or a control character (byte 3)"},
    {"n1,n2", "'n1,n2' contains ','; a placement names one node"},
    {"n1/a", "'n1/a' contains '/'; a placement names one node"},
  };
  const std::map<std::string, int> line = {{"agent", 5}, {"tool", 7}, {"memory", 8}};
  const std::map<std::string, std::string> section = {
    {"agent", "agent.a"}, {"tool", "tool.t"}, {"memory", "memory.m"}};
  for (const auto& family : placement_families)
    for (const auto& c : cases) {
      INFO(family << ": '" << c.value << "'");
      auto text = placed_in(family, "placement = " + c.value + "\n", cluster_section("n1"));
      CHECK(placement_error(text) == "node.ini:" + std::to_string(line.at(family)) + ": ["
                                       + section.at(family) + "] placement: " + c.why);
    }
  // The same checks whatever the source, and blaming it.
  CHECK(placement_error(placement_config("", "", "", cluster_section("n1")),
                        {"agent.a.placement=a,b"})
        == "--set agent.a.placement=a,b: [agent.a] placement: 'a,b' contains ','; a placement "
           "names one node");
}

TEST_CASE("config placement: a pin without a [cluster] section is refused") {
  const std::map<std::string, std::string> expected = {
    {"agent", "node.ini:5: [agent.a] placement: 'n2' needs a [cluster] section; without one "
              "every component runs on this node"},
    {"tool", "node.ini:7: [tool.t] placement: 'n2' needs a [cluster] section; without one "
             "every component runs on this node"},
    {"memory", "node.ini:8: [memory.m] placement: 'n2' needs a [cluster] section; without "
               "one every component runs on this node"},
  };
  for (const auto& family : placement_families) {
    INFO(family);
    CHECK(placement_error(placed_in(family, "placement = n2\n")) == expected.at(family));
    // The same pin loads once the node is in a cluster.
    auto cfg = placement_load(placed_in(family, "placement = n2\n", cluster_section("n1")));
    CHECK_MESSAGE(cfg, describe(cfg.error()));
  }
  // A pin from the environment is blamed on the variable.
  CHECK(placement_error(placement_config("", "", ""), {}, {{"AGENTGRAPH_AGENT_A_PLACEMENT", "n2"}})
        == "environment AGENTGRAPH_AGENT_A_PLACEMENT: [agent.a] placement: 'n2' needs a "
           "[cluster] section; without one every component runs on this node");
}

TEST_CASE("config placement: placed_here builds any, everything alone, and its own pins") {
  node_config alone;
  node_config named;
  named.cluster.emplace();
  named.cluster->node_id = "n1";
  node_config unnamed;
  unnamed.cluster.emplace();  // node_id empty: the node goes by host:port
  struct row {
    const char* placement;
    const node_config* cfg;
    bool here;
  };
  const std::vector<row> table = {
    {"any", &alone, true},   {"n1", &alone, true},  {"n2", &alone, true},
    {"any", &named, true},   {"n1", &named, true},  {"n2", &named, false},
    {"N1", &named, false},   {"n1 ", &named, false},
    {"any", &unnamed, true}, {"n1", &unnamed, false},
  };
  for (const auto& r : table) {
    INFO("placement '" << r.placement << "'"
                       << (r.cfg == &alone ? " alone" : r.cfg == &named ? " as n1" : " unnamed"));
    CHECK(placed_here(r.placement, *r.cfg) == r.here);
  }
}

// tool_spec_of (tool_factory.hpp) against the tools themselves: for every
// kind, with and without `cache`, the spec computed without spawning equals
// what the spawned tool (through spawn_tool or spawn_agent_tool, as
// runtime_builder::add_tool spawns it) answers to describe, named the way
// add_tool names it; a config the spawn refuses, tool_spec_of refuses with
// the same message. A node that does not build a pinned tool relies on this.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include <caf/deep_to_string.hpp>

#include "actors/tool/tool_factory.hpp"
#include "temp_dir.hpp"
#include "tool_test_agent.hpp"
#include "tool_test_fixture.hpp"

namespace tool_spec_of_test {

const std::vector<std::string> every_kind = {"calculator", "file_read", "http_get", "agent"};

// A config of `kind` its spawn accepts; `root` for file_read must exist.
agentgraph::tool_config config_of(const std::string& kind, const std::string& root) {
  agentgraph::tool_config cfg;
  cfg.name = "my_" + kind;  // not the kind's own name: the config's name must win
  cfg.kind = kind;
  cfg.root = root;
  cfg.allowed_hosts = {"example.com"};
  cfg.agent = "helper";
  return cfg;
}

// Spawned as runtime_builder::add_tool spawns it: agent tools need their
// target's handle.
caf::expected<agentgraph::tool_actor> spawn_as_builder(tool_test::fixture& fx,
                                                       const agentgraph::tool_config& cfg,
                                                       const agentgraph::agent_actor& target) {
  if (cfg.kind == "agent")
    return agentgraph::spawn_agent_tool(fx.sys, cfg, target);
  return agentgraph::spawn_tool(fx.sys, cfg);
}

// Field by field, parameters included (tool_spec has no operator==; its
// inspect prints every field).
std::string spec_text(const agentgraph::tool_spec& spec) {
  return caf::deep_to_string(spec);
}

}  // namespace tool_spec_of_test

TEST_CASE("tool: tool_spec_of equals the spawned tool's describe for every kind, cached or not") {
  using namespace tool_spec_of_test;
  tool_test::fixture fx;
  test_support::temp_dir tmp{"tool-spec-of"};
  auto target = fx.keep(fx.sys.spawn(tool_test::helper_agent));
  for (const auto& kind : every_kind)
    for (bool cache : {false, true}) {
      INFO(kind << (cache ? " cached" : ""));
      auto cfg = config_of(kind, tmp.path.string());
      cfg.cache = cache;
      auto expected = agentgraph::tool_spec_of(cfg);
      auto spawned = spawn_as_builder(fx, cfg, target);
      // Only the calculator is deterministic, so only it may be cached.
      REQUIRE(static_cast<bool>(spawned) == (!cache || kind == "calculator"));
      if (!spawned) {
        REQUIRE_FALSE(expected);
        CHECK(agentgraph::describe(expected.error()) == agentgraph::describe(spawned.error()));
        continue;
      }
      fx.keep(*spawned);
      REQUIRE_MESSAGE(expected, agentgraph::describe(expected.error()));
      auto described = fx.describe(*spawned);
      REQUIRE(described.name.rfind("error: ", 0) != 0);
      described.name = cfg.name;  // as runtime_builder::add_tool does
      CHECK(spec_text(*expected) == spec_text(described));
      CHECK(expected->name == "my_" + kind);
      CHECK_FALSE(expected->params.empty());
    }
}

TEST_CASE("tool: tool_spec_of refuses what spawning refuses, with the same message") {
  using namespace tool_spec_of_test;
  tool_test::fixture fx;
  test_support::temp_dir tmp{"tool-spec-of-bad"};
  auto target = fx.keep(fx.sys.spawn(tool_test::helper_agent));
  auto with = [&](const std::string& kind, auto change) {
    auto cfg = config_of(kind, tmp.path.string());
    change(cfg);
    return cfg;
  };
  using cfg_t = agentgraph::tool_config;
  const std::vector<cfg_t> bad = {
    with("calculator", [](cfg_t& c) { c.name = "bad name"; }),
    with("calculator", [](cfg_t& c) { c.name.clear(); }),
    with("calculator", [](cfg_t& c) { c.kind = "shell"; }),
    with("calculator", [](cfg_t& c) { c.cache = true; c.cache_entries_max = 0; }),
    with("file_read", [](cfg_t& c) { c.root.clear(); }),
    with("file_read", [&](cfg_t& c) { c.root = (tmp.path / "missing").string(); }),
    with("http_get", [](cfg_t& c) { c.allowed_hosts.clear(); }),
    with("http_get", [](cfg_t& c) { c.timeout = {}; }),
    with("agent", [](cfg_t& c) { c.agent.clear(); }),
  };
  for (const auto& cfg : bad) {
    INFO(cfg.kind << " '" << cfg.name << "'");
    auto spec = agentgraph::tool_spec_of(cfg);
    REQUIRE_FALSE(spec);
    CHECK(tool_test::code_of(spec.error()) == agentgraph::errc::invalid_argument);
    auto spawned = spawn_as_builder(fx, cfg, target);
    if (spawned)
      fx.keep(*spawned);
    REQUIRE_FALSE(spawned);
    CHECK(agentgraph::describe(spec.error()) == agentgraph::describe(spawned.error()));
  }
}

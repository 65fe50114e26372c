// tool_registry and the factory's config validation.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <unistd.h>

#include "actors/tool/calculator_tool.hpp"
#include "actors/tool/tool_factory.hpp"
#include "actors/tool/tool_registry.hpp"
#include "tool_test_fixture.hpp"

namespace tool_registry_test {

namespace fs = std::filesystem;

struct temp_dir {
  fs::path path;
  temp_dir() {
    std::random_device rd;
    path = fs::temp_directory_path()
           / ("agentgraph-tool-registry-" + std::to_string(::getpid()) + "-"
              + std::to_string(rd()));
    fs::create_directories(path);
  }
  ~temp_dir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

agentgraph::tool_config config(const char* name, const char* kind) {
  agentgraph::tool_config cfg;
  cfg.name = name;
  cfg.kind = kind;
  return cfg;
}

struct config_case {
  agentgraph::tool_config cfg;
  const char* context_part;
};

using agentgraph::errc;

TEST_CASE("tool: registry adds, finds, lists and describes tools") {
  tool_test::fixture fx;
  agentgraph::tool_registry reg;
  auto a = fx.keep(agentgraph::spawn_calculator_tool(fx.sys, "calc_b"));
  auto b = fx.keep(agentgraph::spawn_calculator_tool(fx.sys, "calc_a"));
  CHECK_FALSE(reg.add(a, agentgraph::calculator_spec("calc_b")));
  CHECK_FALSE(reg.add(b, agentgraph::calculator_spec("calc_a")));
  auto dup = reg.add(a, agentgraph::calculator_spec("calc_b"));
  CHECK(agentgraph::errc_of(dup) == errc::invalid_argument);
  CHECK(agentgraph::errc_of(reg.add(agentgraph::tool_actor{}, agentgraph::calculator_spec("x")))
        == errc::invalid_argument);
  CHECK(agentgraph::errc_of(reg.add(a, agentgraph::tool_spec{})) == errc::invalid_argument);
  CHECK(reg.size() == 2);
  CHECK(reg.names() == std::vector<std::string>{"calc_a", "calc_b"});
  REQUIRE(reg.find("calc_b") != nullptr);
  CHECK(reg.find("calc_b")->handle.get() == a);
  CHECK(reg.find("nope") == nullptr);

  auto defs = reg.definitions({"calc_b", "calc_a"});
  REQUIRE(defs);
  REQUIRE(defs->size() == 2);
  CHECK((*defs)[0].name == "calc_b");
  CHECK((*defs)[1].name == "calc_a");
  auto missing = reg.definitions({"calc_a", "nope"});
  REQUIRE_FALSE(missing);
  CHECK(agentgraph::errc_of(missing.error()) == errc::not_found);
  CHECK(agentgraph::error_context(missing.error()).find("'nope'") != std::string::npos);
}

TEST_CASE("tool: factory validates config and names the tool and the key") {
  temp_dir dir;
  std::ofstream{dir.path / "file.txt"} << "x";
  auto no_root = config("files", "file_read");
  auto missing_root = config("files", "file_read");
  missing_root.root = (dir.path / "absent").string();
  auto file_root = config("files", "file_read");
  file_root.root = (dir.path / "file.txt").string();
  auto cached_files = config("files", "file_read");
  cached_files.root = dir.path.string();
  cached_files.cache = true;
  auto no_hosts = config("web", "http_get");
  auto cached_web = config("web", "http_get");
  cached_web.allowed_hosts = {"example.org"};
  cached_web.cache = true;
  auto zero_entries = config("calc", "calculator");
  zero_entries.cache = true;
  zero_entries.cache_entries_max = 0;
  auto zero_timeout = config("calc", "calculator");
  zero_timeout.timeout = std::chrono::milliseconds{0};
  const std::vector<config_case> cases{
    {config("mystery", "sundial"), "tool 'mystery': kind 'sundial' is unknown"},
    {config("ask", "agent"), "tool 'ask': kind agent needs the target agent's handle"},
    {config("", "calculator"), "name must have 1 to 64 characters"},
    {config("bad name", "calculator"), "tool 'bad name': name may only contain"},
    {no_root, "tool 'files': root is required"},
    {missing_root, "tool 'files': root '"},
    {file_root, "is not a directory"},
    {cached_files, "tool 'files': cache is set but kind file_read is not deterministic"},
    {no_hosts, "tool 'web': allowed_hosts is empty"},
    {cached_web, "tool 'web': cache is set but kind http_get is not deterministic"},
    {zero_entries, "tool 'calc': cache_entries_max must be at least 1"},
    {zero_timeout, "tool 'calc': timeout must be positive"},
  };
  tool_test::fixture fx;
  for (const auto& c : cases) {
    CAPTURE(c.context_part);
    auto r = agentgraph::spawn_tool(fx.sys, c.cfg);
    REQUIRE_FALSE(r);
    CHECK(agentgraph::errc_of(r.error()) == errc::invalid_argument);
    CHECK(agentgraph::error_context(r.error()).find(c.context_part) != std::string::npos);
  }
  auto not_agent = agentgraph::spawn_agent_tool(fx.sys, config("calc", "calculator"),
                                                agentgraph::agent_actor{});
  CHECK(agentgraph::errc_of(not_agent.error()) == errc::invalid_argument);
  auto no_handle = config("ask", "agent");
  no_handle.agent = "helper";
  auto r = agentgraph::spawn_agent_tool(fx.sys, no_handle, agentgraph::agent_actor{});
  REQUIRE_FALSE(r);
  CHECK(agentgraph::error_context(r.error()).find("invalid agent handle") != std::string::npos);
}

TEST_CASE("tool: factory spawns each built-in kind from a valid config") {
  temp_dir dir;
  tool_test::fixture fx;
  auto files = config("files", "file_read");
  files.root = dir.path.string();
  auto web = config("web", "http_get");
  web.allowed_hosts = {"example.org"};
  for (const auto& cfg : {config("calc", "calculator"), files, web}) {
    CAPTURE(cfg.kind);
    auto tool = agentgraph::spawn_tool(fx.sys, cfg);
    REQUIRE(tool);
    fx.keep(*tool);
    CHECK(fx.describe(*tool).name == cfg.name);
    CHECK(fx.pongs(*tool));
  }
}

}  // namespace tool_registry_test

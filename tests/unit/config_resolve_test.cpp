// Resolving a config against the node schema: unknown names, wrong types,
// bounds, section names, precedence of the sources, environment and
// command-line overrides. Every error names the key and where it was set.
#include "runtime/config/config_resolve.hpp"

#include <doctest/doctest.h>

#include <cstdlib>

#include <boost/program_options.hpp>

#include "actors/host/node_config.hpp"
#include "runtime/config/config_options.hpp"
#include "runtime/error.hpp"

using namespace agentgraph;
using env_map = std::map<std::string, std::string>;
using override_list = std::vector<std::string>;

namespace config_resolve_test {

caf::expected<config_tree> resolve(std::string_view text, const env_map& env = {},
                                   const override_list& overrides = {}) {
  auto doc = parse_ini(text, "node.ini");
  REQUIRE_MESSAGE(doc, describe(doc.error()));
  return resolve_config(node_schema(), *doc, env, overrides, "");
}

std::string resolve_error(std::string_view text, const env_map& env = {},
                          const override_list& overrides = {}, errc code = errc::invalid_argument) {
  auto tree = resolve(text, env, overrides);
  REQUIRE_FALSE(tree);
  CHECK(errc_of(tree.error()) == code);
  return error_context(tree.error());
}

const config_entry& entry(const config_tree& t, std::string_view section, std::string_view key) {
  auto sec = t.find(section);
  REQUIRE(sec != nullptr);
  auto e = sec->find(key);
  REQUIRE(e != nullptr);
  return *e;
}

constexpr std::string_view base = "[provider.scripted]\n[agent.a]\n";  // lines 1-2

}  // namespace config_resolve_test

using namespace config_resolve_test;

TEST_CASE("config: unknown sections and keys are errors with a hint") {
  CHECK(resolve_error("[agnet.a]\n") ==
        "node.ini:1: unknown section [agnet.a] (did you mean "
        "[agent.<name>]?)");
  CHECK(resolve_error("[runtim]\n") ==
        "node.ini:1: unknown section [runtim] (did you mean [runtime]?)");
  CHECK(resolve_error("[plugins]\n") == "node.ini:1: unknown section [plugins]");
  CHECK(resolve_error("[agent.a]\ntemprature = 1\n") ==
        "node.ini:2: [agent.a] unknown key 'temprature' (did you mean 'temperature'?)");
  CHECK(resolve_error("[runtime]\nthreads = 1\n") == "node.ini:2: [runtime] unknown key 'threads'");
}

TEST_CASE("config: section names are checked") {
  CHECK(resolve_error("[agent]\n") ==
        "node.ini:1: section [agent] needs a name; write [agent.<name>]");
  CHECK(resolve_error("[runtime.x]\n") ==
        "node.ini:1: section [runtime] takes no name; write [runtime]");
  for (auto bad : {"[agent.Planner]", "[agent.a b]", "[agent.]", "[agent.a.b]", "[tool.x!]"})
    CHECK(resolve_error(std::string{bad} + "\n").find("node.ini:1: bad section name") == 0);
  CHECK(resolve_error("[agent." + std::string(65, 'a') + "]\n").find("[a-z0-9_-]{1,64}") !=
        std::string::npos);
  CHECK(resolve("[agent." + std::string(64, 'a') + "]\n[agent.web-bot_2]\n"));
}

TEST_CASE("config: wrong types name key, file and line") {
  auto err = [](std::string_view section, std::string_view line, errc code) {
    return resolve_error(
        std::string{base} + "[" + std::string{section} + "]\n" + std::string{line} + "\n", {}, {},
        code);
  };
  CHECK(err("runtime", "scheduler_threads = many", errc::parse_error) ==
        "node.ini:4: [runtime] scheduler_threads: 'many' is not an unsigned integer");
  CHECK(err("tool.t", "cache = sometimes", errc::parse_error) ==
        "node.ini:4: [tool.t] cache: 'sometimes' is not a bool (true/false, yes/no, on/off, 1/0)");
  CHECK(err("agent.b", "max_tokens = lots", errc::parse_error) ==
        "node.ini:4: [agent.b] max_tokens: 'lots' is not an integer");
  CHECK(err("agent.b", "temperature = warm", errc::parse_error) ==
        "node.ini:4: [agent.b] temperature: 'warm' is not a number");
  CHECK(err("agent.b", "request_timeout = soon", errc::parse_error) ==
        "node.ini:4: [agent.b] request_timeout: 'soon' is not a duration (a whole number with "
        "unit ms, s, m or h, e.g. 30s)");
  CHECK(err("agent.b", "tools = a,,b", errc::parse_error) ==
        "node.ini:4: [agent.b] tools: 'a,,b' has an empty item in its comma-separated list");
  CHECK(err("agent.b", "role = codng", errc::invalid_argument) ==
        "node.ini:4: [agent.b] role: 'codng' is not one of general|coding|analysis|creative "
        "(did you mean 'coding'?)");
  CHECK(err("memory.m", "kind_limits = fact=3", errc::parse_error) ==
        "node.ini:4: [memory.m] kind_limits: 'fact=3' is not a 'name:number' pair");
}

TEST_CASE("config: values out of bounds name the bound") {
  CHECK(resolve_error("[agent.planner]\nrole = coding\ntemperature = 3.5\n") ==
        "node.ini:3: [agent.planner] temperature: 3.5 is above the maximum 2.0");
  CHECK(resolve_error("[runtime]\nscheduler_threads = 0\n") ==
        "node.ini:2: [runtime] scheduler_threads: 0 is below the minimum 1");
  CHECK(resolve_error("[runtime]\nscheduler_threads = 65\n") ==
        "node.ini:2: [runtime] scheduler_threads: 65 is above the maximum 64");
  CHECK(resolve_error("[supervisor]\nrequest_timeout = 25h\n") ==
        "node.ini:2: [supervisor] request_timeout: 25h is above the maximum 24h");
  CHECK(resolve_error("[agent.a]\nmax_tokens = -1\n") ==
        "node.ini:2: [agent.a] max_tokens: -1 is below the minimum 1");
  CHECK(resolve_error("[memory.m]\nretention = hierarchical\nkind_limits = fact:0\n") ==
        "node.ini:3: [memory.m] kind_limits: fact:0 is below the minimum 1");
}

TEST_CASE("config: bare numbers and unknown units are rejected for durations") {
  CHECK(resolve_error("[supervisor]\nrestart_window = 30\n", {}, {}, errc::parse_error) ==
        "node.ini:2: [supervisor] restart_window: '30' has no unit; write it with ms, s, m or h "
        "(e.g. 30s or 250ms)");
  CHECK(resolve_error("[supervisor]\nrestart_window = 30sec\n", {}, {}, errc::parse_error)
            .find("node.ini:2: [supervisor] restart_window: '30sec' is not a duration") == 0);
  CHECK(resolve_error("", {{"AGENTGRAPH_SUPERVISOR_HEARTBEAT_INTERVAL", "500"}}, {},
                      errc::parse_error)
            .find("environment AGENTGRAPH_SUPERVISOR_HEARTBEAT_INTERVAL: [supervisor] "
                  "heartbeat_interval: '500' has no unit") == 0);
}

TEST_CASE("config: keys for another kind are rejected") {
  CHECK(resolve_error("[tool.c]\nkind = calculator\nroot = /tmp\n") ==
        "node.ini:3: [tool.c] root: applies only when kind is file_read, but kind is calculator "
        "(node.ini:2)");
  CHECK(resolve_error("[memory.m]\nkind_limits = fact:3\n") ==
        "node.ini:2: [memory.m] kind_limits: applies only when retention is hierarchical, but "
        "retention is sliding_window (node.ini:1 (default))");
  CHECK(resolve_error("[provider.p]\nkind = openai\n", {}, {"provider.p.rules=r.txt"}) ==
        "--set provider.p.rules=r.txt: [provider.p] rules: applies only when kind is "
        "scripted|replay, "
        "but kind is "
        "openai (node.ini:2)");
}

TEST_CASE("config: precedence is command line > environment > file > default") {
  const std::string text =
      std::string{base} + "temperature = 0.3\n[runtime]\nscheduler_threads = 3\n";
  const env_map env = {{"AGENTGRAPH_RUNTIME_SCHEDULER_THREADS", "4"},
                       {"AGENTGRAPH_AGENT_A_TEMPERATURE", "0.4"}};
  const override_list cli = {"runtime.scheduler_threads=5", "agent.a.temperature=0.5"};
  auto threads = [](const config_tree& t) {
    return std::get<uint64_t>(entry(t, "runtime", "scheduler_threads").value);
  };
  auto temp = [](const config_tree& t) {
    return std::get<double>(entry(t, "agent.a", "temperature").value);
  };
  auto all = resolve(text, env, cli);
  REQUIRE(all);
  CHECK(threads(*all) == 5);
  CHECK(temp(*all) == 0.5);
  CHECK(entry(*all, "runtime", "scheduler_threads").origin == "--set runtime.scheduler_threads=5");
  auto no_cli = resolve(text, env);
  REQUIRE(no_cli);
  CHECK(threads(*no_cli) == 4);
  CHECK(temp(*no_cli) == 0.4);
  CHECK(entry(*no_cli, "agent.a", "temperature").origin ==
        "environment AGENTGRAPH_AGENT_A_TEMPERATURE");
  auto file_only = resolve(text);
  REQUIRE(file_only);
  CHECK(threads(*file_only) == 3);
  CHECK(temp(*file_only) == 0.3);
  CHECK(entry(*file_only, "runtime", "scheduler_threads").origin == "node.ini:5");
  auto defaults = resolve(base);
  REQUIRE(defaults);
  CHECK(threads(*defaults) == 2);
  CHECK(entry(*defaults, "runtime", "scheduler_threads").is_default());
  CHECK(defaults->find("agent.a")->find("temperature") == nullptr);  // optional, unset
  // The same through the struct binding.
  auto cfg = parse_node_config(text, "node.ini", env, cli);
  REQUIRE(cfg);
  CHECK(cfg->runtime.scheduler_threads == 5);
  CHECK(*cfg->agents.at(0).temperature == 0.5);
}

TEST_CASE("config: environment names follow AGENTGRAPH_SECTION_KEY") {
  CHECK(env_var_name("agent.planner", "temperature") == "AGENTGRAPH_AGENT_PLANNER_TEMPERATURE");
  CHECK(env_var_name("runtime", "scheduler_threads") == "AGENTGRAPH_RUNTIME_SCHEDULER_THREADS");
  CHECK(env_var_name("tool.web-get", "timeout") == "AGENTGRAPH_TOOL_WEB_GET_TIMEOUT");
  auto t = resolve("[agent.web-bot]\n", {{"AGENTGRAPH_AGENT_WEB_BOT_MODEL", " m2 "},
                                         {"AGENTGRAPH_CONFIG", "/etc/node.ini"},
                                         {"AGENTGRAPH_TEST_POSTGRES_URL", "postgresql://h/d"},
                                         {"AGENTGRAPH_TEST_REDIS_URL", "redis://x:1"},
                                         {"PATH", "/bin"}});
  REQUIRE(t);
  CHECK(std::get<std::string>(entry(*t, "agent.web-bot", "model").value) == "m2");
}

TEST_CASE("config: unknown AGENTGRAPH_ variables are errors") {
  CHECK(resolve_error(base, {{"AGENTGRAPH_RUNTIME_SCHEDULER_THREAD", "2"}}) ==
        "environment AGENTGRAPH_RUNTIME_SCHEDULER_THREAD: matches no config key (did you mean "
        "AGENTGRAPH_RUNTIME_SCHEDULER_THREADS?); a named section such as [agent.<name>] must be "
        "declared in the config file before the environment can set its keys");
  // A variable for a named section the file does not declare.
  CHECK(resolve_error(base, {{"AGENTGRAPH_AGENT_ZED_MODEL", "m"}})
            .find("environment AGENTGRAPH_AGENT_ZED_MODEL: matches no config key") == 0);
  CHECK(resolve_error(base, {{"AGENTGRAPH_AGENT_A_TEMPERATURE", "3.5"}}) ==
        "environment AGENTGRAPH_AGENT_A_TEMPERATURE: [agent.a] temperature: 3.5 is above the "
        "maximum 2.0");
}

TEST_CASE("config: an environment name shared by two keys is ambiguous") {
  auto msg = resolve_error("[agent.a_b]\n[agent.a-b]\n", {{"AGENTGRAPH_AGENT_A_B_MODEL", "m"}});
  CHECK(msg ==
        "environment AGENTGRAPH_AGENT_A_B_MODEL: ambiguous: it names both [agent.a_b] "
        "model and [agent.a-b] model; use --set on the command line instead");
  // Unset, the shared name harms nobody.
  CHECK(resolve("[agent.a_b]\n[agent.a-b]\n"));
}

TEST_CASE("config: command-line overrides are validated like file values") {
  CHECK(resolve_error(base, {}, {"agent.a.temperature"}, errc::parse_error) ==
        "command line: override 'agent.a.temperature' is not of the form section.key=value");
  CHECK(resolve_error(base, {}, {"temperature=1"}, errc::parse_error).find("not of the form") !=
        std::string::npos);
  CHECK(resolve_error(base, {}, {"agent.b.model=x"}) ==
        "command line: override 'agent.b.model=x': the config file has no section [agent.b]; "
        "overrides cannot create named sections, add it to the file");
  CHECK(resolve_error(base, {}, {"runtme.log_level=debug"}) ==
        "command line: override 'runtme.log_level=debug': unknown section [runtme] (did you "
        "mean [runtime]?)");
  CHECK(resolve_error(base, {}, {"runtime.log_levl=debug"}) ==
        "--set runtime.log_levl=debug: [runtime] unknown key 'log_levl' (did you mean "
        "'log_level'?)");
  CHECK(resolve_error(base, {}, {"runtime.log_level=loud"}) ==
        "--set runtime.log_level=loud: [runtime] log_level: 'loud' is not one of "
        "error|warn|info|debug");
  auto later_wins = resolve(base, {}, {"agent.a.model=x", "agent.a.model = y"});
  REQUIRE(later_wins);
  CHECK(std::get<std::string>(entry(*later_wins, "agent.a", "model").value) == "y");
  override_list many(config_overrides_max + 1, "runtime.log_level=info");
  CHECK(resolve_error(base, {}, many) == "command line: more than 256 overrides");
}

TEST_CASE("config: program options are generated for fixed sections") {
  namespace po = boost::program_options;
  po::options_description desc;
  add_schema_options(node_schema(), desc);
  const char* argv[] = {
      "agentgraph",      "--runtime.scheduler_threads",    "6",     "--set",
      "agent.a.model=m", "--supervisor.restart_window=1m", "--set", "agent.a.model=n"};
  po::variables_map vm;
  po::store(po::parse_command_line(static_cast<int>(std::size(argv)), argv, desc), vm);
  po::notify(vm);
  auto overrides = overrides_from_options(node_schema(), vm);
  CHECK(overrides == override_list{"runtime.scheduler_threads=6", "supervisor.restart_window=1m",
                                   "agent.a.model=m", "agent.a.model=n"});
  auto cfg = parse_node_config(base, "node.ini", {}, overrides);
  REQUIRE_MESSAGE(cfg, describe(cfg.error()));
  CHECK(cfg->runtime.scheduler_threads == 6);
  CHECK(cfg->supervisor.restart_window == std::chrono::minutes{1});
  CHECK(cfg->agents.at(0).model == "n");
  // Every key of every fixed section has an option; named sections have none.
  for (const auto& s : node_schema().sections())
    for (const auto& k : s.keys)
      CHECK((desc.find_nothrow(s.name + "." + k.name, false) != nullptr) == !s.named);
  // A bad value fails in the schema, with the same message as from a file.
  auto bad = parse_node_config(base, "node.ini", {}, {"runtime.scheduler_threads=x"});
  REQUIRE_FALSE(bad);
  CHECK(error_context(bad.error()) ==
        "--set runtime.scheduler_threads=x: [runtime] scheduler_threads: 'x' is not an unsigned "
        "integer");
}

TEST_CASE("config: describe_schema mentions every key, its default and env name") {
  auto text = describe_schema(node_schema());
  for (const auto& s : node_schema().sections()) {
    CHECK(text.find("[" + s.display_name() + "]") != std::string::npos);
    for (const auto& k : s.keys) {
      INFO(s.name << "." << k.name);
      CHECK(text.find("\n  " + k.name + "\n") != std::string::npos);
      CHECK(text.find(env_var_name(s.display_name(), k.name)) != std::string::npos);
      CHECK(text.find(k.help) != std::string::npos);
    }
  }
  CHECK(text.find("AGENTGRAPH_AGENT_<NAME>_TEMPERATURE") != std::string::npos);
  CHECK(text.find("AGENTGRAPH_RUNTIME_SCHEDULER_THREADS") != std::string::npos);
  CHECK(text.find("type:    uint, 1..64\n    default: 2\n") != std::string::npos);
  CHECK(text.find("type:    double, 0.0..2.0\n    default: (unset)\n") != std::string::npos);
  CHECK(text.find("default: (required)") != std::string::npos);
}

TEST_CASE("config: process_environment keeps only AGENTGRAPH_ variables") {
  REQUIRE(::setenv("AGENTGRAPH_RESOLVE_TEST_PROBE", "a=b", 1) == 0);
  auto env = process_environment();
  ::unsetenv("AGENTGRAPH_RESOLVE_TEST_PROBE");
  CHECK(env.at("AGENTGRAPH_RESOLVE_TEST_PROBE") == "a=b");
  for (const auto& [name, value] : env)
    CHECK(name.rfind("AGENTGRAPH_", 0) == 0);
}

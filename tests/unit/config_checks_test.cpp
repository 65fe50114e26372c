// Issue 9 part 5, the config side: errors name the source of the value
// (file:line, `--set ...`, `environment ...`) also for cross-references and
// the components' own validators; secrets never appear in an error; a FIFO
// or device is refused at once wherever the loader reads a file; an
// `api_key_env` naming an unset variable is refused at start for every HTTP
// kind. (`config check` and `run` refusing alike: tests/integration/cli_errors.sh.)
#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "actors/host/node_config.hpp"
#include "runtime/error.hpp"
#include "runtime/file_open.hpp"
#include "temp_dir.hpp"

using namespace agentgraph;

namespace config_checks_test {

namespace fs = std::filesystem;

const std::string checks_rules_path =
  std::string{AGENTGRAPH_SOURCE_DIR} + "/configs/examples/research.rules.json";

// One agent on a scripted provider whose rules file exists, plus `extra`.
std::string checks_config(const std::string& extra = {}) {
  return "[provider.p]\nkind = scripted\nrules = " + checks_rules_path + "\n[agent.a]\nprovider = p\n"
         + extra;
}

std::string checks_error(const std::string& text, const std::vector<std::string>& overrides = {},
                       const std::map<std::string, std::string>& env = {}) {
  auto cfg = parse_node_config(text, "node.ini", env, overrides);
  REQUIRE_FALSE(cfg);
  return error_context(cfg.error());
}

// A temp dir that also writes files and FIFOs into itself.
struct checks_dir : test_support::temp_dir {
  checks_dir() : test_support::temp_dir("config-checks") {}
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream{path / name} << text;
    return (path / name).string();
  }
  std::string fifo(const std::string& name) const {
    auto p = (path / name).string();
    REQUIRE(::mkfifo(p.c_str(), 0600) == 0);
    return p;
  }
};

}  // namespace config_checks_test

using namespace config_checks_test;

TEST_CASE("config: an error names the --set or environment source of the value") {
  struct row {
    std::vector<std::string> overrides;
    std::map<std::string, std::string> env;
    std::string extra;
    std::string message;
  };
  const std::vector<row> rows{
    // Per-key validation.
    {{"agent.a.temperature=3.5"}, {}, {},
     "--set agent.a.temperature=3.5: [agent.a] temperature: 3.5 is above the maximum"},
    {{}, {{"AGENTGRAPH_AGENT_A_TEMPERATURE", "3.5"}}, {},
     "environment AGENTGRAPH_AGENT_A_TEMPERATURE: [agent.a] temperature: 3.5 is above the "
     "maximum"},
    // Cross-references.
    {{"agent.a.memory=x"}, {}, {},
     "--set agent.a.memory=x: [agent.a] memory: no section [memory.x]"},
    {{}, {{"AGENTGRAPH_AGENT_A_MEMORY", "x"}}, {},
     "environment AGENTGRAPH_AGENT_A_MEMORY: [agent.a] memory: no section [memory.x]"},
    // A pair: the key set on the command line is blamed, not the other
    // one's default.
    {{"provider.h.breaker_window=2"}, {}, "[provider.h]\nkind = openai\nbreaker_window_min = 5\n",
     "node.ini:8: [provider.h] breaker_window_min: must not be above breaker_window "
     "(--set provider.h.breaker_window=2)"},
    {{"provider.h.breaker_window_min=500"}, {}, "[provider.h]\nkind = openai\n",
     "--set provider.h.breaker_window_min=500: [provider.h] breaker_window_min: must not be "
     "above breaker_window (node.ini:6 (default))"},
    // The components' own validators.
    {{"memory.m.embedding_model=hash-0"}, {}, "[memory.m]\n",
     "--set memory.m.embedding_model=hash-0: [memory.m] embedding_model: "},
    {{}, {{"AGENTGRAPH_GROUP_G_AGENTS", ""}}, "[group.g]\nagents = a\n",
     "environment AGENTGRAPH_GROUP_G_AGENTS: [group.g] agents: a group needs at least one member "
     "agent"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.message);
    auto msg = checks_error(checks_config(r.extra), r.overrides, r.env);
    CHECK(msg.substr(0, r.message.size()) == r.message);
  }
}

TEST_CASE("config: the file's own component errors blame its line") {
  CHECK(checks_error(checks_config("[memory.m]\nembedding_model = hash-0\n")).rfind(
          "node.ini:7: [memory.m] embedding_model: ", 0)
        == 0);
  CHECK(checks_error(checks_config("[group.g]\nagents =\n"))
        == "node.ini:7: [group.g] agents: a group needs at least one member agent");
}

TEST_CASE("config: a provider's embedding model needs that provider, with embeddings") {
  CHECK(checks_error(checks_config("[memory.m]\nembedding_model = nope:text-embedding-3-small\n"))
        == "node.ini:7: [memory.m] embedding_model: names provider 'nope', which has no "
           "[provider.nope] section");
  CHECK(checks_error(checks_config("[provider.claude]\nkind = anthropic\napi_key = k\n"
                                   "[memory.m]\nembedding_model = claude:x\n"))
        == "node.ini:10: [memory.m] embedding_model: provider 'claude' is anthropic, which has "
           "no embeddings API");
  auto ok = parse_node_config(checks_config("[memory.m]\nembedding_model = p:hash-64\n"),
                              "node.ini", {}, {});
  CHECK_MESSAGE(ok, describe(ok.error()));
}

TEST_CASE("config: a secret set on the command line is never echoed") {
  const std::string key = "sk-proj-4f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c";
  for (const auto& o : {"provider.p.api_key=" + key, "provider.p.api_key " + key,
                        "provider.nope.api_key=" + key}) {
    CAPTURE(o);
    auto msg = checks_error(checks_config(), {o});
    CHECK(msg.find(key) == std::string::npos);
  }
  CHECK(checks_error(checks_config(), {"provider.p.api_key=" + key}).rfind(
          "--set provider.p.api_key=<redacted>: [provider.p] api_key: applies only", 0)
        == 0);
  // A value that looks like a key is hidden whatever its key.
  auto msg = checks_error(checks_config(), {"agent.a.temperature=" + key});
  CHECK(msg.find(key) == std::string::npos);
  CHECK(msg.find("<redacted>") != std::string::npos);
}

TEST_CASE("config: a Redis URL with a password is never echoed, and is checked like a start") {
  auto cfg = parse_node_config(checks_config("[cache]\nredis_url = redis://u:hunter2pw@h:99999\n"),
                               "node.ini", {}, {});
  REQUIRE(cfg);
  auto err = check_node_resources(*cfg);
  REQUIRE(err);
  CHECK(error_context(err).rfind("cache: redis_url '<redacted>': ", 0) == 0);
  CHECK(error_context(err).find("hunter2pw") == std::string::npos);
}

TEST_CASE("config: a FIFO or device is refused at once wherever the loader reads a file") {
  checks_dir dir;
  auto fifo = dir.fifo("fifo");
  // Each of these would block forever (FIFO without a writer) or read
  // without end (a device) if opened plainly.
  for (const std::string& p : {fifo, std::string{"/dev/zero"}}) {
    CAPTURE(p);
    auto as_config = load_node_config(p, {}, {});
    REQUIRE_FALSE(as_config);
    CHECK(errc_of(as_config.error()) == errc::io_error);
    CHECK(error_context(as_config.error()).find("not a regular file") != std::string::npos);
    auto read = read_regular_file(p, 1024);
    REQUIRE_FALSE(read);
    CHECK(error_context(read.error()).find("not a regular file") != std::string::npos);
  }
  auto rules = parse_node_config(
    "[provider.p]\nkind = scripted\nrules = " + fifo + "\n[agent.a]\nprovider = p\n", "node.ini",
    {}, {});
  REQUIRE(rules);
  auto err = check_node_resources(*rules);
  REQUIRE(err);
  CHECK(error_context(err) == "provider 'p': rules file " + fifo + ": is a FIFO, not a regular file");
  auto prices = parse_node_config(checks_config(), "node.ini", {}, {"runtime.prices=" + fifo});
  REQUIRE(prices);
  CHECK(error_context(check_node_resources(*prices))
        == "runtime.prices: " + fifo + ": is a FIFO, not a regular file");
  auto wf = parse_node_config(checks_config("[workflow.w]\nfile = " + fifo + "\n"), "node.ini", {}, {});
  REQUIRE(wf);
  CHECK(error_context(check_node_resources(*wf))
        == "workflow 'w': workflow file " + fifo + ": is a FIFO, not a regular file");
}

TEST_CASE("config: api_key_env naming an unset variable fails at start for every HTTP kind") {
  const std::string unset = "AG_CONFIG_CHECKS_TEST_UNSET_KEY";
  const std::string set = "AG_CONFIG_CHECKS_TEST_SET_KEY";
  ::unsetenv(unset.c_str());
  ::setenv(set.c_str(), "k-123", 1);
  for (const char* kind : {"openai", "anthropic", "gemini", "openrouter", "openai_compatible"}) {
    CAPTURE(kind);
    std::string base_url = std::string{kind} == "openai_compatible"
                             ? "base_url = http://127.0.0.1:9/v1\n"
                             : "";
    auto with = [&](const std::string& var) {
      auto cfg = parse_node_config(checks_config("[provider.h]\nkind = " + std::string{kind} + "\n"
                                           + base_url + "api_key_env = " + var + "\n"),
                                   "node.ini", {}, {});
      REQUIRE_MESSAGE(cfg, describe(cfg.error()));
      return check_node_resources(*cfg);
    };
    auto err = with(unset);
    REQUIRE(err);
    CHECK(error_context(err)
          == "provider 'h': no API key: api_key_env names the environment variable " + unset
               + ", which is unset or empty; set it or the key `api_key`");
    CHECK_FALSE(with(set));
  }
  // A local server needs no key: openai_compatible without either is fine.
  auto local = parse_node_config(
    checks_config("[provider.h]\nkind = openai_compatible\nbase_url = http://127.0.0.1:9/v1\n"),
    "node.ini", {}, {});
  REQUIRE(local);
  CHECK_FALSE(check_node_resources(*local));
  ::unsetenv(set.c_str());
}

TEST_CASE("config: check_node_resources refuses what building refuses, with its message") {
  checks_dir dir;
  auto bad_rules = dir.write("bad.json", R"({"rules": [], "rules": []})");
  struct row {
    std::string text;
    std::string message;
  };
  const std::vector<row> rows{
    {"[provider.p]\nkind = scripted\nrules = " + bad_rules + "\n[agent.a]\nprovider = p\n",
     "provider 'p': "},
    {checks_config("[tool.f]\nkind = file_read\nroot = " + (dir.path / "nope").string() + "\n"),
     "tool 'f': root '"},
    {checks_config("[workflow.w]\nfile = " + dir.write("w.json", R"({"entry": "a", "nodes": {"a": )"
                                                           R"({"agent": "ghost", "input": "x", )"
                                                           R"("output": "o"}}, "edges": [{"from": )"
                                                           R"("a", "to": "END"}]})")
             + "\n"),
     "workflow 'w': "},
  };
  for (const auto& r : rows) {
    CAPTURE(r.text);
    auto cfg = parse_node_config(r.text, "node.ini", {}, {});
    REQUIRE_MESSAGE(cfg, describe(cfg.error()));
    auto err = check_node_resources(*cfg);
    REQUIRE(err);
    CHECK(error_context(err).rfind(r.message, 0) == 0);
  }
}

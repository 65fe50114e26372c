// The [cluster] section of a node config (issue 12, design §5.6): absent it
// leaves node_config::cluster unset (the node runs alone); given from the
// file, the environment or the command line it binds every key into
// cluster::cluster_config; the schema's bounds, the seeds and the rules
// across keys (cluster::validate) are refused naming the key and where it
// was set; check_node_resources wants the secret's variable set to a usable
// secret and never prints its value. The tls_* keys' own rules and files:
// config_cluster_tls_test.cpp.
#include <doctest/doctest.h>

#include <cstdlib>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "actors/host/node_config.hpp"
#include "net/cluster/cluster_config_keys.hpp"
#include "runtime/config/config_value.hpp"
#include "runtime/error.hpp"
#include "scoped_env.hpp"

using namespace agentgraph;
using namespace std::chrono_literals;

namespace config_cluster_test {

using env_map = std::map<std::string, std::string>;
using overrides = std::vector<std::string>;

const std::string rules_path =
  std::string{AGENTGRAPH_SOURCE_DIR} + "/configs/examples/research.rules.json";

// One agent on a scripted provider whose rules exist (so
// check_node_resources passes everything but the cluster), in 5 lines;
// `extra` starts on line 6.
std::string with(const std::string& extra = {}) {
  return "[provider.p]\nkind = scripted\nrules = " + rules_path + "\n[agent.a]\nprovider = p\n"
         + extra;
}

// A usable [cluster] section (header on line 6, then name, seeds,
// secret_env on lines 7-9), plus `extra` keys from line 10 on.
std::string section(const std::string& extra = {}, const std::string& secret_env = "") {
  return with("[cluster]\nname = prod\nseeds = 10.0.0.5:7400\nsecret_env = "
              + (secret_env.empty() ? std::string{"AG_CLUSTER_TEST_UNUSED"} : secret_env) + "\n"
              + extra);
}

caf::expected<node_config> load(const std::string& text, const env_map& env = {},
                                const overrides& cli = {}) {
  return parse_node_config(text, "node.ini", env, cli);
}

std::string load_error(const std::string& text, const env_map& env = {},
                       const overrides& cli = {}) {
  auto cfg = load(text, env, cli);
  REQUIRE_FALSE_MESSAGE(cfg, "loaded although an error was expected");
  return error_context(cfg.error());
}

const section_spec& cluster_spec() {
  const auto* s = node_schema().find("cluster");
  REQUIRE(s != nullptr);
  return *s;
}

// A value one step outside a bound, in the key's own syntax.
std::string beyond(value_type type, long double bound, int step) {
  switch (type) {
    case value_type::duration:
      return std::to_string(static_cast<int64_t>(bound) + step) + "ms";
    case value_type::number:
      return format_config_value(
        config_value{std::in_place_type<double>, static_cast<double>(bound) + step * 0.5});
    default: return std::to_string(static_cast<int64_t>(bound) + step);
  }
}

using test_support::scoped_env;

}  // namespace config_cluster_test

using namespace config_cluster_test;

TEST_CASE("config cluster: without a [cluster] section the node has no cluster") {
  auto cfg = load(with());
  REQUIRE_MESSAGE(cfg, describe(cfg.error()));
  CHECK_FALSE(cfg->cluster.has_value());
  // Nor does the secret's variable in the environment make one, or fail
  // the load as an unknown AGENTGRAPH_* key (it is secret_env's default).
  auto env = load(with(), {{"AGENTGRAPH_CLUSTER_SECRET", "0123456789abcdef"}});
  REQUIRE_MESSAGE(env, describe(env.error()));
  CHECK_FALSE(env->cluster.has_value());
  // And without one the secret is not asked for.
  ::unsetenv("AGENTGRAPH_CLUSTER_SECRET");
  CHECK_FALSE(check_node_resources(*cfg));
  // The header alone gives the section, which then needs its name.
  CHECK(load_error(with("[cluster]\n")) == "node.ini:6 (default): [cluster] name must be 1-128 bytes");
}

TEST_CASE("config cluster: a full section binds every key") {
  using C = const cluster::cluster_config&;
  struct row {
    std::string key;
    std::string value;
    std::function<void(C)> check;
  };
  const std::vector<row> rows{
    {"name", "prod-eu", [](C c) { CHECK(c.name == "prod-eu"); }},
    {"node_id", "n1", [](C c) { CHECK(c.node_id == "n1"); }},
    {"listen", "10.0.0.5", [](C c) { CHECK(c.listen == "10.0.0.5"); }},
    {"port", "7400", [](C c) { CHECK(c.port == 7400); }},
    {"advertise_host", "node1.example", [](C c) { CHECK(c.advertise_host == "node1.example"); }},
    {"seeds", "node1.example:7400, 10.0.0.6:7401",
     [](C c) { CHECK(c.seeds == std::vector<std::string>{"node1.example:7400", "10.0.0.6:7401"}); }},
    {"secret_env", "MY_CLUSTER_SECRET", [](C c) { CHECK(c.secret_env == "MY_CLUSTER_SECRET"); }},
    {"tls_certificate", "/etc/ag/n1.pem", [](C c) { CHECK(c.tls_certificate == "/etc/ag/n1.pem"); }},
    {"tls_key", "/etc/ag/n1.key", [](C c) { CHECK(c.tls_key == "/etc/ag/n1.key"); }},
    {"tls_passphrase_env", "MY_KEY_PASS", [](C c) { CHECK(c.tls_passphrase_env == "MY_KEY_PASS"); }},
    {"tls_cafile", "/etc/ag/ca.pem", [](C c) { CHECK(c.tls_cafile == "/etc/ag/ca.pem"); }},
    {"journal_path", "/var/ag/journal.sqlite",
     [](C c) { CHECK(c.journal_path == "/var/ag/journal.sqlite"); }},
    // Loaded on its own below: a node has one journal, path or URL.
    {"journal_url", "postgresql://ag@db.example:5432/tasks",
     [](C c) { CHECK(c.journal_url == "postgresql://ag@db.example:5432/tasks"); }},
    {"heartbeat_interval", "100ms", [](C c) { CHECK(c.heartbeat_interval == 100ms); }},
    {"acceptable_heartbeat_pause", "2s", [](C c) { CHECK(c.acceptable_heartbeat_pause == 2s); }},
    {"min_std_deviation", "50ms", [](C c) { CHECK(c.min_std_deviation == 50ms); }},
    {"phi_threshold", "10.5", [](C c) { CHECK(c.phi_threshold == 10.5); }},
    {"phi_samples_max", "500", [](C c) { CHECK(c.phi_samples_max == 500); }},
    {"transport_heartbeat", "200ms", [](C c) { CHECK(c.transport_heartbeat == 200ms); }},
    {"transport_timeout", "3s", [](C c) { CHECK(c.transport_timeout == 3s); }},
    {"gossip_interval", "300ms", [](C c) { CHECK(c.gossip_interval == 300ms); }},
    {"stable_after", "3s", [](C c) { CHECK(c.stable_after == 3s); }},
    {"down_on_refused", "false", [](C c) { CHECK_FALSE(c.down_on_refused); }},
    {"down_all_when_unstable", "true", [](C c) { CHECK(c.down_all_when_unstable); }},
    {"connect_timeout", "1500ms", [](C c) { CHECK(c.connect_timeout == 1500ms); }},
    {"join_timeout", "7s", [](C c) { CHECK(c.join_timeout == 7s); }},
    {"reconnect_backoff_max", "4s", [](C c) { CHECK(c.reconnect_backoff_max == 4s); }},
    {"connectors_stalled_max", "6", [](C c) { CHECK(c.connectors_stalled_max == 6); }},
    {"members_max", "9", [](C c) { CHECK(c.members_max == 9); }},
    {"directory_entries_max", "17", [](C c) { CHECK(c.directory_entries_max == 17); }},
    {"handshakes_max", "16", [](C c) { CHECK(c.handshakes_max == 16); }},
    {"dedicated_thread", "false", [](C c) { CHECK_FALSE(c.dedicated_thread); }},
    {"max_agents", "12", [](C c) { CHECK(c.max_agents == 12); }},
    {"message_timeout", "45s", [](C c) { CHECK(c.message_timeout == 45s); }},
  };
  std::string text = "[cluster]\n";
  std::string url_text;
  for (const auto& r : rows)
    (r.key == "journal_url" ? url_text : text) += r.key + " = " + r.value + "\n";
  auto cfg = load(with(text));
  REQUIRE_MESSAGE(cfg, describe(cfg.error()));
  REQUIRE(cfg->cluster.has_value());
  auto url_cfg = load(section(url_text));
  REQUIRE_MESSAGE(url_cfg, describe(url_cfg.error()));
  // Every value differs from the struct's default, so each check proves
  // its key reached its member.
  for (const auto& r : rows) {
    INFO("[cluster] " << r.key);
    r.check(r.key == "journal_url" ? *url_cfg->cluster : *cfg->cluster);
  }
  // The rows cover the section, and the section every member.
  std::set<std::string> covered;
  for (const auto& r : rows)
    covered.insert(r.key);
  CHECK(covered.size() == rows.size());
  CHECK(cluster_spec().keys.size() == rows.size());
  for (const auto& k : cluster_spec().keys)
    CHECK_MESSAGE(covered.count(k.name) == 1, k.name);
}

TEST_CASE("config cluster: the task journal defaults to <data_dir>/task_journal.sqlite") {
  auto none = load(section());
  REQUIRE_MESSAGE(none, describe(none.error()));
  CHECK(none->cluster->journal_path.empty());  // no data_dir: not journaled
  auto by_dir = load(section(), {}, {"runtime.data_dir=/var/ag"});
  REQUIRE_MESSAGE(by_dir, describe(by_dir.error()));
  CHECK(by_dir->cluster->journal_path == "/var/ag/task_journal.sqlite");
  auto given = load(section("journal_path = /srv/j.sqlite\n"), {}, {"runtime.data_dir=/var/ag"});
  REQUIRE_MESSAGE(given, describe(given.error()));
  CHECK(given->cluster->journal_path == "/srv/j.sqlite");  // the key wins
  // A shared journal replaces the file: no default path beside it.
  auto shared = load(section("journal_url = postgres://ag@db/tasks\n"), {},
                     {"runtime.data_dir=/var/ag"});
  REQUIRE_MESSAGE(shared, describe(shared.error()));
  CHECK(shared->cluster->journal_path.empty());
  CHECK(shared->cluster->journal_url == "postgres://ag@db/tasks");
  // Both set, or a URL that is not PostgreSQL's: the error names journal_url.
  auto both = load(section("journal_path = /srv/j.sqlite\njournal_url = postgresql://db/t\n"));
  REQUIRE_FALSE(both);
  CHECK(describe(both.error()).find("journal_url") != std::string::npos);
  CHECK(describe(both.error()).find("both set") != std::string::npos);
  auto not_pg = load(section("journal_url = sqlite:/srv/j.sqlite\n"));
  REQUIRE_FALSE(not_pg);
  CHECK(describe(not_pg.error()).find("postgresql://") != std::string::npos);
  // Without [cluster] a data_dir journals nothing (no gateway journal).
  auto alone = load(with(), {}, {"runtime.data_dir=/var/ag"});
  REQUIRE_MESSAGE(alone, describe(alone.error()));
  CHECK_FALSE(alone->cluster.has_value());
}

TEST_CASE("config cluster: keys left out keep the struct's defaults") {
  auto cfg = load(section());
  REQUIRE_MESSAGE(cfg, describe(cfg.error()));
  REQUIRE(cfg->cluster.has_value());
  const cluster::cluster_config d;
  const auto& c = *cfg->cluster;
  CHECK(c.listen == d.listen);
  CHECK(c.port == d.port);
  CHECK(c.node_id.empty());
  CHECK(c.heartbeat_interval == d.heartbeat_interval);
  CHECK(c.phi_threshold == d.phi_threshold);
  CHECK(c.transport_timeout == d.transport_timeout);
  CHECK(c.members_max == d.members_max);
  CHECK(c.dedicated_thread == d.dedicated_thread);
  CHECK(d.secret_env == "AGENTGRAPH_CLUSTER_SECRET");
  auto defaulted = load(with("[cluster]\nname = prod\nseeds = h:1\n"));
  REQUIRE(defaulted);
  CHECK(defaulted->cluster->secret_env == d.secret_env);
}

TEST_CASE("config cluster: every bound is refused naming the key") {
  size_t bounds = 0;
  for (const auto& k : cluster_spec().keys) {
    const auto& r = k.rules;
    std::vector<std::pair<std::string, std::string>> bad;  // value, what the error says
    if (r.min && *r.min > 0)
      bad.emplace_back(beyond(r.type, *r.min, -1), "is below the minimum");
    if (r.max)
      bad.emplace_back(beyond(r.type, *r.max, +1), "is above the maximum");
    for (const auto& [value, says] : bad) {
      ++bounds;
      INFO(k.name << " = " << value);
      // From the command line: the assignment is the origin.
      auto cli = load_error(section(), {}, {"cluster." + k.name + "=" + value});
      CHECK(cli.find("--set cluster." + k.name + "=" + value + ": [cluster] " + k.name + ": ")
            == 0);
      CHECK(cli.find(says) != std::string::npos);
      // From the file: its line.
      auto file = load_error(section(k.name + " = " + value + "\n"));
      CHECK(file.find("node.ini:10: [cluster] " + k.name + ": ") == 0);
    }
  }
  // 19 keys have bounds, 16 of them a minimum above 0: 35 ways to cross
  // one (the bools, strings and seeds have none; max_agents' minimum is 0).
  CHECK(bounds == 35);
}

TEST_CASE("config cluster: a bad seed is refused naming the entry") {
  for (const std::string seed : {"a", "h:0", "h:99999", "h:p", ":7400", "h:"}) {
    INFO(seed);
    auto msg = load_error(with("[cluster]\nname = prod\nseeds = ok:1, " + seed + "\n"));
    CHECK(msg.find("node.ini:8: [cluster] seeds: '" + seed + "' is not host:port") == 0);
  }
  // An empty entry in the list, and an empty list.
  auto empty_item = load_error(with("[cluster]\nname = prod\nseeds = ok:1, , ok:2\n"));
  CHECK(empty_item.find("node.ini:8: [cluster] seeds: ") == 0);
  CHECK(empty_item.find("empty item") != std::string::npos);
  CHECK(load_error(with("[cluster]\nname = prod\nseeds =\n"))
        == "node.ini:8: [cluster] seeds must list at least one host:port");
  CHECK(load_error(with("[cluster]\nname = prod\n"))
        == "node.ini:6 (default): [cluster] seeds must list at least one host:port");
  // The "port" of "host:port" is not the port key, set or not.
  CHECK(load_error(with("[cluster]\nname = prod\nport = 7400\n"))
        == "node.ini:6 (default): [cluster] seeds must list at least one host:port");
  // More seeds than the cluster may have members.
  CHECK(load_error(section("members_max = 1\n"), {}, {"cluster.seeds=h:1,h:2"})
        == "--set cluster.seeds=h:1,h:2: [cluster] seeds lists more nodes than members_max");
}

TEST_CASE("config cluster: transport_timeout below 4 x transport_heartbeat is refused") {
  // The heartbeat was set (line 10), the timeout kept its default: blame
  // the line somebody wrote.
  CHECK(load_error(section("transport_heartbeat = 500ms\n"))
        == "node.ini:10: [cluster] transport_timeout must be at least 4 x transport_heartbeat");
  CHECK(load_error(section("transport_timeout = 999ms\n"))
        == "node.ini:10: [cluster] transport_timeout must be at least 4 x transport_heartbeat");
  // Exactly 4 x is enough.
  auto ok = load(section("transport_heartbeat = 500ms\ntransport_timeout = 2s\n"));
  REQUIRE_MESSAGE(ok, describe(ok.error()));
  CHECK(ok->cluster->transport_timeout == 4 * ok->cluster->transport_heartbeat);
}

TEST_CASE("config cluster: the environment and the command line set cluster keys") {
  // Over a section in the file.
  auto env = load(section(), {{"AGENTGRAPH_CLUSTER_PHI_THRESHOLD", "12.5"},
                              {"AGENTGRAPH_CLUSTER_SEEDS", "a:1, b:2"}});
  REQUIRE_MESSAGE(env, describe(env.error()));
  CHECK(env->cluster->phi_threshold == 12.5);
  CHECK(env->cluster->seeds == std::vector<std::string>{"a:1", "b:2"});
  auto cli = load(section(), {{"AGENTGRAPH_CLUSTER_MEMBERS_MAX", "7"}},
                  {"cluster.members_max=5", "cluster.join_timeout=9s"});
  REQUIRE_MESSAGE(cli, describe(cli.error()));
  CHECK(cli->cluster->members_max == 5);  // the command line wins over the environment
  CHECK(cli->cluster->join_timeout == 9s);
  // Without a header: a key from either source gives the section.
  auto env_only = load(with(), {{"AGENTGRAPH_CLUSTER_NAME", "c1"},
                                {"AGENTGRAPH_CLUSTER_SEEDS", "h:1"}});
  REQUIRE_MESSAGE(env_only, describe(env_only.error()));
  REQUIRE(env_only->cluster.has_value());
  CHECK(env_only->cluster->name == "c1");
  auto cli_only = load(with(), {}, {"cluster.name=c2", "cluster.seeds=h:1"});
  REQUIRE_MESSAGE(cli_only, describe(cli_only.error()));
  REQUIRE(cli_only->cluster.has_value());
  CHECK(cli_only->cluster->name == "c2");
  CHECK(cli_only->cluster->seeds == std::vector<std::string>{"h:1"});
  // A section given by one key only is checked whole, blaming that key.
  CHECK(load_error(with(), {}, {"cluster.name=c2"})
        == "--set cluster.name=c2: [cluster] seeds must list at least one host:port");
  CHECK(load_error(with(), {{"AGENTGRAPH_CLUSTER_PORT", "70000"}})
        == "environment AGENTGRAPH_CLUSTER_PORT: [cluster] port: 70000 is above the maximum 65535");
}

TEST_CASE("config cluster: a secret_env variable is not taken for a mistyped key") {
  // Named in the file: left alone, the secret stays out of the config.
  auto named = load(section({}, "AGENTGRAPH_PROD_SECRET"),
                    {{"AGENTGRAPH_PROD_SECRET", "0123456789abcdef"}});
  REQUIRE_MESSAGE(named, describe(named.error()));
  // The default's variable too, even where the file names another one.
  auto by_default = load(section({}, "AGENTGRAPH_PROD_SECRET"),
                         {{"AGENTGRAPH_CLUSTER_SECRET", "0123456789abcdef"}});
  REQUIRE_MESSAGE(by_default, describe(by_default.error()));
  // Another AGENTGRAPH_* variable is still refused, without its value.
  auto typo = load_error(section({}, "AGENTGRAPH_PROD_SECRET"),
                         {{"AGENTGRAPH_CLUSTER_SECRETS", "0123456789abcdef"}});
  CHECK(typo.find("environment AGENTGRAPH_CLUSTER_SECRETS: matches no config key") == 0);
  CHECK(typo.find("0123456789abcdef") == std::string::npos);
}

TEST_CASE("config cluster: check_node_resources wants the secret's variable, never shows it") {
  const std::string var = "AG_CLUSTER_TEST_SECRET";
  ::unsetenv(var.c_str());
  auto cfg = load(section({}, var));
  REQUIRE_MESSAGE(cfg, describe(cfg.error()));
  auto missing = check_node_resources(*cfg);
  REQUIRE(missing);
  CHECK(error_context(missing)
        == "cluster.secret_env: the environment variable " + var
             + " is not set; it must hold the cluster's shared secret (at least 16 bytes)");
  {
    const std::string fifteen = "s3cr3t-15-bytes";
    REQUIRE(fifteen.size() == 15);
    scoped_env e{var, fifteen};
    auto err = check_node_resources(*cfg);
    REQUIRE(err);
    const auto text = error_context(err);
    CHECK(text == "cluster.secret_env: environment variable " + var
                    + ": the cluster secret has 15 bytes; at least 16 are needed");
    CHECK(text.find(fifteen) == std::string::npos);
  }
  {
    const std::string sixteen = "s3cr3t-16-bytes!";
    REQUIRE(sixteen.size() == 16);
    scoped_env e{var, sixteen};
    CHECK_FALSE(check_node_resources(*cfg));
  }
  {
    scoped_env e{var, std::string(4097, 'k')};
    auto err = check_node_resources(*cfg);
    REQUIRE(err);
    CHECK(error_context(err).find(var + ": the cluster secret is longer than 4096 bytes")
          != std::string::npos);
  }
  // An empty name is refused at load, naming the key's line.
  CHECK(load_error(with("[cluster]\nname = prod\nseeds = h:1\nsecret_env =\n"))
        == "node.ini:9: [cluster] secret_env: must name the environment variable of the secret");
}

// A [population.<type>] in a cluster config (issue 14, node_config.cpp
// check_population): a population on every node (placement any) moves a
// key to another node when its node goes, so it must keep its keys in a
// store the nodes share (store_url, PostgreSQL); a node-local SQLite store
// (store_path, or the [runtime] data_dir default) is refused at load with
// an error that names the key and says why. Pinned to one node, or outside
// a cluster, SQLite is fine.
#include <doctest/doctest.h>

#include <string>

#include "actors/host/node_config.hpp"
#include "runtime/error.hpp"

using namespace agentgraph;

namespace config_population_test {

const std::string rules_path =
  std::string{AGENTGRAPH_SOURCE_DIR} + "/configs/examples/research.rules.json";

// One agent and the population `persona` (with `population_keys`) on a
// scripted provider, plus `extra` sections.
std::string with(const std::string& population_keys, const std::string& extra = {}) {
  return "[provider.p]\nkind = scripted\nrules = " + rules_path
         + "\n[agent.a]\nprovider = p\n[population.persona]\nprovider = p\n" + population_keys
         + extra;
}

const std::string cluster_section =
  "[cluster]\nname = prod\nnode_id = n1\nseeds = 10.0.0.5:7400\nsecret_env = "
  "AG_CLUSTER_TEST_UNUSED\n";

std::string load_error(const std::string& text) {
  auto cfg = parse_node_config(text, "node.ini", {}, {});
  REQUIRE_FALSE_MESSAGE(cfg, "loaded although an error was expected");
  return error_context(cfg.error());
}

void loads(const std::string& text) {
  auto cfg = parse_node_config(text, "node.ini", {}, {});
  REQUIRE_MESSAGE(cfg, describe(cfg.error()));
  CHECK(cfg->populations.size() == 1);
}

}  // namespace config_population_test

namespace cpt = config_population_test;

TEST_CASE("config population: on every node of a cluster, a SQLite store_path is refused") {
  auto err = cpt::load_error(
    cpt::with("store_path = /var/lib/agentgraph/persona.sqlite\n", cpt::cluster_section));
  CHECK_MESSAGE(err.find("population.persona") != std::string::npos, err);
  CHECK_MESSAGE(err.find("store_url") != std::string::npos, err);
  CHECK_MESSAGE(err.find("shared") != std::string::npos, err);
  CHECK_MESSAGE(err.find("PostgreSQL") != std::string::npos, err);
}

TEST_CASE("config population: in a cluster, the [runtime] data_dir SQLite default is refused too") {
  auto err = cpt::load_error(
    cpt::with("", "[runtime]\ndata_dir = /var/lib/agentgraph\n" + cpt::cluster_section));
  CHECK_MESSAGE(err.find("store_url") != std::string::npos, err);
  CHECK_MESSAGE(err.find("a population on every node of a cluster") != std::string::npos, err);
}

TEST_CASE("config population: a shared store_url, a pinned population, or no cluster loads") {
  cpt::loads(
    cpt::with("store_url = postgresql://agent@127.0.0.1:5432/keys\n", cpt::cluster_section));
  cpt::loads(cpt::with("store_path = /var/lib/agentgraph/persona.sqlite\nplacement = n1\n",
                       cpt::cluster_section));
  cpt::loads(cpt::with("store_path = /var/lib/agentgraph/persona.sqlite\n"));
}

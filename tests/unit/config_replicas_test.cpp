// [memory.<name>] replicas (net/cluster/DESIGN.md §8.7): 1 by default; set
// from the file, the environment or the command line; R > 1 refused
// without [cluster] or with a pinned placement, and out of [1, 16]; and its
// effect: with R > 1 the Runtime's memory ref under the shard's name is the
// replicated front, while the cluster directory is offered this node's copy.
#include <doctest/doctest.h>

#include <map>
#include <string>
#include <vector>

#include <caf/scoped_actor.hpp>

#include "actors/host/node_config.hpp"
#include "actors/host/runtime.hpp"
#include "actors/host/runtime_builder.hpp"
#include "actors/memory/memory_replica_interface.hpp"
#include "runtime/error.hpp"
#include "runtime/supervised_ref.hpp"

namespace config_replicas_test {

using namespace agentgraph;
using namespace std::chrono_literals;

std::string replicas_config(const std::string& memory_extra, bool cluster) {
  return std::string{"[provider.scripted]\n[agent.a]\nmemory = m\n[memory.m]\n"} + memory_extra
         + (cluster ? "[cluster]\nname = prod\nseeds = 10.0.0.5:7400\n"
                      "secret_env = AG_REPLICAS_TEST_UNUSED\nnode_id = n1\n"
                    : "");
}

caf::expected<node_config> replicas_load(const std::string& text,
                                         const std::vector<std::string>& overrides = {},
                                         const std::map<std::string, std::string>& env = {}) {
  return parse_node_config(text, "node.ini", env, overrides);
}

std::string replicas_error(const std::string& text) {
  auto cfg = replicas_load(text);
  REQUIRE_FALSE_MESSAGE(cfg, "loaded although an error was expected");
  return error_context(cfg.error());
}

}  // namespace config_replicas_test

using namespace config_replicas_test;

TEST_CASE("config replicas: 1 by default, set from the file, the environment and the command line") {
  CHECK(memory_config{}.replicas == 1);
  auto plain = replicas_load(replicas_config("", false));
  REQUIRE(plain);
  CHECK(plain->memories[0].replicas == 1);
  auto file = replicas_load(replicas_config("replicas = 3\n", true));
  REQUIRE(file);
  CHECK(file->memories[0].replicas == 3);
  auto env = replicas_load(replicas_config("", true), {}, {{"AGENTGRAPH_MEMORY_M_REPLICAS", "2"}});
  REQUIRE(env);
  CHECK(env->memories[0].replicas == 2);
  auto cli = replicas_load(replicas_config("replicas = 3\n", true), {"memory.m.replicas=4"});
  REQUIRE(cli);
  CHECK(cli->memories[0].replicas == 4);
}

TEST_CASE("config replicas: R > 1 needs [cluster] and placement any; R stays in [1, 16]") {
  auto alone = replicas_error(replicas_config("replicas = 2\n", false));
  CHECK(alone.find("memory.m") != std::string::npos);
  CHECK(alone.find("replicas") != std::string::npos);
  CHECK(alone.find("[cluster]") != std::string::npos);
  auto pinned = replicas_error(replicas_config("replicas = 2\nplacement = n1\n", true));
  CHECK(pinned.find("replicas") != std::string::npos);
  CHECK(pinned.find("placement = any") != std::string::npos);
  CHECK_FALSE(replicas_load(replicas_config("replicas = 0\n", true)));
  CHECK_FALSE(replicas_load(replicas_config("replicas = 17\n", true)));
  CHECK(replicas_load(replicas_config("replicas = 16\n", true)));
  // One copy needs nothing.
  CHECK(replicas_load(replicas_config("replicas = 1\nplacement = any\n", false)));
}

TEST_CASE("config replicas: with R > 1 the shard's name is the front, and the cluster gets the copy") {
  Runtime rt;
  runtime_builder build{rt};
  memory_config one;
  one.name = "single";
  memory_config two;
  two.name = "shared";
  two.replicas = 2;
  two.similarity_threshold = -1.0;
  REQUIRE(build.add_memory(one));
  REQUIRE(build.add_memory(two));
  const auto replica_types = rt.system().message_types<memory_replica_actor>();
  const auto memory_types = rt.system().message_types<memory_actor>();
  std::map<std::string, runtime_component> offered;
  for (auto& c : rt.components())
    if (c.kind == "memory")
      offered[c.name] = c;
  REQUIRE(offered.size() == 2);
  CHECK(offered["single"].ifs == std::vector<std::string>(memory_types.begin(), memory_types.end()));
  CHECK(offered["shared"].ifs
        == std::vector<std::string>(replica_types.begin(), replica_types.end()));
  auto front = rt.memory("shared");
  REQUIRE(front);
  // The front is not the copy the cluster is offered.
  auto copy = std::dynamic_pointer_cast<supervised_ref<memory_actor>>(offered["shared"].ref);
  REQUIRE(copy);
  CHECK(copy->get() != *front);
  CHECK_FALSE(rt.remote("memory", "shared"));
  caf::scoped_actor self{rt.system()};
  // Outside a cluster the front's set is this node's copy alone: a store
  // gets a front-assigned id (62-bit, not the shard's counter 1).
  memory_entry e;
  e.text = "kept on this node";
  uint64_t id = 0;
  self->request(*front, 10s, store_atom::value, e)
    .receive([&](uint64_t x) { id = x; }, [](caf::error&) {});
  CHECK(id > 1);
  CHECK(id < memory_replica_id_limit);
  memory_stats st;
  self->request(*front, 10s, stats_atom::value)
    .receive([&](memory_stats& s) { st = s; }, [](caf::error&) {});
  CHECK(st.entries == 1);
  CHECK(rt.replicas() != nullptr);
}

// Populations through the public API: a node config with a
// [population.<type>] section, keys reached by name through
// runtime_client, a shared memory shard recalled per key, and a restart
// that finds every key where it was.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include <unistd.h>

#include "actors/host/node_config.hpp"
#include "actors/host/runtime.hpp"
#include "actors/host/runtime_builder.hpp"
#include "actors/host/runtime_client.hpp"
#include "runtime/error.hpp"

using namespace agentgraph;

namespace population_runtime_test {

struct temp_dir {
  std::filesystem::path path;
  temp_dir() {
    path = std::filesystem::temp_directory_path()
           / ("ag_population_rt_" + std::to_string(::getpid()));
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
    // The reply shows the memory block the agent recalled into its prompt.
    std::ofstream{path / "rules.json"}
      << R"({"rules": [{"name": "mem", "when": {"last_role": "user"},)"
      << R"( "reply": "mem=[{{memory}}]"}]})";
  }
  ~temp_dir() { std::filesystem::remove_all(path); }
};

std::string config(const temp_dir& dir) {
  return "[runtime]\ndata_dir = " + dir.path.string()
         + "\n[provider.scripted]\nrules = rules.json\n"
           "[memory.notes]\nsimilarity_threshold = 0\n"
           "[agent.a]\n"
           "[population.persona]\nmemory = notes\nmemory_recall_k = 10\n"
           "system_prompt = You are {{key}}.\nmemory_scopes = world\n";
}

std::unique_ptr<Runtime> build(const temp_dir& dir) {
  auto cfg = parse_node_config(config(dir), (dir.path / "node.ini").string(), {}, {});
  REQUIRE_MESSAGE(cfg, describe(cfg.error()));
  REQUIRE(cfg->populations.size() == 1);
  CHECK(cfg->populations[0].store_path == (dir.path / "populations.sqlite").string());
  auto rt = runtime_builder::from_config(*cfg);
  REQUIRE_MESSAGE(rt, describe(rt.error()));
  return std::move(*rt);
}

std::string answer(runtime_client& client, const std::string& agent, const std::string& input) {
  auto r = client.run(agent, task_request{"", input, {}});
  REQUIRE_MESSAGE(r, describe(r.error()));
  return r->output;
}

}  // namespace population_runtime_test

using namespace population_runtime_test;

TEST_CASE("population runtime: keys share a shard but recall only their own memories") {
  temp_dir dir;
  auto rt = build(dir);
  runtime_client client{*rt};
  answer(client, "persona/alice", "alice likes apples");
  answer(client, "persona/bob", "bob likes bananas");
  auto a = answer(client, "persona/alice", "who likes apples or bananas");
  CHECK(a.find("apples") != std::string::npos);
  CHECK(a.find("bananas") == std::string::npos);
  auto b = answer(client, "persona/bob", "who likes apples or bananas");
  CHECK(b.find("bananas") != std::string::npos);
  CHECK(b.find("alice likes apples") == std::string::npos);
  // A key never seen before recalls nothing of the others.
  auto c = answer(client, "persona/carol", "who likes apples or bananas");
  CHECK(c.find("likes apples") == std::string::npos);
  CHECK(c.find("likes bananas") == std::string::npos);
}

TEST_CASE("population runtime: names, errors and a restart that keeps every key") {
  temp_dir dir;
  {
    auto rt = build(dir);
    runtime_client client{*rt};
    CHECK(rt->population_names() == std::vector<std::string>{"persona"});
    auto missing = rt->agent("nobody/alice");
    REQUIRE_FALSE(missing);
    CHECK(errc_of(missing.error()) == errc::not_found);
    auto bad = rt->agent("persona/not a key");
    REQUIRE_FALSE(bad);
    CHECK(errc_of(bad.error()) == errc::invalid_argument);
    auto r = client.run("persona/bad key", task_request{"", "hi", {}});
    REQUIRE_FALSE(r);
    CHECK(errc_of(r.error()) == errc::invalid_argument);
    for (int i = 0; i < 3; ++i)
      answer(client, "persona/dana", "turn " + std::to_string(i));
    auto s = client.stats("persona/dana");
    REQUIRE(s);
    CHECK(s->name == "persona/dana");
    CHECK(s->tasks_completed == 3);
    CHECK(s->history_turns == 3);
    CHECK(rt->shutdown() == caf::error{});
  }
  auto rt = build(dir);
  runtime_client client{*rt};
  // Passive after the restart: its stats are zero until it runs again.
  auto passive = client.stats("persona/dana");
  REQUIRE(passive);
  CHECK(passive->tasks_completed == 0);
  answer(client, "persona/dana", "turn 3");
  auto s = client.stats("persona/dana");
  REQUIRE(s);
  CHECK(s->tasks_completed == 4);
  CHECK(s->history_turns == 4);
  auto pop = rt->population("persona");
  REQUIRE(pop);
  auto metrics = rt->metrics().scrape();
  CHECK(metrics.find("agentgraph_population_active{population=\"persona\"} 1")
        != std::string::npos);
  CHECK(metrics.find("agentgraph_population_saved_keys{population=\"persona\"} 1")
        != std::string::npos);
  CHECK(metrics.find("agentgraph_population_passivated{population=\"persona\"} 0")
        != std::string::npos);  // dana is active
  CHECK(metrics.find("agentgraph_agent_tasks_total{agent=\"persona\",outcome=\"ok\"} 1")
        != std::string::npos);
}

TEST_CASE("population runtime: broadcast reaches every saved key once; a sample is seeded") {
  temp_dir dir;
  auto rt = build(dir);
  runtime_client client{*rt};
  for (int i = 0; i < 40; ++i)
    answer(client, "persona/k" + std::to_string(i), "hello");
  population_broadcast b;
  b.input = "news of the day";
  b.concurrency = 4;
  b.task_prefix = "day1";
  auto all = client.broadcast("persona", b);
  REQUIRE_MESSAGE(all, describe(all.error()));
  CHECK(all->keys == 40);
  CHECK(all->ok == 40);
  CHECK(all->failed == 0);
  for (int i = 0; i < 40; ++i) {
    auto s = client.stats("persona/k" + std::to_string(i));
    REQUIRE(s);
    CHECK(s->tasks_completed == 2);
  }
  // A sample: 10 keys, the same 10 for the same seed, others for another.
  auto sampled_keys = [&](uint64_t seed) {
    population_broadcast s = b;
    s.sample = 10;
    s.seed = seed;
    s.task_prefix = "sample" + std::to_string(seed);
    auto before = std::vector<uint64_t>(40);
    for (int i = 0; i < 40; ++i)
      before[i] = client.stats("persona/k" + std::to_string(i))->tasks_completed;
    auto r = client.broadcast("persona", s);
    REQUIRE_MESSAGE(r, describe(r.error()));
    CHECK(r->keys == 10);
    CHECK(r->ok == 10);
    std::vector<int> chosen;
    for (int i = 0; i < 40; ++i)
      if (client.stats("persona/k" + std::to_string(i))->tasks_completed == before[i] + 1)
        chosen.push_back(i);
    CHECK(chosen.size() == 10);
    return chosen;
  };
  auto a = sampled_keys(7);
  auto again = sampled_keys(7);
  auto other = sampled_keys(8);
  CHECK(a == again);
  CHECK(a != other);
  // Bad requests and unknown populations.
  population_broadcast bad = b;
  bad.concurrency = 0;
  auto refused = client.broadcast("persona", bad);
  REQUIRE_FALSE(refused);
  CHECK(errc_of(refused.error()) == errc::invalid_argument);
  auto unknown = client.broadcast("nobody", b);
  REQUIRE_FALSE(unknown);
  CHECK(errc_of(unknown.error()) == errc::not_found);
}

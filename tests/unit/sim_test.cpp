// `agentgraph sim` (actors/sim/): the scenario file's checks, the seeded
// distributions, and whole runs of real nodes in virtual time: a run twice
// gives the same trace; a one-node case whose figures are computed by
// hand; a kill detected at once (a refused reconnect) and a freeze after
// the phi-accrual detector's delay; a partition whose minority refuses new
// work and where no task is answered twice; tasks open on a killed or
// frozen entry node answered through the gateways' shared journal when the
// client asks again elsewhere, once each even when they ran twice; each
// fault's detection and settling times. About 710 lines: the whole-run
// cases share this file's fixture (sim_dir, base, run_ok).
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>

#include <unistd.h>

#include "actors/sim/scenario.hpp"
#include "actors/sim/sim_report.hpp"
#include "actors/sim/sim_runner.hpp"
#include "runtime/error.hpp"
#include "runtime/log.hpp"
#include "sim_population_node.hpp"

using namespace agentgraph;
using namespace agentgraph::sim;

namespace sim_test {

struct sim_dir {
  std::filesystem::path path;
  sim_dir() {
    static std::atomic<int> counter{0};
    path = std::filesystem::temp_directory_path()
           / ("agentgraph_sim_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
    // The nodes: one simulated vendor behind a group over every node.
    write("node.ini", R"(
[runtime]
log_level = error
[cluster]
name = simtest
node_id = n1
listen = n1
port = 4242
seeds = n1:4242
[provider.llm]
kind = openai
model = m
retries_max = 2
[agent.worker]
role = general
provider = llm
[group.workers]
agents = worker
strategy = round_robin
)");
  }
  ~sim_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string write(const std::string& name, const std::string& text) const {
    auto p = (path / name).string();
    std::ofstream{p} << text;
    return p;
  }
};

caf::expected<scenario> parse(const sim_dir& d, const std::string& text) {
  return load_scenario(d.write("s.ini", text), {});
}

const char* base = R"(
[sim]
node_config = node.ini
nodes = 3
duration = 5s
drain = 5s
[arrivals]
rate = 4
agent = workers
deadline = 10s
[llm.llm]
first_token_ms = fixed 100
per_token_ms = fixed 10
completion_tokens = fixed 11
)";

run_record run_ok(const scenario& sc, uint64_t seed) {
  set_log_level(log_severity::error);
  run_options o;
  o.seed = seed;
  auto rec = run_scenario(sc, o);
  REQUIRE_MESSAGE(rec, (rec ? "" : describe(rec.error())));
  return std::move(*rec);
}

uint64_t count(const run_record& rec, const std::string& outcome) {
  uint64_t n = 0;
  for (const auto& t : rec.tasks)
    n += t.outcome == outcome;
  return n;
}

}  // namespace sim_test

using namespace sim_test;

TEST_CASE("sim scenario: a good file binds, bad ones are refused naming the key") {
  sim_dir d;
  auto sc = parse(d, base);
  REQUIRE_MESSAGE(sc, (sc ? "" : describe(sc.error())));
  CHECK(sc->nodes == 3);
  CHECK(sc->rate == doctest::Approx(4));
  REQUIRE(sc->llms.size() == 1);
  CHECK(sc->llms[0].first_token_ms.k == distribution::kind::fixed);
  CHECK(sc->node_config == (d.path / "node.ini").string());

  auto bad = [&](const std::string& extra, const std::string& fragment) {
    auto s = parse(d, std::string{base} + extra);
    REQUIRE_FALSE(s);
    CHECK_MESSAGE(describe(s.error()).find(fragment) != std::string::npos, describe(s.error()));
  };
  bad("[llm.other]\nfirst_token_ms = gamma 3\n", "first_token_ms");
  bad("[llm.other]\ncompletion_tokens = uniform 9 3\n", "A <= B");
  bad("[fault.x]\nkind = outage\nat = 1s\nprovider = nobody\n", "provider");
  bad("[fault.x]\nkind = kill\nat = 1s\nnodes = web1\n", "not a node name");
  bad("[fault.x]\nkind = kill\nat = 1s\n", "needs nodes");
  bad("[fault.x]\nkind = kill\nat = 99s\nnodes = n1\n", "after the run ends");
  bad("[arrivals2]\nrate = 3\n", "arrivals2");
  auto s = load_scenario(d.write("t.ini", std::string{base} + "[sim]\nseeds = 4\n"), {});
  CHECK_FALSE(s);
  CHECK_FALSE(load_scenario((d.path / "missing.ini").string(), {}));
}

TEST_CASE("sim distributions: seeded draws are pinned and stay in range") {
  auto lognormal = parse_distribution("lognormal 400 0.3");
  REQUIRE(lognormal);
  std::mt19937_64 rng{42};
  double sum = 0;
  for (int i = 0; i < 10'000; ++i) {
    const double x = lognormal->draw(rng);
    CHECK(x > 0);
    sum += x;
  }
  // The mean of lognormal(median 400, sigma 0.3) is 400 * e^(0.045) = 418.4.
  CHECK(sum / 10'000 == doctest::Approx(418.4).epsilon(0.02));
  auto uni = parse_distribution("uniform 10 20");
  REQUIRE(uni);
  std::mt19937_64 a{7}, b{7};
  for (int i = 0; i < 100; ++i) {
    const double x = uni->draw(a);
    CHECK(x >= 10);
    CHECK(x < 20);
    CHECK(x == uni->draw(b));
  }
  CHECK_FALSE(parse_distribution("fixed"));
  CHECK_FALSE(parse_distribution("fixed -3"));
  CHECK_FALSE(parse_distribution("exp 3 4"));
  CHECK_FALSE(parse_distribution("lognormal 3 9"));
  CHECK_FALSE(parse_distribution("fixed 3 x"));
}

TEST_CASE("sim run: one node, uniform arrivals, fixed latencies: the report computed by hand") {
  sim_dir d;
  auto sc = parse(d, R"(
[sim]
node_config = node.ini
nodes = 1
seeds = 1
duration = 2s
drain = 2s
[arrivals]
process = uniform
rate = 2
agent = workers
deadline = 10s
[llm.llm]
first_token_ms = fixed 100
per_token_ms = fixed 10
completion_tokens = fixed 11
output_price_per_mtok = 1000000
)");
  REQUIRE(sc);
  auto rec = run_ok(*sc, 1);
  // Arrivals every 500 ms from t = 0: at 500, 1000 and 1500 ms (2000 is
  // the end of arrivals). Each answer takes the first token (100 ms) plus
  // 10 more tokens at 10 ms: 200 ms of virtual time; messages take none.
  REQUIRE(rec.tasks.size() == 3);
  for (size_t i = 0; i < 3; ++i) {
    CAPTURE(i);
    CHECK(rec.tasks[i].arrived_ms == doctest::Approx(500.0 * static_cast<double>(i + 1)));
    CHECK(rec.tasks[i].outcome == "ok");
    REQUIRE(rec.tasks[i].ended_ms);
    CHECK(*rec.tasks[i].ended_ms - rec.tasks[i].arrived_ms == doctest::Approx(200.0));
  }
  auto j = report_json(rec);
  CHECK(j["tasks"]["ok"] == 3);
  CHECK(j["latency_ms"]["p50"].get<double>() == doctest::Approx(200.0));
  CHECK(j["llm"]["llm"]["calls"] == 3);
  CHECK(j["llm"]["llm"]["completion_tokens"] == 33);
  // 33 completion tokens at one dollar each (1e6 per million).
  CHECK(j["llm"]["llm"]["cost_usd"].get<double>() == doctest::Approx(33.0));
}

TEST_CASE("sim run: the same scenario and seed twice give the same trace, another seed another") {
  sim_dir d;
  auto sc = parse(d, std::string{base} + R"(
[fault.kill3]
kind = kill
at = 2s
nodes = n3
)");
  REQUIRE(sc);
  auto a = run_ok(*sc, 11);
  auto b = run_ok(*sc, 11);
  REQUIRE(a.trace_lines > 20);
  CHECK(a.trace == b.trace);
  CHECK(a.trace_hash == b.trace_hash);
  CHECK(report_json(a) == report_json(b));
  CHECK(tasks_csv(a) == tasks_csv(b));
  CHECK(latency_svg(a) == latency_svg(b));
  auto c = run_ok(*sc, 12);
  CHECK(c.trace_hash != a.trace_hash);
}

TEST_CASE("sim run: a killed node is down at once, a frozen one after the detector's delay") {
  sim_dir d;
  auto sc = parse(d, std::string{base} + R"(
[fault.kill3]
kind = kill
at = 2s
nodes = n3
)");
  REQUIRE(sc);
  auto rec = run_ok(*sc, 3);
  REQUIRE(rec.faults.size() == 1);
  auto t = time_fault(rec, rec.faults[0]);
  // kill -9: the peers' connections close, a reconnect is refused, and
  // down_on_refused downs the node without waiting for phi.
  REQUIRE(t.detection_ms);
  CHECK(*t.detection_ms < 100);
  REQUIRE(t.settled_ms);

  auto frozen = parse(d, std::string{base} + R"(
[fault.freeze3]
kind = freeze
at = 2s
nodes = n3
)");
  REQUIRE(frozen);
  auto rec2 = run_ok(*frozen, 3);
  auto t2 = time_fault(rec2, rec2.faults[0]);
  REQUIRE(t2.detection_ms);
  // The defaults (heartbeat 250 ms, acceptable pause 750 ms, min std
  // 100 ms, threshold 8) cross phi 1.27-1.52 s after the last heartbeat;
  // stable_after 500 ms and a gossip round follow (net/cluster/DESIGN.md §1
  // item 5: "a frozen member is down in at most about 2.3 s").
  CHECK(*t2.detection_ms >= 1200);
  CHECK(*t2.detection_ms <= 3000);
  CHECK(rec2.node_state[2] == "frozen");
}

TEST_CASE("sim run: a 429 storm is timed from the vendor's answers: first refusal, first served after") {
  sim_dir d;
  // Long enough for the nodes' breakers (open at the storm's fifth 429,
  // first probe breaker_cooldown = 5 s later) to let a call through again.
  std::string longer{base};
  longer.replace(longer.find("duration = 5s"), 13, "duration = 12s");
  auto sc = parse(d, longer + R"(
[fault.storm]
kind = storm
at = 1s
duration = 2s
provider = llm
)");
  REQUIRE(sc);
  auto rec = run_ok(*sc, 5);
  REQUIRE(rec.faults.size() == 1);
  const auto& fig = rec.llm.at("llm");
  REQUIRE(fig.rate_limited > 0);
  auto t = time_fault(rec, rec.faults[0]);
  REQUIRE(t.detection_ms);
  REQUIRE(t.settled_ms);
  CHECK(*t.detection_ms >= 0);
  CHECK(*t.detection_ms < 2000);
  CHECK(*t.settled_ms >= 2000);  // nothing is served before the storm ends
  // The same figures from the vendor's change log by hand: it starts
  // served, turns refused inside the storm and served after it.
  const double at = rec.faults[0].t_ms;
  std::optional<double> refused, served;
  for (const auto& [when, ok] : fig.served_changes) {
    if (when >= at && !ok && !refused)
      refused = when;
    if (when >= at + 2000 && ok && !served)
      served = when;
  }
  REQUIRE(refused);
  REQUIRE(served);
  CHECK(*t.detection_ms == doctest::Approx(*refused - at));
  CHECK(*t.settled_ms == doctest::Approx(*served - at));
  CHECK_FALSE(fig.changes_cut);
  // A slow provider has no such edge: null, not a made-up figure.
  auto slow = parse(d, std::string{base} + R"(
[fault.slow]
kind = slow
at = 1s
duration = 1s
factor = 3
provider = llm
)");
  REQUIRE(slow);
  auto rec2 = run_ok(*slow, 5);
  auto t2 = time_fault(rec2, rec2.faults[0]);
  CHECK_FALSE(t2.detection_ms);
  CHECK_FALSE(t2.settled_ms);
}

TEST_CASE("sim run: a restarted node's rejoin is timed like a loss: first seen up, then by all") {
  sim_dir d;
  auto sc = parse(d, std::string{base} + R"(
[fault.kill3]
kind = kill
at = 2s
nodes = n3

[fault.back3]
kind = restart
at = 6s
nodes = n3
)");
  REQUIRE(sc);
  auto rec = run_ok(*sc, 3);
  REQUIRE(rec.faults.size() == 2);
  REQUIRE(rec.faults[1].f.kind == fault_kind::restart);
  auto kill = time_fault(rec, rec.faults[0]);
  REQUIRE(kill.settled_ms);
  CHECK(*kill.settled_ms < 4000);  // before the restart, or the window would cut it
  auto back = time_fault(rec, rec.faults[1]);
  REQUIRE(back.detection_ms);
  REQUIRE(back.settled_ms);
  CHECK(*back.detection_ms > 0);  // a join takes a handshake and a gossip round at least
  CHECK(*back.settled_ms >= *back.detection_ms);
  // The same figure from the membership changes themselves: the last of
  // the two watchers to see n3 up.
  std::map<size_t, double> first_up;
  for (const auto& m : rec.members)
    if (m.member == "n3" && m.state == "up" && m.t_ms >= rec.faults[1].t_ms && m.observer != 3)
      first_up.emplace(m.observer, m.t_ms);
  REQUIRE(first_up.size() == 2);
  const double last_up = std::max(first_up[1], first_up[2]);
  CHECK(last_up - rec.faults[1].t_ms == doctest::Approx(*back.settled_ms));
  CHECK(rec.node_state[2] == "live");
}

TEST_CASE("sim run: a partition's minority refuses new work and no task is answered twice") {
  sim_dir d;
  auto sc = parse(d, R"(
[sim]
node_config = node.ini
nodes = 3
duration = 12s
drain = 10s
[arrivals]
rate = 6
agent = workers
deadline = 8s
[llm.llm]
first_token_ms = fixed 100
per_token_ms = fixed 10
completion_tokens = fixed 11
[fault.split]
kind = partition
at = 2s
duration = 6s
nodes = n3
)");
  REQUIRE(sc);
  auto rec = run_ok(*sc, 5);
  uint64_t refused_on_n3 = 0;
  for (const auto& t : rec.tasks) {
    CHECK(t.answers <= 1);
    CHECK(t.outcome != "lost");
    if (t.entry == 3 && t.outcome == "refused_not_member")
      ++refused_on_n3;
    // The majority side keeps taking work.
    if (t.entry != 3 && t.arrived_ms > 5000 && t.arrived_ms < 8000)
      CHECK(t.outcome == "ok");
  }
  CHECK(refused_on_n3 > 0);
  CHECK(count(rec, "refused_not_member") == refused_on_n3);
}

TEST_CASE("sim scenario: every key changes the run") {
  // Each variant sets one key (or adds one section) of a small two-node
  // scenario; its run (or its refusal) must differ from the base run's.
  // A key without an effect fails here.
  sim_dir d;
  d.write("arrivals.trace", "# ms agent\n100\n250 worker\n900\n");
  const std::string head = R"(
[sim]
node_config = node.ini
nodes = 2
seeds = 1
duration = 3s
drain = 3s
[arrivals]
rate = 4
agent = workers
deadline = 10s
)";
  const std::string llm = R"(
[llm.llm]
first_token_ms = fixed 100
per_token_ms = fixed 10
completion_tokens = fixed 11
)";
  auto fingerprint = [&](const std::string& extra, const std::vector<std::string>& set) {
    auto sc = load_scenario(d.write("v.ini", head + llm + extra), set);
    if (!sc)
      return "refused: " + describe(sc.error());
    set_log_level(log_severity::error);
    run_options o;
    o.seed = sc->seed;
    auto rec = run_scenario(*sc, o);
    if (!rec)
      return "failed: " + describe(rec.error());
    return report_json(*rec).dump() + timeline_csv(*rec) + tasks_csv(*rec);
  };
  const auto base = fingerprint("", {});
  REQUIRE(base.rfind("refused", 0) != 0);
  REQUIRE(base.rfind("failed", 0) != 0);
  struct variant {
    const char* what;
    std::string extra;
    std::vector<std::string> set;
  };
  const std::vector<variant> variants{
    {"sim.nodes", "", {"sim.nodes=3"}},
    {"sim.duration", "", {"sim.duration=4s"}},
    {"sim.drain", "", {"sim.drain=4s"}},
    {"sim.join_wait", "", {"sim.join_wait=1s"}},
    {"sim.sample_interval", "", {"sim.sample_interval=500ms"}},
    {"sim.seed", "", {"sim.seed=2"}},
    {"sim.tasks_max", "", {"sim.tasks_max=3"}},
    {"arrivals.process", "", {"arrivals.process=uniform"}},
    {"arrivals.trace", "", {"arrivals.process=trace", "arrivals.trace=arrivals.trace"}},
    {"arrivals.rate", "", {"arrivals.rate=9"}},
    {"arrivals.agent", "", {"arrivals.agent=worker"}},
    {"arrivals.keys", "", {"arrivals.keys=5"}},
    {"arrivals.input", "", {"arrivals.input=a much longer input for task {id}, {id}"}},
    {"arrivals.deadline", "", {"arrivals.deadline=150ms"}},
    {"arrivals.entry", "", {"arrivals.entry=random"}},
    {"arrivals.client_timeout", "", {"arrivals.client_timeout=50ms"}},
    {"sim.journal", "", {"sim.journal=false"}},
    {"burst", "[burst.b]\nat = 1s\nduration = 1s\nrate = 20\n", {}},
    {"llm.first_token_ms", "", {"llm.llm.first_token_ms=fixed 300"}},
    {"llm.per_token_ms", "", {"llm.llm.per_token_ms=fixed 30"}},
    {"llm.completion_tokens", "", {"llm.llm.completion_tokens=uniform 5 50"}},
    {"llm.error_rate", "", {"llm.llm.error_rate=0.5"}},
    {"llm.requests_per_minute", "", {"llm.llm.requests_per_minute=2"}},
    {"llm.input_price_per_mtok", "", {"llm.llm.input_price_per_mtok=2"}},
    {"llm.output_price_per_mtok", "", {"llm.llm.output_price_per_mtok=2"}},
    {"fault kill", "[fault.f]\nkind = kill\nat = 1s\nnodes = n2\n", {}},
    {"fault restart", "[fault.f]\nkind = restart\nat = 1s\nnodes = n2\n", {}},
    {"fault freeze", "[fault.f]\nkind = freeze\nat = 1s\nnodes = n2\n", {}},
    {"fault freeze duration", "[fault.f]\nkind = freeze\nat = 1s\nnodes = n2\nduration = 500ms\n", {}},
    {"fault thaw", "[fault.f]\nkind = freeze\nat = 1s\nnodes = n2\n[fault.g]\nkind = thaw\nat = 1500ms\nnodes = n2\n", {}},
    {"fault partition", "[fault.f]\nkind = partition\nat = 1s\nnodes = n2\n", {}},
    {"fault heal", "[fault.f]\nkind = partition\nat = 1s\nnodes = n2\n[fault.g]\nkind = heal\nat = 1500ms\n", {}},
    {"fault outage", "[fault.f]\nkind = outage\nat = 1s\nduration = 1s\nprovider = llm\n", {}},
    {"fault storm", "[fault.f]\nkind = storm\nat = 1s\nduration = 1s\nprovider = llm\n", {}},
    {"fault slow", "[fault.f]\nkind = slow\nat = 1s\nduration = 1s\nprovider = llm\nfactor = 5\n", {}},
    {"fault delay", "[fault.f]\nkind = delay\nat = 1s\nduration = 1s\ndelay = 50ms\n", {}},
    {"fault delay jitter", "[fault.f]\nkind = delay\nat = 1s\nduration = 1s\ndelay = 50ms\njitter = 40ms\n", {}},
    {"fault delay nodes", "[fault.f]\nkind = delay\nat = 1s\nduration = 1s\ndelay = 50ms\nnodes = n2\n", {"sim.nodes=3"}},
    {"fault drop", "[fault.f]\nkind = drop\nat = 1s\nduration = 1s\ndrop = 0.3\n", {}},
  };
  std::set<std::string> seen{base};
  for (const auto& v : variants) {
    const std::string what = v.what;
    CAPTURE(what);
    const auto fp = fingerprint(v.extra, v.set);
    CHECK_MESSAGE(fp != base, what << " changed nothing");
    seen.insert(fp);
  }
  // The fault variants with and without a duration differ from each other too.
  CHECK(seen.size() >= variants.size());
  // `seeds` shows when the first node comes back: with itself as the only
  // seed it cannot find the others again and forms a cluster of its own.
  const std::string n1_back =
    "[fault.f]\nkind = kill\nat = 1s\nnodes = n1\n[fault.g]\nkind = restart\nat = 2s\nnodes = n1\n";
  CHECK_MESSAGE(fingerprint(n1_back, {"sim.nodes=3"}) != fingerprint(n1_back, {"sim.nodes=3", "sim.seeds=2"}),
                "sim.seeds changed nothing");
  // A link fault's `nodes` picks its links: n2's only is not every link.
  const std::string slow = "[fault.f]\nkind = delay\nat = 1s\nduration = 1s\ndelay = 50ms\n";
  CHECK_MESSAGE(fingerprint(slow + "nodes = n2\n", {"sim.nodes=3"}) != fingerprint(slow, {"sim.nodes=3"}),
                "a delay fault's nodes changed nothing");
  // `client_attempts` shows when the client asks again: with a client
  // timeout shorter than the tasks, a second attempt goes to the other node.
  CHECK_MESSAGE(fingerprint("", {"arrivals.client_timeout=50ms"})
                  != fingerprint("", {"arrivals.client_timeout=50ms", "arrivals.client_attempts=2"}),
                "arrivals.client_attempts changed nothing");
  // Without a journal a task asked again at the other node runs there
  // again; with one it is waited for.
  CHECK_MESSAGE(fingerprint("", {"arrivals.client_timeout=50ms"})
                  != fingerprint("", {"arrivals.client_timeout=50ms", "sim.journal=false"}),
                "sim.journal changed no task's path");
}

TEST_CASE("sim run: a population across nodes on one shared store, keys saved before the start") {
  sim_dir d;
  d.write("pop.ini", sim_population_node::ini);
  auto sc = parse(d, R"(
[sim]
node_config = pop.ini
nodes = 3
duration = 4s
drain = 4s
saved_keys = 40
[arrivals]
rate = 20
agent = persona
keys = 50
deadline = 3s
[llm.llm]
first_token_ms = fixed 100
per_token_ms = fixed 10
completion_tokens = fixed 11
[fault.kill2]
kind = kill
at = 2s
nodes = n2
)");
  REQUIRE_MESSAGE(sc, (sc ? "" : describe(sc.error())));
  auto rec = run_ok(*sc, 9);
  REQUIRE(rec.saved_states.count("persona") == 1);
  CHECK(rec.saved_states["persona"].first == 40);
  // Every key a task reached is saved (durability = task), the 40 too.
  CHECK(rec.saved_states["persona"].second >= 40);
  CHECK(rec.saved_states["persona"].second <= 50);
  CHECK(count(rec, "ok") > 40);
  CHECK(violations(rec).empty());
  // Tasks for keys whose owner died moved to the next owner: the
  // population's routing, not the simulator, decides where a key runs.
  const bool moved = std::any_of(rec.tasks.begin(), rec.tasks.end(), [](const task_record& t) {
    return t.entry != 2 && t.arrived_ms > 2500 && t.outcome == "ok";
  });
  CHECK(moved);

  auto no_keys = load_scenario(d.write("nokeys.ini", base), {"sim.saved_keys=5"});
  REQUIRE_FALSE(no_keys);
  CHECK(describe(no_keys.error()).find("needs arrivals.keys") != std::string::npos);
}

namespace sim_test {

// Three nodes whose agent runs where the task entered (no group), each
// task about 1.6 s of LLM time, so tasks are open when a node fails.
const char* slow_local = R"(
[sim]
node_config = node.ini
nodes = 3
duration = 4s
drain = 25s
[arrivals]
process = uniform
rate = 6
agent = worker
deadline = 20s
[llm.llm]
first_token_ms = fixed 1500
per_token_ms = fixed 10
completion_tokens = fixed 11
)";

}  // namespace sim_test

TEST_CASE("sim run: tasks open on a killed entry node are answered through the journal") {
  sim_dir d;
  auto sc = parse(d, std::string{slow_local} + R"(
[fault.kill3]
kind = kill
at = 2s
nodes = n3
)");
  REQUIRE_MESSAGE(sc, (sc ? "" : describe(sc.error())));
  REQUIRE(sc->journal);
  auto rec = run_ok(*sc, 4);
  REQUIRE(rec.journaled);
  uint64_t open_at_kill = 0;
  for (const auto& t : rec.tasks) {
    CAPTURE(t.id);
    CHECK(t.answers <= 1);
    // Entered n3 and still running at the kill (2 s): the client's
    // connection resets, it asks again at n1 or n2 with the same id, that
    // node waits in the journal, the leader adopts n3's open task, runs it
    // and stores the answer, and the waiting node answers with it.
    if (t.entry == 3 && t.arrived_ms < 2000 && t.arrived_ms + 1600 > 2000) {
      ++open_at_kill;
      CHECK(t.outcome == "redispatched_ok");
      CHECK(t.attempts == 2);
      // n3 never finished its run: the adopter's is the only one.
      CHECK(t.executions == 1);
    }
    if (t.entry != 3)
      CHECK(t.outcome == "ok");
  }
  CHECK(open_at_kill >= 2);
  CHECK(count(rec, "entry_died") == 0);
  CHECK(count(rec, "lost") == 0);
  CHECK(violations(rec).empty());
  auto j = report_json(rec);
  CHECK(j["tasks"]["redispatched_ok"] == open_at_kill);
  CHECK(j["tasks"]["answered_twice"] == 0);

  // A client that never asks again is told of the reset and gives up at
  // once; the journal still holds an answer for each of those ids (the
  // leader adopted and ran them), so none is lost.
  auto once = load_scenario(d.write("once.ini", std::string{slow_local} + R"(
[fault.kill3]
kind = kill
at = 2s
nodes = n3
)"), {"arrivals.client_attempts=1"});
  REQUIRE_MESSAGE(once, (once ? "" : describe(once.error())));
  auto rec1 = run_ok(*once, 4);
  CHECK(count(rec1, "entry_died") == open_at_kill);
  CHECK(count(rec1, "redispatched_ok") == 0);
  CHECK(count(rec1, "lost") == 0);
  for (const auto& t : rec1.tasks)
    if (t.outcome == "entry_died") {
      CHECK(t.ended_ms);
      CHECK(*t.ended_ms == doctest::Approx(2000.0));
      CHECK(t.executions == 1);  // the adopter's run
    }
  CHECK(violations(rec1).empty());
}

TEST_CASE("sim run: a frozen node's tasks run twice and are answered once, without a journal twice") {
  sim_dir d;
  const std::string freeze = R"(
[fault.freeze3]
kind = freeze
at = 2s
duration = 8s
nodes = n3
)";
  auto sc = load_scenario(d.write("freeze.ini", std::string{slow_local} + freeze),
                          {"arrivals.client_timeout=3s"});
  REQUIRE_MESSAGE(sc, (sc ? "" : describe(sc.error())));
  auto rec = run_ok(*sc, 4);
  // n3 froze with tasks open: the client timed out and asked again
  // elsewhere; the cluster downed n3 and its leader adopted and ran them.
  // Thawed, n3 finished its own runs too, and its answers went to the
  // first attempts (abandoned by the client but still listened to here):
  // the journal's, not its own. Two runs, one answer.
  uint64_t ran_twice = 0;
  for (const auto& t : rec.tasks) {
    CAPTURE(t.id);
    CHECK(t.answers <= 1);
    if (t.entry == 3 && t.arrived_ms < 2000 && t.arrived_ms + 1600 > 2000) {
      CHECK(t.outcome == "redispatched_ok");
      ran_twice += t.executions == 2;
    }
  }
  CHECK(ran_twice >= 2);
  CHECK(violations(rec).empty());

  // The same run without a journal: the task asked again runs again on the
  // other node, and the thawed n3 answers its own result to the first
  // attempt: two different answers for one id, which nothing promised to
  // prevent here (no violation), and which the check above would catch.
  auto plain = load_scenario(d.write("plain.ini", std::string{slow_local} + freeze),
                             {"arrivals.client_timeout=3s", "sim.journal=false"});
  REQUIRE(plain);
  auto rec2 = run_ok(*plain, 4);
  CHECK_FALSE(rec2.journaled);
  uint64_t answered_twice = 0;
  for (const auto& t : rec2.tasks)
    answered_twice += t.answers > 1;
  CHECK(answered_twice >= 2);
  CHECK(violations(rec2).empty());
  // Had the journal been on, these would be violations.
  rec2.journaled = true;
  CHECK_FALSE(violations(rec2).empty());
}

TEST_CASE("sim scenario: the client's keys are checked against each other") {
  sim_dir d;
  auto refused = [&](const std::vector<std::string>& set, const std::string& fragment) {
    auto s = load_scenario(d.write("c.ini", base), set);
    REQUIRE_FALSE(s);
    CHECK_MESSAGE(describe(s.error()).find(fragment) != std::string::npos, describe(s.error()));
  };
  refused({"arrivals.client_timeout=10s"}, "at or above deadline");
  refused({"arrivals.client_timeout=2s", "arrivals.client_attempts=1"}, "never asks again");
  refused({"arrivals.client_attempts=0"}, "client_attempts");
  auto ok = load_scenario(d.write("c.ini", base),
                          {"arrivals.client_timeout=2s", "sim.journal=false"});
  REQUIRE_MESSAGE(ok, (ok ? "" : describe(ok.error())));
  CHECK(ok->client_timeout == std::chrono::seconds{2});
  CHECK_FALSE(ok->journal);
  CHECK(ok->client_attempts == 3);
}

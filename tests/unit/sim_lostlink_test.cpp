// A callee node that lost its connection to the caller (issue 15, found by
// the chaos sweep: `sim configs/sim/small.ini --seed 8 --chaos 8`). On a
// lossy link one direction of a connection can stall past the BASP
// connection timeout at one end only: that end (the callee) drops it and
// every proxy of the caller, so its answers to the calls in flight go
// nowhere, while the caller, whose route to the callee stayed up, heard
// nothing and waited the cluster's message_timeout (60 s) per call. Since
// the callee tells it (heartbeat_msg::links_lost, net/cluster
// node_links.cpp), the caller fails those calls at once and its agent
// group sends each task to another instance.
//
// The scenario, configs/sim/lossy.ini: three nodes under load, n2's links
// losing a quarter of their segments for 6 s. Before the fix, seed 1 ended
// 17 tasks as timeouts and 3 unfinished, seed 2 11 and 15 (each an LLM call
// of about 3 s): the callee logged "connection to a peer lost", the caller
// did not. Now every task is answered by its deadline.
#include <doctest/doctest.h>

#include <map>
#include <string>

#include "actors/sim/scenario.hpp"
#include "actors/sim/sim_runner.hpp"
#include "runtime/error.hpp"
#include "runtime/log.hpp"

using namespace agentgraph;

TEST_CASE("sim run: calls to a callee that lost its link to the caller end at once, not at message_timeout") {
  auto sc = sim::load_scenario(AGENTGRAPH_SOURCE_DIR "/configs/sim/lossy.ini", {});
  REQUIRE_MESSAGE(sc, (sc ? "" : describe(sc.error())));
  set_log_level(log_severity::error);
  for (uint64_t seed : {1, 2}) {
    CAPTURE(seed);
    sim::run_options o;
    o.seed = seed;
    auto rec = sim::run_scenario(*sc, o);
    REQUIRE_MESSAGE(rec, (rec ? "" : describe(rec.error())));
    std::map<std::string, uint64_t> outcomes;
    for (const auto& t : rec->tasks)
      ++outcomes[t.outcome];
    std::string summary;
    for (const auto& [outcome, n] : outcomes)
      summary += outcome + "=" + std::to_string(n) + " ";
    CAPTURE(summary);
    REQUIRE(rec->tasks.size() > 300);
    // Every task answered: none waited out its deadline (timeout) or the
    // run (unfinished_at_end, open_at_end) on a call whose answer was gone.
    CHECK(outcomes["timeout"] == 0);
    CHECK(outcomes["unfinished_at_end"] == 0);
    CHECK(outcomes["open_at_end"] == 0);
    CHECK(outcomes["lost"] == 0);
  }
}

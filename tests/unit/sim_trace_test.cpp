// The arrivals trace of `[arrivals] process = trace` (sim_setup.hpp's
// parse_trace): what is read, and each kind of bad line refused by number.
// tests/fuzz/sim_trace_fuzz.cpp feeds it any bytes.
#include <doctest/doctest.h>

#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "actors/sim/sim_setup.hpp"
#include "runtime/error.hpp"

using namespace agentgraph;

TEST_CASE("sim trace: arrivals are read by time, and a bad line is an error naming it") {
  using sim::parse_trace;
  const auto parse = [](const std::string& text) {
    std::istringstream in{text};
    return parse_trace(in, "t.trace", 1000, 3, "workers");
  };
  auto ok = parse("# ms agent\n\n  \n500 persona/k7\r\n0\n999.5 workers\n");
  REQUIRE(ok);
  REQUIRE(ok->size() == 3);
  CHECK((*ok)[0] == std::make_pair(0.0, std::string{"workers"}));
  CHECK((*ok)[1] == std::make_pair(500.0, std::string{"persona/k7"}));
  CHECK((*ok)[2].first == 999.5);
  for (const auto& [text, where] : std::vector<std::pair<std::string, std::string>>{
         {"10 a b\n", "t.trace:1: expected"},
         {"1\n12abc\n", "t.trace:2: expected"},
         {"nan\n", "t.trace:1: time outside"},
         {"1001\n", "t.trace:1: time outside"},
         {"-1\n", "t.trace:1: time outside"},
         {"1 " + std::string(5000, 'x') + "\n", "t.trace:1: a line longer"},
         {"1 a\x01" "b\n", "t.trace:1: the agent name"},
         {"1\n2\n3\n4\n", "t.trace: more arrivals than tasks_max"}}) {
    auto bad = parse(text);
    REQUIRE_FALSE(bad);
    CHECK_MESSAGE(describe(bad.error()).find(where) != std::string::npos, describe(bad.error()));
  }
}

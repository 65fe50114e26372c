#include <doctest/doctest.h>

#include "runtime/log.hpp"

using namespace agentgraph;

TEST_CASE("log: records are logfmt with quoting and escapes") {
  auto line = format_log_fields(log_severity::warn, "supervisor", "restarting child",
                                {{"name", "agent.planner"}, {"reason", "said \"no\"\nthen quit"}});
  CHECK(line == "level=warn component=supervisor msg=\"restarting child\" name=agent.planner "
                "reason=\"said \\\"no\\\"\\nthen quit\"");
  CHECK(format_log_fields(log_severity::info, "x", "", {}) == "level=info component=x msg=\"\"");
}

TEST_CASE("log: the level threshold drops less severe records") {
  auto saved = log_level();
  set_log_level(log_severity::warn);
  CHECK(log_enabled(log_severity::error));
  CHECK(log_enabled(log_severity::warn));
  CHECK_FALSE(log_enabled(log_severity::info));
  CHECK_FALSE(log_enabled(log_severity::debug));
  set_log_level(log_severity::debug);
  CHECK(log_enabled(log_severity::debug));
  set_log_level(saved);
}

#include <doctest/doctest.h>

#include <caf/actor_system.hpp>
#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>

#include "actors/agent/agent_interface.hpp"
#include "actors/host/register_types.hpp"
#include "runtime/error.hpp"

TEST_CASE("every message type survives CAF's binary serializer") {
  caf::actor_system_config cfg;
  agentgraph::register_all_types(cfg);
  caf::actor_system sys{cfg};
  agentgraph::task_result r;
  r.task_id = "t-1";
  r.agent = "researcher";
  r.output = "42";
  r.usage = {10, 5};
  r.tool_calls.push_back({"calculator", agentgraph::Value::from_json(R"({"expr":"6*7"})").value(),
                          true, "", false, 120});
  auto msg = caf::make_message(r);
  std::vector<char> buf;
  caf::binary_serializer sink{sys, buf};
  REQUIRE_FALSE(msg.save(sink));
  caf::message back;
  caf::binary_deserializer source{sys, buf};
  REQUIRE_FALSE(back.load(source));
  REQUIRE(back.match_elements<agentgraph::task_result>());
  const auto& got = back.get_as<agentgraph::task_result>(0);
  CHECK(got.output == "42");
  CHECK(got.usage.total() == 15);
  CHECK(got.tool_calls.at(0).arguments == r.tool_calls.at(0).arguments);
}

TEST_CASE("our errors render with their category and context") {
  caf::actor_system_config cfg;
  agentgraph::register_all_types(cfg);
  caf::actor_system sys{cfg};
  auto err = agentgraph::make_error(agentgraph::errc::sandbox_violation, "path escapes root");
  CHECK(sys.render(err).find("sandbox_violation") != std::string::npos);
  CHECK(agentgraph::describe(err) == "sandbox_violation: path escapes root");
  CHECK(agentgraph::errc_of(err) == agentgraph::errc::sandbox_violation);
  CHECK_FALSE(agentgraph::is_retryable(err));
  CHECK(agentgraph::is_retryable(agentgraph::make_error(agentgraph::errc::overloaded)));
}

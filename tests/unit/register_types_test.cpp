#include <doctest/doctest.h>

#include <caf/actor_system.hpp>
#include <caf/sec.hpp>

#include "actors/agent/agent_interface.hpp"
#include "actors/host/register_types.hpp"
#include "runtime/error.hpp"
#include "message_round_trip.hpp"

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
  auto back = agentgraph_test::message_round_trip(sys, caf::make_message(r));
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

TEST_CASE("CAF's request errors become ours, naming whom the caller asked") {
  using agentgraph::errc;
  using agentgraph::error_context;
  using agentgraph::errc_of;
  using agentgraph::from_request_error;
  auto late = from_request_error(caf::make_error(caf::sec::request_timeout), "agent 'a'");
  CHECK(errc_of(late) == errc::timeout);
  CHECK(error_context(late) == "agent 'a' gave no reply in time");
  auto late_ms = from_request_error(caf::make_error(caf::sec::request_timeout), "tool 't'",
                                    std::chrono::milliseconds{250});
  CHECK(errc_of(late_ms) == errc::timeout);
  CHECK(error_context(late_ms) == "tool 't' gave no reply within 250 ms");
  auto gone = from_request_error(caf::make_error(caf::sec::request_receiver_down), "agent 'a'",
                                 std::chrono::milliseconds{250});
  CHECK(errc_of(gone) == errc::unavailable);
  CHECK(error_context(gone) == "agent 'a' is down");
  // Ours and every other CAF error pass through unchanged.
  auto ours = agentgraph::make_error(errc::tool_error, "boom");
  CHECK(from_request_error(ours, "x") == ours);
  auto other = caf::make_error(caf::sec::runtime_error);
  CHECK(from_request_error(other, "x") == other);
}

TEST_CASE("a worker's errors: ours pass, a deadline is a timeout, a death is the failure given") {
  using agentgraph::errc;
  using agentgraph::errc_of;
  using agentgraph::from_worker_error;
  constexpr std::chrono::milliseconds timeout{30};
  auto ours = agentgraph::make_error(errc::sandbox_violation, "escape");
  CHECK(from_worker_error(ours, "w", timeout, errc::io_error) == ours);
  auto late = from_worker_error(caf::make_error(caf::sec::request_timeout), "w", timeout,
                                errc::io_error);
  CHECK(errc_of(late) == errc::timeout);
  CHECK(agentgraph::error_context(late) == "w gave no reply within 30 ms");
  auto gone = from_worker_error(caf::make_error(caf::sec::request_receiver_down), "w", timeout,
                                errc::tool_error);
  CHECK(errc_of(gone) == errc::tool_error);
  CHECK(agentgraph::error_context(gone).rfind("w failed: ", 0) == 0);
}

// A small agent for the tool tests that need an agent_actor handle (the
// agent tool's target): a real typed actor implementing agent_actor, a test
// double of the agent, not product code. Shared by tool_agent_test.cpp and
// tool_spec_of_test.cpp.
#pragma once

#include <vector>

#include <caf/response_promise.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/agent/agent_interface.hpp"
#include "runtime/error.hpp"

namespace tool_test {

// Answers "task <id>: <input>", fails on "fail", and never answers "hang"
// (the promise is parked until the actor exits, so the tool must time out).
// The parked promise keeps the agent and the tool alive, so the fixture must
// end the agent explicitly (fx.keep).
struct helper_agent_state {
  static inline const char* name = "tool_test.helper_agent";
  std::vector<caf::typed_response_promise<agentgraph::task_result>> parked;
};

inline agentgraph::agent_actor::behavior_type helper_agent(
  agentgraph::agent_actor::stateful_pointer<helper_agent_state> self) {
  return {
    [self](agentgraph::execute_atom,
           agentgraph::task_request& req) -> caf::result<agentgraph::task_result> {
      if (req.input == "fail")
        return agentgraph::make_error(agentgraph::errc::provider_error, "model unreachable");
      if (req.input == "hang") {
        self->state.parked.push_back(self->make_response_promise<agentgraph::task_result>());
        return self->state.parked.back();
      }
      agentgraph::task_result res;
      res.task_id = req.task_id;
      res.agent = "helper";
      res.output = "task " + req.task_id + ": " + req.input;
      return res;
    },
    [](agentgraph::execute_stream_atom, agentgraph::task_request&,
       agentgraph::stream_sink_actor&) -> caf::result<agentgraph::task_result> {
      return agentgraph::make_error(agentgraph::errc::unsupported, "not streamed here");
    },
    [](agentgraph::stats_atom) { return agentgraph::agent_stats{}; },
    [](agentgraph::ping_atom) { return agentgraph::pong_atom::value; },
  };
}

}  // namespace tool_test

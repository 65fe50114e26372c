// The workflow run's control data: typed structs (workflow_types.hpp) and
// the one codec between them and the Values they are saved as
// (workflow_codec.hpp). The encodings are formats: checkpoints written by
// earlier versions must still resume, so the exact shapes are pinned here.
#include <doctest/doctest.h>

#include <type_traits>

#include <caf/actor_system.hpp>

#include "actors/common_atoms.hpp"
#include "actors/host/register_types.hpp"
#include "actors/workflow/workflow_codec.hpp"
#include "runtime/error.hpp"
#include "message_round_trip.hpp"

namespace workflow_codec_test {

using namespace agentgraph;

Value json(const char* text) {
  return Value::from_json(text).value();
}

TEST_CASE("workflow codec: pending is saved in the shape earlier versions wrote") {
  workflow_pending p;
  p.next = {"b", "c"};
  p.joins[1] = {"b"};
  p.joins[12] = {};
  CHECK(to_checkpoint_pending(p).to_json() == R"({"joins":{"1":["b"],"12":[]},"next":["b","c"]})");
  CHECK(to_checkpoint_pending(workflow_pending{}).to_json() == R"({"joins":{},"next":[]})");
}

TEST_CASE("workflow codec: pending reads back what it wrote, and what earlier versions wrote") {
  workflow_pending p;
  p.next = {"a", "d"};
  p.joins[3] = {"x", "y"};
  auto back = from_checkpoint_pending(to_checkpoint_pending(p));
  REQUIRE_MESSAGE(back, describe(back.error()));
  CHECK(back->next == p.next);
  CHECK(back->joins == p.joins);
  auto old = from_checkpoint_pending(json(R"({"next": ["c"], "joins": {"1": ["b"]}})"));
  REQUIRE(old);
  CHECK(old->next == std::vector<std::string>{"c"});
  CHECK(old->joins.at(1) == std::set<std::string>{"b"});
}

TEST_CASE("workflow codec: pending that is not a workflow's is a parse_error saying why") {
  struct bad_case {
    const char* pending;
    const char* why;
  };
  for (auto [pending, why] :
       {bad_case{"null", "`pending` lacks next/joins: not a workflow checkpoint"},
        bad_case{R"({"next": ["b"]})", "`pending` lacks next/joins: not a workflow checkpoint"},
        bad_case{R"({"next": [1], "joins": {}})", "a next node is not a name"},
        bad_case{R"({"next": ["b"], "joins": {"x": []}})", "a join entry is malformed"},
        bad_case{R"({"next": ["b"], "joins": {"1": "b"}})", "a join entry is malformed"},
        bad_case{R"({"next": ["b"], "joins": {"1": [2]}})", "a join source is not a name"}}) {
    INFO(pending);
    auto got = from_checkpoint_pending(json(pending));
    REQUIRE_FALSE(got);
    CHECK(errc_of(got.error()) == errc::parse_error);
    CHECK(error_context(got.error()) == why);
  }
}

TEST_CASE("workflow codec: interrupt requests in the state key `interrupt`") {
  std::vector<interrupt_request> asks{{"ask", json(R"({"question": "ok?"})")}, {"b", Value{}}};
  auto update = to_interrupt_state_update(asks);
  CHECK(update.to_json()
        == R"({"interrupt":[{"node":"ask","request":{"question":"ok?"}},{"node":"b","request":null}]})");
  CHECK(to_interrupt_state_update({}).to_json() == R"({"interrupt":null})");
  auto back = from_interrupt_state(update);
  REQUIRE(back.size() == 2);
  CHECK(back[0].node == "ask");
  CHECK(back[0].request == asks[0].request);
  CHECK(back[1].node == "b");
  // Lenient: the state passes through nodes and human input.
  CHECK(from_interrupt_state(json(R"({"interrupt": "answered"})")).empty());
  CHECK(from_interrupt_state(json(R"({"other": 1})")).empty());
  CHECK(from_interrupt_state(json("[1]")).empty());
  auto mixed = from_interrupt_state(json(R"({"interrupt": [7, {"node": 3}, {"node": "n"}]})"));
  REQUIRE(mixed.size() == 1);
  CHECK(mixed[0].node == "n");
  CHECK(mixed[0].request.is_null());
}

TEST_CASE("workflow codec: a node asks through workflow_interrupt_key, taken out of its update") {
  auto update = json(R"({"__interrupt__": {"question": "Publish?"}, "asked": true})");
  auto request = take_interrupt_request(update);
  REQUIRE(request);
  CHECK(request->to_json() == R"({"question":"Publish?"})");
  CHECK(update.to_json() == R"({"asked":true})");
  CHECK_FALSE(take_interrupt_request(update));
  auto list = json("[1]");
  CHECK_FALSE(take_interrupt_request(list));
}

TEST_CASE("workflow codec: the control structs cross nodes like every other message") {
  caf::actor_system_config cfg;
  register_all_types(cfg);
  caf::actor_system sys{cfg};
  workflow_pending p;
  p.next = {"a"};
  p.joins[2] = {"s", "t"};
  interrupt_request ask{"n", json(R"({"q": 1})")};
  auto back = agentgraph_test::message_round_trip(sys, caf::make_message(p, ask));
  REQUIRE((back.match_elements<workflow_pending, interrupt_request>()));
  CHECK(back.get_as<workflow_pending>(0).joins == p.joins);
  CHECK(back.get_as<workflow_pending>(0).next == p.next);
  CHECK(back.get_as<interrupt_request>(1).request == ask.request);
}

// The shared atom keeps its text, so peers built before it moved (and every
// interface answering it) still agree on the wire.
static_assert(std::is_same_v<stats_atom, caf::atom_constant<caf::atom("ag_stats")>>);

}  // namespace workflow_codec_test

// A message through CAF's binary serializer and back, the way BASP carries
// it between nodes: what the registration tests check every message type by.
#pragma once

#include <vector>

#include <caf/actor_system.hpp>
#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>
#include <caf/message.hpp>
#include <doctest/doctest.h>

namespace agentgraph_test {

// `msg` saved and loaded again with `sys`'s registered types; fails the test
// case if either step reports an error.
inline caf::message message_round_trip(caf::actor_system& sys, const caf::message& msg) {
  std::vector<char> buf;
  caf::binary_serializer sink{sys, buf};
  REQUIRE_FALSE(msg.save(sink));
  caf::message back;
  caf::binary_deserializer source{sys, buf};
  REQUIRE_FALSE(back.load(source));
  return back;
}

}  // namespace agentgraph_test

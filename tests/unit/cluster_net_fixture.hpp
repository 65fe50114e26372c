// cluster_net: several CAF nodes ("planets") in one process, on virtual time
// and a simulated network, for the cluster tests of issue 12. The world
// itself is the simulator's (actors/sim/sim_network.hpp, whose opening
// comment gives the network's rules); this adapter gives it the tests'
// bounds (200,000 steps per step_all, 60 s of virtual time), turns its
// failures into test failures (a sim_failure escaping a test case fails
// it with the message), checks at teardown that no actor was left running
// on a live planet, and publishes any handle.
#pragma once

#include <doctest/doctest.h>

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <caf/io/basp_broker.hpp>
#include <caf/io/network/test_multiplexer.hpp>
#include <caf/scheduler/test_coordinator.hpp>

#include "actors/sim/sim_network.hpp"

namespace agentgraph::test::cluster_net {

using namespace std::chrono_literals;
using sim::planet;
using sim::planet_options;
using sim::wire;

// Registers message and actor types on a planet's config before its system
// starts (both sides of a connection need the same names, toolchain §3.1).
using config_hook = std::function<void(caf::actor_system_config&)>;

class cluster_net : public sim::sim_network {
 public:
  static constexpr size_t steps_max_default = 200'000;
  static constexpr caf::timespan virtual_max_default = 60s;

  cluster_net() {
    steps_max = steps_max_default;
    virtual_max = virtual_max_default;
  }

  ~cluster_net() {
    teardown([](const planet& p, size_t running) {
      CHECK_MESSAGE(running == 0, "cluster_net: " << running << " actors still running on "
                                                  << p.host() << " at teardown (track them)");
    });
  }

  // Publishes `whom` on p's port through p's middleman actor (publish_atom,
  // as production does) and runs until the reply.
  template <class Handle>
  caf::expected<uint16_t> publish(planet& p, const Handle& whom) {
    return sim_network::publish(p, caf::actor_cast<caf::strong_actor_ptr>(whom),
                                p.sys().message_types(whom));
  }
};

}  // namespace agentgraph::test::cluster_net

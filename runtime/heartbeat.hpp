// The heartbeat every supervised actor answers. Supervisors ping children at
// a configured interval; a child that misses K pings in a row is restarted.
// Every typed interface in actors/ includes `heartbeat_signature`.
#pragma once

#include <caf/atom.hpp>
#include <caf/replies_to.hpp>

namespace agentgraph {

using ping_atom = caf::atom_constant<caf::atom("ag_ping")>;
using pong_atom = caf::atom_constant<caf::atom("ag_pong")>;

// Reply: pong_atom. Callers use the supervisor's heartbeat timeout.
using heartbeat_signature = caf::replies_to<ping_atom>::with<pong_atom>;

}  // namespace agentgraph

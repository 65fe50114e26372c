// Atoms that several typed interfaces of actors/ share, so that an
// interface includes this small header instead of another kind's interface
// just to borrow an atom (memory_interface used to include the tool
// interface, and through it the provider interface, only for `stats_atom`).
// An atom used by one kind only stays in that kind's interface; the
// heartbeat's ping/pong are in runtime/heartbeat.hpp because the supervisor
// (runtime/) needs them too.
//
// Wire compatibility: an atom's value is its text, so moving a declaration
// here changes nothing a remote peer sees; never change the text.
#pragma once

#include <caf/atom.hpp>

namespace agentgraph {

// "What are your counters?": answered by every agent, tool, memory shard
// and provider, each with its own stats struct (agent_stats, tool_stats,
// memory_stats, provider_stats). Never fails; callers use a control
// timeout (a few seconds).
using stats_atom = caf::atom_constant<caf::atom("ag_stats")>;

}  // namespace agentgraph

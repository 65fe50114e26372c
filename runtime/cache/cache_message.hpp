// The message an actor receives when its L3 (Redis) lookup completes: the
// redis_cache callback runs on the cache's I/O thread and only does
//
//   caf::anon_send(me, cache_l3_atom::value, tag, std::move(reply));
//
// The actor's handler for (cache_l3_atom, uint64_t, l3_reply) then calls
// multi_level_cache::complete(key, reply) on its own thread, which fills
// L2 and L1 on a hit. Add `caf::reacts_to<cache_l3_atom, uint64_t,
// cache::l3_reply>` to the actor's (extended) interface; see
// actors/tool/caching_tool.cpp.
//
// l3_reply never leaves the process (it answers a local callback), hence no
// inspect and the macro below.
#pragma once

#include <caf/atom.hpp>
#include <caf/allowed_unsafe_message_type.hpp>

#include "runtime/cache/redis_cache.hpp"

namespace agentgraph {

using cache_l3_atom = caf::atom_constant<caf::atom("ag_cachel3")>;

}  // namespace agentgraph

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(agentgraph::cache::l3_reply)

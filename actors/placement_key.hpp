// The `placement` key that [agent.<name>], [tool.<name>] and [memory.<name>]
// share (net/cluster/DESIGN.md §8.3): which node of a cluster builds the
// component. Declared once here so the three key tables cannot drift apart;
// the syntax check and placed_here() are the host's (actors/host/placement.hpp),
// since only the host decides what a node builds.
#pragma once

#include <string>

#include "runtime/config/config_schema.hpp"

namespace agentgraph {

// `def` is the struct's default ("any"), passed in so the struct's member
// initialiser stays the one source of the default.
[[nodiscard]] inline key_spec placement_key(std::string def) {
  return string_key("placement", std::move(def),
                    "Node that builds this component: any (every node builds it) or a "
                    "[cluster] node_id; only that node builds it, other nodes reach it through "
                    "the cluster directory. 1-128 bytes, no whitespace, ',' or '/'; a value "
                    "other than any needs a [cluster] section.");
}

}  // namespace agentgraph

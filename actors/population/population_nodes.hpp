// Where a key of a population lives in a cluster (issue 14): per
// population type, the nodes that run it now (this node's population
// actor, and one handle per other node that offers it in the cluster
// directory), and the owner of a key among them by rendezvous hashing
// (highest random weight): every node computes the same owner from the
// same set of nodes, and when a node leaves only its keys move. The
// cluster directory glue (actors/host/cluster/cluster_directory.cpp)
// writes it; key addresses read it per message. Outside a cluster it holds
// this node's populations only, and every key is local.
//
// Thread-safe (a mutex, like group_instances): one writer actor, many
// readers. Bounded by what fills it: one entry per population type and
// cluster member.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "actors/population/population_interface.hpp"
#include "runtime/supervised_ref.hpp"

namespace agentgraph {

struct population_owner {
  std::string node;              // cluster member name
  dep<population_actor> handle;  // this node's ref, or the other node's handle
  bool local = false;
};

class population_nodes {
 public:
  // Adds or replaces the population `type` on `node`.
  void put(const std::string& type, const std::string& node, dep<population_actor> handle,
           bool local);
  // Forgets it; nothing when absent.
  void drop(const std::string& type, const std::string& node);
  // The node that owns `key` of `type` among those that run it now; none
  // when no node does.
  [[nodiscard]] std::optional<population_owner> owner_of(const std::string& type,
                                                         const std::string& key) const;
  // How many nodes run `type` now.
  [[nodiscard]] size_t nodes_of(const std::string& type) const;

 private:
  struct entry {
    dep<population_actor> handle;
    bool local = false;
  };
  mutable std::mutex mu_;
  std::map<std::string, std::map<std::string, entry>> by_type_;  // type -> node -> entry
};

// The rendezvous weight of (node, key): a 64-bit FNV-1a hash of
// "node\0key" run through a finaliser (splitmix64), so weights of similar
// names do not correlate. Pure; the same on every node and build.
[[nodiscard]] uint64_t rendezvous_weight(const std::string& node, const std::string& key);

}  // namespace agentgraph

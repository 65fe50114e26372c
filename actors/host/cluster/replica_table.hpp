// Where the fronts of replicated memory shards (replicated_memory.hpp) find
// the copies other nodes offer: per shard name, the shard each cluster
// member offers in the cluster directory, and this node's member name. The
// cluster directory glue (actors/host/cluster/cluster_directory.cpp) writes
// it; each front reads it when told that its shard's offers changed, and
// again when it starts, so a restarted front loses nothing. Outside a
// cluster it stays empty and every front has its local shard only.
//
// Thread-safe (a mutex, like group_instances): one writer actor, a few
// fronts. Bounded by what fills it: shards (the config's) times members
// (the directory's bound).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include <caf/actor.hpp>

namespace agentgraph {

struct replica_offer {
  std::string node;    // cluster member name
  uint64_t uid = 0;    // its incarnation
  caf::actor handle;   // its shard (serves memory_replica_actor)
};

class replica_table {
 public:
  using notify_fn = std::function<void()>;

  // A replicated shard of this node; `notify` runs after every change of
  // its offers and of self() (outside the lock: keep it a send).
  void watch(const std::string& shard, notify_fn notify);
  [[nodiscard]] bool watched(const std::string& shard) const;

  // This node's member name; "" until the node joins a cluster.
  void set_self(std::string node);
  [[nodiscard]] std::string self() const;

  // Adds or replaces what `node` offers for `shard`; ignored for a shard
  // nobody watches and for an older incarnation than the one held.
  void put(const std::string& shard, const std::string& node, uint64_t uid, caf::actor handle);
  // Forgets it, only when `uid` is the incarnation held (an old
  // incarnation's late removal must not drop the new one's offer).
  void drop(const std::string& shard, const std::string& node, uint64_t uid);
  // Everything that incarnation of `node` offered.
  void drop_node(const std::string& node, uint64_t uid);
  // Every offer of every node (this node left the cluster).
  void clear();

  // The offers of `shard`, by node name.
  [[nodiscard]] std::vector<replica_offer> offers(const std::string& shard) const;

 private:
  void notify(const std::vector<std::string>& shards) const;  // without mu_

  struct shard_entry {
    notify_fn notify;
    std::map<std::string, replica_offer> by_node;
  };
  mutable std::mutex mu_;
  std::string self_;
  std::map<std::string, shard_entry> shards_;
};

}  // namespace agentgraph

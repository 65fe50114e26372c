// Where an agent group finds its members when they run on several nodes
// (issue 12, design §8.3-8.4): per member name, every instance that serves
// it now (this node's own, and one per other node that offers an agent of
// that name in the cluster directory) with the load each node reported in
// its last heartbeat. The cluster directory glue
// (actors/host/cluster/cluster_directory.cpp) writes it; routers read it
// per task. Empty outside a cluster: a group then routes over its members'
// own refs, as on a single node.
//
// Thread-safe (a mutex, like supervised_ref): one writer actor, many
// routers. Bounded by what fills it: one instance per member name and
// cluster member, both bounded by the directory.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "actors/agent/agent_interface.hpp"
#include "runtime/supervised_ref.hpp"

namespace agentgraph {

struct agent_instance {
  std::string node;         // cluster member name of the node running it
  dep<agent_actor> handle;  // this node's ref, or another node's handle
  bool local = false;       // runs on this node
  uint32_t node_load = 0;   // tasks in flight on its node (last heartbeat)
};

class group_instances {
 public:
  // Adds or replaces the instance of `member` on `node`.
  void put(const std::string& member, const std::string& node, dep<agent_actor> handle, bool local);
  // Forgets it; nothing when absent.
  void drop(const std::string& member, const std::string& node);
  // The load `node` reported last.
  void set_load(const std::string& node, uint32_t load);
  // Every node's load at once; nodes not listed are forgotten (bounded by
  // the cluster's members).
  void set_loads(std::map<std::string, uint32_t> loads);
  // Every instance of `member`: this node's first, then by node name (the
  // same order on every node, for routers that hash).
  [[nodiscard]] std::vector<agent_instance> of(const std::string& member) const;
  [[nodiscard]] size_t size() const;
  // The cluster's message_timeout (net/cluster DESIGN.md §8.5): a task sent
  // to an instance on another node waits at most this long, or the task's
  // own deadline when that comes first. Zero (the default, and outside a
  // cluster): no bound beyond the task's.
  void set_remote_timeout(std::chrono::milliseconds t);
  [[nodiscard]] std::chrono::milliseconds remote_timeout() const;

 private:
  struct entry {
    dep<agent_actor> handle;
    bool local = false;
  };
  mutable std::mutex mu_;
  std::map<std::string, std::map<std::string, entry>> by_member_;  // member -> node -> entry
  std::map<std::string, uint32_t> load_;                           // node -> load
  std::chrono::milliseconds remote_timeout_{0};
};

}  // namespace agentgraph

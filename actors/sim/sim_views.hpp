// What each simulated node has seen of the membership, from the member
// events its node actor sent (sim_runner.cpp subscribes one observer per
// node incarnation): when the cluster formed, how many members each node
// sees up, and whether two live nodes each count the other out (a split
// brain). Only the simulation's thread touches it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "net/cluster/cluster_interface.hpp"

namespace agentgraph::sim {

class planet;

// Subscribes an observer actor on `p` (tracked: stopped at teardown) to
// `node`'s member events; each one is handed to `seen`.
void observe_node_members(planet& p, const cluster::node_actor& node,
                          std::function<void(const cluster::member_event&)> seen);

class member_views {
 public:
  // A new incarnation of `observer` starts with an empty view.
  void forget(size_t observer);
  // `observer` saw `member`'s incarnation `uid` in `state` (an older
  // incarnation's news changes nothing).
  void saw(size_t observer, const std::string& member, uint64_t uid, const std::string& state);
  // Each of the nodes 1..n sees n members up.
  [[nodiscard]] bool formed(size_t n) const;
  // Members up in `observer`'s view.
  [[nodiscard]] int64_t up_seen_by(size_t observer) const;
  // Two of the `live` nodes (number, name) that each see themselves up and
  // the other's current incarnation down or removed: two clusters at once.
  [[nodiscard]] bool split_brain(const std::vector<std::pair<size_t, std::string>>& live) const;

 private:
  // What `observer` holds about `member`'s incarnation `uid`: a stale view
  // of an older incarnation (a thawed node's) is no verdict on the current one.
  [[nodiscard]] std::string state_in(size_t observer, const std::string& member,
                                     uint64_t uid) const;
  [[nodiscard]] uint64_t uid_of(size_t observer, const std::string& member) const;

  // observer node -> member name -> (uid, state) of the newest incarnation seen
  std::map<size_t, std::map<std::string, std::pair<uint64_t, std::string>>> views_;
};

}  // namespace agentgraph::sim

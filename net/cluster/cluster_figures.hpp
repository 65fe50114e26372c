// The node actor's latest status, published for readers on other threads
// (the metrics scrape): the node actor writes it after each tick, readers
// copy it under a mutex. Nothing here waits on the actor.
#pragma once

#include <mutex>

#include "net/cluster/cluster_interface.hpp"

namespace agentgraph::cluster {

class cluster_figures {
 public:
  void publish(cluster_status s) {
    std::lock_guard lock{mutex_};
    last_ = std::move(s);
  }
  [[nodiscard]] cluster_status snapshot() const {
    std::lock_guard lock{mutex_};
    return last_;
  }

 private:
  mutable std::mutex mutex_;
  cluster_status last_;  // guarded by mutex_
};

}  // namespace agentgraph::cluster

#include "actors/host/cluster/replica_table.hpp"

namespace agentgraph {

void replica_table::watch(const std::string& shard, notify_fn notify) {
  {
    std::lock_guard<std::mutex> guard{mu_};
    shards_[shard].notify = std::move(notify);
  }
  this->notify({shard});
}

bool replica_table::watched(const std::string& shard) const {
  std::lock_guard<std::mutex> guard{mu_};
  return shards_.count(shard) != 0;
}

void replica_table::set_self(std::string node) {
  std::vector<std::string> all;
  {
    std::lock_guard<std::mutex> guard{mu_};
    if (self_ == node)
      return;
    self_ = std::move(node);
    for (const auto& [name, e] : shards_)
      all.push_back(name);
  }
  notify(all);
}

std::string replica_table::self() const {
  std::lock_guard<std::mutex> guard{mu_};
  return self_;
}

void replica_table::put(const std::string& shard, const std::string& node, uint64_t uid,
                        caf::actor handle) {
  {
    std::lock_guard<std::mutex> guard{mu_};
    auto it = shards_.find(shard);
    if (it == shards_.end() || !handle)
      return;
    auto& slot = it->second.by_node[node];
    if (slot.handle && slot.uid > uid)
      return;  // a late event of an older incarnation
    if (slot.uid == uid && slot.handle == handle)
      return;
    slot = replica_offer{node, uid, std::move(handle)};
  }
  notify({shard});
}

void replica_table::drop(const std::string& shard, const std::string& node, uint64_t uid) {
  {
    std::lock_guard<std::mutex> guard{mu_};
    auto it = shards_.find(shard);
    if (it == shards_.end())
      return;
    auto offer = it->second.by_node.find(node);
    if (offer == it->second.by_node.end() || offer->second.uid != uid)
      return;
    it->second.by_node.erase(offer);
  }
  notify({shard});
}

void replica_table::drop_node(const std::string& node, uint64_t uid) {
  std::vector<std::string> changed;
  {
    std::lock_guard<std::mutex> guard{mu_};
    for (auto& [name, e] : shards_) {
      auto offer = e.by_node.find(node);
      if (offer != e.by_node.end() && offer->second.uid == uid) {
        e.by_node.erase(offer);
        changed.push_back(name);
      }
    }
  }
  notify(changed);
}

void replica_table::clear() {
  std::vector<std::string> changed;
  {
    std::lock_guard<std::mutex> guard{mu_};
    for (auto& [name, e] : shards_)
      if (!e.by_node.empty()) {
        e.by_node.clear();
        changed.push_back(name);
      }
  }
  notify(changed);
}

std::vector<replica_offer> replica_table::offers(const std::string& shard) const {
  std::lock_guard<std::mutex> guard{mu_};
  std::vector<replica_offer> out;
  auto it = shards_.find(shard);
  if (it == shards_.end())
    return out;
  out.reserve(it->second.by_node.size());
  for (const auto& [node, offer] : it->second.by_node)
    out.push_back(offer);
  return out;
}

void replica_table::notify(const std::vector<std::string>& shards) const {
  std::vector<notify_fn> fns;
  {
    std::lock_guard<std::mutex> guard{mu_};
    for (const auto& name : shards)
      if (auto it = shards_.find(name); it != shards_.end() && it->second.notify)
        fns.push_back(it->second.notify);
  }
  for (const auto& fn : fns)
    fn();
}

}  // namespace agentgraph

#include "actors/agent/group_instances.hpp"

#include <algorithm>

namespace agentgraph {

void group_instances::put(const std::string& member, const std::string& node,
                          dep<agent_actor> handle, bool local) {
  std::lock_guard<std::mutex> guard{mu_};
  by_member_[member][node] = entry{std::move(handle), local};
}

void group_instances::drop(const std::string& member, const std::string& node) {
  std::lock_guard<std::mutex> guard{mu_};
  auto it = by_member_.find(member);
  if (it == by_member_.end())
    return;
  it->second.erase(node);
  if (it->second.empty())
    by_member_.erase(it);
}

void group_instances::set_load(const std::string& node, uint32_t load) {
  std::lock_guard<std::mutex> guard{mu_};
  load_[node] = load;
}

void group_instances::set_loads(std::map<std::string, uint32_t> loads) {
  std::lock_guard<std::mutex> guard{mu_};
  load_ = std::move(loads);
}

std::vector<agent_instance> group_instances::of(const std::string& member) const {
  std::lock_guard<std::mutex> guard{mu_};
  std::vector<agent_instance> out;
  auto it = by_member_.find(member);
  if (it == by_member_.end())
    return out;
  out.reserve(it->second.size());
  for (const auto& [node, e] : it->second) {
    auto load = load_.find(node);
    out.push_back({node, e.handle, e.local, load == load_.end() ? 0 : load->second});
  }
  std::stable_partition(out.begin(), out.end(), [](const agent_instance& x) { return x.local; });
  return out;
}

size_t group_instances::size() const {
  std::lock_guard<std::mutex> guard{mu_};
  size_t n = 0;
  for (const auto& [member, nodes] : by_member_)
    n += nodes.size();
  return n;
}

void group_instances::set_remote_timeout(std::chrono::milliseconds t) {
  std::lock_guard lock{mu_};
  remote_timeout_ = t;
}

std::chrono::milliseconds group_instances::remote_timeout() const {
  std::lock_guard lock{mu_};
  return remote_timeout_;
}

}  // namespace agentgraph

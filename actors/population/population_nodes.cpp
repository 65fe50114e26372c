#include "actors/population/population_nodes.hpp"

namespace agentgraph {

uint64_t rendezvous_weight(const std::string& node, const std::string& key) {
  uint64_t h = 14695981039346656037ull;
  auto mix = [&h](unsigned char c) {
    h ^= c;
    h *= 1099511628211ull;
  };
  for (unsigned char c : node)
    mix(c);
  mix(0);
  for (unsigned char c : key)
    mix(c);
  // splitmix64's finaliser.
  h += 0x9e3779b97f4a7c15ull;
  h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ull;
  h = (h ^ (h >> 27)) * 0x94d049bb133111ebull;
  return h ^ (h >> 31);
}

void population_nodes::put(const std::string& type, const std::string& node,
                           dep<population_actor> handle, bool local) {
  std::lock_guard guard{mu_};
  by_type_[type][node] = entry{std::move(handle), local};
}

void population_nodes::drop(const std::string& type, const std::string& node) {
  std::lock_guard guard{mu_};
  auto it = by_type_.find(type);
  if (it == by_type_.end())
    return;
  it->second.erase(node);
  if (it->second.empty())
    by_type_.erase(it);
}

std::optional<population_owner> population_nodes::owner_of(const std::string& type,
                                                           const std::string& key) const {
  std::lock_guard guard{mu_};
  auto it = by_type_.find(type);
  if (it == by_type_.end() || it->second.empty())
    return std::nullopt;
  const std::string* best = nullptr;
  const entry* best_entry = nullptr;
  uint64_t best_weight = 0;
  // Ties (a 2^-64 chance) go to the smaller node name: map order, strict >.
  for (const auto& [node, e] : it->second) {
    auto w = rendezvous_weight(node, key);
    if (best == nullptr || w > best_weight) {
      best = &node;
      best_entry = &e;
      best_weight = w;
    }
  }
  return population_owner{*best, best_entry->handle, best_entry->local};
}

size_t population_nodes::nodes_of(const std::string& type) const {
  std::lock_guard guard{mu_};
  auto it = by_type_.find(type);
  return it == by_type_.end() ? 0 : it->second.size();
}

}  // namespace agentgraph

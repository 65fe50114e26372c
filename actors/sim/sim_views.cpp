// The nodes' views of the membership in a simulation (sim_views.hpp).
#include "actors/sim/sim_views.hpp"

#include <caf/send.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/sim/sim_network.hpp"

namespace agentgraph::sim {

void observe_node_members(planet& p, const cluster::node_actor& node,
                          std::function<void(const cluster::member_event&)> seen) {
  auto sink = p.track(p.sys().spawn(
    [seen = std::move(seen)](cluster::member_event_sink::pointer)
      -> cluster::member_event_sink::behavior_type {
      return {[seen](cluster::member_event_atom, cluster::member_event& e) { seen(e); }};
    }));
  // The node takes subscriptions from local senders only.
  caf::send_as(sink, node, cluster::member_sub_atom::value, sink);
}

void member_views::forget(size_t observer) {
  views_.erase(observer);
}

void member_views::saw(size_t observer, const std::string& member, uint64_t uid,
                       const std::string& state) {
  auto& seen = views_[observer][member];
  if (uid >= seen.first)
    seen = {uid, state};
}

bool member_views::formed(size_t n) const {
  for (size_t i = 1; i <= n; ++i)
    if (up_seen_by(i) != static_cast<int64_t>(n))
      return false;
  return true;
}

int64_t member_views::up_seen_by(size_t observer) const {
  auto v = views_.find(observer);
  if (v == views_.end())
    return 0;
  int64_t up = 0;
  for (const auto& [member, seen] : v->second)
    up += seen.second == "up";
  return up;
}

std::string member_views::state_in(size_t observer, const std::string& member,
                                   uint64_t uid) const {
  auto v = views_.find(observer);
  if (v == views_.end())
    return {};
  auto it = v->second.find(member);
  return it == v->second.end() || it->second.first != uid ? std::string{} : it->second.second;
}

uint64_t member_views::uid_of(size_t observer, const std::string& member) const {
  auto v = views_.find(observer);
  if (v == views_.end())
    return 0;
  auto it = v->second.find(member);
  return it == v->second.end() ? 0 : it->second.first;
}

bool member_views::split_brain(const std::vector<std::pair<size_t, std::string>>& live) const {
  auto gone = [](const std::string& st) { return st == "down" || st == "removed"; };
  for (size_t a = 0; a < live.size(); ++a)
    for (size_t b = a + 1; b < live.size(); ++b) {
      const auto& [x, xn] = live[a];
      const auto& [y, yn] = live[b];
      const auto xu = uid_of(x, xn), yu = uid_of(y, yn);
      if (state_in(x, xn, xu) == "up" && state_in(y, yn, yu) == "up"
          && gone(state_in(x, yn, yu)) && gone(state_in(y, xn, xu)))
        return true;
    }
  return false;
}

}  // namespace agentgraph::sim

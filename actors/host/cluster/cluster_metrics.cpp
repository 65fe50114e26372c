#include "actors/host/cluster/cluster_metrics.hpp"

#include <cmath>
#include <map>

namespace agentgraph {

namespace cluster_metrics_detail {

// The state word of `cluster status`: "suspect" for a live member some live
// member cannot hear.
std::string state_word(const cluster::cluster_member_status& m) {
  if (!m.reachable && cluster::is_live(m.record.state))
    return "suspect";
  return cluster::to_string(m.record.state);
}

using samples = std::vector<metrics::callback_sample>;

}  // namespace cluster_metrics_detail

caf::error add_cluster_metrics(metrics::registry& reg,
                               std::shared_ptr<const cluster::cluster_figures> figures) {
  using namespace cluster_metrics_detail;
  using metrics::callback_type;
  auto read = [figures] { return figures->snapshot(); };
  if (auto err = reg.add_callback(
          "agentgraph_cluster_members", "Members of this node's view by state (suspect: up but unreachable).",
          {"state"}, callback_type::gauge, [read] {
            const auto st = read();
            std::map<std::string, double> counts;
            for (auto s : cluster::member_states)
              counts[cluster::to_string(s)] = 0;
            counts["suspect"] = 0;
            for (const auto& m : st.members)
              counts[state_word(m)] += 1;
            samples out;
            for (const auto& [state, n] : counts)
              out.push_back({{state}, n});
            return out;
          }))
    return err;
  if (auto err = reg.add_callback(
          "agentgraph_cluster_member_phi",
          "Phi-accrual suspicion of each peer as this node's detector sees it (+Inf: silent).",
          {"member"}, callback_type::gauge, [read] {
            const auto st = read();
            samples out;
            for (const auto& m : st.members)
              if (m.record.id != st.self && cluster::is_live(m.record.state))
                out.push_back({{m.record.id.name}, m.phi});
            return out;
          }))
    return err;
  if (auto err = reg.add_callback("agentgraph_cluster_joined",
                                  "1 while this node is in a cluster, 0 while it joins or rejoins.",
                                  {}, callback_type::gauge, [read] {
                                    return samples{{{}, read().joined ? 1.0 : 0.0}};
                                  }))
    return err;
  if (auto err = reg.add_callback(
          "agentgraph_cluster_heartbeats_total", "Application heartbeats sent to and heard from peers.",
          {"direction"}, callback_type::counter, [read] {
            const auto c = read().counters;
            return samples{{{"heard"}, static_cast<double>(c.heartbeats_heard)},
                           {{"sent"}, static_cast<double>(c.heartbeats_sent)}};
          }))
    return err;
  if (auto err = reg.add_callback(
          "agentgraph_cluster_admissions_total",
          "Admission handshakes: completed, or refused (a proof that failed, either side).",
          {"outcome"}, callback_type::counter, [read] {
            const auto c = read().counters;
            return samples{{{"admitted"}, static_cast<double>(c.admitted)},
                           {{"refused"}, static_cast<double>(c.refused)}};
          }))
    return err;
  if (auto err = reg.add_callback("agentgraph_cluster_downs_total",
                                  "Members this node set down (refused port, keep-majority).", {},
                                  callback_type::counter, [read] {
                                    return samples{{{}, static_cast<double>(read().counters.downs)}};
                                  }))
    return err;
  if (auto err = reg.add_callback(
          "agentgraph_cluster_dropped_messages_total",
          "Gossip and heartbeats dropped because their sender was not admitted.", {},
          callback_type::counter,
          [read] { return samples{{{}, static_cast<double>(read().counters.dropped)}}; }))
    return err;
  return reg.add_callback(
      "agentgraph_cluster_incarnations_total",
      "Times this node started a new incarnation (downed, minority side) and rejoined.", {},
      callback_type::counter,
      [read] { return samples{{{}, static_cast<double>(read().counters.incarnations)}}; });
}

}  // namespace agentgraph

// The cluster's collaboration settings (design §8.5): max_agents,
// message_timeout and heartbeat_interval of the node that formed the
// cluster. A joiner adopts the ones its welcome carries and logs its own
// where they differ; gossip carries them on, and of two that differ the one
// with the lower origin wins, which every node computes alike, so the
// cluster converges on one set even after two clusters merged.
#include "net/cluster/node_state.hpp"
#include "runtime/error.hpp"
#include "runtime/log.hpp"

namespace agentgraph::cluster {

namespace node_collab_detail {

std::string ms_text(caf::timespan t) {
  return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(t).count()) + "ms";
}

void adopt(node_self self, const collab_settings& c, const char* how) {
  auto& st = self->state;
  const auto mine = own_collab(self);
  if (c.max_agents != mine.max_agents || c.message_timeout != mine.message_timeout ||
      c.heartbeat_interval != mine.heartbeat_interval)
    log(log_severity::warn, "cluster",
        "this node's collaboration settings differ from the cluster's; using the cluster's",
        {{"how", how},
         {"origin", to_string(c.origin)},
         {"max_agents", std::to_string(c.max_agents)},
         {"own_max_agents", std::to_string(mine.max_agents)},
         {"message_timeout", ms_text(c.message_timeout)},
         {"own_message_timeout", ms_text(mine.message_timeout)},
         {"heartbeat_interval", ms_text(c.heartbeat_interval)},
         {"own_heartbeat_interval", ms_text(mine.heartbeat_interval)}});
  st.collab = c;
  // Heartbeats go out at the cluster's pace from the next tick on, and
  // detectors made from now on expect it; those already running learn it
  // from the arrivals.
  const auto hb = std::chrono::duration_cast<std::chrono::milliseconds>(c.heartbeat_interval);
  auto p = st.psettings;
  p.first_estimate = hb;
  if (!cluster::validate(p)) {
    st.args->cfg.heartbeat_interval = hb;
    st.psettings = p;
  }
  dir_recount(self);  // max_agents may have changed
}

}  // namespace node_collab_detail

collab_settings own_collab(node_self self) {
  const auto& st = self->state;
  const auto& cfg = st.args->cfg;
  return collab_settings{st.self_id, cfg.max_agents, caf::timespan{cfg.message_timeout},
                         caf::timespan{cfg.heartbeat_interval}};
}

caf::error check_collab(const collab_settings& c) {
  using namespace std::chrono_literals;
  auto bad = [](const std::string& why) {
    return make_error(errc::invalid_argument, "collaboration settings: " + why);
  };
  if (c.origin.name.empty() || c.origin.name.size() > identity_bytes_max / 4)
    return bad("no origin");
  if (c.message_timeout < caf::timespan{1ms} || c.message_timeout > caf::timespan{1h})
    return bad("message_timeout outside 1ms..1h");
  if (c.heartbeat_interval < caf::timespan{10ms} || c.heartbeat_interval > caf::timespan{1min})
    return bad("heartbeat_interval outside 10ms..1m");
  if (c.max_agents > 1'000'000)
    return bad("max_agents above 1000000");
  return {};
}

void adopt_welcome_collab(node_self self, const collab_settings& c) {
  if (auto err = check_collab(c)) {
    log(log_severity::warn, "cluster", "welcome without usable collaboration settings; keeping ours",
        {{"error", describe(err)}});
    return;
  }
  if (c == self->state.collab)
    return;
  node_collab_detail::adopt(self, c, "welcome");
}

void merge_gossip_collab(node_self self, const collab_settings& c) {
  auto& st = self->state;
  if (c == st.collab || check_collab(c) || !(c.origin < st.collab.origin))
    return;
  node_collab_detail::adopt(self, c, "gossip");
}

}  // namespace agentgraph::cluster

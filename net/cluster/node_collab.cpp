// The cluster's collaboration settings (design §8.5): max_agents,
// message_timeout and heartbeat_interval of the node that formed the
// cluster. A joiner adopts the ones its welcome carries and logs its own
// where they differ; gossip carries them on, and of two that differ the
// lower (origin, values) tuple wins, which every node computes alike, so the
// cluster converges on one set even after two clusters merged, and even if
// two sets ever name one origin. A set counts only if its origin is a
// member (or a retired incarnation) of the sender's own view: otherwise any
// admitted peer could invent an origin that sorts lowest and win forever.
#include <tuple>

#include "net/cluster/node_state.hpp"
#include "runtime/assert.hpp"
#include "runtime/error.hpp"
#include "runtime/log.hpp"

namespace agentgraph::cluster {

namespace node_collab_detail {

void reseed_detectors(node_self self);

// The order every node applies alike: lower origin first, then the values,
// so two different sets under one origin still converge on one.
bool before(const collab_settings& a, const collab_settings& b) {
  const auto key = [](const collab_settings& c) {
    return std::tie(c.origin, c.max_agents, c.message_timeout, c.heartbeat_interval);
  };
  return key(a) < key(b);
}

// Whether the settings' origin is a member of the view `g` carries, or an
// incarnation that view has retired (removed after it went down).
bool origin_known(const gossip_msg& g) {
  const auto& o = g.collab.origin;
  for (const auto& r : g.members)
    if (r.id == o)
      return true;
  auto it = g.retired.find(o.name);
  return it != g.retired.end() && o.uid < it->second;
}

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
  const bool new_interval = c.heartbeat_interval != st.collab.heartbeat_interval;
  st.collab = c;
  // Heartbeats go out at the cluster's pace from the next tick on, and
  // detectors made from now on expect it.
  const auto hb = std::chrono::duration_cast<std::chrono::milliseconds>(c.heartbeat_interval);
  auto p = st.psettings;
  p.first_estimate = hb;
  if (!cluster::validate(p)) {
    st.args->cfg.heartbeat_interval = hb;
    st.psettings = p;
    if (new_interval)
      reseed_detectors(self);
  }
  dir_recount(self);  // max_agents may have changed
  // Subscribers (the host's message_timeout for topics and remote calls)
  // hear the change now, not at the next membership change.
  tell_collab(self, nullptr, std::string{"collaboration settings adopted ("} + how + ")");
}

// Detectors already running were seeded with the old interval: a slower
// cluster pace would look like a silent peer at every gap, and since an
// interval that ends unavailability is never recorded they would never
// learn it. Each starts over from the new first estimate, keeping the time
// of the last heartbeat heard, so a peer that is really silent still is.
void reseed_detectors(node_self self) {
  auto& st = self->state;
  for (auto& [who, h] : st.health) {
    auto fresh = phi_accrual::make(st.psettings);
    AG_ASSERT(fresh);  // psettings were validated
    if (h.detector.heard())
      fresh->heartbeat(h.detector.last_heartbeat());
    h.detector = std::move(*fresh);
  }
}

}  // namespace node_collab_detail

void tell_collab(node_self self, const member_event_sink* only, const std::string& why) {
  auto& st = self->state;
  const auto* me = st.view ? st.view->find(st.self_id) : nullptr;
  if (!me)
    return;  // not started: the "starting" event carries them
  const member_event ev{*me, why, self->node(), st.collab};
  if (only)
    self->send(*only, member_event_atom::value, ev);
  else
    for (const auto& s : st.subscribers)
      self->send(s, member_event_atom::value, ev);
}

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
  if (c.origin.name.empty() || c.origin.name.size() > identity_bytes_max / 4 ||
      c.origin.host.empty() || c.origin.host.size() > identity_bytes_max / 4 ||
      c.origin.port == 0 || c.origin.uid == 0)
    return bad("no origin");
  if (c.message_timeout < caf::timespan{1ms} || c.message_timeout > caf::timespan{1h})
    return bad("message_timeout outside 1ms..1h");
  if (c.heartbeat_interval < caf::timespan{10ms} || c.heartbeat_interval > caf::timespan{1min})
    return bad("heartbeat_interval outside 10ms..1m");
  if (c.max_agents > 1'000'000)
    return bad("max_agents above 1000000");
  return {};
}

void adopt_welcome_collab(node_self self, const gossip_msg& g) {
  const auto& c = g.collab;
  auto err = check_collab(c);
  if (!err && !node_collab_detail::origin_known(g))
    err = make_error(errc::invalid_argument,
                     "collaboration settings: origin " + to_string(c.origin) +
                         " is not a member of the welcome's view");
  if (err) {
    log(log_severity::warn, "cluster", "welcome without usable collaboration settings; keeping ours",
        {{"error", describe(err)}});
    return;
  }
  if (c == self->state.collab)
    return;
  node_collab_detail::adopt(self, c, "welcome");
}

void merge_gossip_collab(node_self self, const gossip_msg& g) {
  auto& st = self->state;
  const auto& c = g.collab;
  if (c == st.collab || check_collab(c) || !node_collab_detail::before(c, st.collab))
    return;
  if (!node_collab_detail::origin_known(g)) {
    log(log_severity::warn, "cluster",
        "gossiped collaboration settings name an origin outside the sender's view; ignored",
        {{"from", to_string(g.from)}, {"origin", to_string(c.origin)}});
    return;
  }
  node_collab_detail::adopt(self, c, "gossip");
}

}  // namespace agentgraph::cluster

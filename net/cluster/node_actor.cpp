#include "runtime/virtual_time.hpp"
#include "net/cluster/node_actor.hpp"

#include <algorithm>

#include <caf/actor_cast.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/io/middleman_actor.hpp>

#include "net/cluster/node_state.hpp"
#include "runtime/assert.hpp"
#include "runtime/error.hpp"
#include "runtime/log.hpp"

namespace agentgraph::cluster {

std::string to_string(const endpoint& ep) {
  return ep.host + ":" + std::to_string(ep.port);
}

caf::expected<endpoint> parse_endpoint(const std::string& text, const std::string& origin) {
  const auto colon = text.rfind(':');
  auto bad = [&](const std::string& why) {
    return make_error(errc::invalid_argument,
                      origin + ": '" + text + "' is not host:port (" + why + ")");
  };
  if (colon == std::string::npos || colon == 0)
    return bad("no host");
  const auto port_text = text.substr(colon + 1);
  if (port_text.empty() || port_text.size() > 5 ||
      port_text.find_first_not_of("0123456789") != std::string::npos)
    return bad("port must be 1-65535");
  const auto port = std::stoul(port_text);
  if (port < 1 || port > 65535)
    return bad("port must be 1-65535");
  auto host = text.substr(0, colon);
  if (host.size() > 253 || host.find_first_of(" \t,") != std::string::npos)
    return bad("bad host");
  return endpoint{std::move(host), static_cast<uint16_t>(port)};
}

caf::error validate(const cluster_config& c) {
  auto bad = [](const std::string& why) {
    return make_error(errc::invalid_argument, "[cluster] " + why);
  };
  if (c.name.empty() || c.name.size() > identity_bytes_max / 4)
    return bad("name must be 1-128 bytes");
  if (c.node_id.size() > identity_bytes_max / 4)
    return bad("node_id must be at most 128 bytes");
  if (c.listen.empty())
    return bad("listen must name an interface");
  if (c.port > 65535)
    return bad("port must be 0-65535");
  if (c.seeds.empty())
    return bad("seeds must list at least one host:port");
  if (c.seeds.size() > c.members_max)
    return bad("seeds lists more nodes than members_max");
  for (const auto& s : c.seeds)
    if (auto ep = parse_endpoint(s, "[cluster] seeds"); !ep)
      return ep.error();
  using std::chrono::milliseconds;
  if (c.heartbeat_interval < milliseconds{10} || c.gossip_interval < milliseconds{10})
    return bad("heartbeat_interval and gossip_interval must be at least 10ms");
  if (c.transport_timeout < 4 * c.transport_heartbeat)
    return bad("transport_timeout must be at least 4 x transport_heartbeat");
  if (c.connect_timeout.count() <= 0 || c.join_timeout.count() <= 0 ||
      c.reconnect_backoff_max.count() <= 0)
    return bad("connect_timeout, join_timeout and reconnect_backoff_max must be > 0");
  if (c.members_max < 1 || c.members_max > view_members_limit)
    return bad("members_max must be 1-" + std::to_string(view_members_limit));
  if (c.handshakes_max < 1 || c.connectors_stalled_max < 1 || c.directory_entries_max < 1)
    return bad("handshakes_max, connectors_stalled_max and directory_entries_max must be at "
               "least 1");
  phi_settings p{c.phi_threshold, c.phi_samples_max, c.min_std_deviation,
                 c.acceptable_heartbeat_pause, c.heartbeat_interval};
  if (auto err = cluster::validate(p))
    return err;
  downing_settings d{c.stable_after, c.down_all_when_unstable, 10 * c.stable_after};
  return cluster::validate(d);
}

bool from_local(node_self self) {
  const auto& sender = self->current_sender();
  return sender && sender->node() == self->node();
}

cluster_status make_status(node_self self) {
  auto& st = self->state;
  cluster_status out;
  out.cluster = st.args->cfg.name;
  out.self = st.self_id;
  out.joined = st.joined;
  out.counters = st.counters;
  if (auto leader = st.view->leader())
    out.leader = *leader;
  out.collab = st.collab;
  const auto now = self->clock().now();
  for (const auto& [id, rec] : st.view->records()) {
    cluster_member_status m;
    m.record = rec;
    m.reachable = st.view->reachable(id);
    if (auto h = st.health.find(id); h != st.health.end()) {
      m.phi = std::max(0.0, h->second.detector.phi(now));  // the approximation dips to -0
      m.load = h->second.load;
    } else if (id == st.self_id) {
      m.load = st.load;
    }
    const auto counts = id == st.self_id ? st.dir->local_counts() : st.dir->counts_of(id);
    m.agents = counts.agents;
    m.tools = counts.tools;
    m.shards = counts.shards;
    out.members.push_back(std::move(m));
  }
  return out;
}

void answer_waiting(node_self self) {
  auto& st = self->state;
  if (!st.published)
    return;
  for (auto& rp : st.status_waiting)
    rp.deliver(make_status(self));
  st.status_waiting.clear();
  const auto* mine = st.view->find(st.self_id);
  const auto state = mine ? mine->state : member_state::removed;
  const bool left = state == member_state::exiting || state == member_state::removed ||
                    state == member_state::down || !st.joined;
  if (left) {
    for (auto& rp : st.leave_waiting)
      rp.deliver(state);
    st.leave_waiting.clear();
  }
}

void node_published(node_self self, uint16_t port) {
  auto& st = self->state;
  AG_ASSERT(!st.published);
  st.published = true;
  st.self_id.port = port;
  if (st.self_id.name.empty())
    st.self_id.name = st.self_id.host + ":" + std::to_string(port);
  st.collab = own_collab(self);  // until a welcome brings the cluster's
  const endpoint me{st.self_id.host, port};
  st.may_start_alone = !st.seeds.empty() && st.seeds.front() == me;
  log(log_severity::info, "cluster", "node published",
      {{"member", to_string(st.self_id)}, {"cluster", st.args->cfg.name}});
  new_incarnation(self, "");
  answer_waiting(self);
}

namespace node_actor_detail {

node_actor::behavior_type node_behavior(node_self self, node_args args) {
  auto& st = self->state;
  st.vsettings = view_settings{args.cfg.members_max, 2 * size_t{args.cfg.members_max}};
  st.psettings = phi_settings{args.cfg.phi_threshold, args.cfg.phi_samples_max,
                              args.cfg.min_std_deviation, args.cfg.acceptable_heartbeat_pause,
                              args.cfg.heartbeat_interval};
  st.dsettings = downing_settings{args.cfg.stable_after, args.cfg.down_all_when_unstable,
                                  10 * args.cfg.stable_after};
  for (const auto& s : args.cfg.seeds)
    st.seeds.push_back(*parse_endpoint(s, "seeds"));  // validated by spawn_node
  st.self_id.name = args.cfg.node_id;
  st.self_id.host =
      args.cfg.advertise_host.empty() ? args.cfg.listen : args.cfg.advertise_host;
  st.self_id.uid = args.uid;
  st.view = *membership_view::make(st.vsettings);
  st.stab.emplace(st.dsettings);
  st.dir.emplace(args.cfg.directory_entries_max);
  st.args = std::move(args);

  self->set_down_handler([self](caf::down_msg& dm) { on_peer_down(self, dm); });
  self->set_exit_handler([self](caf::exit_msg& em) {
    // Leave the published port at once: a restarted node may bind it.
    if (self->state.published)
      self->send(self->state.args->publisher, caf::unpublish_atom::value,
                 caf::actor_addr{self->address()}, uint16_t{self->state.self_id.port});
    self->quit(em.reason);
  });

  const auto& cfg = st.args->cfg;
  self->request(st.args->publisher, cfg.connect_timeout, caf::publish_atom::value,
                uint16_t(cfg.port), caf::actor_cast<caf::strong_actor_ptr>(self),
                self->system().message_types<node_actor>(), cfg.listen, true)
      .then([self](uint16_t port) { node_published(self, port); },
            [self](caf::error& err) {
              log(log_severity::error, "cluster", "cannot publish the node actor",
                  {{"listen", self->state.args->cfg.listen},
                   {"error", describe(err)}});
              self->quit(make_error(errc::io_error, "cluster: cannot publish the node actor on " +
                                                        self->state.args->cfg.listen + ":" +
                                                        std::to_string(self->state.args->cfg.port) +
                                                        ": " + describe(err)));
            });

  return {
      [self](join_hello_atom, join_hello& h) -> caf::result<join_challenge> {
        return on_hello(self, h);
      },
      [self](join_prove_atom, join_proof& p) -> caf::result<gossip_msg> {
        return on_prove(self, p);
      },
      [self](gossip_atom, gossip_msg& g) { on_gossip(self, g); },
      [self](cluster_hb_atom, heartbeat_msg& hb) {
        on_link_notice(self, hb);  // first: a notice repeats a seq on_heartbeat ignores
        on_heartbeat(self, hb);
      },
      [self](leave_atom) -> caf::result<member_state> {
        auto& st = self->state;
        if (!from_local(self))
          return make_error(errc::unauthorized, "cluster: leave is a local request");
        if (!st.published || !st.joined)
          return member_state::removed;
        const auto* mine = st.view->find(st.self_id);
        AG_ASSERT(mine != nullptr, "a joined node is in its own view");
        if (!is_live(mine->state) || mine->state == member_state::exiting)
          return mine->state;
        if (st.leave_waiting.size() >= node_state::waiting_max)
          return make_error(errc::overloaded, "cluster: too many leave requests waiting");
        if (mine->state != member_state::leaving) {
          const auto before = *st.view;
          const auto target =
              mine->state == member_state::joining ? member_state::down : member_state::leaving;
          if (auto err = st.view->set_state(st.self_id, target))
            return err;
          st.view->mark_seen(st.self_id);
          after_view_change(self, before, "leaving");
        }
        auto rp = self->make_response_promise<member_state>();
        st.leave_waiting.push_back(rp);
        answer_waiting(self);
        return rp;
      },
      [self](cluster_status_atom) -> caf::result<cluster_status> {
        auto& st = self->state;
        if (!from_local(self))
          return make_error(errc::unauthorized, "cluster: status is a local request");
        if (st.published)
          return make_status(self);
        if (st.status_waiting.size() >= node_state::waiting_max)
          return make_error(errc::overloaded, "cluster: too many status requests waiting");
        auto rp = self->make_response_promise<cluster_status>();
        st.status_waiting.push_back(rp);
        return rp;
      },
      [self](member_sub_atom, member_event_sink& sink) {
        auto& st = self->state;
        if (!from_local(self) || !sink)
          return;
        if (st.subscribers.size() >= node_state::subscribers_max) {
          log(log_severity::warn, "cluster", "membership subscriber refused: too many",
              {{"max", std::to_string(node_state::subscribers_max)}});
          return;
        }
        self->monitor(sink);
        st.subscribers.push_back(std::move(sink));
        // A subscriber knows the settings in use from the start, not from
        // the next membership change.
        tell_collab(self, &st.subscribers.back(), "subscribed");
      },
      [self](dir_put_atom, dir_entry& e) { on_dir_put(self, e); },
      [self](dir_drop_atom, const std::string& kind, const std::string& name) {
        on_dir_drop(self, kind, name);
      },
      [self](dir_list_atom) { return on_dir_list(self); },
      [self](dir_sub_atom, directory_sink& sink) { on_dir_sub(self, sink); },
      [self](dir_sync_atom, dir_sync& sync) { on_dir_sync(self, sync); },
      [self](dir_pull_atom, const member_id& asker) { on_dir_pull(self, asker); },
      [](ping_atom) { return pong_atom::value; },
  };
}

}  // namespace node_actor_detail

node_actor spawn_node(caf::actor_system& sys, node_args args) {
  AG_ASSERT(!validate(args.cfg), "the cluster config is validated before spawn_node");
  AG_ASSERT(args.uid > 0 && args.publisher && args.make_connector);
  // Under virtual time a detached node actor would escape the clock.
  if (args.cfg.dedicated_thread && !runs_virtual_time(sys))
    return sys.spawn<caf::detached>(node_actor_detail::node_behavior, std::move(args));
  return sys.spawn(node_actor_detail::node_behavior, std::move(args));
}

}  // namespace agentgraph::cluster

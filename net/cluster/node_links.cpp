// Links to peer endpoints (design §6): which endpoints the node dials, the
// joiner's side of the handshake (§7), reconnects with backoff, and what a
// refused or timed-out connect means for the member behind the endpoint.
// Also the lost-link notices (design §8.2): a connection to a peer that
// went down is counted and told to that peer once the link is back, so it
// fails the calls in flight whose answers this node could not send.
#include <algorithm>

#include <caf/actor_cast.hpp>
#include <caf/group_manager.hpp>
#include <caf/io/middleman_actor.hpp>
#include <caf/send.hpp>
#include <caf/sec.hpp>

#include "net/cluster/node_state.hpp"
#include "runtime/assert.hpp"
#include "runtime/call_watch.hpp"
#include "runtime/error.hpp"
#include "runtime/log.hpp"

namespace agentgraph::cluster {

namespace node_links_detail {

endpoint endpoint_of(const member_id& m) {
  return {m.host, m.port};
}

// How many ticks a notice of a lost connection is repeated once the link is
// admitted again (the first goes out at the admission). One would do on a
// connection that stays up, and a connection lost again is counted again;
// the repeats cover a notice overtaken by the loss of the connection it
// travelled on without this node noticing (it was not its route).
constexpr uint32_t notice_repeats = 4;

// Tells the member behind `l` how often this node lost its connection to
// it: a heartbeat with the last seq sent (so its detector and an older
// peer take it as a repeat) and links_lost set.
void send_link_notice(node_self self, link& l) {
  auto& st = self->state;
  AG_ASSERT(l.ph == link::phase::admitted && l.peer && l.member && l.links_lost > 0);
  if (l.notices_left == 0)
    return;
  --l.notices_left;
  self->send(l.peer, cluster_hb_atom::value,
             heartbeat_msg{st.self_id, st.hb_seq, st.load, dir_offered_version(self), l.links_lost});
}

// Endpoints the node should be talking to now.
std::set<endpoint> wanted(node_self self) {
  auto& st = self->state;
  std::set<endpoint> out;
  const endpoint me = endpoint_of(st.self_id);
  if (!st.joined) {
    for (const auto& s : st.seeds)
      if (s != me)
        out.insert(s);
    return out;
  }
  for (const auto& [id, rec] : st.view->records())
    if (id != st.self_id && is_live(rec.state) && endpoint_of(id) != me)
      out.insert(endpoint_of(id));
  return out;
}

void backoff(node_self self, link& l) {
  const auto& cfg = self->state.args->cfg;
  ++l.failures;
  const auto shift = std::min<uint32_t>(l.failures - 1, 16);
  const auto delay = std::min<std::chrono::milliseconds>(cfg.reconnect_backoff_max,
                                                         cfg.gossip_interval * (1u << shift));
  l.ph = link::phase::idle;
  l.retry_at = self->clock().now() + delay;
}

void drop_peer(node_self self, link& l) {
  if (l.peer && l.ph != link::phase::admitted)
    self->demonitor(l.peer.address());
  if (l.ph != link::phase::admitted)
    l.peer = nullptr;
}

// The member behind `l` refused a connect: nothing listens on its
// host:port any more (a crash, kill -9), which no partition can fake.
void on_refused(node_self self, link& l) {
  auto& st = self->state;
  l.refused = true;
  if (!st.joined || !l.member)
    return;
  const auto* rec = st.view->find(*l.member);
  if (!rec || (rec->state != member_state::joining && rec->state != member_state::up &&
               rec->state != member_state::leaving))
    return;
  if (!st.args->cfg.down_on_refused)
    return;  // stays unreachable; keep-majority decides (node_membership.cpp)
  // Nothing listens there: no partition fakes that, so it loses its vote.
  st.proven_dead.insert(*l.member);
  // But a leaving member stops listening once the leader moved it to
  // exiting, which this node may not have heard yet: its refusal is the
  // leave finishing, and downing it here would turn a graceful leave into
  // a down (seen under load in integration.cluster_nodes). The leader's
  // removal follows. If its exit never reached the others (it crashed or
  // quit first), the refusal is the proof that lets the leader move it to
  // exiting without convergence (node_membership.cpp exit_dead_leavers);
  // it never counts in keep-majority again (proven dead).
  if (rec->state == member_state::leaving)
    return;
  const auto who = *l.member;
  set_member_down(self, who, "connection refused at " + to_string(endpoint_of(who)));
}

void on_link_error(node_self self, const endpoint& ep, uint64_t attempt, const char* stage,
                   const caf::error& err) {
  auto& st = self->state;
  auto it = st.links.find(ep);
  if (it == st.links.end() || it->second.attempt != attempt)
    return;  // forgotten, or an older attempt
  auto& l = it->second;
  const bool timeout = err == caf::sec::request_timeout || err == caf::sec::connection_timeout;
  const bool refused = err == caf::sec::cannot_connect_to_node;
  l.timed_out = timeout;
  if (timeout && std::string_view{stage} == "connect") {
    // The connector may be stuck in connect() (a peer that drops SYNs); the
    // next attempt gets a fresh one, at most connectors_stalled_max times
    // in a row for this endpoint (each stuck one holds a thread).
    if (l.failures < st.args->cfg.connectors_stalled_max)
      l.connector = nullptr;
  }
  if (refused)
    on_refused(self, l);
  const auto code = errc_of(err);
  if (code == errc::conflict) {
    new_incarnation(self, "peer at " + to_string(ep) + " refused this incarnation: " +
                              describe(err));
    return;
  }
  if (code == errc::unauthorized)
    ++st.counters.refused;
  log(code == errc::unauthorized ? log_severity::error : log_severity::info, "cluster",
      "link attempt failed", {{"endpoint", to_string(ep)}, {"stage", stage}, {"error", describe(err)}});
  // The proxy of a handshake that failed is not kept; an admitted one (a
  // reconnect of a known node) stays until CAF says it is down.
  auto again = st.links.find(ep);
  if (again == st.links.end())
    return;  // on_refused downed the member and the link went with it
  drop_peer(self, again->second);
  backoff(self, again->second);
}

void send_prove(node_self self, const endpoint& ep, uint64_t attempt, join_challenge c);

void send_hello(node_self self, const endpoint& ep, uint64_t attempt) {
  auto& st = self->state;
  auto& l = st.links.at(ep);
  auto nonce = make_nonce();
  if (!nonce) {
    on_link_error(self, ep, attempt, "hello", nonce.error());
    return;
  }
  l.my_nonce = *nonce;
  l.ph = link::phase::hello;
  self->request(l.peer, st.args->cfg.join_timeout, join_hello_atom::value,
                join_hello{st.args->cfg.name, st.self_id, std::move(*nonce)})
      .then([self, ep, attempt](join_challenge& c) { send_prove(self, ep, attempt, std::move(c)); },
            [self, ep, attempt](caf::error& err) { on_link_error(self, ep, attempt, "hello", err); });
}

void send_prove(node_self self, const endpoint& ep, uint64_t attempt, join_challenge c) {
  auto& st = self->state;
  auto it = st.links.find(ep);
  if (it == st.links.end() || it->second.attempt != attempt)
    return;
  auto& l = it->second;
  if (c.responder == st.self_id) {
    l.self_endpoint = true;
    drop_peer(self, l);
    l.ph = link::phase::idle;
    return;
  }
  const handshake_view hv{st.args->cfg.name, to_string(c.responder), to_string(st.self_id),
                          c.nonce, l.my_nonce};
  join_proof p{st.self_id, make_proof(st.args->secret, proof_direction::joiner_to_seed, hv),
               st.args->pid, st.args->url};
  if (!check_proof(st.args->secret, proof_direction::seed_to_joiner, hv, c.proof)) {
    ++st.counters.refused;
    log(log_severity::error, "cluster", "peer does not know the cluster secret; not joining it",
        {{"endpoint", to_string(ep)}, {"peer", to_string(c.responder)}});
    // Our proof still goes out, so the other side refuses and logs us too:
    // an operator looking at either node sees the misconfiguration. It is
    // worthless elsewhere (it covers this exchange's fresh nonces), and
    // whatever comes back is ignored.
    self->request(l.peer, st.args->cfg.join_timeout, join_prove_atom::value, std::move(p))
        .then([](gossip_msg&) {}, [](caf::error&) {});
    drop_peer(self, l);
    backoff(self, l);
    return;
  }
  l.ph = link::phase::prove;
  l.their_nonce = c.nonce;
  self->request(l.peer, st.args->cfg.join_timeout, join_prove_atom::value, std::move(p))
      .then(
          [self, ep, attempt, responder = c.responder](gossip_msg& g) {
            auto& st = self->state;
            auto it = st.links.find(ep);
            if (it == st.links.end() || it->second.attempt != attempt)
              return;
            // The settings first: admit() builds the responder's detector
            // from the heartbeat interval, which must be the cluster's; and
            // before the view's events carry them.
            const bool was_joined = st.joined;
            if (!was_joined)
              adopt_welcome_collab(self, g);
            else
              merge_gossip_collab(self, g);
            admit(self, it->second, responder, it->second.node, it->second.peer);
            if (!was_joined) {
              st.joined = true;
              log(log_severity::info, "cluster", "joined the cluster",
                  {{"through", to_string(responder)}, {"self", to_string(st.self_id)}});
            }
            if (!merge_remote_view(self, g, "welcome") && !was_joined) {
              st.joined = false;  // an unusable welcome: try again
              backoff(self, it->second);
            }
          },
          [self, ep, attempt](caf::error& err) { on_link_error(self, ep, attempt, "prove", err); });
}

void on_connected(node_self self, const endpoint& ep, uint64_t attempt, const caf::node_id& nid,
                  const caf::strong_actor_ptr& ptr, const std::set<std::string>& ifs) {
  auto& st = self->state;
  auto it = st.links.find(ep);
  if (it == st.links.end() || it->second.attempt != attempt)
    return;
  auto& l = it->second;
  if (nid == self->node()) {
    l.self_endpoint = true;  // a seed spelled differently from our advertised address
    l.ph = link::phase::idle;
    return;
  }
  if (!ptr || ifs != self->system().message_types<node_actor>()) {
    log(log_severity::error, "cluster", "endpoint is not an agentgraph cluster node",
        {{"endpoint", to_string(ep)}});
    backoff(self, l);
    return;
  }
  auto peer = caf::actor_cast<node_actor>(ptr);
  if (l.peer != peer) {
    if (l.peer)
      self->demonitor(l.peer.address());
    self->monitor(peer);
    l.peer = peer;
  }
  l.node = nid;
  l.refused = false;
  // A reconnect to a node this incarnation already admitted (the
  // connection dropped and came back) needs no new handshake.
  if (auto a = st.admitted.find(nid); a != st.admitted.end() && l.member == a->second) {
    admit(self, l, a->second, nid, peer);
    return;
  }
  send_hello(self, ep, attempt);
}

void start_connect(node_self self, const endpoint& ep, link& l) {
  auto& st = self->state;
  if (!l.connector)
    l.connector = st.args->make_connector();
  l.ph = link::phase::connecting;
  const auto attempt = ++l.attempt;
  self->request(l.connector, st.args->cfg.connect_timeout, caf::connect_atom::value, ep.host,
                ep.port)
      .then(
          [self, ep, attempt](caf::node_id& nid, caf::strong_actor_ptr& ptr,
                              std::set<std::string>& ifs) {
            on_connected(self, ep, attempt, nid, ptr, ifs);
          },
          [self, ep, attempt](caf::error& err) {
            on_link_error(self, ep, attempt, "connect", err);
          });
}

}  // namespace node_links_detail

link* link_of_member(node_self self, const member_id& m) {
  for (auto& [ep, l] : self->state.links)
    if (l.member == m)
      return &l;
  return nullptr;
}

void forget_link(node_self self, link& l) {
  if (l.peer)
    self->demonitor(l.peer.address());
  l.peer = nullptr;
}

void admit(node_self self, link& l, const member_id& who, const caf::node_id& node,
           const node_actor& peer) {
  auto& st = self->state;
  AG_ASSERT(peer && node != self->node());
  // A previously admitted connection replaced by another one: only then
  // are the handles of the peer's table proxies of a dead connection.
  const bool replaced =
      l.member == who && (l.lost || (l.peer && l.peer != peer && l.ph == link::phase::admitted));
  l.lost = false;
  if (l.peer != peer) {
    if (l.peer)
      self->demonitor(l.peer.address());
    self->monitor(peer);
    l.peer = peer;
  }
  const bool fresh = l.member != who || l.ph != link::phase::admitted;
  if (l.member != who) {
    // Losses of an earlier incarnation's connection are not this one's.
    l.links_lost = 0;
    l.notices_left = 0;
  }
  l.member = who;
  l.node = node;
  l.ph = link::phase::admitted;
  l.failures = 0;
  l.refused = false;
  l.timed_out = false;
  // It answered: whatever refusal proved it dead was not its death (a
  // refusal can come from a firewall's reject or an unreachable host).
  st.proven_dead.erase(who);
  ++l.attempt;  // replies of an attempt still in flight are stale now
  st.admitted[node] = who;
  if (fresh)
    ++st.counters.admitted;
  // Over a new connection the handles of its table are proxies of the old
  // one, which CAF killed with it: drop the table, so the next heartbeat
  // pulls it again with live handles. A first admission keeps the table: it
  // came over this very connection (a dir_sync may beat the handshake).
  if (replaced)
    dir_reconnected(self, who);
  // It may not have noticed that this node lost its connection (its own
  // route to us can be another connection): tell it at once.
  if (l.links_lost > 0 && l.notices_left > 0)
    node_links_detail::send_link_notice(self, l);
  // One detector per incarnation: an older uid of the same name is gone.
  std::erase_if(st.health, [&](const auto& kv) {
    return kv.first.name == who.name && kv.first.uid != who.uid;
  });
  // An admitted peer just spoke: its detector starts from now, so silence
  // from here on builds suspicion even if it never sends a heartbeat (a
  // never-heard member used to count as reachable forever: the simulator's
  // chaos sweep found a partition won by such a vote).
  if (auto h = st.health.find(who); h != st.health.end())
    h->second.detector.resumed(self->clock().now());  // no sample: the wait was the link's
  else
    st.health.emplace(who, peer_health{*phi_accrual::make(st.psettings)})
        .first->second.detector.heartbeat(self->clock().now());
}

void sync_links(node_self self) {
  auto& st = self->state;
  const auto want = node_links_detail::wanted(self);
  for (auto it = st.links.begin(); it != st.links.end();) {
    if (want.contains(it->first)) {
      ++it;
      continue;
    }
    forget_link(self, it->second);
    it = st.links.erase(it);
  }
  const auto now = self->clock().now();
  for (const auto& ep : want)
    if (!st.links.contains(ep)) {
      link l;
      l.retry_at = now;
      st.links.emplace(ep, std::move(l));
    }
  // Admissions of nodes whose member is no longer live are revoked: their
  // messages are dropped from now on.
  std::erase_if(st.admitted, [&](const auto& kv) {
    const auto* rec = st.view->find(kv.second);
    const bool gone = kv.second != st.self_id && (!rec || !is_live(rec->state));
    if (gone) {
      if (st.revoked.size() >= st.args->cfg.members_max)
        st.revoked.clear();
      st.revoked[kv.first] = kv.second;
    }
    return gone;
  });
  std::erase_if(st.health, [&](const auto& kv) {
    const auto* rec = st.view->find(kv.first);
    return !rec || !is_live(rec->state);
  });
  std::erase_if(st.down_known_by, [&](const auto& kv) {
    const auto* rec = st.view->find(kv.first);
    return !rec || is_live(rec->state);
  });
  // Counts told to an earlier incarnation of this node start over: a
  // notice is about the connection to the incarnation that is joined now.
  if (!st.joined)
    st.lost_heard.clear();
  std::erase_if(st.lost_heard, [&](const auto& kv) {
    const auto* rec = st.view->find(kv.first);
    return !rec || !is_live(rec->state);
  });
  // An up member this node has not heard from is judged from the moment it
  // is seen, not from its admission: one that gossip announced but this
  // node never reached (a partition, a link that never came up) used to
  // count as reachable for ever and swing a vote (the simulator's chaos
  // sweep found that). Its admission restarts the wait (admit()).
  if (st.joined)
    for (const auto& [id, rec] : st.view->records())
      if (id != st.self_id &&
          (rec.state == member_state::up || rec.state == member_state::leaving) &&
          !st.health.contains(id))
        st.health.emplace(id, peer_health{*phi_accrual::make(st.psettings)})
            .first->second.detector.heartbeat(now);
  AG_ASSERT(st.health.size() <= st.args->cfg.members_max);
  AG_ASSERT(st.lost_heard.size() <= st.args->cfg.members_max);
  AG_ASSERT(st.links.size() <= st.args->cfg.members_max + st.seeds.size());
}

void drive_links(node_self self, time_point now) {
  auto& st = self->state;
  for (auto& [ep, l] : st.links) {
    if (l.ph == link::phase::idle && !l.self_endpoint && now >= l.retry_at)
      node_links_detail::start_connect(self, ep, l);
    else if (l.ph == link::phase::admitted && l.links_lost > 0 && l.notices_left > 0)
      node_links_detail::send_link_notice(self, l);
  }
}

void on_peer_down(node_self self, const caf::down_msg& dm) {
  auto& st = self->state;
  std::erase_if(st.subscribers, [&](const member_event_sink& s) { return s.address() == dm.source; });
  std::erase_if(st.dir_subscribers,
                [&](const directory_sink& s) { return s.address() == dm.source; });
  for (auto& [ep, l] : st.links) {
    if (!l.peer || l.peer.address() != dm.source)
      continue;
    log(log_severity::info, "cluster", "connection to a peer lost; reconnecting",
        {{"endpoint", to_string(ep)},
         {"member", l.member ? to_string(*l.member) : std::string{"?"}},
         {"reason", describe(dm.reason)}});
    l.lost = l.lost || l.ph == link::phase::admitted;
    // Every proxy of the peer's node died with this one, those its calls
    // in flight here would be answered through among them; its own route
    // to this node may still be up and tell it nothing. Counted here and
    // told once the link is admitted again, whatever phase it was in: a
    // connection that came back and went again before its handshake
    // ended took proxies of calls with it too.
    if (l.member) {
      ++l.links_lost;
      l.notices_left = node_links_detail::notice_repeats;
      ++st.counters.links_lost;
    }
    l.peer = nullptr;
    l.ph = link::phase::idle;
    ++l.attempt;
    l.retry_at = self->clock().now();
    node_links_detail::start_connect(self, ep, l);
    return;
  }
}

void on_link_notice(node_self self, const heartbeat_msg& hb) {
  auto& st = self->state;
  if (hb.links_lost == 0 || !st.joined)
    return;  // a plain heartbeat, an older peer's, or too early to have calls out
  const auto& sender = self->current_sender();
  auto a = sender ? st.admitted.find(sender->node()) : st.admitted.end();
  if (a == st.admitted.end() || a->second != hb.from)
    return;  // on_heartbeat counts the drop
  const auto* rec = st.view->find(hb.from);
  if (!rec || !is_live(rec->state))
    return;
  auto& seen = st.lost_heard[hb.from];
  if (hb.links_lost <= seen.heard)
    return;  // told before (a repeat, or reordered)
  const uint64_t rise = hb.links_lost - seen.heard;
  if (rise > node_state::lost_rise_max) {
    log(log_severity::warn, "cluster", "a lost-link notice with an implausible count; ignored",
        {{"member", to_string(hb.from)}, {"links_lost", std::to_string(hb.links_lost)},
         {"told_before", std::to_string(seen.heard)}});
    return;
  }
  // A loss this node saw too (both ends noticed) failed its calls then:
  // call_watch saw the proxies die. Failing calls now would only hit the
  // ones sent since over the new connection, which will be answered.
  const auto* own_link = link_of_member(self, hb.from);
  const uint64_t own_now = own_link != nullptr ? std::max(own_link->links_lost, seen.own) : seen.own;
  const uint64_t own_rise = own_now - seen.own;
  const auto before = seen.heard;
  seen.heard = hb.links_lost;
  seen.own = own_now;
  if (rise <= own_rise) {
    log(log_severity::info, "cluster",
        "a peer lost its connection to this node, which saw the loss too; nothing to fail",
        {{"member", to_string(hb.from)}, {"links_lost", std::to_string(hb.links_lost)}});
    return;
  }
  ++st.counters.lost_links_heard;
  log(log_severity::warn, "cluster",
      "a peer lost its connection to this node; failing the calls in flight to it",
      {{"member", to_string(hb.from)},
       {"links_lost", std::to_string(hb.links_lost)},
       {"told_before", std::to_string(before)}});
  // The answers to them went nowhere: fail them now, as for a member the
  // cluster downed while its connection was up (design §8.2). A caller
  // that may send again (an agent group's remote instance) does so.
  caf::anon_send(self->system().groups().get_local(node_down_group), watch_node_down_atom::value,
                 sender->node());
}

}  // namespace agentgraph::cluster

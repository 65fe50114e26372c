// The node's periodic work and its gossip (design §5): heartbeats out,
// phi-accrual verdicts in, keep-majority, the leader's moves, gossip, and
// a new incarnation when this one is over.
#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <caf/actor_cast.hpp>

#include "net/cluster/node_state.hpp"
#include "runtime/actor_timer.hpp"
#include "runtime/assert.hpp"
#include "runtime/error.hpp"
#include "runtime/log.hpp"

namespace agentgraph::cluster {

namespace node_membership_detail {

// Whether self, as of `now`, can hear `m`; if not, why (for the log).
bool can_hear(node_self self, const member_id& m, time_point now, std::string* why) {
  auto& st = self->state;
  if (const auto* l = link_of_member(self, m); l && (l->timed_out || l->refused)) {
    *why = l->refused ? "its port refused a connect" : "a connect or handshake timed out";
    return false;
  }
  auto h = st.health.find(m);
  if (h == st.health.end() || !h->second.detector.heard() || h->second.detector.available(now))
    return true;
  const auto& d = h->second.detector;
  *why = "phi " + std::to_string(d.phi(now)) + " >= threshold (silent for " +
         std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(now - d.last_heartbeat()).count()) +
         " ms; mean interval " + std::to_string(d.mean_ms()) + " ms, std " + std::to_string(d.std_ms()) + " ms)";
  return false;
}

// Self's verdict about every other live member; true when one changed.
bool observe_members(node_self self, time_point now) {
  auto& st = self->state;
  bool changed = false;
  struct verdict {
    member_id id;
    bool ok;
    std::string why;
  };
  std::vector<verdict> verdicts;
  for (const auto& [id, rec] : st.view->records())
    if (id != st.self_id && is_live(rec.state)) {
      std::string why;
      const bool ok = can_hear(self, id, now, &why);
      verdicts.push_back({id, ok, std::move(why)});
    }
  for (const auto& [id, ok, why] : verdicts) {
    const auto key = std::make_pair(st.self_id, id);
    auto it = st.view->observations().find(key);
    const bool known = it != st.view->observations().end();
    if ((known && it->second.reachable == ok) || (!known && ok))
      continue;
    if (!ok && now < st.quiet_until)
      continue;  // just resumed from a pause: not judged yet (on_tick)
    if (auto err = st.view->observe(st.self_id, id, ok)) {
      log(log_severity::warn, "cluster", "reachability not recorded", {{"error", describe(err)}});
      continue;
    }
    log(ok ? log_severity::info : log_severity::warn, "cluster",
        ok ? "member reachable again" : "member unreachable",
        {{"member", to_string(id)}, {"why", why}});
    changed = true;
  }
  return changed;
}

void send_heartbeats(node_self self) {
  auto& st = self->state;
  ++st.hb_seq;
  if (st.args->load_probe)
    st.load = st.args->load_probe();
  for (auto& [ep, l] : st.links) {
    if (l.ph != link::phase::admitted || !l.member)
      continue;
    const auto* rec = st.view->find(*l.member);
    if (!rec || !is_live(rec->state))
      continue;
    self->send(l.peer, cluster_hb_atom::value,
               heartbeat_msg{st.self_id, st.hb_seq, st.load, dir_offered_version(self)});
    ++st.counters.heartbeats_sent;
  }
}

// An exiting member whose exit is still news to some counted member counts
// on the other side of keep-majority, as a down does (downing_input::
// downed). The leader moves a leaving member to exiting on convergence,
// and a partition can cut the others off before that gossip reaches them:
// there the member is still leaving, counted, and votes with them. Without
// this the leader's side, no longer counting it, tied 1-1 with the other
// member of a three-node cluster, won on the lowest id and downed it, while
// that member and the leaving one, 2 against 1, downed the leader: two
// clusters (cluster_node_leave_test.cpp). Counting one more on the other
// side can only turn a stay into a self-down, never the reverse, so this
// costs availability at worst (a second fault within one gossip round of
// an exit), never safety. A proven dead one has no vote anywhere
// (keep_majority skips it).
void count_exits_in_doubt(node_self self, downing_input& in) {
  auto& st = self->state;
  std::erase_if(st.exit_known_by, [&](const auto& kv) {
    const auto* rec = st.view->find(kv.first);
    return !rec || rec->state != member_state::exiting;
  });
  std::map<std::string, uint64_t> newest;  // a superseded uid is down, not exiting
  for (const auto& [id, rec] : st.view->records())
    newest[id.name] = std::max(newest[id.name], id.uid);
  for (const auto& [id, rec] : st.view->records()) {
    if (id == st.self_id || rec.state != member_state::exiting || id.uid != newest[id.name])
      continue;
    const auto k = st.exit_known_by.find(id);
    for (const auto& m : in.counted)
      if (m != st.self_id && (k == st.exit_known_by.end() || !k->second.contains(m))) {
        in.downed.insert(id);  // m may not know: id may still be leaving there
        break;
      }
  }
}

// keep-majority on this node's view; returns false when this incarnation
// ended (the caller stops).
bool run_downing(node_self self, time_point now) {
  auto& st = self->state;
  auto in = st.view->downing_input_for(st.self_id);
  in.proven_dead = st.proven_dead;
  // A down every counted member has shown in its gossip is old news: it
  // no longer counts (a record that stays down, e.g. past tombstones_max,
  // must not weigh on every later decision).
  drop_known_downs(in, st.down_known_by);
  count_exits_in_doubt(self, in);
  st.stab->observe(in.unreachable, now);
  const auto d = decide_downing(in, *st.stab, now);
  switch (d.verdict) {
    case downing_verdict::wait:
      return true;
    case downing_verdict::down_unreachable:
      if (st.view->leader() != st.self_id || now < st.quiet_until)
        return true;  // the leader of this side acts; its gossip brings the downs
      for (const auto& m : d.to_down)
        set_member_down(self, m, "unreachable for stable_after (keep-majority)");
      st.stab->decided();
      return true;
    case downing_verdict::down_self:
      new_incarnation(self, "this node is on the minority side of a partition (keep-majority, " +
                                std::to_string(d.reachable_count) + " of " +
                                std::to_string(d.reachable_count + d.unreachable_count) + ")");
      return false;
    case downing_verdict::down_all:
      if (st.view->leader() == st.self_id)
        for (const auto& m : d.to_down)
          if (m != st.self_id)
            set_member_down(self, m, "membership unstable for too long (down-all)");
      new_incarnation(self, "membership unstable for too long (down-all-when-unstable)");
      return false;
  }
  return true;
}

// A leaving member proven dead (its port refused a connect: design §5.3)
// finished its leave, or died during it; either way it said it was going
// and it is gone. Its exit may never have reached this side: the leader
// that moved it to exiting (itself, when the leader leaves) quits as soon
// as the leave is answered, and the gossip saying so can be lost with the
// process, e.g. when a member had just rejoined and had no link to it yet
// (issue 15's gap). Left alone it stayed leaving for good: an unreachable
// leaving member stops convergence, so no leader moves it on, and proof of
// death took its vote, so keep-majority has no verdict on it either. The
// leader moves it to exiting without convergence; an unreachable exiting
// member does not stop convergence, so the next leader actions remove it:
// removed, never down, as a graceful leave should end.
// Only on proof, which no partition fakes: a leaving member that is merely
// unreachable may be alive across a cut, and taking it out of the count
// there could let a minority tie, win on the lowest id and down a live
// member (cluster_node_leave_test.cpp). That one waits for keep-majority.
// With down_on_refused off nothing is proof, and keep-majority downs it.
void exit_dead_leavers(node_self self, time_point now) {
  auto& st = self->state;
  if (st.proven_dead.empty() || st.view->leader() != st.self_id || now < st.quiet_until)
    return;
  std::vector<member_id> gone;
  for (const auto& [id, rec] : st.view->records())
    if (id != st.self_id && rec.state == member_state::leaving && st.proven_dead.contains(id)) {
      // Not while a link to it is up: it answers, whatever refused before.
      if (const auto* l = link_of_member(self, id); l && l->ph == link::phase::admitted)
        continue;
      gone.push_back(id);
    }
  if (gone.empty())
    return;
  const auto before = *st.view;
  bool moved = false;
  for (const auto& m : gone) {
    if (auto err = st.view->set_state(m, member_state::exiting)) {
      log(log_severity::warn, "cluster", "cannot move a dead leaving member to exiting",
          {{"member", to_string(m)}, {"error", describe(err)}});
      continue;
    }
    moved = true;
  }
  if (moved)
    after_view_change(self, before, "it was leaving and its port refuses connects (its exit was lost)");
}

}  // namespace node_membership_detail

void schedule_tick(node_self self, time_point when) {
  auto& st = self->state;
  if (st.next_tick != time_point{} && st.next_tick <= when && st.next_tick > self->clock().now())
    return;  // an earlier tick is due; it schedules the next one
  st.next_tick = when;
  run_at(self, when, [self, when] {
    if (self->state.next_tick == when)
      on_tick(self);
  });
}

gossip_msg make_gossip(node_self self) {
  auto& st = self->state;
  auto parts = st.view->parts();
  return gossip_msg{st.args->cfg.name, st.self_id, std::move(parts.members), std::move(parts.reach),
                    std::move(parts.seen), std::move(parts.retired), st.collab};
}

void after_view_change(node_self self, const membership_view& before, const std::string& why) {
  auto& st = self->state;
  st.view->mark_seen(st.self_id);
  for (const auto& [id, rec] : st.view->records()) {
    const auto* prev = before.find(id);
    if (prev && prev->state == rec.state)
      continue;
    log(rec.state == member_state::down ? log_severity::warn : log_severity::info, "cluster",
        "member state", {{"member", to_string(id)}, {"state", to_string(rec.state)}, {"why", why}});
    caf::node_id node;
    for (const auto& [n, m] : st.admitted)
      if (m == id)
        node = n;
    for (const auto& s : st.subscribers)
      self->send(s, member_event_atom::value, member_event{rec, why, node, st.collab});
  }
  dir_reconcile(self, why);
  // Everyone admitted hears the news, the members just downed included:
  // that is how a downed node that still has a connection learns it.
  const auto g = make_gossip(self);
  for (auto& [ep, l] : st.links)
    if (l.ph == link::phase::admitted)
      self->send(l.peer, gossip_atom::value, g);
  const auto* mine = st.view->find(st.self_id);
  // Removed without having asked to leave: downed while it could not hear
  // it (paused, cut off), and the down and the removal reached it at once.
  const auto* was = before.find(st.self_id);
  const bool removed_unasked = mine && mine->state == member_state::removed && was &&
                               (was->state == member_state::joining ||
                                was->state == member_state::up);
  if (st.joined && (!mine || mine->state == member_state::down || removed_unasked)) {
    new_incarnation(self, "the cluster downed this node");
    return;
  }
  sync_links(self);
  answer_waiting(self);
}

bool merge_remote_view(node_self self, gossip_msg& g, const char* what) {
  auto& st = self->state;
  view_parts parts{std::move(g.members), std::move(g.reach), std::move(g.seen),
                   std::move(g.retired)};
  auto theirs = membership_view::assemble(st.vsettings, parts);
  if (!theirs) {
    log(log_severity::warn, "cluster", "unusable view from a peer",
        {{"from", to_string(g.from)}, {"what", what}, {"error", describe(theirs.error())}});
    return false;
  }
  const auto before = *st.view;
  if (auto err = st.view->merge(*theirs)) {
    log(log_severity::warn, "cluster", "view from a peer not merged",
        {{"from", to_string(g.from)}, {"error", describe(err)}});
    return false;
  }
  st.view->mark_seen(st.self_id);
  if (!st.view->same_content(before)) {
    after_view_change(self, before, what);
    return true;
  }
  // Only the seen set moved. The sender learns that we have seen its view
  // from our answer (if it did not list us), not from a broadcast: one
  // content change then costs O(members^2) messages, not O(members^3).
  if (!theirs->seen().contains(st.self_id))
    if (auto* l = link_of_member(self, g.from); l && l->ph == link::phase::admitted)
      self->send(l->peer, gossip_atom::value, make_gossip(self));
  answer_waiting(self);
  return true;
}

// A member this node knows to be down or removed still talks to it. It was
// cut off (paused, partitioned) when the news went out, and a connection
// that came back without a handshake (node_links.cpp: a reconnect of a node
// it had admitted skips it) left it believing it is a member: it would go
// on judging the others by silence and, alone, win a tie against them (the
// simulator's chaos sweep found that lasting split brain). Our view tells
// it; merging it, it finds itself gone and joins as a new incarnation. Only
// a node once admitted as that member is answered (st.revoked).
void tell_dead_incarnation(node_self self, const caf::strong_actor_ptr& sender,
                           const member_id& claimed) {
  auto& st = self->state;
  if (!sender || !st.joined || claimed == st.self_id)
    return;
  // Only a node this node admitted as that very member: anyone else's
  // claim gets nothing (the view is not for strangers).
  if (auto r = st.revoked.find(sender->node()); r == st.revoked.end() || r->second != claimed)
    return;
  const auto* rec = st.view->find(claimed);
  const auto& retired = st.view->retired();
  const auto r = retired.find(claimed.name);
  const bool dead = rec != nullptr ? (rec->state == member_state::down ||
                                      rec->state == member_state::removed)
                                   : (r != retired.end() && claimed.uid < r->second);
  if (!dead)
    return;
  const auto now = self->clock().now();
  if (auto t = st.told_dead.find(sender->node());
      t != st.told_dead.end() && now < t->second + st.args->cfg.gossip_interval)
    return;
  if (st.told_dead.size() >= st.args->cfg.members_max)
    st.told_dead.clear();
  st.told_dead[sender->node()] = now;
  self->send(caf::actor_cast<node_actor>(sender), gossip_atom::value, make_gossip(self));
}

void on_gossip(node_self self, gossip_msg& g) {
  auto& st = self->state;
  const auto& sender = self->current_sender();
  auto a = sender ? st.admitted.find(sender->node()) : st.admitted.end();
  if (a == st.admitted.end() || a->second != g.from || g.cluster != st.args->cfg.name ||
      !st.joined) {
    ++st.counters.dropped;
    if (g.cluster == st.args->cfg.name)
      tell_dead_incarnation(self, sender, g.from);
    return;
  }
  for (const auto& r : g.members) {
    if ((r.state == member_state::down || r.state == member_state::removed) &&
        st.view->find(r.id) != nullptr && st.down_known_by.size() <= st.args->cfg.members_max * 2)
      st.down_known_by[r.id].insert(g.from);
    // Exiting or past it: the sender knows the exit (count_exits_in_doubt),
    // which matters while the record is leaving or exiting here.
    const auto* mine = st.view->find(r.id);
    if (r.state >= member_state::exiting && mine &&
        (mine->state == member_state::leaving || mine->state == member_state::exiting) &&
        st.exit_known_by.size() <= st.args->cfg.members_max * 2)
      st.exit_known_by[r.id].insert(g.from);
  }
  merge_gossip_collab(self, g);
  merge_remote_view(self, g, "gossip");
}

void on_heartbeat(node_self self, heartbeat_msg& hb) {
  auto& st = self->state;
  const auto& sender = self->current_sender();
  auto a = sender ? st.admitted.find(sender->node()) : st.admitted.end();
  if (a == st.admitted.end() || a->second != hb.from) {
    ++st.counters.dropped;
    tell_dead_incarnation(self, sender, hb.from);
    return;
  }
  auto h = st.health.find(hb.from);
  if (h == st.health.end())
    return;  // admitted under an older incarnation's record; ignored
  if (hb.seq <= h->second.last_seq)
    return;  // reordered or replayed
  h->second.last_seq = hb.seq;
  h->second.load = hb.load;
  h->second.detector.heartbeat(self->clock().now());
  ++st.counters.heartbeats_heard;
  dir_heard_version(self, hb.from, hb.dir_version);
}

void set_member_down(node_self self, const member_id& m, const std::string& why) {
  auto& st = self->state;
  const auto before = *st.view;
  if (auto err = st.view->set_state(m, member_state::down)) {
    log(log_severity::warn, "cluster", "cannot down member",
        {{"member", to_string(m)}, {"error", describe(err)}});
    return;
  }
  ++st.counters.downs;
  after_view_change(self, before, why);
}

void new_incarnation(node_self self, const std::string& why) {
  auto& st = self->state;
  const auto now = self->clock().now();
  if (!why.empty()) {
    ++st.counters.incarnations;
    const auto elapsed =
        std::chrono::duration_cast<std::chrono::milliseconds>(now - st.join_started).count();
    const auto old = st.self_id;
    st.self_id.uid = next_uid(old.uid, st.args->start_ms + static_cast<uint64_t>(elapsed), 0);
    st.args->start_ms += static_cast<uint64_t>(elapsed);
    st.may_start_alone = false;  // only a first start may form a cluster alone
    log(log_severity::warn, "cluster", "this incarnation is over; joining again as a new one",
        {{"old", to_string(old)}, {"new", to_string(st.self_id)}, {"why", why}});
    member_record gone;
    if (const auto* r = st.view->find(old))
      gone = *r;
    gone.id = old;
    gone.state = member_state::down;
    for (const auto& s : st.subscribers)
      self->send(s, member_event_atom::value, member_event{gone, why, self->node(), st.collab});
  }
  st.joined = false;
  for (auto& [ep, l] : st.links)
    forget_link(self, l);
  st.links.clear();
  st.admitted.clear();
  st.pending.clear();
  st.health.clear();
  st.proven_dead.clear();
  st.exit_known_by.clear();
  st.stab.emplace(st.dsettings);
  // The new incarnation forgets the old one's view except its tombstones:
  // a downed or removed uid never comes back, so that much stays true. A
  // member this node saw removed may be a paused node that does not know it
  // yet; joining through it, the fresh incarnation would otherwise take its
  // stale view for the cluster (the simulator's chaos sweep found such a
  // pair out-vote the real majority). Merging the welcome with the
  // tombstones drops it, and the next gossip tells it.
  view_parts graves;
  if (!why.empty()) {
    auto old = st.view->parts();
    graves.retired = std::move(old.retired);
    // Removed records only: a down this node decided may be a losing
    // side's that never reached the others, and carried into the live
    // cluster it would down a healthy member (review finding).
    for (auto& r : old.members)
      if (r.id.name != st.self_id.name && r.state == member_state::removed)
        graves.members.push_back(std::move(r));
  }
  st.view = *membership_view::make(st.vsettings);
  member_record me;
  me.id = st.self_id;
  me.pid = st.args->pid;
  me.url = st.args->url;
  const auto err = st.view->add_joining(me);
  AG_ASSERT(!err, "an empty view takes its own node");
  if (!graves.members.empty() || !graves.retired.empty()) {
    // They came from a valid view, so they fit its bounds; should they not
    // fit beside this node's own record, the new incarnation goes without.
    auto kept = membership_view::assemble(st.vsettings, graves);
    caf::error err = kept ? st.view->merge(*kept) : kept.error();
    if (err)
      log(log_severity::warn, "cluster", "the old incarnation's tombstones are not kept",
          {{"error", describe(err)}});
  }
  st.view->mark_seen(st.self_id);
  st.join_started = now;
  st.dir_withdrawn = false;  // a new incarnation offers its table again
  dir_reconcile(self, why.empty() ? "starting" : why);
  sync_links(self);
  for (const auto& s : st.subscribers)
    self->send(s, member_event_atom::value, member_event{me, "starting", self->node(), st.collab});
  answer_waiting(self);
  schedule_tick(self, now);
}

void on_tick(node_self self) {
  auto& st = self->state;
  AG_ASSERT(st.published);
  const auto now = self->clock().now();
  const auto& cfg = st.args->cfg;
  schedule_tick(self, now + std::min(cfg.heartbeat_interval, cfg.gossip_interval));
  // A tick far later than scheduled: this node itself was paused (SIGSTOP,
  // a stalled host), and every peer's silence it would now judge is its
  // own. Without this a resumed node downed the peers that had removed it
  // meanwhile, before its reconnect could learn that (a lasting split
  // brain the simulator's chaos sweep found).
  if (st.last_tick != time_point{} && now - st.last_tick > cfg.acceptable_heartbeat_pause) {
    log(log_severity::warn, "cluster", "this node was paused; peers' silence meanwhile is not judged",
        {{"paused_ms", std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        now - st.last_tick).count())}});
    for (auto& [member, h] : st.health)
      h.detector.resumed(now);
    // Nor a connect that timed out across the pause. And until every peer
    // had a full window to be heard again (a connect, a detector's pause),
    // it judges nobody unreachable and downs nobody else: evidence of one
    // peer refreshed sooner than another's (a timeout due at the thaw, a
    // detector just reset) had it down the first with the vote of the
    // second, which had removed it meanwhile (the chaos sweep again).
    for (auto& [ep, l] : st.links)
      l.timed_out = false;
    st.quiet_until = now + cfg.connect_timeout + cfg.acceptable_heartbeat_pause;
  }
  st.last_tick = now;
  expire_handshakes(self, now);
  if (!st.joined && st.may_start_alone && now - st.join_started >= cfg.join_timeout) {
    st.joined = true;
    log(log_severity::info, "cluster", "no other seed answered; forming the cluster alone",
        {{"self", to_string(st.self_id)}, {"cluster", cfg.name}});
  }
  sync_links(self);
  drive_links(self, now);
  if (!st.joined) {
    answer_waiting(self);
    if (st.args->figures)
      st.args->figures->publish(make_status(self));
    return;
  }
  node_membership_detail::send_heartbeats(self);
  {
    const auto before = *st.view;
    if (node_membership_detail::observe_members(self, now))
      after_view_change(self, before, "reachability");
  }
  if (!st.joined || !node_membership_detail::run_downing(self, now))
    return;
  node_membership_detail::exit_dead_leavers(self, now);
  if (!st.joined)
    return;
  {
    const auto before = *st.view;
    if (!st.view->leader_actions(st.self_id).empty())
      after_view_change(self, before, "leader");
  }
  if (now >= st.next_gossip_repair) {
    st.next_gossip_repair = now + cfg.gossip_interval;
    std::optional<gossip_msg> g;
    for (auto& [ep, l] : st.links)
      if (l.ph == link::phase::admitted && l.member && !st.view->seen().contains(*l.member)) {
        if (!g)
          g = make_gossip(self);
        self->send(l.peer, gossip_atom::value, *g);
      }
  }
  answer_waiting(self);
  if (st.args->figures)
    st.args->figures->publish(make_status(self));
}

}  // namespace agentgraph::cluster

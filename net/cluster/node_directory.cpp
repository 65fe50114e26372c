// The node actor's directory (design §8.1). This node's entries go to every
// admitted live peer when they change; a peer that missed a table learns
// its version from the member's heartbeats and asks for it. Tables of
// members that go down, leave or are superseded are dropped at once, and
// local subscribers (the host's remote refs) hear every remote change.
#include <algorithm>
#include <tuple>

#include <caf/actor_cast.hpp>

#include "net/cluster/node_state.hpp"
#include "runtime/assert.hpp"
#include "runtime/error.hpp"
#include "runtime/log.hpp"

namespace agentgraph::cluster {

namespace node_directory_detail {

void tell(node_self self, const std::vector<dir_change>& changes, const std::string& why) {
  auto& st = self->state;
  for (const auto& c : changes)
    for (const auto& s : st.dir_subscribers)
      self->send(s, dir_event_atom::value, dir_event{c.owner, c.entry, c.present, why});
}

// A node that is leaving offers nothing: routers stop sending it work
// while it drains. Its version still moves, so peers take the empty table.
bool offering(node_self self) {
  const auto* mine = self->state.view->find(self->state.self_id);
  return mine == nullptr || mine->state == member_state::joining || mine->state == member_state::up;
}

// Whether this node offers its agent `agent` now (max_agents).
bool offered(node_self self, const std::string& agent) {
  const auto& st = self->state;
  return st.agents_all_offered ||
         std::binary_search(st.agents_offered.begin(), st.agents_offered.end(), agent);
}

dir_sync make_sync(node_self self) {
  auto& st = self->state;
  const auto version = dir_offered_version(self);
  if (!offering(self))
    return dir_sync{st.self_id, version, {}};
  auto entries = st.dir->local_entries();
  std::erase_if(entries,
                [&](const dir_entry& e) { return e.kind == "agent" && !offered(self, e.name); });
  return dir_sync{st.self_id, version, std::move(entries)};
}

// Started earlier: a lower uid (its high bits are the start time), then the
// name. The seniors' agents count first against max_agents, so a junior's
// offers never change a senior's and the counts settle in one pass.
bool senior(const member_id& a, const member_id& b) {
  return std::tie(a.uid, a.name) < std::tie(b.uid, b.name);
}

// How many agents `m` may have believed: max_agents less the agents of the
// members senior to it (this node's offered ones, the others' believed).
// The room max_agents leaves once the seniors have `used` agents.
size_t room_after(node_self self, size_t used) {
  const auto max = self->state.collab.max_agents;
  if (max == 0)
    return SIZE_MAX;
  return used >= max ? 0 : max - used;
}

size_t agents_allowed(node_self self, const member_id& m) {
  auto& st = self->state;
  if (st.collab.max_agents == 0)
    return SIZE_MAX;
  size_t used = 0;
  for (const auto& r : st.dir->members())
    if (r != m && senior(r, m))
      used += st.dir->agents_of(r);
  if (st.self_id != m && senior(st.self_id, m))
    used += st.agents_offered.size();
  return room_after(self, used);
}

void log_withheld(node_self self, const member_id& m, size_t withheld) {
  auto& st = self->state;
  auto& last = st.agents_withheld[m];
  if (last == withheld)
    return;
  last = withheld;
  log(withheld > 0 ? log_severity::warn : log_severity::info, "cluster",
      withheld > 0 ? "agents of a member withheld: the cluster's max_agents is reached"
                   : "every agent of a member believed again",
      {{"member", to_string(m)}, {"withheld", std::to_string(withheld)},
       {"max_agents", std::to_string(st.collab.max_agents)}});
}

// This node's agents it may offer now: all without a limit, else the first
// `room` by name. Each agent that goes from offered to withheld is logged
// and counted once (and once more if it comes back and goes again).
void recount_self(node_self self, size_t room) {
  auto& st = self->state;
  const auto local = st.dir->local_agents();
  auto agents = local;
  const bool all = st.collab.max_agents == 0;
  if (!all && agents.size() > room)
    agents.resize(room);
  std::sort(agents.begin(), agents.end());
  std::set<std::string> withheld;
  if (!all)
    for (const auto& name : local)
      if (!std::binary_search(agents.begin(), agents.end(), name))
        withheld.insert(name);
  for (const auto& name : withheld)
    if (!st.agents_local_withheld.contains(name)) {
      ++st.counters.agents_refused;
      const auto err = make_error(
          errc::limit_exceeded,
          "the cluster's max_agents (" + std::to_string(st.collab.max_agents) +
              ") is reached by agents of earlier members and of this node");
      log(log_severity::warn, "cluster",
          "agent not offered to the cluster: it serves this node only, other nodes neither reach "
          "nor route to it",
          {{"agent", name}, {"error", describe(err)}});
    }
  for (const auto& name : st.agents_local_withheld)
    if (!withheld.contains(name) && st.dir->has_local("agent", name))
      log(log_severity::info, "cluster", "agent offered to the cluster again", {{"agent", name}});
  st.agents_local_withheld = std::move(withheld);
  if (all == st.agents_all_offered && agents == st.agents_offered)
    return;
  st.agents_offered = std::move(agents);
  st.agents_all_offered = all;
  ++st.offer_bump;
}

bool live_member(node_self self, const member_id& m) {
  const auto* rec = self->state.view->find(m);
  return rec != nullptr && is_live(rec->state);
}

// Every admitted live peer gets this node's table.
void push(node_self self) {
  auto& st = self->state;
  if (!st.joined)
    return;  // peers ask (heartbeat versions) once we are in
  std::optional<dir_sync> sync;
  for (auto& [ep, l] : st.links) {
    if (l.ph != link::phase::admitted || !l.member || !live_member(self, *l.member))
      continue;
    if (!sync)
      sync = make_sync(self);
    self->send(l.peer, dir_sync_atom::value, *sync);
  }
}

// The admitted member that sent the current message, when it is `claimed`.
bool sender_is(node_self self, const member_id& claimed) {
  auto& st = self->state;
  const auto& sender = self->current_sender();
  auto a = sender ? st.admitted.find(sender->node()) : st.admitted.end();
  return a != st.admitted.end() && a->second == claimed;
}

// This node's table changed: an agent put may be past max_agents (or a
// drop makes room), so recount first; the table goes out once either way.
void recount_and_push(node_self self) {
  const auto before = dir_offered_version(self);
  dir_recount(self);  // pushes when it moved the offered version
  if (dir_offered_version(self) == before)
    push(self);
}

}  // namespace node_directory_detail

void on_dir_put(node_self self, dir_entry& e) {
  if (!from_local(self))
    return;
  const auto name = e.name;
  auto changed = self->state.dir->put_local(std::move(e));
  if (!changed) {
    log(log_severity::warn, "cluster", "directory entry refused",
        {{"name", name.substr(0, dir_name_bytes_max)}, {"error", describe(changed.error())}});
    return;
  }
  if (*changed)
    node_directory_detail::recount_and_push(self);
}

void on_dir_drop(node_self self, const std::string& kind, const std::string& name) {
  if (!from_local(self))
    return;
  if (self->state.dir->drop_local(kind, name))
    node_directory_detail::recount_and_push(self);
}

std::vector<dir_listing> on_dir_list(node_self self) {
  if (!from_local(self))
    return {};
  auto out = self->state.dir->list(self->state.self_id);
  // What the cluster sees: this node's withheld agents are not listed.
  std::erase_if(out, [&](const dir_listing& x) {
    return x.owner == self->state.self_id && x.entry.kind == "agent" &&
           !node_directory_detail::offered(self, x.entry.name);
  });
  return out;
}

void on_dir_sub(node_self self, directory_sink& sink) {
  auto& st = self->state;
  if (!from_local(self) || !sink)
    return;
  if (st.dir_subscribers.size() >= node_state::subscribers_max) {
    log(log_severity::warn, "cluster", "directory subscriber refused: too many",
        {{"max", std::to_string(node_state::subscribers_max)}});
    return;
  }
  self->monitor(sink);
  for (const auto& c : st.dir->remote_snapshot())
    self->send(sink, dir_event_atom::value, dir_event{c.owner, c.entry, true, "subscribed"});
  st.dir_subscribers.push_back(std::move(sink));
}

void on_dir_sync(node_self self, dir_sync& sync) {
  auto& st = self->state;
  if (!node_directory_detail::sender_is(self, sync.from)) {
    ++st.counters.dropped;
    return;
  }
  // An admitted peer we do not count as live yet (or any more): its table
  // waits for the next heartbeat's version, or is of no use.
  if (!st.joined || !node_directory_detail::live_member(self, sync.from))
    return;
  size_t withheld = 0;
  auto changes = st.dir->apply(sync, self->current_sender()->node(),
                               node_directory_detail::agents_allowed(self, sync.from), &withheld);
  if (!changes) {
    ++st.counters.dropped;
    log(log_severity::warn, "cluster", "directory table from a peer refused",
        {{"from", to_string(sync.from)}, {"error", describe(changes.error())}});
    // Not asked again for a while: the same table would be refused again.
    st.dir_pulled[sync.from] = self->clock().now() + 16 * st.args->cfg.heartbeat_interval;
    return;
  }
  st.dir_pulled.erase(sync.from);
  node_directory_detail::log_withheld(self, sync.from, withheld);
  node_directory_detail::tell(self, *changes, "directory of " + to_string(sync.from));
  dir_recount(self);
}

void on_dir_pull(node_self self, const member_id& asker) {
  auto& st = self->state;
  if (!node_directory_detail::sender_is(self, asker)) {
    ++st.counters.dropped;
    return;
  }
  if (!st.joined)
    return;
  if (auto* l = link_of_member(self, asker); l && l->ph == link::phase::admitted)
    self->send(l->peer, dir_sync_atom::value, node_directory_detail::make_sync(self));
}

uint64_t dir_offered_version(node_self self) {
  const auto& st = self->state;
  return st.dir->local_version() + st.withdrawn_bump + st.offer_bump;
}

void dir_recount(node_self self) {
  using namespace node_directory_detail;
  auto& st = self->state;
  auto order = st.dir->members();
  order.push_back(st.self_id);
  std::sort(order.begin(), order.end(), senior);
  const auto offered_before = dir_offered_version(self);
  // In senior order each member's allowance is max_agents less what the
  // ones before it hold once recapped: a running sum, each member's agents
  // counted once (not members^2 x entries per recount).
  const bool limited = st.collab.max_agents > 0;
  size_t used = 0;
  for (const auto& m : order) {
    const auto room = room_after(self, used);
    if (m == st.self_id) {
      recount_self(self, room);
      if (limited)
        used += st.agents_offered.size();
      continue;
    }
    size_t withheld = 0;
    auto changes = st.dir->recap(m, room, &withheld);
    log_withheld(self, m, withheld);
    tell(self, changes, "max_agents (" + std::to_string(st.collab.max_agents) + ")");
    if (limited)
      used += st.dir->agents_of(m);
  }
  std::erase_if(st.agents_withheld, [&](const auto& kv) {
    return std::find(order.begin(), order.end(), kv.first) == order.end();
  });
  if (dir_offered_version(self) != offered_before)
    push(self);
}

void dir_heard_version(node_self self, const member_id& m, uint64_t version) {
  auto& st = self->state;
  if (!st.joined || version <= st.dir->version_of(m) ||
      !node_directory_detail::live_member(self, m))
    return;
  // One outstanding pull per member: a lost answer is asked again after a
  // few heartbeats, never once per heartbeat.
  const auto now = self->clock().now();
  auto it = st.dir_pulled.find(m);
  if (it != st.dir_pulled.end() && now - it->second < 4 * st.args->cfg.heartbeat_interval)
    return;
  auto* l = link_of_member(self, m);
  if (!l || l->ph != link::phase::admitted)
    return;
  st.dir_pulled[m] = now;
  self->send(l->peer, dir_pull_atom::value, st.self_id);
}

void dir_reconnected(node_self self, const member_id& m) {
  auto& st = self->state;
  if (st.dir->version_of(m) == 0)
    return;  // nothing held: a first admission
  st.dir_pulled.erase(m);
  node_directory_detail::tell(self, st.dir->purge(m),
                              to_string(m) + " reconnected; its table is pulled again");
  dir_recount(self);
}

void dir_reconcile(node_self self, const std::string& why) {
  auto& st = self->state;
  for (const auto& m : st.dir->members()) {
    const auto* rec = st.view->find(m);
    if (st.joined && rec && is_live(rec->state))
      continue;
    std::string reason = why;
    if (!st.joined)
      reason = "this node is not in the cluster (" + why + ")";
    else if (rec)
      reason = to_string(m) + " is " + to_string(rec->state) + " (" + why + ")";
    else
      reason = to_string(m) + " left the view (" + why + ")";
    node_directory_detail::tell(self, st.dir->purge(m), reason);
  }
  std::erase_if(st.dir_pulled, [&](const auto& kv) {
    const auto* rec = st.view->find(kv.first);
    return !st.joined || !rec || !is_live(rec->state);
  });
  AG_ASSERT(st.dir->members().size() <= st.vsettings.members_max);
  AG_ASSERT(st.dir_pulled.size() <= st.vsettings.members_max);
  // A member gone may leave room under max_agents for the juniors.
  dir_recount(self);
  // This node started to leave: peers get its (empty) table now.
  const bool offer = node_directory_detail::offering(self);
  if (!offer && !st.dir_withdrawn) {
    st.dir_withdrawn = true;
    st.withdrawn_bump = 1;
    node_directory_detail::push(self);
  }
}

}  // namespace agentgraph::cluster

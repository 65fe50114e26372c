// The node actor's directory (design §8.1). This node's entries go to every
// admitted live peer when they change; a peer that missed a table learns
// its version from the member's heartbeats and asks for it. Tables of
// members that go down, leave or are superseded are dropped at once, and
// local subscribers (the host's remote refs) hear every remote change.
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

dir_sync make_sync(node_self self) {
  auto& st = self->state;
  const auto version = st.dir->local_version() + st.withdrawn_bump;
  if (!offering(self))
    return dir_sync{st.self_id, version, {}};
  return dir_sync{st.self_id, version, st.dir->local_entries()};
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
    node_directory_detail::push(self);
}

void on_dir_drop(node_self self, const std::string& kind, const std::string& name) {
  if (!from_local(self))
    return;
  if (self->state.dir->drop_local(kind, name))
    node_directory_detail::push(self);
}

std::vector<dir_listing> on_dir_list(node_self self) {
  if (!from_local(self))
    return {};
  return self->state.dir->list(self->state.self_id);
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
  auto changes = st.dir->apply(sync, self->current_sender()->node());
  if (!changes) {
    ++st.counters.dropped;
    log(log_severity::warn, "cluster", "directory table from a peer refused",
        {{"from", to_string(sync.from)}, {"error", describe(changes.error())}});
    // Not asked again for a while: the same table would be refused again.
    st.dir_pulled[sync.from] = self->clock().now() + 16 * st.args->cfg.heartbeat_interval;
    return;
  }
  st.dir_pulled.erase(sync.from);
  node_directory_detail::tell(self, *changes, "directory of " + to_string(sync.from));
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
  return self->state.dir->local_version() + self->state.withdrawn_bump;
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
  // This node started to leave: peers get its (empty) table now.
  const bool offer = node_directory_detail::offering(self);
  if (!offer && !st.dir_withdrawn) {
    st.dir_withdrawn = true;
    st.withdrawn_bump = 1;
    node_directory_detail::push(self);
  }
}

}  // namespace agentgraph::cluster

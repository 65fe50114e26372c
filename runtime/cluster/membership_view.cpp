#include "runtime/cluster/membership_view.hpp"

#include <algorithm>

#include "runtime/assert.hpp"
#include "runtime/error.hpp"

namespace agentgraph::cluster {

namespace membership_view_detail {

// The moves §5.1 allows one record: one step along the life cycle, any
// live state to down, exiting or down to removed.
bool allowed_move(member_state from, member_state to) {
  using s = member_state;
  if (to == s::down)
    return is_live(from);
  if (to == s::removed)
    return from == s::exiting || from == s::down;
  return (from == s::joining && to == s::up) || (from == s::up && to == s::leaving) ||
         (from == s::leaving && to == s::exiting);
}

// What the leader does to one record on convergence, if anything.
std::optional<member_state> leader_move(member_state from) {
  switch (from) {
    case member_state::joining: return member_state::up;
    case member_state::leaving: return member_state::exiting;
    case member_state::exiting: return member_state::removed;
    case member_state::down: return member_state::removed;
    default: return std::nullopt;
  }
}

// What an older live incarnation becomes once a newer uid of its name is
// known: the lowest possible `down` record. It must not keep its version or
// other fields: normalize() is then "join with this constant", which keeps
// merge associative (a down carrying the live record's version would
// outrank a real `down` of lower version in one merge order and not in
// the other).
member_record superseded_record(const member_id& id) {
  member_record r;
  r.id = id;
  r.state = member_state::down;
  return r;
}

bool counted(member_state s) {
  return s == member_state::up || s == member_state::leaving;
}

}  // namespace membership_view_detail

caf::error validate(const view_settings& s) {
  if (s.members_max < 1 || s.members_max > view_members_limit)
    return make_error(errc::invalid_argument, "members_max must be in [1, " +
                                                  std::to_string(view_members_limit) + "]");
  if (s.tombstones_max < 1 || s.tombstones_max > view_members_limit)
    return make_error(errc::invalid_argument, "tombstones_max must be in [1, " +
                                                  std::to_string(view_members_limit) + "]");
  return {};
}

caf::expected<membership_view> membership_view::make(const view_settings& s) {
  if (auto err = validate(s))
    return err;
  return membership_view{s};
}

caf::expected<membership_view> membership_view::assemble(const view_settings& s,
                                                         const view_parts& parts) {
  auto view = make(s);
  if (!view)
    return view.error();
  // Checked before any work, so an oversized message costs nothing more.
  const size_t records_max = s.members_max + s.tombstones_max;
  if (parts.members.size() > records_max || parts.seen.size() > records_max ||
      parts.retired.size() > records_max || parts.reach.size() > s.members_max * s.members_max)
    return make_error(errc::limit_exceeded, "gossip view larger than members_max " +
                                                std::to_string(s.members_max) + " allows");
  for (const auto& r : parts.members)
    view->put_record(r);
  for (const auto& o : parts.reach)
    view->put_observation({o.observer, o.subject}, {o.reachable, o.version});
  // Floors are clamped to the newest uid the message holds for the name
  // (and dropped without one), the invariant normalize() relies on.
  std::map<std::string, uint64_t> newest;
  for (const auto& [id, r] : view->records_)
    newest[id.name] = std::max(newest[id.name], id.uid);
  for (const auto& [name, floor] : parts.retired)
    if (auto it = newest.find(name); it != newest.end())
      view->retired_[name] = std::min(floor, it->second);
  view->normalize();
  if (auto err = view->check_bounds())
    return err;
  for (const auto& id : parts.seen)
    view->mark_seen(id);
  return view;
}

view_parts membership_view::parts() const {
  view_parts p;
  p.members.reserve(records_.size());
  for (const auto& [id, r] : records_)
    p.members.push_back(r);
  p.reach.reserve(reach_.size());
  for (const auto& [k, v] : reach_)
    p.reach.push_back({k.first, k.second, v.reachable, v.version});
  p.seen.assign(seen_.begin(), seen_.end());
  p.retired = retired_;
  return p;
}

void membership_view::put_record(const member_record& r) {
  auto [it, fresh] = records_.try_emplace(r.id, r);
  if (!fresh) {
    member_record winner = newer_record(it->second, r);
    it->second = std::move(winner);
  }
}

void membership_view::put_observation(const obs_key& k, const obs_value& v) {
  auto [it, fresh] = reach_.try_emplace(k, v);
  if (fresh)
    return;
  auto& cur = it->second;
  if (v.version > cur.version || (v.version == cur.version && !v.reachable))
    cur = v;
}

// The closure that keeps merge a semilattice join: older live incarnations
// go down, older removed ones are folded into `retired`, and everything the
// fold covers (records and observations of removed members) is dropped.
// Every step only raises the view, so applying it after a union keeps the
// merge commutative, associative and idempotent.
void membership_view::normalize() {
  std::map<std::string, uint64_t> newest;  // name -> largest uid
  for (const auto& [id, r] : records_) {
    auto [it, fresh] = newest.try_emplace(id.name, id.uid);
    if (!fresh)
      it->second = std::max(it->second, id.uid);
  }
  for (auto& [id, r] : records_) {
    if (id.uid >= newest[id.name])
      continue;
    if (is_live(r.state))
      r = membership_view_detail::superseded_record(id);
    else if (r.state == member_state::removed)
      retired_[id.name] = std::max(retired_[id.name], id.uid + 1);
  }
  // A floor never passes its name's newest uid (a fold sets at most that
  // uid; assemble() clamps what the network sends), so the newest record
  // always survives the drop below and every floor keeps a record.
  for (const auto& [name, floor] : retired_) {
    auto it = newest.find(name);
    AG_ASSERT(it != newest.end() && floor <= it->second, "a retired floor above its newest uid");
  }
  auto retired_id = [&](const member_id& id) {
    auto f = retired_.find(id.name);
    return f != retired_.end() && id.uid < f->second;
  };
  std::erase_if(records_, [&](const auto& kv) { return retired_id(kv.first); });
  auto gone = [&](const member_id& id) {
    if (retired_id(id))
      return true;
    auto r = records_.find(id);
    return r != records_.end() && r->second.state == member_state::removed;
  };
  std::erase_if(reach_, [&](const auto& kv) { return gone(kv.first.first) || gone(kv.first.second); });
  std::erase_if(seen_, [&](const member_id& id) { return !records_.contains(id); });
  AG_ASSERT(retired_.size() <= newest.size());
}

caf::error membership_view::check_bounds() const {
  const auto removed = static_cast<size_t>(std::count_if(
      records_.begin(), records_.end(),
      [](const auto& kv) { return kv.second.state == member_state::removed; }));
  if (records_.size() - removed > settings_.members_max)
    return make_error(errc::limit_exceeded,
                      "cluster full: more than members_max " +
                          std::to_string(settings_.members_max) + " members");
  if (removed > settings_.tombstones_max)
    return make_error(errc::limit_exceeded,
                      "more than tombstones_max " + std::to_string(settings_.tombstones_max) +
                          " removed members");
  if (reach_.size() > settings_.members_max * settings_.members_max)
    return make_error(errc::limit_exceeded, "more than members_max^2 reachability observations");
  return {};
}

caf::error membership_view::add_joining(const member_record& r) {
  if (r.state != member_state::joining)
    return make_error(errc::invalid_argument,
                      "a new member starts joining, not " + std::string{to_string(r.state)});
  if (records_.contains(r.id))
    return {};
  if (auto f = retired_.find(r.id.name); f != retired_.end() && r.id.uid < f->second)
    return make_error(errc::conflict, to_string(r.id) + " is a retired incarnation");
  for (const auto& [id, rec] : records_)
    if (id.name == r.id.name && id.uid > r.id.uid)
      return make_error(errc::conflict, "member name '" + r.id.name +
                                            "' already has a newer incarnation " + to_string(id));
  auto next = *this;
  next.put_record(r);
  next.normalize();
  if (auto err = next.check_bounds())
    return err;
  next.seen_.clear();
  *this = std::move(next);
  return {};
}

caf::error membership_view::set_state(const member_id& id, member_state to) {
  auto it = records_.find(id);
  if (it == records_.end())
    return make_error(errc::not_found, "no member " + to_string(id));
  const auto from = it->second.state;
  if (!membership_view_detail::allowed_move(from, to))
    return make_error(errc::invalid_argument, to_string(id) + " cannot move from " +
                                                  to_string(from) + " to " + to_string(to));
  auto next = *this;  // a move to removed may pass tombstones_max
  auto& r = next.records_.at(id);
  r.state = to;
  ++r.version;
  next.normalize();
  if (auto err = next.check_bounds())
    return err;
  next.seen_.clear();
  *this = std::move(next);
  return {};
}

caf::error membership_view::observe(const member_id& observer, const member_id& subject,
                                    bool reachable) {
  obs_key key{observer, subject};
  auto it = reach_.find(key);
  if (it != reach_.end() && it->second.reachable == reachable)
    return {};
  if (it == reach_.end() && reach_.size() >= settings_.members_max * settings_.members_max)
    return make_error(errc::limit_exceeded, "more than members_max^2 reachability observations");
  const uint64_t version = it == reach_.end() ? 1 : it->second.version + 1;
  reach_[key] = {reachable, version};
  normalize();
  seen_.clear();
  return {};
}

caf::error membership_view::merge(const membership_view& other) {
  auto next = *this;
  for (const auto& [id, r] : other.records_)
    next.put_record(r);
  for (const auto& [k, v] : other.reach_)
    next.put_observation(k, v);
  for (const auto& [name, floor] : other.retired_)
    next.retired_[name] = std::max(next.retired_[name], floor);
  next.normalize();
  if (auto err = next.check_bounds())
    return err;
  next.seen_.clear();
  for (const membership_view* input : {static_cast<const membership_view*>(this), &other})
    if (next.same_content(*input))
      for (const auto& id : input->seen_)
        next.mark_seen(id);
  *this = std::move(next);
  return {};
}

void membership_view::mark_seen(const member_id& id) {
  // Only members of the view count for convergence; anything else would
  // only grow the set.
  if (records_.contains(id))
    seen_.insert(id);
}

bool membership_view::live_observer(const member_id& id) const {
  // An exiting member is on its way out and may be dead already (its exit
  // moved on by proof of death, node_membership.cpp exit_dead_leavers):
  // only it could take back an unreachable verdict it gave, so counted, an
  // old one held convergence for good. Its word no longer counts.
  auto it = records_.find(id);
  return it != records_.end() && is_live(it->second.state)
         && it->second.state != member_state::exiting;
}

bool membership_view::reachable(const member_id& id) const {
  for (const auto& [k, v] : reach_)
    if (k.second == id && !v.reachable && live_observer(k.first))
      return false;
  return true;
}

// One pass over the observations (members_max^2 of them) instead of one per
// member, so convergence stays O(members_max^2 log members_max).
std::set<member_id> membership_view::unreachable_members() const {
  std::set<member_id> out;
  for (const auto& [k, v] : reach_)
    if (!v.reachable && live_observer(k.first))
      out.insert(k.second);
  return out;
}

bool membership_view::converged() const {
  const auto unreachable = unreachable_members();
  for (const auto& [id, r] : records_) {
    const bool ok_unreachable = r.state == member_state::down ||
                                r.state == member_state::exiting ||
                                r.state == member_state::removed;
    if (unreachable.contains(id)) {
      if (!ok_unreachable)
        return false;
    } else if (membership_view_detail::counted(r.state) && !seen_.contains(id)) {
      return false;
    }
  }
  return true;
}

std::optional<member_id> membership_view::leader() const {
  // records_ is ordered by member_id: the first match is the lowest.
  const auto unreachable = unreachable_members();
  for (const auto& [id, r] : records_)
    if (membership_view_detail::counted(r.state) && !unreachable.contains(id))
      return id;
  for (const auto& [id, r] : records_)
    if (r.state == member_state::joining && !unreachable.contains(id))
      return id;
  return std::nullopt;
}

std::vector<member_record> membership_view::leader_actions(const member_id& self) {
  std::vector<member_record> changed;
  if (leader() != self || !converged())
    return changed;
  size_t removed = static_cast<size_t>(std::count_if(
      records_.begin(), records_.end(),
      [](const auto& kv) { return kv.second.state == member_state::removed; }));
  const auto unreachable = unreachable_members();
  for (auto& [id, r] : records_) {
    auto to = membership_view_detail::leader_move(r.state);
    if (!to || (r.state == member_state::joining && unreachable.contains(id)))
      continue;
    if (*to == member_state::removed) {
      // Past the bound the member stays down/exiting (still bounded by
      // members_max) rather than growing the tombstones.
      if (removed >= settings_.tombstones_max)
        continue;
      ++removed;
    }
    r.state = *to;
    ++r.version;
    changed.push_back(r);
  }
  if (!changed.empty()) {
    normalize();
    seen_.clear();
    mark_seen(self);
  }
  AG_ASSERT(!check_bounds(), "leader actions never leave the bounds");
  return changed;
}

downing_input membership_view::downing_input_for(const member_id& self) const {
  downing_input in;
  in.self = self;
  // Observers on self's side: self, and live members self does not observe
  // unreachable.
  auto self_sees_unreachable = [&](const member_id& m) {
    auto it = reach_.find({self, m});
    return it != reach_.end() && !it->second.reachable;
  };
  std::map<std::string, uint64_t> newest;  // a superseded incarnation is not counted
  for (const auto& [id, r] : records_)
    newest[id.name] = std::max(newest[id.name], id.uid);
  for (const auto& [id, r] : records_) {
    if (membership_view_detail::counted(r.state))
      in.counted.push_back(id);
    else if (r.state == member_state::down && id.uid == newest[id.name])
      in.downed.insert(id);
  }
  // An observer this node's side sees unreachable (self, or a live member
  // self does not see unreachable, says so) speaks from the other side of
  // some cut: its verdicts do not make anyone unreachable here. Without
  // this a node whose two peers lost each other counted both unreachable
  // and downed itself, the one node still linked to everyone.
  auto on_my_side = [&](const member_id& m) { return m == self || !self_sees_unreachable(m); };
  auto cut_off = [&](const member_id& observer) {
    for (const auto& [k2, v2] : reach_)
      if (k2.second == observer && !v2.reachable && live_observer(k2.first) &&
          on_my_side(k2.first))
        return true;
    return false;
  };
  for (const auto& [k, v] : reach_) {
    const auto& [observer, subject] = k;
    if (v.reachable || !live_observer(observer))
      continue;
    auto rec = records_.find(subject);
    if (rec == records_.end() || !membership_view_detail::counted(rec->second.state))
      continue;
    in.unreachable_by[subject].insert(observer);
    if (subject == self)
      continue;
    if (observer != self && (self_sees_unreachable(observer) || cut_off(observer)))
      continue;
    in.unreachable.insert(subject);
  }
  return in;
}

const member_record* membership_view::find(const member_id& id) const {
  auto it = records_.find(id);
  return it == records_.end() ? nullptr : &it->second;
}

bool membership_view::same_content(const membership_view& other) const {
  auto same_obs = [](const auto& a, const auto& b) {
    return a.first == b.first && a.second.reachable == b.second.reachable &&
           a.second.version == b.second.version;
  };
  return records_ == other.records_ && retired_ == other.retired_ &&
         std::equal(reach_.begin(), reach_.end(), other.reach_.begin(), other.reach_.end(),
                    same_obs);
}

bool operator==(const membership_view& a, const membership_view& b) {
  return a.same_content(b) && a.seen_ == b.seen_;
}

}  // namespace agentgraph::cluster

#include "net/cluster/directory_table.hpp"

#include <algorithm>
#include <set>

#include "runtime/assert.hpp"
#include "runtime/error.hpp"

namespace agentgraph::cluster {

namespace {

bool same(const dir_entry& a, const dir_entry& b) {
  return a.kind == b.kind && a.name == b.name && a.handle == b.handle && a.ifs == b.ifs;
}

}  // namespace

bool is_dir_kind(const std::string& kind) {
  return kind == "agent" || kind == "group" || kind == "tool" || kind == "memory" ||
         kind == "topic" || kind == "population";
}

caf::error check_entry(const dir_entry& e) {
  auto bad = [&](const std::string& why) {
    const auto shown = e.name.size() <= dir_name_bytes_max ? e.name : e.name.substr(0, 32) + "...";
    return make_error(errc::invalid_argument,
                      "directory entry '" + shown + "' (" + e.kind.substr(0, 16) + "): " + why);
  };
  if (!is_dir_kind(e.kind))
    return bad("kind must be agent, group, tool, memory, topic or population");
  if (e.name.empty() || e.name.size() > dir_name_bytes_max)
    return bad("name must be 1-" + std::to_string(dir_name_bytes_max) + " bytes");
  if (!e.handle)
    return bad("no actor handle");
  if (e.ifs.empty() || e.ifs.size() > dir_ifs_max)
    return bad("interface must list 1-" + std::to_string(dir_ifs_max) + " message types");
  for (const auto& s : e.ifs)
    if (s.empty() || s.size() > dir_if_bytes_max)
      return bad("a message type of its interface is empty or longer than " +
                 std::to_string(dir_if_bytes_max) + " bytes");
  return {};
}

directory_table::directory_table(size_t entries_max) : entries_max_(entries_max) {
  AG_ASSERT(entries_max > 0);
}

caf::expected<bool> directory_table::put_local(dir_entry e) {
  if (auto err = check_entry(e))
    return err;
  key k{e.kind, e.name};
  auto it = local_.find(k);
  if (it != local_.end()) {
    if (same(it->second, e))
      return false;
    it->second = std::move(e);
  } else {
    if (local_.size() >= entries_max_)
      return make_error(errc::limit_exceeded,
                        "directory: this node has " + std::to_string(local_.size()) +
                            " entries ([cluster] directory_entries_max)");
    local_.emplace(std::move(k), std::move(e));
  }
  ++local_version_;
  return true;
}

bool directory_table::drop_local(const std::string& kind, const std::string& name) {
  if (local_.erase(key{kind, name}) == 0)
    return false;
  ++local_version_;
  return true;
}

std::vector<dir_entry> directory_table::local_entries() const {
  std::vector<dir_entry> out;
  out.reserve(local_.size());
  for (const auto& [k, e] : local_)
    out.push_back(e);
  return out;
}

caf::expected<std::vector<dir_change>> directory_table::apply(const dir_sync& sync,
                                                              const caf::node_id& sender,
                                                              size_t agents_allowed,
                                                              size_t* agents_withheld) {
  if (sync.entries.size() > entries_max_)
    return make_error(errc::invalid_argument,
                      "directory of " + to_string(sync.from) + ": " +
                          std::to_string(sync.entries.size()) + " entries, more than " +
                          std::to_string(entries_max_) + " ([cluster] directory_entries_max)");
  auto held = remote_.find(sync.from);
  if (held != remote_.end() && held->second.version >= sync.version)
    return std::vector<dir_change>{};
  std::map<key, dir_entry> fresh;
  for (const auto& e : sync.entries) {
    if (auto err = check_entry(e))
      return make_error(errc::invalid_argument,
                        "directory of " + to_string(sync.from) + ": " + error_context(err));
    if (e.handle.node() != sender)
      return make_error(errc::invalid_argument, "directory of " + to_string(sync.from) +
                                                    ": entry '" + e.name +
                                                    "' names an actor on another node");
    if (!fresh.emplace(key{e.kind, e.name}, e).second)
      return make_error(errc::invalid_argument, "directory of " + to_string(sync.from) +
                                                    ": entry '" + e.name + "' (" + e.kind +
                                                    ") listed twice");
  }
  // The agents past the allowance are withheld before the diff, so a
  // subscriber never sees them appear and vanish again.
  remote_table next;
  next.version = sync.version;
  next.entries = std::move(fresh);
  split(sync.from, next, agents_allowed);
  if (agents_withheld)
    *agents_withheld = next.withheld.size();
  std::vector<dir_change> changes;
  if (held != remote_.end()) {
    for (const auto& [k, e] : held->second.entries)
      if (!next.entries.contains(k))
        changes.push_back({sync.from, e, false});
  }
  for (const auto& [k, e] : next.entries) {
    const dir_entry* old = nullptr;
    if (held != remote_.end())
      if (auto it = held->second.entries.find(k); it != held->second.entries.end())
        old = &it->second;
    if (!old || !same(*old, e))
      changes.push_back({sync.from, e, true});
  }
  remote_[sync.from] = std::move(next);
  return changes;
}

std::vector<dir_change> directory_table::split(const member_id& m, remote_table& t,
                                               size_t allowed) {
  std::vector<dir_change> changes;
  // Every agent back in one map, in name order; then the first `allowed`
  // are believed. Keys sort by kind first, so agents are contiguous.
  for (auto& [k, e] : t.withheld)
    t.entries.emplace(k, std::move(e));
  std::set<key> was_withheld;
  for (const auto& [k, e] : t.withheld)
    was_withheld.insert(k);
  t.withheld.clear();
  size_t believed = 0;
  for (auto it = t.entries.begin(); it != t.entries.end();) {
    if (it->second.kind != "agent") {
      ++it;
      continue;
    }
    if (believed < allowed) {
      ++believed;
      if (was_withheld.contains(it->first))
        changes.push_back({m, it->second, true});
      ++it;
      continue;
    }
    if (!was_withheld.contains(it->first))
      changes.push_back({m, it->second, false});
    t.withheld.insert(t.entries.extract(it++));
  }
  return changes;
}

std::vector<dir_change> directory_table::recap(const member_id& m, size_t agents_allowed,
                                               size_t* agents_withheld) {
  auto it = remote_.find(m);
  if (it == remote_.end())
    return {};
  auto changes = split(m, it->second, agents_allowed);
  if (agents_withheld)
    *agents_withheld = it->second.withheld.size();
  return changes;
}

size_t directory_table::agents_of(const member_id& m) const {
  auto it = remote_.find(m);
  if (it == remote_.end())
    return 0;
  return static_cast<size_t>(std::count_if(it->second.entries.begin(), it->second.entries.end(),
                                           [](const auto& kv) { return kv.second.kind == "agent"; }));
}

std::vector<std::string> directory_table::local_agents() const {
  std::vector<std::string> out;
  for (const auto& [k, e] : local_)
    if (e.kind == "agent")
      out.push_back(e.name);
  return out;
}

std::vector<dir_change> directory_table::purge(const member_id& m) {
  std::vector<dir_change> out;
  auto it = remote_.find(m);
  if (it == remote_.end())
    return out;
  for (const auto& [k, e] : it->second.entries)
    out.push_back({m, e, false});
  remote_.erase(it);
  return out;
}

uint64_t directory_table::version_of(const member_id& m) const {
  auto it = remote_.find(m);
  return it == remote_.end() ? 0 : it->second.version;
}

std::vector<member_id> directory_table::members() const {
  std::vector<member_id> out;
  out.reserve(remote_.size());
  for (const auto& [m, t] : remote_)
    out.push_back(m);
  return out;
}

std::vector<dir_change> directory_table::remote_snapshot() const {
  std::vector<dir_change> out;
  for (const auto& [m, t] : remote_)
    for (const auto& [k, e] : t.entries)
      out.push_back({m, e, true});
  return out;
}

std::vector<dir_listing> directory_table::list(const member_id& self) const {
  std::vector<dir_listing> out;
  for (const auto& [k, e] : local_)
    out.push_back({self, e});
  for (const auto& [m, t] : remote_)
    for (const auto& [k, e] : t.entries)
      out.push_back({m, e});
  return out;
}

directory_table::counts directory_table::count(const std::map<key, dir_entry>& entries) {
  counts c;
  for (const auto& [k, e] : entries) {
    if (e.kind == "agent" || e.kind == "group")
      ++c.agents;
    else if (e.kind == "tool")
      ++c.tools;
    else if (e.kind == "memory")
      ++c.shards;
  }
  return c;
}

directory_table::counts directory_table::local_counts() const {
  return count(local_);
}

directory_table::counts directory_table::counts_of(const member_id& m) const {
  auto it = remote_.find(m);
  return it == remote_.end() ? counts{} : count(it->second.entries);
}

}  // namespace agentgraph::cluster

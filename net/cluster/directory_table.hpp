// What one node knows of the cluster directory (design §8.1): its own
// entries (agents, groups, tools, memory shards it built) under a version
// it bumps on every change, and the last table each live member sent.
//
// A plain value the node actor keeps; no clock, no network. Everything a
// peer sends is checked here before it is believed: the kinds, the sizes,
// one entry per (kind, name), and that every handle lives on the node that
// sent the table, so a peer can speak only for its own actors.
#pragma once

#include <cstdint>
#include <cstddef>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>
#include <caf/node_id.hpp>

#include "net/cluster/cluster_interface.hpp"

namespace agentgraph::cluster {

constexpr size_t dir_name_bytes_max = 128;
constexpr size_t dir_ifs_max = 64;         // message types of one interface
constexpr size_t dir_if_bytes_max = 1024;  // one message type's signature

// The kinds an entry may have.
[[nodiscard]] bool is_dir_kind(const std::string& kind);

// The first problem of `e` (kind, name, handle, interface sizes) as
// invalid_argument; empty when usable.
[[nodiscard]] caf::error check_entry(const dir_entry& e);

// One change of a remote entry, for the directory's subscribers.
struct dir_change {
  member_id owner;
  dir_entry entry;
  bool present = false;
};

class directory_table {
 public:
  using key = std::pair<std::string, std::string>;  // (kind, name)

  explicit directory_table(size_t entries_max);

  // --- this node's entries ---
  // Adds or replaces. Errors: invalid_argument (check_entry), limit_exceeded
  // (a new key past entries_max). The version moves only on a real change;
  // returns whether it moved.
  [[nodiscard]] caf::expected<bool> put_local(dir_entry e);
  // Whether the entry was there (and the version moved).
  bool drop_local(const std::string& kind, const std::string& name);
  [[nodiscard]] uint64_t local_version() const { return local_version_; }
  [[nodiscard]] std::vector<dir_entry> local_entries() const;

  // --- other members' tables ---
  // Applies `sync` from `sender` (the CAF node the message came from). An
  // older or equal version than the one held changes nothing. Errors:
  // invalid_argument naming the first bad entry (the table held stays).
  // Of its agents only the first `agents_allowed` (by name) are believed
  // (the cluster's max_agents, design §8.5); the others are withheld until
  // recap allows them, and counted in *agents_withheld when given.
  [[nodiscard]] caf::expected<std::vector<dir_change>> apply(
      const dir_sync& sync, const caf::node_id& sender, size_t agents_allowed = SIZE_MAX,
      size_t* agents_withheld = nullptr);
  // Splits `m`'s table again under a new allowance of agents: the changes
  // of the entries that appear or are withheld.
  std::vector<dir_change> recap(const member_id& m, size_t agents_allowed,
                                size_t* agents_withheld = nullptr);
  // Agents of `m`'s table that are believed (not withheld).
  [[nodiscard]] size_t agents_of(const member_id& m) const;
  [[nodiscard]] bool has_local(const std::string& kind, const std::string& name) const {
    return local_.contains(key{kind, name});
  }
  // Names of this node's agents (kind "agent"), in name order.
  [[nodiscard]] std::vector<std::string> local_agents() const;
  // Forgets `m`'s table: a change (not present) per entry it had.
  std::vector<dir_change> purge(const member_id& m);
  // Version of `m`'s table held here; 0 when none.
  [[nodiscard]] uint64_t version_of(const member_id& m) const;
  [[nodiscard]] std::vector<member_id> members() const;
  // Present changes for every remote entry (for a new subscriber).
  [[nodiscard]] std::vector<dir_change> remote_snapshot() const;

  // Every entry, this node's (owned by `self`) first.
  [[nodiscard]] std::vector<dir_listing> list(const member_id& self) const;

  struct counts {
    uint32_t agents = 0;  // agents and groups
    uint32_t tools = 0;
    uint32_t shards = 0;
  };
  [[nodiscard]] counts local_counts() const;
  [[nodiscard]] counts counts_of(const member_id& m) const;

  [[nodiscard]] size_t entries_max() const { return entries_max_; }

 private:
  struct remote_table {
    uint64_t version = 0;
    std::map<key, dir_entry> entries;
    std::map<key, dir_entry> withheld;  // agents past the allowance (max_agents)
  };
  // Moves agents between entries and withheld so that at most `allowed`
  // are believed, the first by name; the changes that makes.
  static std::vector<dir_change> split(const member_id& m, remote_table& t, size_t allowed);
  static counts count(const std::map<key, dir_entry>& entries);

  size_t entries_max_;
  uint64_t local_version_ = 0;
  std::map<key, dir_entry> local_;
  std::map<member_id, remote_table> remote_;
};

}  // namespace agentgraph::cluster

#include "runtime/cluster/member.hpp"

#include <algorithm>
#include <functional>
#include <tuple>

#include "runtime/assert.hpp"

namespace agentgraph::cluster {

std::strong_ordering operator<=>(const member_id& a, const member_id& b) {
  return std::tie(a.host, a.port, a.uid, a.name) <=> std::tie(b.host, b.port, b.uid, b.name);
}

bool operator==(const member_id& a, const member_id& b) {
  return a.uid == b.uid && a.port == b.port && a.host == b.host && a.name == b.name;
}

std::string to_string(const member_id& id) {
  return id.name + "@" + id.host + ":" + std::to_string(id.port) + "#" + std::to_string(id.uid);
}

uint64_t next_uid(uint64_t previous_uid, uint64_t start_ms, uint32_t random_bits) {
  constexpr unsigned random_width = 22;
  constexpr uint64_t random_mask = (uint64_t{1} << random_width) - 1;
  // 2^42 ms is the year 2109; the shift must not drop the time's high bits.
  AG_ASSERT(start_ms < (uint64_t{1} << (64 - random_width)), "start_ms is milliseconds");
  const uint64_t fresh = (start_ms << random_width) | (random_bits & random_mask);
  AG_ASSERT(previous_uid < UINT64_MAX, "uid space exhausted");
  return std::max(fresh, previous_uid + 1);
}

const char* to_string(member_state s) {
  switch (s) {
    case member_state::joining: return "joining";
    case member_state::up: return "up";
    case member_state::leaving: return "leaving";
    case member_state::exiting: return "exiting";
    case member_state::down: return "down";
    case member_state::removed: return "removed";
  }
  AG_ASSERT(false, "member_state out of range");
  return "?";
}

std::optional<member_state> parse_member_state(std::string_view word) {
  for (auto s : member_states)
    if (word == to_string(s))
      return s;
  return std::nullopt;
}

bool operator==(const member_record& a, const member_record& b) {
  return a.id == b.id && a.state == b.state && a.version == b.version && a.pid == b.pid &&
         a.url == b.url && a.dir_version == b.dir_version;
}

const member_record& newer_record(const member_record& a, const member_record& b) {
  AG_ASSERT(a.id == b.id, "newer_record compares two records of one member");
  auto key = [](const member_record& r) {
    // pid as unsigned, so a default record (pid 0, empty url, version 0) is
    // the lowest of its state whatever a peer sends.
    return std::make_tuple(r.state, r.version, r.dir_version, std::cref(r.url),
                           static_cast<uint32_t>(r.pid));
  };
  return key(a) < key(b) ? b : a;
}

}  // namespace agentgraph::cluster

// Fuzz target: a gossip view from a peer (membership_view::assemble, the
// check every gossip message and welcome goes through) built from any
// bytes must never crash, and what it accepts must keep the view's laws:
// within its bounds, merge idempotent, merge commutative on content, and
// convergence, leader and keep-majority's input computable.
//
// Input: a byte stream read as a little program that builds view_parts:
// each record takes [name 1 byte][host 1 byte][port 1 byte][uid 1 byte]
// [state 1 byte][version 1 byte] (small alphabets, so records collide on
// names and uids and exercise incarnations), then observations
// [observer 1][subject 1][reachable 1][version 1] index into the records,
// seen entries [index 1], retired floors [name 1][floor 1]. The first
// 4 bytes say how many of each (mod a bound above members_max, so the
// bounds are hit too).
#include <cstdint>
#include <cstdlib>
#include <string>

#include "runtime/cluster/membership_view.hpp"

namespace gossip_view_fuzz {

using namespace agentgraph::cluster;

struct reader {
  const uint8_t* p;
  size_t n;
  size_t i = 0;
  uint8_t next() { return i < n ? p[i++] : 0; }
  bool done() const { return i >= n; }
};

member_id id_of(uint8_t name, uint8_t host, uint8_t port, uint8_t uid) {
  return {"n" + std::to_string(name % 6), "h" + std::to_string(host % 4),
          static_cast<uint16_t>(port % 3), static_cast<uint64_t>(uid % 5)};
}

view_parts parts_of(reader& r, const view_settings& s) {
  view_parts parts;
  const size_t records = r.next() % (s.members_max + s.tombstones_max + 3);
  const size_t observations = r.next() % 40;
  const size_t seen = r.next() % 12;
  const size_t retired = r.next() % 6;
  for (size_t k = 0; k < records && !r.done(); ++k) {
    member_record rec;
    rec.id = id_of(r.next(), r.next(), r.next(), r.next());
    rec.state = member_states[r.next() % std::size(member_states)];
    rec.version = r.next() % 4;
    parts.members.push_back(rec);
  }
  auto pick = [&](uint8_t b) {
    return parts.members.empty() ? id_of(b, b, b, b) : parts.members[b % parts.members.size()].id;
  };
  for (size_t k = 0; k < observations && !r.done(); ++k)
    parts.reach.push_back({pick(r.next()), pick(r.next()), (r.next() & 1) == 0,
                           static_cast<uint64_t>(r.next() % 4)});
  for (size_t k = 0; k < seen && !r.done(); ++k)
    parts.seen.push_back(pick(r.next()));
  for (size_t k = 0; k < retired && !r.done(); ++k)
    parts.retired["n" + std::to_string(r.next() % 6)] = r.next() % 6;
  return parts;
}

}  // namespace gossip_view_fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace gossip_view_fuzz;
  const view_settings settings{5, 4};
  reader r{data, size};
  auto a_parts = parts_of(r, settings);
  auto b_parts = parts_of(r, settings);
  auto a = membership_view::assemble(settings, a_parts);
  auto b = membership_view::assemble(settings, b_parts);
  if (!a || !b)
    return 0;
  // Accepted views are within their bounds.
  size_t live = 0;
  for (const auto& [id, rec] : a->records())
    live += rec.state != member_state::removed ? 1 : 0;
  if (live > settings.members_max)
    std::abort();
  // Idempotent: a view merged with itself has the same content.
  auto self_merge = *a;
  if (self_merge.merge(*a) || !self_merge.same_content(*a))
    std::abort();
  // Commutative on content, whenever both orders stay within the bounds.
  auto ab = *a;
  auto ba = *b;
  const bool ab_ok = !ab.merge(*b);
  const bool ba_ok = !ba.merge(*a);
  if (ab_ok != ba_ok || (ab_ok && !ab.same_content(ba)))
    std::abort();
  // Everything a node computes from a view must be computable.
  (void)a->converged();
  (void)a->leader();
  for (const auto& [id, rec] : a->records()) {
    (void)a->reachable(id);
    auto in = a->downing_input_for(id);
    (void)in;
  }
  if (ab_ok) {
    auto leader = ab.leader();
    if (leader)
      (void)ab.leader_actions(*leader);
  }
  return 0;
}

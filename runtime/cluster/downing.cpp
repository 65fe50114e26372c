#include "runtime/cluster/downing.hpp"

#include <algorithm>

#include "runtime/assert.hpp"
#include "runtime/error.hpp"

namespace agentgraph::cluster {

const char* to_string(downing_verdict v) {
  switch (v) {
    case downing_verdict::wait: return "wait";
    case downing_verdict::down_unreachable: return "down_unreachable";
    case downing_verdict::down_self: return "down_self";
    case downing_verdict::down_all: return "down_all";
  }
  AG_ASSERT(false, "downing_verdict out of range");
  return "?";
}

namespace downing_detail {

// counted minus proven dead, deduplicated and sorted; self is never dropped.
std::vector<member_id> voters(const downing_input& in) {
  std::vector<member_id> out;
  out.reserve(in.counted.size());
  for (const auto& m : in.counted)
    if (m == in.self || !in.proven_dead.contains(m))
      out.push_back(m);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace downing_detail

void drop_known_downs(downing_input& in,
                      const std::map<member_id, std::set<member_id>>& known_by) {
  std::erase_if(in.downed, [&](const member_id& d) {
    const auto k = known_by.find(d);
    for (const auto& m : in.counted)
      if (m != in.self && (k == known_by.end() || !k->second.contains(m)))
        return false;  // m may not know: d may still have its vote there
    return true;
  });
}

downing_decision keep_majority(const downing_input& in) {
  const auto voters = downing_detail::voters(in);
  downing_decision d;
  if (!std::binary_search(voters.begin(), voters.end(), in.self))
    return d;  // no vote
  std::vector<member_id> other_side;
  for (const auto& m : voters)
    if (m != in.self && in.unreachable.contains(m))
      other_side.push_back(m);
  // Downed members still count, on the other side (see downing_input).
  std::vector<member_id> downed;
  for (const auto& m : in.downed)
    if (m != in.self && !in.proven_dead.contains(m) &&
        !std::binary_search(voters.begin(), voters.end(), m))
      downed.push_back(m);
  d.unreachable_count = other_side.size() + downed.size();
  d.reachable_count = voters.size() - other_side.size();
  AG_ASSERT(d.reachable_count >= 1, "self is always on its own side");
  if (other_side.empty())
    return d;
  bool stay = false;
  if (d.reachable_count != d.unreachable_count) {
    stay = d.reachable_count > d.unreachable_count;
  } else {
    // voters is sorted: the lowest member_id is its first element (a
    // downed member is never the lowest of a tie: it cannot stay).
    stay = !in.unreachable.contains(voters.front()) || voters.front() == in.self;
  }
  if (stay) {
    for (const auto& u : other_side) {
      const auto by = in.unreachable_by.find(u);
      for (const auto& v : voters) {
        if (in.unreachable.contains(v) && v != in.self)
          continue;  // on the other side
        if (by == in.unreachable_by.end() || !by->second.contains(v))
          return d;  // v still hears u (or has not said otherwise): wait
      }
    }
    d.verdict = downing_verdict::down_unreachable;
    d.to_down = std::move(other_side);
  } else {
    d.verdict = downing_verdict::down_self;
    d.to_down = {in.self};
  }
  return d;
}

caf::error validate(const downing_settings& s) {
  if (s.stable_after.count() <= 0)
    return make_error(errc::invalid_argument, "downing stable_after must be > 0 ms");
  if (s.down_all_when_unstable && s.down_all_after.count() <= 0)
    return make_error(errc::invalid_argument,
                      "downing down_all_after must be > 0 ms when down_all_when_unstable is on");
  return {};
}

stability::stability(const downing_settings& s) : settings_(s) {
  AG_ASSERT(!validate(s), "downing_settings are validated before use");
}

void stability::observe(const std::set<member_id>& unreachable, time_point now) {
  AG_ASSERT(now >= last_change_, "times come from a steady clock");
  if (unreachable == last_set_)
    return;
  last_set_ = unreachable;
  last_change_ = now;
  if (last_set_.empty()) {
    changes_ = 0;  // everyone reachable again: calm
    return;
  }
  if (changes_ == 0)
    first_change_ = now;
  ++changes_;
}

bool stability::stable(time_point now) const {
  return !last_set_.empty() && now - last_change_ >= settings_.stable_after;
}

bool stability::unstable_too_long(time_point now) const {
  if (!settings_.down_all_when_unstable || changes_ == 0 || stable(now))
    return false;
  return now - first_change_ >= settings_.stable_after + settings_.down_all_after;
}

void stability::decided() {
  changes_ = 0;
}

downing_decision decide_downing(const downing_input& in, const stability& st,
                                stability::time_point now) {
  AG_ASSERT(in.unreachable == st.unreachable(), "the verdict is about the observed set");
  if (st.unstable_too_long(now)) {
    downing_decision d;
    d.verdict = downing_verdict::down_all;
    d.to_down = downing_detail::voters(in);
    if (!std::binary_search(d.to_down.begin(), d.to_down.end(), in.self)) {
      d.to_down.push_back(in.self);
      std::sort(d.to_down.begin(), d.to_down.end());
    }
    return d;
  }
  if (st.stable(now))
    return keep_majority(in);
  return {};
}

}  // namespace agentgraph::cluster

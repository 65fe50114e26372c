// retention_index against its definition: after random sequences of adds,
// removals, recalls and clock moves, the index must pick exactly the ids, in
// the order, that select_evictions picks over all entries (retention.hpp,
// a sort of every entry: the brute-force reference).
#include <doctest/doctest.h>

#include <cmath>
#include <deque>
#include <map>
#include <random>
#include <string>

#include "actors/memory/retention.hpp"
#include "actors/memory/retention_index.hpp"

using namespace agentgraph;

namespace memory_retention_index_test {

// Kinds: two listed with small limits, two unlisted.
const std::vector<std::string> kinds{"fact", "summary", "chat", "note"};

memory_config config_for(retention_policy p, uint32_t max_entries, int64_t half_life_ms) {
  memory_config cfg;
  cfg.retention = p;
  cfg.max_entries = max_entries;
  cfg.importance_half_life = std::chrono::milliseconds{half_life_ms};
  cfg.kind_limits = {{"fact", 3}, {"summary", 2}};
  return cfg;
}

// The entries both sides hold; a std::map keeps kind strings in place, so
// candidates' views stay valid while an entry is held.
struct model {
  memory_config cfg;
  retention_index index;
  std::map<uint64_t, memory_entry> entries;
  int64_t last_select_ms = 0;

  explicit model(memory_config c) : cfg(std::move(c)), index(cfg) {}

  void add(memory_entry e) {
    auto [it, ok] = entries.emplace(e.id, std::move(e));
    REQUIRE(ok);
    index.add(retention_candidate_of(it->second));
  }
  void remove(uint64_t id) {
    auto it = entries.find(id);
    REQUIRE(it != entries.end());
    index.remove(retention_candidate_of(it->second));
    entries.erase(it);
  }
  void recall(uint64_t id, int64_t now_ms) {
    auto& e = entries.at(id);
    auto before = retention_candidate_of(e);
    e.last_access_ms = now_ms;
    ++e.access_count;
    index.update(before, retention_candidate_of(e));
  }
  // Selects on both sides, checks they agree, and evicts the victims.
  void select_and_check(int64_t now_ms) {
    if (index.needs_rebuild(now_ms)) {  // what memory_store does
      index = retention_index{cfg};
      for (const auto& [id, e] : entries)
        index.add(retention_candidate_of(e));
    }
    std::vector<retention_candidate> all;
    for (const auto& [id, e] : entries)
      all.push_back(retention_candidate_of(e));
    auto expected = select_evictions(std::move(all), cfg, now_ms);
    auto got = index.select(now_ms);
    REQUIRE(got == expected);
    for (auto id : got)
      remove(id);
    CHECK(index.size() == entries.size());
  }
};

// A random sequence for one policy and seed. Times stay within a few
// hundred half-lives (scores far above the smallest double, see
// retention_index.hpp), importances are continuous so that unequal inputs
// never tie by accident, and some entries copy another's fields exactly so
// that real ties (broken by created_ms, then id) are exercised too.
void run(retention_policy policy, uint32_t seed) {
  std::mt19937_64 rng{seed};
  auto pick = [&rng](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>{lo, hi}(rng);
  };
  const int64_t half_life = std::array<int64_t, 3>{1'000, 60'000, 3'600'000}[seed % 3];
  model m{config_for(policy, static_cast<uint32_t>(pick(6, 30)), half_life)};
  int64_t now = 1'700'000'000'000;
  uint64_t next_id = 1;
  for (int step = 0; step < 1500; ++step) {
    auto op = pick(0, 99);
    if (op < 55) {  // store: add, then retention as memory_store::store does
      memory_entry e;
      e.id = next_id++;
      e.kind = kinds[static_cast<size_t>(pick(0, 3))];
      e.importance = pick(0, 9) == 0 ? 0.0 : std::uniform_real_distribution<double>{0, 1}(rng);
      // Mostly now; sometimes in the past, sometimes ahead of the clock (a
      // client-set created_ms: its age is clamped at 0 until now reaches it).
      auto when = pick(0, 9);
      e.created_ms = when < 6 ? now : when < 8 ? now - pick(0, 50 * half_life)
                                                : now + pick(1, 3 * half_life);
      if (pick(0, 7) == 0 && !m.entries.empty()) {  // an exact twin of another entry's fields
        const auto& other = std::next(m.entries.begin(),
                                      pick(0, static_cast<int64_t>(m.entries.size()) - 1))->second;
        e.importance = other.importance;
        e.created_ms = other.created_ms;
        e.last_access_ms = other.last_access_ms;
        e.access_count = other.access_count;
        e.kind = other.kind;
      }
      m.add(std::move(e));
      m.select_and_check(now);
    } else if (op < 75 && !m.entries.empty()) {  // recall hits
      auto hits = pick(1, 4);
      for (int64_t h = 0; h < hits && !m.entries.empty(); ++h)
        m.recall(std::next(m.entries.begin(),
                           pick(0, static_cast<int64_t>(m.entries.size()) - 1))->first, now);
    } else if (op < 82 && !m.entries.empty()) {  // an eviction or discard by id
      m.remove(std::next(m.entries.begin(),
                         pick(0, static_cast<int64_t>(m.entries.size()) - 1))->first);
    } else if (op < 97) {  // time passes; a cleanup tick
      now += pick(0, 2 * half_life);
      m.select_and_check(now);
    } else {  // the clock steps back
      now -= pick(1, half_life);
      m.select_and_check(now);
    }
  }
}

}  // namespace memory_retention_index_test

TEST_CASE("memory: retention index evicts what select_evictions does, sliding_window") {
  for (uint32_t seed = 1; seed <= 12; ++seed)
    memory_retention_index_test::run(retention_policy::sliding_window, seed);
}

TEST_CASE("memory: retention index evicts what select_evictions does, hierarchical") {
  for (uint32_t seed = 1; seed <= 12; ++seed)
    memory_retention_index_test::run(retention_policy::hierarchical, seed);
}

TEST_CASE("memory: retention index evicts what select_evictions does, importance") {
  for (uint32_t seed = 1; seed <= 24; ++seed)
    memory_retention_index_test::run(retention_policy::importance, seed);
}

TEST_CASE("memory: retention index breaks exact score ties by age, as select_evictions does") {
  // Entry 1: importance 0.5, fresh. Entry 2: importance 1.0, one half-life
  // old. Both score exactly 0.5, so the older one (entry 2) goes first.
  const int64_t hour = 3'600'000;
  auto cfg = memory_retention_index_test::config_for(retention_policy::importance, 1, hour);
  memory_retention_index_test::model m{cfg};
  memory_entry a;
  a.id = 1;
  a.importance = 0.5;
  a.created_ms = 10 * hour;
  memory_entry b = a;
  b.id = 2;
  b.importance = 1.0;
  b.created_ms = 9 * hour;
  m.add(a);
  m.add(b);
  m.select_and_check(10 * hour);  // also checks it equals the reference
  CHECK(m.entries.count(1) == 1);
  CHECK(m.entries.count(2) == 0);
}

TEST_CASE("memory: retention index keeps ordering scores too small for a double") {
  // The documented difference from select_evictions (retention_index.hpp):
  // 2000 half-lives after their last use both scores are below the
  // smallest double, so select_evictions sees two zeros and evicts the
  // older entry; the index still sees 0.9 against 0.1 of the same decay
  // and evicts the less important one.
  const int64_t half_life = 1'000;
  auto cfg = memory_retention_index_test::config_for(retention_policy::importance, 1, half_life);
  retention_index index{cfg};
  memory_entry older_important;
  older_important.id = 1;
  older_important.importance = 0.9;
  older_important.created_ms = 0;
  memory_entry newer_unimportant = older_important;
  newer_unimportant.id = 2;
  newer_unimportant.importance = 0.1;
  newer_unimportant.created_ms = 1;
  index.add(retention_candidate_of(older_important));
  index.add(retention_candidate_of(newer_unimportant));
  const int64_t now = 2'000 * half_life;
  auto c = retention_candidate_of(older_important);
  REQUIRE(importance_score(c, cfg.importance_half_life, now) == 0.0);
  CHECK(index.select(now) == std::vector<uint64_t>{2});
  std::vector<retention_candidate> all{retention_candidate_of(older_important),
                                       retention_candidate_of(newer_unimportant)};
  CHECK(select_evictions(all, cfg, now) == std::vector<uint64_t>{1});
}

TEST_CASE("memory: retention index bytes follow its entries") {
  auto cfg = memory_retention_index_test::config_for(retention_policy::hierarchical, 10, 1'000);
  retention_index index{cfg};
  auto empty = index.bytes();
  memory_entry e;
  e.kind = "fact";
  for (uint64_t id = 1; id <= 4; ++id) {
    e.id = id;
    e.created_ms = static_cast<int64_t>(id);
    index.add(retention_candidate_of(e));
  }
  CHECK(index.bytes() > empty);
  // Four facts over a limit of three: the oldest goes.
  CHECK(index.select(10) == std::vector<uint64_t>{1});
  for (uint64_t id = 1; id <= 4; ++id) {
    e.id = id;
    e.created_ms = static_cast<int64_t>(id);
    index.remove(retention_candidate_of(e));
  }
  CHECK(index.size() == 0);
  CHECK(index.bytes() == empty);
}

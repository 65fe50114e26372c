// Retention policies as pure functions, with time passed in: no sleeping.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>

#include "actors/memory/retention.hpp"

using namespace agentgraph;

namespace memory_retention_test {

constexpr int64_t hour_ms = 3'600'000;

memory_entry entry(uint64_t id, int64_t created_ms, std::string kind = "interaction",
                   double importance = 0.5) {
  memory_entry e;
  e.id = id;
  e.text = "entry " + std::to_string(id);
  e.kind = std::move(kind);
  e.importance = importance;
  e.created_ms = created_ms;
  return e;
}

std::vector<uint64_t> evict(const std::vector<memory_entry>& entries, const memory_config& cfg,
                            int64_t now_ms) {
  std::vector<retention_candidate> c;
  for (const auto& e : entries)
    c.push_back(retention_candidate_of(e));
  return select_evictions(std::move(c), cfg, now_ms);
}

std::vector<uint64_t> sorted(std::vector<uint64_t> v) {
  std::sort(v.begin(), v.end());
  return v;
}

}  // namespace memory_retention_test

using memory_retention_test::entry;
using memory_retention_test::hour_ms;

TEST_CASE("memory: no policy evicts while under max_entries") {
  std::vector<memory_entry> es{entry(1, 10), entry(2, 20), entry(3, 30)};
  memory_config cfg;
  cfg.max_entries = 3;
  for (auto p : {retention_policy::sliding_window, retention_policy::importance,
                 retention_policy::hierarchical}) {
    cfg.retention = p;
    CHECK(memory_retention_test::evict(es, cfg, 1000).empty());
  }
}

TEST_CASE("memory: sliding window evicts the oldest by created_ms beyond max_entries") {
  memory_config cfg;
  cfg.retention = retention_policy::sliding_window;
  cfg.max_entries = 3;
  // Ids and creation times disagree on purpose: creation time decides, and
  // the id only breaks ties.
  std::vector<memory_entry> es{entry(1, 500), entry(2, 100), entry(3, 300), entry(4, 100),
                               entry(5, 900)};
  auto ev = memory_retention_test::evict(es, cfg, 1000);
  CHECK(ev == std::vector<uint64_t>{2, 4});
  cfg.max_entries = 1;
  CHECK(memory_retention_test::evict(es, cfg, 1000) == std::vector<uint64_t>{2, 4, 3, 1});
}

TEST_CASE("memory: importance score halves per half-life and grows with access") {
  auto c = retention_candidate_of(entry(1, 0, "interaction", 0.8));
  std::chrono::milliseconds hl{hour_ms};
  CHECK(importance_score(c, hl, 0) == doctest::Approx(0.8));
  CHECK(importance_score(c, hl, hour_ms) == doctest::Approx(0.4));
  CHECK(importance_score(c, hl, 3 * hour_ms) == doctest::Approx(0.1));
  // A clock that steps backwards does not inflate the score.
  CHECK(importance_score(c, hl, -hour_ms) == doctest::Approx(0.8));
  // Age runs from the last access, not creation.
  c.last_access_ms = 2 * hour_ms;
  CHECK(importance_score(c, hl, 3 * hour_ms) == doctest::Approx(0.4));
  c.access_count = 3;
  CHECK(importance_score(c, hl, 3 * hour_ms) == doctest::Approx(0.4 * (1 + std::log(4.0))));
}

TEST_CASE("memory: importance policy evicts the lowest decayed score") {
  memory_config cfg;
  cfg.retention = retention_policy::importance;
  cfg.importance_half_life = std::chrono::milliseconds{hour_ms};
  cfg.max_entries = 2;
  auto fresh_low = entry(1, 10 * hour_ms, "interaction", 0.3);  // 0.3
  auto old_high = entry(2, 7 * hour_ms, "interaction", 0.9);    // 0.9 / 8 = 0.1125
  auto mid = entry(3, 9 * hour_ms, "interaction", 0.8);         // 0.4
  std::vector<memory_entry> es{fresh_low, old_high, mid};
  CHECK(memory_retention_test::evict(es, cfg, 10 * hour_ms) == std::vector<uint64_t>{2});
  // The same entries an hour earlier in their lives: nothing has decayed
  // much yet, so the least important one goes.
  es[1].created_ms = 10 * hour_ms;
  CHECK(memory_retention_test::evict(es, cfg, 10 * hour_ms) == std::vector<uint64_t>{1});
  // Recall keeps an entry alive. Accessed two hours ago, entry 2 scores
  // 0.9 / 4 = 0.225 and still loses to entry 1 (0.3); two accesses raise it
  // to 0.225 * (1 + ln 3) = 0.47, so entry 1 goes instead.
  es[1].created_ms = 7 * hour_ms;
  es[1].last_access_ms = 8 * hour_ms;
  CHECK(memory_retention_test::evict(es, cfg, 10 * hour_ms) == std::vector<uint64_t>{2});
  es[1].access_count = 2;
  CHECK(memory_retention_test::evict(es, cfg, 10 * hour_ms) == std::vector<uint64_t>{1});
}

TEST_CASE("memory: hierarchical policy applies per-kind limits, others share the rest") {
  memory_config cfg;
  cfg.retention = retention_policy::hierarchical;
  cfg.max_entries = 6;
  cfg.kind_limits = {{"fact", 2}, {"summary", 1}};
  std::vector<memory_entry> es{
    entry(1, 10, "fact"),    entry(2, 20, "fact"),    entry(3, 30, "fact"),
    entry(4, 40, "summary"), entry(5, 50, "summary"), entry(6, 60, "chat"),
    entry(7, 70, "chat"),    entry(8, 80, "note"),    entry(9, 90, "chat"),
    entry(10, 5, "chat")};
  auto ev = memory_retention_test::evict(es, cfg, 100);
  // fact: keep 2 newest (evict 1); summary: keep 1 (evict 4); listed keep 3,
  // so unlisted (6, 7, 8, 9, 10) share 3: evict the two oldest, 10 and 6.
  CHECK(memory_retention_test::sorted(ev) == std::vector<uint64_t>{1, 4, 6, 10});
  CHECK(es.size() - ev.size() == cfg.max_entries);
}

TEST_CASE("memory: hierarchical lets unlisted kinds use room the listed ones leave") {
  memory_config cfg;
  cfg.retention = retention_policy::hierarchical;
  cfg.max_entries = 4;
  cfg.kind_limits = {{"fact", 2}};
  std::vector<memory_entry> es{entry(1, 10, "chat"), entry(2, 20, "chat"), entry(3, 30, "chat"),
                               entry(4, 40, "chat")};
  // No facts yet: chats may use all four places.
  CHECK(memory_retention_test::evict(es, cfg, 100).empty());
  // A fact arrives: the total would be 5, and the fact is within its limit,
  // so the oldest chat goes.
  es.push_back(entry(5, 50, "fact"));
  CHECK(memory_retention_test::evict(es, cfg, 100) == std::vector<uint64_t>{1});
  // A third fact beyond its limit evicts the oldest fact, not a chat.
  es.push_back(entry(6, 60, "fact"));
  es.push_back(entry(7, 70, "fact"));
  CHECK(memory_retention_test::sorted(memory_retention_test::evict(es, cfg, 100))
        == std::vector<uint64_t>{1, 2, 5});
}

// memory_store's running totals and retention, end to end: after random
// sequences of stores, recalls, evictions, discards, retention passes over
// time (importance decay, a clock stepping back) and restarts from a
// snapshot copy, bytes() equals a full recount (bytes_recounted) and each
// store evicts exactly what select_evictions picks over all entries.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <random>
#include <set>
#include <string>

#include "actors/memory/retention.hpp"
#include "actors/memory/memory_store.hpp"

using namespace agentgraph;

namespace memory_accounting_test {

const std::array<const char*, 12> words{"actor", "crate", "widget", "supervisor", "restart",
                                        "calculator", "memory", "shard", "recall", "policy",
                                        "answer", "planner"};

struct sequence {
  std::mt19937_64 rng;
  memory_store store;
  int64_t now = 1'700'000'000'000;

  int64_t pick(int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>{lo, hi}(rng);
  }
  std::string text() {
    std::string t;
    for (int64_t i = 0, n = pick(2, 8); i < n; ++i)
      t += std::string{words[static_cast<size_t>(pick(0, words.size() - 1))]} + " ";
    // Sometimes longer than SSO and with metadata: their bytes must be counted.
    if (pick(0, 3) == 0)
      t += std::string(static_cast<size_t>(pick(16, 3000)), 'x');
    return t;
  }
  uint64_t some_id() {
    auto all = store.entries_copy();
    return all.empty() ? 0 : all[static_cast<size_t>(pick(0, all.size() - 1))].id;
  }

  // A store, checked against the reference: the ids that disappear are
  // exactly select_evictions over the entries held plus the new one.
  void store_one() {
    memory_entry e;
    e.text = text();
    e.kind = std::array<const char*, 4>{"fact", "summary", "chat", "note"}[pick(0, 3)];
    e.importance = pick(0, 9) == 0 ? 0.0 : std::uniform_real_distribution<double>{0, 1}(rng);
    if (pick(0, 4) == 0)
      e.metadata["source"] = std::string(static_cast<size_t>(pick(0, 400)), 's');
    if (pick(0, 5) == 0)  // a client-set created_ms, in the past or ahead of the clock
      e.created_ms = now + pick(-100'000, 100'000);
    auto held = store.entries_copy();
    auto expected_new = e;
    expected_new.id = store.next_id();
    expected_new.created_ms = e.created_ms == 0 ? now : e.created_ms;
    held.push_back(expected_new);
    std::vector<retention_candidate> all;
    for (const auto& h : held)
      all.push_back(retention_candidate_of(h));
    auto victims = select_evictions(std::move(all), store.config(), now);
    auto evictions_before = store.evictions();
    auto id = store.store(std::move(e), now);
    REQUIRE(id);
    CHECK(*id == expected_new.id);
    CHECK(store.evictions() - evictions_before == victims.size());
    for (auto v : victims)
      CHECK(store.find(v) == nullptr);
    CHECK(store.size() == held.size() - victims.size());
  }

  void step() {
    auto op = pick(0, 99);
    if (op < 50) {
      store_one();
    } else if (op < 70) {
      auto k = static_cast<uint32_t>(pick(1, 10));
      REQUIRE(store.recall(text(), k, now));
    } else if (op < 76) {
      if (auto id = some_id())
        CHECK(store.evict({id, id + 1'000'000}) == 1);  // an absent id is skipped
    } else if (op < 80) {
      if (auto id = some_id())
        CHECK(store.discard({id}) == 1);
    } else if (op < 95) {
      now += pick(0, 7'200'000);
      store.enforce_retention(now);
    } else if (op < 97) {
      now -= pick(1, 3'600'000);  // the clock steps back
      store.enforce_retention(now);
    } else {
      restart();
    }
    REQUIRE(store.bytes() == store.bytes_recounted());
  }

  // What a node does at start: a fresh store restored from the snapshot's
  // entries, then retention.
  void restart() {
    auto fresh = memory_store::make(store.config());
    REQUIRE(fresh);
    REQUIRE_FALSE(fresh->restore(store.entries_copy(), store.next_id()));
    store = std::move(*fresh);
    CHECK(store.bytes() == store.bytes_recounted());
    store.enforce_retention(now);
  }
};

memory_config config_for(retention_policy p, uint32_t max_entries, uint32_t exact_search_max) {
  memory_config cfg;
  cfg.name = "acct";
  cfg.retention = p;
  cfg.max_entries = max_entries;
  cfg.exact_search_max = exact_search_max;
  // Short notes hashed to 64 coordinates are sparse: without this the
  // index would keep the exact scan, and the HNSW case would test nothing.
  cfg.exact_search_sparse = false;
  cfg.embedding_model = "hash-64";
  cfg.kind_limits = {{"fact", 4}, {"summary", 3}};
  cfg.similarity_threshold = 0.0;  // recalls hit, so access fields change
  return cfg;
}

void run(retention_policy p, uint32_t seed, uint32_t exact_search_max) {
  auto s = memory_store::make(config_for(p, 40, exact_search_max));
  REQUIRE(s);
  sequence seq{std::mt19937_64{seed}, std::move(*s)};
  for (int i = 0; i < 600; ++i)
    seq.step();
}

}  // namespace memory_accounting_test

TEST_CASE("memory: bytes equal a full recount and stores evict per policy, exact scan") {
  for (auto p : retention_policies)
    for (uint32_t seed = 1; seed <= 4; ++seed)
      memory_accounting_test::run(p, seed, 2'000);
}

TEST_CASE("memory: bytes equal a full recount and stores evict per policy, HNSW") {
  // exact_search_max 8: the index switches to HNSW, reuses deleted slots
  // and rebuilds after mass evictions, each of which moves its byte count.
  for (auto p : retention_policies)
    for (uint32_t seed = 11; seed <= 13; ++seed)
      memory_accounting_test::run(p, seed, 8);
}

TEST_CASE("memory: bytes count the retention index and return to the empty figure") {
  auto s = memory_store::make(memory_accounting_test::config_for(retention_policy::importance,
                                                                 100, 2'000));
  REQUIRE(s);
  const auto empty = s->bytes();
  const auto empty_index = s->index().bytes();
  std::vector<uint64_t> ids;
  for (int i = 0; i < 50; ++i) {
    memory_entry e;
    e.text = "note " + std::to_string(i) + std::string(100, 'y');
    auto id = s->store(std::move(e), 1'000 + i);
    REQUIRE(id);
    ids.push_back(*id);
  }
  CHECK(s->bytes() == s->bytes_recounted());
  CHECK(s->bytes() > empty + 50 * 100);
  REQUIRE(s->recall("note 7", 5, 5'000));
  CHECK(s->bytes() == s->bytes_recounted());
  CHECK(s->evict(ids) == 50);
  CHECK(s->bytes() == s->bytes_recounted());
  // The exact scan keeps its vectors' capacity; the entries and the
  // retention index give back every byte they added.
  CHECK(s->bytes() - empty == s->index().bytes() - empty_index);
}

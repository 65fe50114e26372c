// Scopes of a memory shard (issue 14): recall_scoped_atom recalls only
// among the entries whose metadata "scope" is one of the scopes asked for,
// scope_entries_max bounds each scope, and the scope index stays equal to
// the entries through stores, retention, evictions, discards, replica
// pages and reloads (snapshot and commit durability). Time is injected.
#include <doctest/doctest.h>

#include <functional>
#include <map>
#include <random>
#include <set>

#include "actors/memory/memory_snapshot.hpp"
#include "actors/memory/memory_store.hpp"
#include "memory_shard_fixture.hpp"

using namespace agentgraph;

namespace memory_scope_test {

using memory_shard_test::fixture;
using memory_shard_test::manual_clock;

memory_entry entry(const std::string& text, const std::string& scope, double importance = 0.5) {
  memory_entry e;
  e.text = text;
  e.importance = importance;
  if (!scope.empty())
    e.metadata[memory_scope_field] = scope;
  return e;
}

uint64_t put(fixture& f, const memory_actor& shard, const std::string& text,
             const std::string& scope, double importance = 0.5) {
  auto id = f.ask<uint64_t>(shard, store_atom::value, entry(text, scope, importance));
  REQUIRE(id);
  return *id;
}

caf::expected<std::vector<memory_hit>> scoped(fixture& f, const memory_actor& shard,
                                              const std::string& query, uint32_t k,
                                              std::vector<std::string> scopes) {
  return f.ask<std::vector<memory_hit>>(shard, recall_scoped_atom::value, query, k,
                                        std::move(scopes));
}

std::set<uint64_t> ids_of(const std::vector<memory_hit>& hits) {
  std::set<uint64_t> out;
  for (const auto& h : hits)
    out.insert(h.entry.id);
  return out;
}

// Ids a shard holds per scope, read through scoped recalls of k = 100.
std::set<uint64_t> scope_ids(fixture& f, const memory_actor& shard, const std::string& scope) {
  auto hits = scoped(f, shard, "anything", 100, {scope});
  REQUIRE(hits);
  return ids_of(*hits);
}

memory_config open_config(const std::string& name) {
  auto mc = memory_shard_test::config(name);
  mc.similarity_threshold = -1.0;  // every entry of a scope is a hit
  return mc;
}

// The store's scope index against its entries, and every scope within
// its bound.
void check_index(const memory_store& s) {
  CHECK(s.scopes_consistent());
  CHECK(s.scopes().over().empty());
  CHECK(s.bytes() == s.bytes_recounted());
  if (s.config().scope_entries_max > 0)
    for (const auto& [scope, ids] : s.scopes().contents())
      CHECK(ids.size() <= s.config().scope_entries_max);
}

// A store without a scope bound holding `count` entries, entry i (created
// at 10 + i) in scope_of(i).
memory_store unbounded(const std::string& name, uint32_t max_entries, int count,
                       const std::function<std::string(int)>& scope_of) {
  auto mc = open_config(name);
  mc.max_entries = max_entries;
  mc.scope_entries_max = 0;
  auto s = memory_store::make(mc);
  REQUIRE(s);
  for (int i = 0; i < count; ++i)
    REQUIRE(s->store(entry("note " + std::to_string(i), scope_of(i)), 10 + i));
  return std::move(*s);
}

}  // namespace memory_scope_test

using namespace memory_scope_test;

TEST_CASE("memory scope: a scoped recall returns only its scope, whatever is more similar") {
  fixture f;
  manual_clock clock;
  auto shard = f.spawn(open_config("pop"), clock);
  const std::string query = "the launch code is blue falcon";
  std::set<uint64_t> mine;
  for (int i = 0; i < 5; ++i)
    mine.insert(put(f, shard, "grocery list item " + std::to_string(i), "agent/1"));
  // Far more similar entries: the same text in another scope and in none.
  for (int i = 0; i < 20; ++i) {
    put(f, shard, query, "agent/2");
    put(f, shard, query, "");
  }
  clock.advance(50);
  auto hits = scoped(f, shard, query, 100, {"agent/1"});
  REQUIRE(hits);
  CHECK(ids_of(*hits) == mine);
  for (const auto& h : *hits) {
    CHECK(h.entry.metadata.get_string(memory_scope_field) == "agent/1");
    CHECK(h.entry.access_count == 1);
    CHECK(h.entry.last_access_ms == clock.now->load());
  }
  for (size_t i = 1; i < hits->size(); ++i)
    CHECK((*hits)[i - 1].score >= (*hits)[i].score);
  // k bounds the reply; the best come first, as recall orders them.
  auto two = scoped(f, shard, query, 2, {"agent/1"});
  REQUIRE(two);
  REQUIRE(two->size() == 2);
  CHECK((*two)[0].entry.id == (*hits)[0].entry.id);
  // The unscoped recall, by contrast, finds the near copies.
  auto all = f.ask<std::vector<memory_hit>>(shard, recall_atom::value, query, uint32_t{5});
  REQUIRE(all);
  for (const auto& h : *all)
    CHECK(mine.count(h.entry.id) == 0);
  // A scope nobody stored into: nothing.
  auto none = scoped(f, shard, query, 10, {"agent/3"});
  REQUIRE(none);
  CHECK(none->empty());
}

TEST_CASE("memory scope: the scores and threshold are recall's") {
  manual_clock clock;
  auto mc = memory_shard_test::config("exact");
  mc.similarity_threshold = 0.3;
  auto s = memory_store::make(mc);
  REQUIRE(s);
  const std::vector<std::string> texts = {"circuit breaker opens after failures",
                                          "circuit breaker half open probe", "lunch at noon",
                                          "the breaker resets after a minute"};
  for (const auto& t : texts)
    REQUIRE(s->store(entry(t, "k"), 1));
  auto plain = s->recall("circuit breaker opens", 10, 2);
  auto in_scope = s->recall_scoped("circuit breaker opens", 10, {"k"}, 3);
  REQUIRE(plain);
  REQUIRE(in_scope);
  // Every entry is in the scope, so both are the same hits, scored alike
  // (both exact here), and the threshold dropped the same ones.
  REQUIRE(in_scope->size() == plain->size());
  CHECK(plain->size() < texts.size());
  for (size_t i = 0; i < plain->size(); ++i) {
    CHECK((*in_scope)[i].entry.id == (*plain)[i].entry.id);
    CHECK((*in_scope)[i].score == (*plain)[i].score);
    CHECK((*in_scope)[i].entry.access_count == 2);  // both recalls counted
  }
}

TEST_CASE("memory scope: above exact_search_max a scoped recall still scores every entry") {
  auto mc = open_config("hnsw");
  mc.exact_search_max = 16;  // HNSW from 16 entries on
  mc.exact_search_sparse = false;  // the notes' vectors are sparse
  mc.max_entries = 400;
  auto s = memory_store::make(mc);
  REQUIRE(s);
  std::set<uint64_t> mine;
  for (int i = 0; i < 300; ++i) {
    auto scope = i % 10 == 0 ? std::string{"rare"} : "common/" + std::to_string(i % 7);
    auto id = s->store(entry("note number " + std::to_string(i) + " about topic " +
                               std::to_string(i % 13),
                             scope),
                       1);
    REQUIRE(id);
    if (scope == "rare")
      mine.insert(*id);
  }
  REQUIRE(s->index().uses_hnsw());
  auto hits = s->recall_scoped("note about topic 3", 100, {"rare"}, 2);
  REQUIRE(hits);
  CHECK(ids_of(*hits) == mine);  // all 30, however far from the query
  check_index(*s);
}

TEST_CASE("memory scope: two scopes recall their union, a repeated scope counts once") {
  fixture f;
  manual_clock clock;
  auto shard = f.spawn(open_config("pop"), clock);
  std::set<uint64_t> a, b;
  for (int i = 0; i < 4; ++i) {
    a.insert(put(f, shard, "private note " + std::to_string(i), "agent/a"));
    b.insert(put(f, shard, "shared note " + std::to_string(i), "team"));
    put(f, shard, "someone else's note " + std::to_string(i), "agent/b");
  }
  auto hits = scoped(f, shard, "note", 100, {"agent/a", "team"});
  REQUIRE(hits);
  std::set<uint64_t> both = a;
  both.insert(b.begin(), b.end());
  CHECK(hits->size() == 8);
  CHECK(ids_of(*hits) == both);
  auto twice = scoped(f, shard, "note", 100, {"team", "team"});
  REQUIRE(twice);
  CHECK(twice->size() == 4);
  CHECK(ids_of(*twice) == b);
}

TEST_CASE("memory scope: entries without a usable scope are never returned") {
  fixture f;
  manual_clock clock;
  auto shard = f.spawn(open_config("pop"), clock);
  const std::string text = "deploy window is tuesday";
  memory_entry unscoped = entry(text, "");
  memory_entry numeric = entry(text, "");
  numeric.metadata[memory_scope_field] = 42;
  memory_entry empty = entry(text, "");
  empty.metadata[memory_scope_field] = "";
  memory_entry too_long = entry(text, std::string(memory_scope_bytes_max + 1, 'x'));
  memory_entry scalar_metadata = entry(text, "");
  scalar_metadata.metadata = Value{"agent/1"};
  for (auto* e : {&unscoped, &numeric, &empty, &too_long, &scalar_metadata})
    REQUIRE(f.ask<uint64_t>(shard, store_atom::value, *e));
  auto kept = put(f, shard, "unrelated words", "agent/1");
  auto hits = scoped(f, shard, text, 100, {"agent/1", "42", "x"});
  REQUIRE(hits);
  CHECK(ids_of(*hits) == std::set<uint64_t>{kept});
  // The longest valid scope works.
  const std::string longest(memory_scope_bytes_max, 'y');
  auto id = put(f, shard, text, longest);
  auto found = scoped(f, shard, text, 10, {longest});
  REQUIRE(found);
  CHECK(ids_of(*found) == std::set<uint64_t>{id});
}

TEST_CASE("memory scope: bad arguments are invalid_argument") {
  fixture f;
  manual_clock clock;
  auto shard = f.spawn(open_config("pop"), clock);
  put(f, shard, "a note", "agent/1");
  auto refused = [&](uint32_t k, std::vector<std::string> scopes) {
    auto r = scoped(f, shard, "note", k, std::move(scopes));
    REQUIRE_FALSE(r);
    CHECK(errc_of(r.error()) == errc::invalid_argument);
  };
  refused(1, {});
  refused(1, std::vector<std::string>(memory_recall_scopes_max + 1, "agent/1"));
  refused(1, {"agent/1", ""});
  refused(1, {std::string(memory_scope_bytes_max + 1, 's')});
  refused(0, {"agent/1"});
  refused(recall_k_max + 1, {"agent/1"});
  auto long_query = scoped(f, shard, std::string(entry_text_bytes_max + 1, 'q'), 1, {"agent/1"});
  REQUIRE_FALSE(long_query);
  CHECK(errc_of(long_query.error()) == errc::invalid_argument);
  // The bounds themselves are accepted.
  std::vector<std::string> many;
  for (size_t i = 0; i < memory_recall_scopes_max; ++i)
    many.push_back(std::string(memory_scope_bytes_max - 1, 's') + char('a' + i));
  many.back() = "agent/1";
  auto ok = scoped(f, shard, "note", recall_k_max, many);
  REQUIRE(ok);
  CHECK(ok->size() == 1);
  CHECK(f.ask<pong_atom>(shard, ping_atom::value));
}

TEST_CASE("memory scope: scope_entries_max evicts within the full scope only") {
  fixture f;
  manual_clock clock;
  auto mc = open_config("bounded");
  mc.scope_entries_max = 3;
  mc.max_entries = 100;
  auto shard = f.spawn(mc, clock);
  std::vector<uint64_t> a;
  std::set<uint64_t> b, none;
  for (int i = 0; i < 6; ++i) {
    clock.advance(10);
    a.push_back(put(f, shard, "alpha note " + std::to_string(i), "a"));
    if (i < 3)
      b.insert(put(f, shard, "beta note " + std::to_string(i), "b"));
    none.insert(put(f, shard, "loose note " + std::to_string(i), ""));
  }
  // sliding_window: the scope's oldest go; the other scope and the unscoped
  // entries (older than a's survivors) stay.
  CHECK(scope_ids(f, shard, "a") == std::set<uint64_t>{a[3], a[4], a[5]});
  CHECK(scope_ids(f, shard, "b") == b);
  auto st = f.stats(shard);
  CHECK(st.entries == 3 + 3 + 6);
  CHECK(st.evictions == 3);
}

TEST_CASE("memory scope: under importance a full scope loses its lowest-value entry") {
  fixture f;
  manual_clock clock;
  auto mc = open_config("valued");
  mc.retention = retention_policy::importance;
  mc.scope_entries_max = 3;
  auto shard = f.spawn(mc, clock);
  auto keep1 = put(f, shard, "first fact", "a", 0.9);
  auto low = put(f, shard, "second fact", "a", 0.1);
  auto keep2 = put(f, shard, "third fact", "a", 0.8);
  auto other_low = put(f, shard, "other scope fact", "b", 0.05);
  clock.advance(10);
  auto keep3 = put(f, shard, "fourth fact", "a", 0.7);
  CHECK(scope_ids(f, shard, "a") == std::set<uint64_t>{keep1, keep2, keep3});
  // The shard's lowest entry overall was in another scope: untouched.
  CHECK(scope_ids(f, shard, "b") == std::set<uint64_t>{other_low});
  CHECK(f.stats(shard).evictions == 1);
  (void)low;
}

TEST_CASE("memory scope: scope_entries_max 0 is no bound, and the key is checked") {
  auto s = unbounded("unbounded", 50, 40, [](int) { return std::string{"one"}; });
  CHECK(s.scopes().ids("one")->size() == 40);
  CHECK(s.evictions() == 0);
  auto mc = s.config();
  mc.scope_entries_max = memory_scope_entries_max_limit + 1;
  auto bad = memory_store::make(mc);
  REQUIRE_FALSE(bad);
  CHECK(error_context(bad.error()).find("scope_entries_max") != std::string::npos);
}

TEST_CASE("memory scope: the index stays equal to the entries through retention and churn") {
  for (auto policy : retention_policies) {
    CAPTURE(to_string(policy));
    auto mc = open_config("churn");
    mc.retention = policy;
    mc.max_entries = 40;
    mc.scope_entries_max = 6;
    mc.exact_search_max = 25;  // cross the HNSW switch and its rebuilds
    mc.exact_search_sparse = false;  // the notes' vectors are sparse
    if (policy == retention_policy::hierarchical)
      mc.kind_limits = {{"fact", 10}};
    auto s = memory_store::make(mc);
    REQUIRE(s);
    std::mt19937 rng{7};
    int64_t now = 1'000;
    for (int step = 0; step < 1500; ++step) {
      now += static_cast<int64_t>(rng() % 50);
      const auto roll = rng() % 10;
      const std::string scope = rng() % 5 == 0 ? "" : "agent/" + std::to_string(rng() % 12);
      if (roll < 6) {
        auto e = entry("note " + std::to_string(rng() % 40) + " of " + scope, scope,
                       (rng() % 100) / 100.0);
        e.kind = rng() % 2 ? "fact" : "chat";
        REQUIRE(s->store(std::move(e), now));
      } else if (roll < 8) {
        REQUIRE(s->recall_scoped("note " + std::to_string(rng() % 40), 5,
                                 {"agent/" + std::to_string(rng() % 12), "agent/3"}, now));
      } else if (roll == 8) {
        s->evict({1 + rng() % s->next_id()});
      } else {
        s->discard({1 + rng() % s->next_id()});
      }
      if (step % 50 == 0)
        check_index(*s);
    }
    // The cleanup tick's retention, with time moved far on.
    s->enforce_retention(now + 10'000'000);
    check_index(*s);
  }
}

TEST_CASE("memory scope: replica pages and a restore with smaller bounds keep the index") {
  auto src = unbounded("pages", 100, 60, [](int i) { return "agent/" + std::to_string(i % 4); });
  // An import of the pages into a bounded copy trims each scope.
  auto bounded = src.config();
  bounded.scope_entries_max = 5;
  auto dst = memory_store::make(bounded);
  REQUIRE(dst);
  auto page = src.export_page(0, 1000);
  REQUIRE(page);
  auto added = dst->import_page(*page, 100);
  REQUIRE(added);
  CHECK(*added == 60);
  CHECK(dst->size() == 4 * 5);
  CHECK(dst->evictions() == 40);
  check_index(*dst);
  // A restore (the load at spawn) of more than the bound, then retention.
  auto restored = memory_store::make(bounded);
  REQUIRE(restored);
  REQUIRE_FALSE(restored->restore(src.entries_copy(), src.next_id()));
  CHECK(restored->scopes_consistent());
  CHECK(restored->scopes().over().size() == 4);
  CHECK(restored->enforce_retention(200) == 40);
  check_index(*restored);
  // The scope kept its newest five (sliding_window).
  std::set<uint64_t> expected;
  for (uint64_t id = 60; id > 40; id -= 4)
    expected.insert(id);
  CHECK(*restored->scopes().ids("agent/3") == expected);
}

TEST_CASE("memory scope: the index survives a reload, in snapshot and commit durability") {
  for (auto durability : memory_durabilities) {
    CAPTURE(to_string(durability));
    memory_shard_test::temp_dir dir;
    auto mc = open_config("reloaded");
    mc.durability = durability;
    mc.snapshot_path = dir.file("reloaded.db");
    mc.scope_entries_max = 4;
    std::map<std::string, std::set<uint64_t>> before;
    {
      fixture f;
      manual_clock clock;
      auto shard = f.spawn(mc, clock);
      for (int i = 0; i < 30; ++i) {
        clock.advance(5);
        put(f, shard, "reloaded note " + std::to_string(i), i % 5 == 0 ? "" : "s" + std::to_string(i % 3));
      }
      for (const auto& s : {"s0", "s1", "s2"})
        before[s] = scope_ids(f, shard, s);
      // commit: every answered store is on disk already; snapshot: write it.
      if (durability == memory_durability::snapshot)
        REQUIRE(f.ask<uint64_t>(shard, snapshot_atom::value));
    }
    for (const auto& [s, ids] : before)
      CHECK(ids.size() == 4);
    // Through the shard: each scope recalls what it held.
    {
      fixture g;
      manual_clock clock;
      clock.advance(1'000);
      auto shard = g.spawn(mc, clock);
      for (const auto& [s, ids] : before)
        CHECK(scope_ids(g, shard, s) == ids);
      REQUIRE(g.ask<uint64_t>(shard, snapshot_atom::value));
    }
    // And the store a spawn builds from the file: index equal to entries.
    auto snap = load_memory_snapshot(mc.snapshot_path);
    REQUIRE(snap);
    auto s = memory_store::make(mc);
    REQUIRE(s);
    REQUIRE_FALSE(s->restore(std::move(snap->entries), snap->next_id));
    check_index(*s);
    for (const auto& [name, ids] : before)
      CHECK(*s->scopes().ids(name) == ids);
  }
}

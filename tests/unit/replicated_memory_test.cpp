// The replicated memory front (actors/host/cluster/replicated_memory.hpp)
// with three "nodes" in one actor system: each has its own replica_table
// (filled by hand with the other nodes' shards, as the cluster directory
// glue fills it), its own shard and its own front. Stores reach every
// replica of the set under one id, recall fails over, a node that goes
// down is replaced and the new replica filled from the survivor, a node
// that drops out of the set still has its entries copied to the new set, a
// hostile source is dropped and the failed pass retried, and no entry is
// lost while one replica lives. cluster_replication.sh runs the
// same across real processes.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <thread>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>

#include "actors/agent/agent_group.hpp"
#include "actors/host/cluster/replicated_memory.hpp"
#include "actors/host/register_types.hpp"
#include "actors/memory/memory_shard.hpp"
#include "runtime/error.hpp"

namespace replicated_memory_test {

using namespace agentgraph;
using namespace std::chrono_literals;

struct node {
  std::string name;
  std::shared_ptr<replica_table> table = std::make_shared<replica_table>();
  std::shared_ptr<metrics::registry> metrics = std::make_shared<metrics::registry>();
  memory_actor shard;
  replicated_memory_actor front;
};

struct cluster_fixture {
  caf::actor_system_config cfg;
  std::optional<caf::actor_system> sys;
  std::optional<caf::scoped_actor> self;
  std::map<std::string, node> nodes;

  // connected = false: no table holds another node's offer yet (offer()).
  explicit cluster_fixture(uint32_t replicas, std::vector<std::string> names = {"n1", "n2", "n3"},
                           bool connected = true) {
    register_all_types(cfg);
    sys.emplace(cfg);
    self.emplace(*sys);
    memory_config mc;
    mc.name = "notes";
    mc.similarity_threshold = -1.0;
    for (const auto& n : names) {
      auto& x = nodes[n];
      x.name = n;
      x.table->set_self(n);
      auto shard = spawn_memory_shard(*sys, mc);
      REQUIRE(shard);
      x.shard = *shard;
    }
    uint64_t seed = 1;
    for (auto& [n, x] : nodes) {
      replicated_memory_args args;
      args.name = "notes";
      args.replicas = replicas;
      args.local = x.shard;
      args.table = x.table;
      args.now_ms = [] { return int64_t{1'700'000'000'000}; };
      args.seed = seed++;
      args.settle = 50ms;
      args.metrics = x.metrics;
      auto front = spawn_replicated_memory(*sys, args);
      REQUIRE(front);
      x.front = *front;
    }
    for (auto& [n, x] : nodes)
      for (auto& [m, y] : nodes)
        if (connected && n != m)
          offer(n, m);
  }
  ~cluster_fixture() {
    for (auto& [n, x] : nodes) {
      caf::anon_send_exit(x.front, caf::exit_reason::user_shutdown);
      caf::anon_send_exit(x.shard, caf::exit_reason::user_shutdown);
    }
    self.reset();
  }

  // The table of `at` learns the offer of `from` (the directory glue's part).
  void offer(const std::string& at, const std::string& from) {
    nodes[at].table->put("notes", from, 1, caf::actor_cast<caf::actor>(nodes[from].shard));
  }

  // The nodes rendezvous hashing puts in the set, best first.
  std::vector<std::string> expected_set(uint32_t r, const std::set<std::string>& live) {
    std::vector<std::string> keys(live.begin(), live.end());
    std::vector<bool> tried(keys.size(), false);
    std::vector<std::string> out;
    while (out.size() < r) {
      const int i = rendezvous_pick("notes", keys, tried);
      if (i < 0)
        break;
      tried[static_cast<size_t>(i)] = true;
      out.push_back(keys[static_cast<size_t>(i)]);
    }
    return out;
  }

  caf::expected<uint64_t> store(const std::string& at, const std::string& text) {
    caf::expected<uint64_t> out = make_error(errc::internal, "no reply");
    memory_entry e;
    e.text = text;
    (*self)->request(memory_actor{nodes[at].front}, 10s, store_atom::value, e)
      .receive([&](uint64_t id) { out = id; }, [&](caf::error& err) { out = err; });
    return out;
  }

  caf::expected<std::vector<memory_hit>> recall(const std::string& at, const std::string& q,
                                                uint32_t k = 100) {
    caf::expected<std::vector<memory_hit>> out = make_error(errc::internal, "no reply");
    (*self)->request(memory_actor{nodes[at].front}, 10s, recall_atom::value, q, k)
      .receive([&](std::vector<memory_hit>& h) { out = std::move(h); },
               [&](caf::error& err) { out = err; });
    return out;
  }

  // Ids the shard of `at` holds (exported page by page).
  std::set<uint64_t> held(const std::string& at) {
    std::set<uint64_t> out;
    uint64_t after = 0;
    for (bool more = true; more;) {
      more = false;
      (*self)->request(caf::actor_cast<memory_replica_actor>(nodes[at].shard), 10s,
                       memory_export_atom::value, after, uint32_t{100})
        .receive(
          [&](memory_page& p) {
            for (const auto& e : p.entries)
              out.insert(e.id);
            more = p.more && !p.entries.empty();
            if (more)
              after = p.entries.back().id;
          },
          [&](caf::error&) {});
    }
    return out;
  }

  // Polls `pred` for up to 10 s (the fronts work asynchronously).
  bool eventually(const std::function<bool()>& pred) {
    for (int i = 0; i < 1000; ++i) {
      if (pred())
        return true;
      std::this_thread::sleep_for(10ms);
    }
    return pred();
  }

  // A node goes down: its front and shard stop, and the others' tables
  // forget its offer (what the directory glue does on member down).
  void kill(const std::string& n) {
    auto& x = nodes[n];
    caf::anon_send_exit(x.front, caf::exit_reason::kill);
    caf::anon_send_exit(x.shard, caf::exit_reason::kill);
    for (auto& [m, y] : nodes)
      if (m != n)
        y.table->drop_node(n, 1);
  }
};

double metric(const node& x, const std::string& series) {
  const auto text = x.metrics->scrape();
  const auto at = text.find(series + " ");
  return at == std::string::npos ? -1 : std::stod(text.substr(at + series.size() + 1));
}

}  // namespace replicated_memory_test

using namespace replicated_memory_test;

TEST_CASE("replicated memory: a store reaches every replica of the set under one id") {
  cluster_fixture f{2};
  const auto set = f.expected_set(2, {"n1", "n2", "n3"});
  std::string outside;
  for (const auto& [n, x] : f.nodes)
    if (std::find(set.begin(), set.end(), n) == set.end())
      outside = n;
  std::set<uint64_t> ids;
  for (int i = 0; i < 30; ++i) {
    // Through every node's front, the one outside the set included.
    const auto at = "n" + std::to_string(1 + i % 3);
    auto id = f.store(at, "fact number " + std::to_string(i));
    REQUIRE(id);
    CHECK(*id != 0);
    CHECK(*id < memory_replica_id_limit);
    ids.insert(*id);
  }
  CHECK(ids.size() == 30);
  CHECK(f.held(set[0]) == ids);
  CHECK(f.held(set[1]) == ids);
  CHECK(f.held(outside).empty());
  for (const auto& n : set)
    CHECK(metric(f.nodes[n], "agentgraph_memory_replicas{shard=\"notes\"}") == 2);
  // Any front recalls every entry.
  for (const auto& n : {"n1", "n2", "n3"}) {
    auto hits = f.recall(n, "fact number", 100);
    REQUIRE(hits);
    CHECK(hits->size() == 30);
  }
  // Invalid entries are refused before any replica sees them.
  memory_entry with_id;
  with_id.id = 5;
  with_id.text = "x";
  caf::error refused;
  (*f.self)->request(memory_actor{f.nodes["n1"].front}, 10s, store_atom::value, with_id)
    .receive([](uint64_t) {}, [&](caf::error& err) { refused = err; });
  CHECK(errc_of(refused) == errc::invalid_argument);
  CHECK_FALSE(f.store("n1", ""));
}

TEST_CASE("replicated memory: recall fails over when a replica is unavailable") {
  cluster_fixture f{2};
  const auto set = f.expected_set(2, {"n1", "n2", "n3"});
  for (int i = 0; i < 10; ++i)
    REQUIRE(f.store(set[0], "note " + std::to_string(i)));
  // The front's own shard dies (its table is not told): the recall moves on.
  caf::anon_send_exit(f.nodes[set[0]].shard, caf::exit_reason::kill);
  auto hits = f.recall(set[0], "note");
  REQUIRE(hits);
  CHECK(hits->size() == 10);
  // Both replicas gone: unavailable, for recalls and stores alike.
  caf::anon_send_exit(f.nodes[set[1]].shard, caf::exit_reason::kill);
  auto none = f.recall(set[0], "note");
  REQUIRE_FALSE(none);
  CHECK(errc_of(none.error()) == errc::unavailable);
  auto lost = f.store(set[0], "nowhere to go");
  REQUIRE_FALSE(lost);
  CHECK(errc_of(lost.error()) == errc::unavailable);
}

TEST_CASE("replicated memory: a store answers when a replica's node went down, on the live ones") {
  cluster_fixture f{2};
  const auto set = f.expected_set(2, {"n1", "n2", "n3"});
  std::string outside = "n1";
  for (const auto& n : {"n1", "n2", "n3"})
    if (std::find(set.begin(), set.end(), n) == set.end())
      outside = n;
  // The shard dies without the table knowing yet: the store still answers.
  // Waiting for its exit makes sure the store meets a dead replica.
  caf::anon_send_exit(f.nodes[set[1]].shard, caf::exit_reason::kill);
  (*f.self)->wait_for(f.nodes[set[1]].shard);
  auto id = f.store(outside, "written while a replica is down");
  REQUIRE(id);
  CHECK(f.held(set[0]).count(*id) == 1);
}

TEST_CASE("replicated memory: a replica's node goes down, the next node is filled, nothing is lost") {
  cluster_fixture f{2};
  const auto set = f.expected_set(2, {"n1", "n2", "n3"});
  std::set<uint64_t> ids;
  for (int i = 0; i < 300; ++i) {  // more than one fill page
    auto id = f.store("n" + std::to_string(1 + i % 3), "entry " + std::to_string(i));
    REQUIRE(id);
    ids.insert(*id);
  }
  REQUIRE(f.held(set[1]) == ids);
  f.kill(set[1]);
  std::set<std::string> live{"n1", "n2", "n3"};
  live.erase(set[1]);
  const auto after = f.expected_set(2, live);
  std::string fresh;
  for (const auto& n : after)
    if (n != set[0])
      fresh = n;
  REQUIRE(fresh != "");
  REQUIRE(f.eventually([&] { return f.held(fresh) == ids; }));
  CHECK(f.held(set[0]) == ids);  // the survivor: unchanged
  CHECK(f.eventually([&] {
    return metric(f.nodes[fresh], "agentgraph_memory_rereplicated_entries_total{shard=\"notes\"}")
           == 300;
  }));
  // New stores reach the new set; the survivor's front recalls them all.
  auto id = f.store(set[0], "after the failover");
  REQUIRE(id);
  CHECK(f.held(fresh).count(*id) == 1);
  // The survivor goes down too: the filled node alone still has every entry.
  f.kill(set[0]);
  auto hits = f.recall(fresh, "entry", 100);
  REQUIRE(hits);
  CHECK(hits->size() == 100);
  CHECK(f.held(fresh).size() == 301);
}

TEST_CASE("replicated memory: entries of a node that drops out of the set reach the new set") {
  cluster_fixture f{2, {"n1", "n2", "n3"}, false};
  const auto ranked = f.expected_set(3, {"n1", "n2", "n3"});
  const std::string a = ranked[2], b = ranked[0], c = ranked[1];
  // a alone: its set is {a}, and it holds every entry.
  std::set<uint64_t> ids;
  for (int i = 0; i < 300; ++i) {  // more than one fill page
    auto id = f.store(a, "alone " + std::to_string(i));
    REQUIRE(id);
    ids.insert(*id);
  }
  REQUIRE(f.held(a) == ids);
  // b and c meet first (their set {b, c} is final then; both are empty),
  // then learn of a, which ranks below both: the set stays {b, c}.
  f.offer(b, c);
  f.offer(c, b);
  f.offer(b, a);
  f.offer(c, a);
  f.offer(a, b);
  f.offer(a, c);
  CHECK(f.eventually([&] { return f.held(b) == ids && f.held(c) == ids; }));
  CHECK(metric(f.nodes[b], "agentgraph_memory_replicas{shard=\"notes\"}") == 2);
  // a's front now reads from b or c; a's copy is no longer in the set.
  f.kill(a);
  for (const auto& n : {b, c}) {
    auto hits = f.recall(n, "alone", 100);
    REQUIRE(hits);
    CHECK(hits->size() == 100);
  }
}

TEST_CASE("replicated memory: a source whose pages do not advance is dropped and the pass retried") {
  cluster_fixture f{2, {"n1", "n2"}, false};
  // A node name that ranks in the set with one of n1, n2 (the filler)
  // above the other (the honest source): the filler fills from both.
  std::string evil, filler, honest;
  for (int i = 0; i < 100 && evil.empty(); ++i) {
    const auto name = "evil" + std::to_string(i);
    const auto set = f.expected_set(2, {"n1", "n2", name});
    for (const std::string x : {"n1", "n2"})
      if (evil.empty() && std::count(set.begin(), set.end(), x) == 1
          && std::count(set.begin(), set.end(), name) == 1) {
        evil = name;
        filler = x;
        honest = x == "n1" ? "n2" : "n1";
      }
  }
  REQUIRE_FALSE(evil.empty());
  // Every page holds one valid entry whose id never passes the cursor
  // (more = true): a fill trusting it would ask again forever.
  auto passes = std::make_shared<std::atomic<int>>(0);
  auto hostile = f.sys->spawn([passes](caf::event_based_actor*) -> caf::behavior {
    return {[passes](memory_export_atom, uint64_t after, uint32_t) {
      if (after == 0)
        ++*passes;
      memory_entry e;
      e.id = after == 0 ? 1 : after;
      e.text = "loop";
      e.created_ms = 1;
      memory_page page;
      page.entries.push_back(e);
      page.more = true;
      return page;
    }};
  });
  std::shared_ptr<void> stop(nullptr, [&](void*) {
    caf::anon_send_exit(hostile, caf::exit_reason::user_shutdown);
  });
  std::set<uint64_t> ids;
  for (int i = 0; i < 50; ++i) {
    auto id = f.store(honest, "honest " + std::to_string(i));
    REQUIRE(id);
    ids.insert(*id);
  }
  f.nodes[filler].table->put("notes", evil, 1, hostile);
  f.offer(filler, honest);
  auto expected = ids;
  expected.insert(1);  // the hostile source's first page was valid
  CHECK(f.eventually([&] { return f.held(filler) == expected; }));
  // The pass failed (the source was dropped), so it is retried: the hostile
  // source sees new passes start at the first id again.
  CHECK(f.eventually([&] { return passes->load() >= 3; }));
}

TEST_CASE("replicated memory: a scoped recall is forwarded like recall, with failover") {
  cluster_fixture f{2};
  const auto set = f.expected_set(2, {"n1", "n2", "n3"});
  auto ask = [&](const std::string& at, std::vector<std::string> scopes) {
    caf::expected<std::vector<memory_hit>> out = make_error(errc::internal, "no reply");
    (*f.self)->request(memory_actor{f.nodes[at].front}, 10s, recall_scoped_atom::value,
                       std::string{"note"}, uint32_t{100}, std::move(scopes))
      .receive([&](std::vector<memory_hit>& h) { out = std::move(h); },
               [&](caf::error& err) { out = err; });
    return out;
  };
  std::set<uint64_t> mine;
  for (int i = 0; i < 12; ++i) {
    memory_entry e;
    e.text = "note " + std::to_string(i);
    e.metadata[memory_scope_field] = i % 3 == 0 ? "agent/1" : "agent/2";
    caf::expected<uint64_t> id = make_error(errc::internal, "no reply");
    (*f.self)->request(memory_actor{f.nodes["n" + std::to_string(1 + i % 3)].front}, 10s,
                       store_atom::value, e)
      .receive([&](uint64_t x) { id = x; }, [&](caf::error& err) { id = err; });
    REQUIRE(id);
    if (i % 3 == 0)
      mine.insert(*id);
  }
  for (const auto& n : {"n1", "n2", "n3"}) {
    auto hits = ask(n, {"agent/1"});
    REQUIRE(hits);
    std::set<uint64_t> got;
    for (const auto& h : *hits)
      got.insert(h.entry.id);
    CHECK(got == mine);
  }
  // The shard's refusal comes back through the front.
  auto bad = ask("n1", {});
  REQUIRE_FALSE(bad);
  CHECK(errc_of(bad.error()) == errc::invalid_argument);
  // The front's own replica dies: the scoped recall moves to the other.
  caf::anon_send_exit(f.nodes[set[0]].shard, caf::exit_reason::kill);
  auto moved = ask(set[0], {"agent/1", "agent/2"});
  REQUIRE(moved);
  CHECK(moved->size() == 12);
}

TEST_CASE("replicated memory: the fronts' ids differ per seed and stay below 2^62") {
  std::set<uint64_t> seen;
  for (uint64_t seed : {1ull, 2ull, 0xdeadbeefull})
    for (uint64_t c = 1; c <= 2000; ++c) {
      const auto id = replica_entry_id(seed, c);
      CHECK(id != 0);
      CHECK(id < memory_replica_id_limit);
      seen.insert(id);
    }
  CHECK(seen.size() == 6000);
  CHECK(replica_entry_id(7, 9) == replica_entry_id(7, 9));  // every replica computes nothing: the front sends it
}

TEST_CASE("replicated memory: spawn refuses bad arguments") {
  caf::actor_system_config cfg;
  register_all_types(cfg);
  caf::actor_system sys{cfg};
  replicated_memory_args args;
  args.name = "notes";
  args.replicas = 1;
  CHECK_FALSE(spawn_replicated_memory(sys, args));
  args.replicas = 2;
  CHECK_FALSE(spawn_replicated_memory(sys, args));  // no table, shard or clock
}

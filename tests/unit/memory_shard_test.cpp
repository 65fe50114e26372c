// The memory shard actor, through a scoped_actor: store, recall, stats,
// snapshots through a real SQLite file, cleanup and spawn errors. Time is
// injected, so nothing sleeps.
#include <doctest/doctest.h>

#include <fstream>

#include "memory_shard_fixture.hpp"

using namespace agentgraph;

using memory_shard_test::fixture;
using memory_shard_test::manual_clock;

TEST_CASE("memory: shard stores, recalls best first and reports stats") {
  fixture f;
  manual_clock clock;
  auto shard = f.spawn(memory_shard_test::config("notes"), clock);
  CHECK(f.ask<pong_atom>(shard, ping_atom::value));
  auto a = f.store(shard, "the circuit breaker opens after five failures");
  auto b = f.store(shard, "the circuit breaker opens after repeated failures");
  f.store(shard, "lunch is at noon on fridays");
  CHECK(a == 1);
  CHECK(b == 2);
  clock.advance(500);
  auto hits = f.ask<std::vector<memory_hit>>(shard, recall_atom::value,
                                             std::string{"circuit breaker opens after failures"},
                                             uint32_t{5});
  REQUIRE(hits);
  REQUIRE(hits->size() == 2);
  CHECK((*hits)[0].score >= (*hits)[1].score);
  CHECK((*hits)[0].entry.last_access_ms == 1'000'500);
  CHECK((*hits)[0].entry.metadata.get_string("origin") == "test");
  auto st = f.stats(shard);
  CHECK(st.name == "notes");
  CHECK(st.entries == 3);
  CHECK(st.bytes > 0);
  CHECK(st.bytes_per_entry == doctest::Approx(static_cast<double>(st.bytes) / 3));
  CHECK(st.evictions == 0);
  CHECK(st.snapshots_written == 0);
}

TEST_CASE("memory: shard replies invalid_argument to bad requests") {
  fixture f;
  manual_clock clock;
  auto shard = f.spawn(memory_shard_test::config("notes"), clock);
  for (uint32_t k : {0u, 101u}) {
    auto r = f.ask<std::vector<memory_hit>>(shard, recall_atom::value, std::string{"q"}, k);
    REQUIRE_FALSE(r);
    CHECK(errc_of(r.error()) == errc::invalid_argument);
  }
  memory_entry empty;
  auto r = f.ask<uint64_t>(shard, store_atom::value, empty);
  REQUIRE_FALSE(r);
  CHECK(errc_of(r.error()) == errc::invalid_argument);
  // The shard survives bad requests.
  CHECK(f.ask<pong_atom>(shard, ping_atom::value));
}

TEST_CASE("memory: shard evicts on store beyond max_entries") {
  fixture f;
  manual_clock clock;
  auto mc = memory_shard_test::config("window");
  mc.max_entries = 4;
  auto shard = f.spawn(mc, clock);
  for (int i = 0; i < 10; ++i) {
    clock.advance(10);
    f.store(shard, "message " + std::to_string(i));
  }
  auto st = f.stats(shard);
  CHECK(st.entries == 4);
  CHECK(st.evictions == 6);
}

TEST_CASE("memory: snapshot round trip through SQLite restores every entry and id") {
  memory_shard_test::temp_dir dir;
  auto mc = memory_shard_test::config("persisted");
  mc.snapshot_path = dir.file("persisted.db");
  std::vector<memory_entry> before;
  {
    fixture f;
    manual_clock clock;
    auto shard = f.spawn(mc, clock);
    for (int i = 0; i < 25; ++i) {
      clock.advance(7);
      f.store(shard, "persisted fact number " + std::to_string(i), i % 3 ? "chat" : "fact");
    }
    clock.advance(100);
    REQUIRE(f.ask<std::vector<memory_hit>>(shard, recall_atom::value,
                                           std::string{"persisted fact number 3"}, uint32_t{3}));
    auto written = f.ask<uint64_t>(shard, snapshot_atom::value);
    REQUIRE(written);
    CHECK(*written == 25);
    CHECK(f.stats(shard).snapshots_written == 1);
    // Read back what the shard holds now, through recall of each text.
    for (int i = 0; i < 25; ++i) {
      auto h = f.ask<std::vector<memory_hit>>(
        shard, recall_atom::value, std::string{"persisted fact number " + std::to_string(i)},
        uint32_t{1});
      REQUIRE(h);
      REQUIRE(h->size() == 1);
      before.push_back((*h)[0].entry);
    }
    // Those recalls changed access fields after the snapshot: write again.
    REQUIRE(f.ask<uint64_t>(shard, snapshot_atom::value));
  }
  fixture g;
  manual_clock clock;
  clock.advance(10'000);
  auto shard = g.spawn(mc, clock);
  CHECK(g.stats(shard).entries == 25);
  for (const auto& e : before) {
    auto h = g.ask<std::vector<memory_hit>>(shard, recall_atom::value, e.text, uint32_t{1});
    REQUIRE(h);
    REQUIRE(h->size() == 1);
    const auto& back = (*h)[0].entry;
    CHECK(back.id == e.id);
    CHECK(back.text == e.text);
    CHECK(back.kind == e.kind);
    CHECK(back.importance == e.importance);
    CHECK(back.metadata == e.metadata);
    CHECK(back.created_ms == e.created_ms);
    // This recall is one more access than the snapshot recorded.
    CHECK(back.access_count == e.access_count + 1);
  }
  // Ids continue after the restored ones; none is reused.
  CHECK(g.store(shard, "a new entry after restart") == 26);
}

TEST_CASE("memory: spawning from a corrupt snapshot fails, naming the file") {
  memory_shard_test::temp_dir dir;
  auto mc = memory_shard_test::config("broken");
  mc.snapshot_path = dir.file("broken.db");
  {
    std::ofstream out(mc.snapshot_path, std::ios::binary);
    out << std::string(4096, '\x5a');
  }
  fixture f;
  auto shard = spawn_memory_shard(f.sys, mc);
  REQUIRE_FALSE(shard);
  CHECK(errc_of(shard.error()) == errc::parse_error);
  CHECK(error_context(shard.error()).find(mc.snapshot_path) != std::string::npos);
}

TEST_CASE("memory: spawning with an invalid config fails, naming the key") {
  fixture f;
  auto mc = memory_shard_test::config("bad");
  mc.similarity_threshold = -2;
  auto shard = spawn_memory_shard(f.sys, mc);
  REQUIRE_FALSE(shard);
  CHECK(errc_of(shard.error()) == errc::invalid_argument);
  CHECK(error_context(shard.error()).find("memory.bad.similarity_threshold") != std::string::npos);
}

TEST_CASE("memory: cleanup trims a restored snapshot to a smaller max_entries") {
  memory_shard_test::temp_dir dir;
  auto mc = memory_shard_test::config("shrinking");
  mc.snapshot_path = dir.file("shrinking.db");
  {
    fixture f;
    manual_clock clock;
    auto shard = f.spawn(mc, clock);
    for (int i = 0; i < 12; ++i) {
      clock.advance(1);
      f.store(shard, "old entry " + std::to_string(i));
    }
    REQUIRE(f.ask<uint64_t>(shard, snapshot_atom::value));
  }
  mc.max_entries = 5;
  fixture g;
  manual_clock clock;
  auto shard = g.spawn(mc, clock);
  // The spawn queued a cleanup ahead of every request.
  auto st = g.stats(shard);
  CHECK(st.entries == 5);
  CHECK(st.evictions == 7);
  auto hits = g.ask<std::vector<memory_hit>>(shard, recall_atom::value, std::string{"old entry 11"},
                                             uint32_t{1});
  REQUIRE(hits);
  REQUIRE(hits->size() == 1);
  CHECK((*hits)[0].entry.id == 12);  // the newest survived
}

TEST_CASE("memory: cleanup writes a periodic snapshot only when due and dirty") {
  memory_shard_test::temp_dir dir;
  auto mc = memory_shard_test::config("periodic");
  mc.snapshot_path = dir.file("periodic.db");
  mc.durability = memory_durability::snapshot;  // the whole-shard writer
  mc.snapshot_interval = std::chrono::milliseconds{30'000};
  fixture f;
  manual_clock clock;
  auto shard = f.spawn(mc, clock);
  f.store(shard, "something worth keeping");
  // Dirty but not due: no snapshot.
  f.self->send(shard, cleanup_atom::value);
  CHECK(f.stats(shard).snapshots_written == 0);
  clock.advance(30'000);
  f.self->send(shard, cleanup_atom::value);
  // The writer handles requests in order, so when this explicit snapshot is
  // confirmed the periodic one has been confirmed before it.
  REQUIRE(f.ask<uint64_t>(shard, snapshot_atom::value));
  CHECK(f.stats(shard).snapshots_written == 2);
  // Clean now: a due tick writes nothing.
  clock.advance(30'000);
  f.self->send(shard, cleanup_atom::value);
  REQUIRE(f.ask<uint64_t>(shard, snapshot_atom::value));
  CHECK(f.stats(shard).snapshots_written == 3);
}

TEST_CASE("memory: snapshot without a path writes nothing, an unwritable path is io_error") {
  fixture f;
  manual_clock clock;
  auto shard = f.spawn(memory_shard_test::config("volatile"), clock);
  f.store(shard, "not persisted");
  auto zero = f.ask<uint64_t>(shard, snapshot_atom::value);
  REQUIRE(zero);
  CHECK(*zero == 0);
  memory_shard_test::temp_dir dir;
  auto mc = memory_shard_test::config("unwritable");
  // The whole-shard writer: a store is answered from memory, the snapshot
  // fails (memory_commit_test.cpp covers a failing commit).
  mc.durability = memory_durability::snapshot;
  // A regular file where the snapshot's directory should be.
  { std::ofstream{dir.file("plain-file")} << "not a directory"; }
  mc.snapshot_path = dir.file("plain-file/shard.db");
  auto bad = f.spawn(mc, clock);
  f.store(bad, "cannot be saved");
  auto r = f.ask<uint64_t>(bad, snapshot_atom::value);
  REQUIRE_FALSE(r);
  CHECK(errc_of(r.error()) == errc::io_error);
  CHECK(error_context(r.error()).find(mc.snapshot_path) != std::string::npos);
  CHECK(f.stats(bad).snapshots_written == 0);
  // The failure does not take the shard down.
  CHECK(f.ask<pong_atom>(bad, ping_atom::value));
}

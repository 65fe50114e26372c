// Commit durability of a memory shard: the change queue and the commit file
// on their own, then the shard through a scoped_actor, reopening its file
// from a fresh shard while the first one is still running and never wrote a
// snapshot (what a restart after kill -9 sees; integration.memory_kill9
// does it with a real process and a real SIGKILL).
#include <doctest/doctest.h>

#include <fstream>
#include <utility>

#include "actors/memory/memory_commit.hpp"
#include "actors/memory/memory_snapshot.hpp"
#include "memory_shard_fixture.hpp"
#include "runtime/metrics/registry.hpp"

using namespace agentgraph;

namespace memory_commit_test {

memory_entry entry(uint64_t id, const std::string& text) {
  memory_entry e;
  e.id = id;
  e.text = text;
  e.created_ms = 1000 + static_cast<int64_t>(id);
  e.metadata["n"] = Value{static_cast<long long>(id)};
  return e;
}

// The value of one series on a scrape page; -1 when it is missing.
double scraped(const std::string& page, const std::string& series) {
  auto at = page.find("\n" + series + " ");
  if (at == std::string::npos)
    return -1;
  return std::strtod(page.c_str() + at + series.size() + 2, nullptr);
}

using store_handle = decltype(std::declval<caf::scoped_actor&>()->request(
  std::declval<memory_actor>(), memory_shard_test::reply_timeout, store_atom::value,
  memory_entry{}));

// Requests `n` stores without waiting for any reply.
std::vector<store_handle> send_stores(memory_shard_test::fixture& f, const memory_actor& shard,
                                      int n, const std::string& prefix) {
  std::vector<store_handle> out;
  for (int i = 0; i < n; ++i) {
    memory_entry e;
    e.text = prefix + " number " + std::to_string(i);
    out.push_back(f.self->request(shard, memory_shard_test::reply_timeout, store_atom::value, e));
  }
  return out;
}

caf::expected<uint64_t> reply_of(store_handle& h) {
  caf::expected<uint64_t> out{caf::error{}};
  h.receive([&](uint64_t id) { out = id; }, [&](caf::error& err) { out = std::move(err); });
  return out;
}

// Requests `n` stores at once, then collects every reply in order.
std::vector<caf::expected<uint64_t>> store_all(memory_shard_test::fixture& f,
                                               const memory_actor& shard, int n,
                                               const std::string& prefix) {
  auto handles = send_stores(f, shard, n, prefix);
  std::vector<caf::expected<uint64_t>> out;
  for (auto& h : handles)
    out.push_back(reply_of(h));
  return out;
}

memory_config commit_config(const memory_shard_test::temp_dir& dir, const std::string& name) {
  auto mc = memory_shard_test::config(name);
  mc.snapshot_path = dir.file(name + ".db");
  mc.durability = memory_durability::commit;
  return mc;
}

}  // namespace memory_commit_test

using memory_shard_test::fixture;
using memory_shard_test::manual_clock;
using memory_commit_test::scraped;

TEST_CASE("memory: commit queue keeps one change per entry and cuts the oldest first") {
  memory_commit_queue q;
  q.upsert(5);
  q.upsert(3);
  q.upsert(5);  // recalled again: still one row to write
  q.remove(7);
  q.upsert(7);  // nothing follows a removal
  q.upsert(9);
  q.remove(9);  // stored, then evicted before its commit: a delete
  CHECK(q.size() == 4);
  auto cut = q.take(3);
  CHECK(cut.upserts == std::vector<uint64_t>{3, 5});
  CHECK(cut.deletes == std::vector<uint64_t>{7});
  CHECK(q.size() == 1);
  CHECK(q.contains(9));
  // The cut failed: its changes go back, except where a newer one stands.
  q.remove(5);
  q.requeue(cut);
  auto all = q.take(100);
  CHECK(all.upserts == std::vector<uint64_t>{3});
  CHECK(all.deletes == std::vector<uint64_t>{5, 7, 9});
  CHECK(q.empty());
}

TEST_CASE("memory: commit file batches load back like a snapshot, on top of an old snapshot") {
  memory_shard_test::temp_dir dir;
  const auto path = dir.file("log.db");
  // A file in the snapshot format (what every earlier version wrote).
  REQUIRE(save_memory_snapshot(path, {memory_commit_test::entry(1, "old one"),
                                      memory_commit_test::entry(2, "old two")},
                               3, memory_shard_test::hash256_label));
  memory_commit_file file{path};
  memory_commit_batch b1;
  b1.upserts = {memory_commit_test::entry(3, "three"), memory_commit_test::entry(4, "four")};
  b1.next_id = 5;
  auto n = file.commit(b1);
  REQUIRE(n);
  CHECK(*n == 2);
  memory_commit_batch b2;
  auto recalled = memory_commit_test::entry(3, "three");
  recalled.access_count = 2;
  recalled.last_access_ms = 9999;
  b2.upserts = {recalled};
  b2.deletes = {1, 42};  // 42 was never written: skipped
  b2.next_id = 6;
  REQUIRE(file.commit(b2));
  // Read while the writer's connection is still open, as after a crash.
  auto snap = load_memory_snapshot(path);
  REQUIRE(snap);
  CHECK(snap->next_id == 6);
  REQUIRE(snap->entries.size() == 3);
  CHECK(snap->entries[0].text == "old two");
  CHECK(snap->entries[1].id == 3);
  CHECK(snap->entries[1].access_count == 2);
  CHECK(snap->entries[1].last_access_ms == 9999);
  CHECK(snap->entries[1].metadata == memory_commit_test::entry(3, "x").metadata);
  CHECK(snap->entries[2].text == "four");
  REQUIRE(file.compact());
  std::error_code ec;
  CHECK(std::filesystem::file_size(path + "-wal", ec) == 0);
}

TEST_CASE("memory: a commit file that cannot be written fails with io_error naming it") {
  memory_shard_test::temp_dir dir;
  { std::ofstream{dir.file("plain-file")} << "not a directory"; }
  const auto path = dir.file("plain-file/shard.db");
  memory_commit_file file{path};
  memory_commit_batch b;
  b.upserts = {memory_commit_test::entry(1, "lost")};
  b.next_id = 2;
  auto r = file.commit(b);
  REQUIRE_FALSE(r);
  CHECK(errc_of(r.error()) == errc::io_error);
  CHECK(error_context(r.error()).find(path) != std::string::npos);
}

TEST_CASE("memory: commit durability: every answered store is in the file without a snapshot") {
  memory_shard_test::temp_dir dir;
  auto mc = memory_commit_test::commit_config(dir, "durable");
  mc.snapshot_interval = std::chrono::hours{24};  // no periodic anything
  fixture f;
  manual_clock clock;
  auto reg = std::make_shared<metrics::registry>();
  auto shard = f.spawn(mc, clock, reg);
  auto replies = memory_commit_test::store_all(f, shard, 50, "durable fact");
  for (const auto& r : replies)
    REQUIRE(r);
  // Recalled access fields reach the file with the next commit: the store
  // after the recall is answered only once they are written too.
  auto hits = f.ask<std::vector<memory_hit>>(shard, recall_atom::value,
                                             std::string{"durable fact number 7"}, uint32_t{1});
  REQUIRE(hits);
  REQUIRE(hits->size() == 1);
  const auto recalled_id = (*hits)[0].entry.id;
  CHECK(f.store(shard, "one more after the recall") == 51);
  CHECK(f.stats(shard).snapshots_written == 0);
  // A fresh shard on the same file; the first one never snapshotted.
  manual_clock later;
  auto again = f.spawn(mc, later);
  CHECK(f.stats(again).entries == 51);
  auto back = f.ask<std::vector<memory_hit>>(again, recall_atom::value,
                                             std::string{"durable fact number 7"}, uint32_t{1});
  REQUIRE(back);
  REQUIRE(back->size() == 1);
  CHECK((*back)[0].entry.id == recalled_id);
  CHECK((*back)[0].entry.access_count == 2);  // the first recall was committed
  CHECK(f.store(again, "ids continue") == 52);
  const auto page = reg->scrape();
  CHECK(scraped(page, "agentgraph_memory_stores_total{shard=\"durable\",outcome=\"ok\"}") == 51);
  const auto commits = scraped(page, "agentgraph_memory_commits_total{shard=\"durable\"}");
  CHECK(commits >= 2);
  CHECK(commits <= 51);
  CHECK(scraped(page, "agentgraph_memory_commit_batch_changes_sum{shard=\"durable\"}") >= 51);
}

TEST_CASE("memory: commit durability writes evictions, so a restart holds the same entries") {
  memory_shard_test::temp_dir dir;
  auto mc = memory_commit_test::commit_config(dir, "window");
  mc.max_entries = 5;
  fixture f;
  manual_clock clock;
  auto shard = f.spawn(mc, clock);
  for (int i = 0; i < 12; ++i) {
    clock.advance(10);
    f.store(shard, "windowed entry " + std::to_string(i));
  }
  manual_clock later;
  auto again = f.spawn(mc, later);
  auto st = f.stats(again);
  CHECK(st.entries == 5);
  CHECK(st.evictions == 0);  // nothing beyond max_entries was left to trim
  for (int i = 7; i < 12; ++i) {
    auto h = f.ask<std::vector<memory_hit>>(
      again, recall_atom::value, std::string{"windowed entry " + std::to_string(i)}, uint32_t{1});
    REQUIRE(h);
    REQUIRE(h->size() == 1);
    CHECK((*h)[0].entry.id == static_cast<uint64_t>(i + 1));
  }
}

TEST_CASE("memory: group commit puts at most commit_batch_max changes in one transaction") {
  memory_shard_test::temp_dir dir;
  auto mc = memory_commit_test::commit_config(dir, "batched");
  mc.commit_window = std::chrono::milliseconds{1'000};  // only full batches go early
  mc.commit_batch_max = 4;
  fixture f;
  manual_clock clock;
  auto reg = std::make_shared<metrics::registry>();
  auto shard = f.spawn(mc, clock, reg);
  auto handles = memory_commit_test::send_stores(f, shard, 10, "batched entry");
  // A snapshot request commits what is pending at once (no window), then
  // compacts; it is answered after every store before it.
  auto held = f.ask<uint64_t>(shard, snapshot_atom::value);
  REQUIRE(held);
  CHECK(*held == 10);
  for (auto& h : handles)
    CHECK(memory_commit_test::reply_of(h));
  const auto page = reg->scrape();
  // Full batches went without the window (it is far longer than this test)
  // and the rest with the flush; how the 10 split depends on when each
  // fsync ended, but no batch holds more than 4.
  const auto commits = scraped(page, "agentgraph_memory_commits_total{shard=\"batched\"}");
  CHECK(commits >= 3);
  CHECK(scraped(page, "agentgraph_memory_commit_batch_changes_count{shard=\"batched\"}")
        == commits);
  CHECK(scraped(page, "agentgraph_memory_commit_batch_changes_sum{shard=\"batched\"}") == 10);
  CHECK(scraped(page, "agentgraph_memory_commit_batch_changes_bucket{shard=\"batched\",le=\"4\"}")
        == commits);
  CHECK(f.stats(shard).snapshots_written == 1);  // the compaction
}

TEST_CASE("memory: commit durability refuses stores beyond commit_waiting_max with overloaded") {
  memory_shard_test::temp_dir dir;
  auto mc = memory_commit_test::commit_config(dir, "bounded");
  mc.commit_window = std::chrono::milliseconds{1'000};
  mc.commit_waiting_max = 2;
  fixture f;
  manual_clock clock;
  auto shard = f.spawn(mc, clock);
  auto handles = memory_commit_test::send_stores(f, shard, 3, "bounded entry");
  // The third is refused at once, long before the window ends.
  auto refused = memory_commit_test::reply_of(handles[2]);
  REQUIRE_FALSE(refused);
  CHECK(errc_of(refused.error()) == errc::overloaded);
  REQUIRE(f.ask<uint64_t>(shard, snapshot_atom::value));
  CHECK(memory_commit_test::reply_of(handles[0]) == uint64_t{1});
  CHECK(memory_commit_test::reply_of(handles[1]) == uint64_t{2});
  CHECK(f.stats(shard).entries == 2);  // the refused one was not stored
}

TEST_CASE("memory: a failed commit answers io_error and takes the entry back out") {
  memory_shard_test::temp_dir dir;
  { std::ofstream{dir.file("plain-file")} << "not a directory"; }
  auto mc = memory_shard_test::config("failing");
  mc.snapshot_path = dir.file("plain-file/shard.db");
  fixture f;
  manual_clock clock;
  auto reg = std::make_shared<metrics::registry>();
  auto shard = f.spawn(mc, clock, reg);
  memory_entry e;
  e.text = "cannot be committed";
  auto r = f.ask<uint64_t>(shard, store_atom::value, e);
  REQUIRE_FALSE(r);
  CHECK(errc_of(r.error()) == errc::io_error);
  CHECK(error_context(r.error()).find(mc.snapshot_path) != std::string::npos);
  CHECK(f.stats(shard).entries == 0);  // memory == disk
  auto hits = f.ask<std::vector<memory_hit>>(shard, recall_atom::value,
                                             std::string{"cannot be committed"}, uint32_t{1});
  REQUIRE(hits);
  CHECK(hits->empty());
  const auto page = reg->scrape();
  CHECK(scraped(page, "agentgraph_memory_commit_failures_total{shard=\"failing\"}") == 1);
  CHECK(scraped(page, "agentgraph_memory_stores_total{shard=\"failing\",outcome=\"io_error\"}")
        == 1);
  // The same path in snapshot durability answers at once: the mode decides.
  mc.durability = memory_durability::snapshot;
  auto fast = f.spawn(mc, clock);
  CHECK(f.ask<uint64_t>(fast, store_atom::value, e));
  CHECK(f.ask<pong_atom>(shard, ping_atom::value));
}

TEST_CASE("memory: snapshot durability loses what a crash catches before the snapshot") {
  memory_shard_test::temp_dir dir;
  auto mc = memory_commit_test::commit_config(dir, "fast");
  mc.durability = memory_durability::snapshot;
  fixture f;
  manual_clock clock;
  auto shard = f.spawn(mc, clock);
  for (const auto& r : memory_commit_test::store_all(f, shard, 20, "fast fact"))
    REQUIRE(r);
  manual_clock later;
  auto again = f.spawn(mc, later);
  CHECK(f.stats(again).entries == 0);  // nothing reached the file yet
  REQUIRE(f.ask<uint64_t>(shard, snapshot_atom::value));
  auto third = f.spawn(mc, later);
  CHECK(f.stats(third).entries == 20);
}

TEST_CASE("memory: commit_window gathers stores into one commit, 0 commits the first at once") {
  memory_shard_test::temp_dir dir;
  for (int window_ms : {0, 1'000}) {
    CAPTURE(window_ms);
    auto mc = memory_commit_test::commit_config(dir, "window" + std::to_string(window_ms));
    mc.commit_window = std::chrono::milliseconds{window_ms};
    fixture f;
    manual_clock clock;
    auto reg = std::make_shared<metrics::registry>();
    auto shard = f.spawn(mc, clock, reg);
    auto handles = memory_commit_test::send_stores(f, shard, 5, "gathered entry");
    // Commits what is still pending at once; a 1 s window has not ended.
    REQUIRE(f.ask<uint64_t>(shard, snapshot_atom::value));
    for (auto& h : handles)
      CHECK(memory_commit_test::reply_of(h));
    const auto commits = scraped(
      reg->scrape(), "agentgraph_memory_commits_total{shard=\"" + mc.name + "\"}");
    if (window_ms == 0)
      CHECK(commits >= 2);  // the first store went alone, the rest during its fsync
    else
      CHECK(commits == 1);  // all five waited in the window
  }
}

TEST_CASE("memory: commit durability compacts on the tick after snapshot_interval if it committed") {
  memory_shard_test::temp_dir dir;
  auto mc = memory_commit_test::commit_config(dir, "compacted");
  mc.snapshot_interval = std::chrono::milliseconds{30'000};
  fixture f;
  manual_clock clock;
  auto shard = f.spawn(mc, clock);
  f.store(shard, "something to compact");
  f.self->send(shard, cleanup_atom::value);  // not due yet
  CHECK(f.stats(shard).snapshots_written == 0);
  clock.advance(30'000);
  f.self->send(shard, cleanup_atom::value);  // due, and a commit happened
  // The writer handles requests in order: this flush's compaction comes
  // after the tick's, so both are counted when it is answered.
  REQUIRE(f.ask<uint64_t>(shard, snapshot_atom::value) == uint64_t{1});
  CHECK(f.stats(shard).snapshots_written == 2);
  clock.advance(30'000);
  f.self->send(shard, cleanup_atom::value);  // due, but nothing committed since
  REQUIRE(f.ask<uint64_t>(shard, snapshot_atom::value));
  CHECK(f.stats(shard).snapshots_written == 3);
}

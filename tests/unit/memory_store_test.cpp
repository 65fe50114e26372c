// memory_store (no CAF actors) and the SQLite snapshot functions.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include <sqlite3.h>

#include "actors/memory/memory_snapshot.hpp"
#include "actors/memory/memory_sqlite.hpp"
#include "actors/memory/memory_store.hpp"
#include "memory_shard_fixture.hpp"
#include "runtime/error.hpp"

using namespace agentgraph;

namespace memory_store_test {

// A fresh directory under the system temp dir, removed afterwards.
using temp_dir = memory_shard_test::temp_dir;

memory_entry note(std::string text, std::string kind = "interaction", double importance = 0.5) {
  memory_entry e;
  e.text = std::move(text);
  e.kind = std::move(kind);
  e.importance = importance;
  return e;
}

memory_store make_store(memory_config cfg) {
  auto s = memory_store::make(cfg);
  REQUIRE(s);
  return std::move(*s);
}

void check_same(const memory_entry& a, const memory_entry& b) {
  CHECK(a.id == b.id);
  CHECK(a.text == b.text);
  CHECK(a.kind == b.kind);
  CHECK(a.importance == b.importance);
  CHECK(a.metadata == b.metadata);
  CHECK(a.created_ms == b.created_ms);
  CHECK(a.last_access_ms == b.last_access_ms);
  CHECK(a.access_count == b.access_count);
}

}  // namespace memory_store_test

using memory_store_test::note;

TEST_CASE("memory: config validation names the offending key") {
  memory_config cfg;
  cfg.name = "notes";
  CHECK_FALSE(validate_memory_config(cfg));
  auto expect = [](memory_config c, errc code, const std::string& key) {
    auto err = validate_memory_config(c);
    REQUIRE(err);
    CHECK(errc_of(err) == code);
    CHECK(error_context(err).find(key) != std::string::npos);
  };
  auto c = cfg;
  c.max_entries = 0;
  expect(c, errc::invalid_argument, "memory.notes.max_entries");
  c = cfg;
  c.similarity_threshold = 1.5;
  expect(c, errc::invalid_argument, "memory.notes.similarity_threshold");
  c.similarity_threshold = std::nan("");
  expect(c, errc::invalid_argument, "memory.notes.similarity_threshold");
  c = cfg;
  c.kind_limits = {{"fact", 600}, {"summary", 401}};
  expect(c, errc::invalid_argument, "memory.notes.kind_limits");
  c.kind_limits = {{"fact", 0}};
  expect(c, errc::invalid_argument, "memory.notes.kind_limits");
  c = cfg;
  c.embedding_model = "hash-8";
  expect(c, errc::invalid_argument, "memory.notes.embedding_model");
  c.embedding_model = "openai-small";  // neither hash-<dim> nor <provider>:<model>
  expect(c, errc::invalid_argument, "memory.notes.embedding_model");
  c.embedding_model = "openai:text-embedding-3-small";
  CHECK_FALSE(validate_memory_config(c));
  c.embedding_dimensions = 99'999;
  expect(c, errc::invalid_argument, "memory.notes.embedding_dimensions");
  c = cfg;
  c.embedding_dimensions = 64;  // hash-256 names its own length
  expect(c, errc::invalid_argument, "memory.notes.embedding_dimensions");
  c = cfg;
  c.embedding_attempts = 0;
  expect(c, errc::invalid_argument, "memory.notes.embedding_attempts");
  c = cfg;
  c.reembed_inflight = 0;
  expect(c, errc::invalid_argument, "memory.notes.reembed_inflight");
  c = cfg;
  c.embedding_waiting_max = 0;
  expect(c, errc::invalid_argument, "memory.notes.embedding_waiting_max");
  c = cfg;
  c.embedding_cache_entries = 0;
  expect(c, errc::invalid_argument, "memory.notes.embedding_cache_entries");
  c = cfg;
  c.embedding_timeout = std::chrono::milliseconds{1};
  expect(c, errc::invalid_argument, "memory.notes.embedding_timeout");
  c = cfg;
  c.cleanup_interval = std::chrono::milliseconds{0};
  expect(c, errc::invalid_argument, "memory.notes.cleanup_interval");
  c = cfg;
  c.exact_search_max = 0;
  expect(c, errc::invalid_argument, "memory.notes.exact_search_max");
  c = cfg;
  c.snapshot_path = "/tmp/x.db";
  c.snapshot_interval = std::chrono::milliseconds{5};
  expect(c, errc::invalid_argument, "memory.notes.snapshot_interval");
}

TEST_CASE("memory: store assigns ids and created_ms, and rejects bad entries") {
  auto s = memory_store_test::make_store(memory_config{});
  auto a = s.store(note("first"), 1000);
  auto b = s.store(note("second"), 2000);
  REQUIRE(a);
  REQUIRE(b);
  CHECK(*a == 1);
  CHECK(*b == 2);
  CHECK(s.find(1)->created_ms == 1000);
  auto given = note("third");
  given.created_ms = 42;
  CHECK(s.find(*s.store(given, 3000))->created_ms == 42);
  CHECK(s.next_id() == 4);
  auto bad = [&](memory_entry e) {
    auto r = s.store(std::move(e), 0);
    REQUIRE_FALSE(r);
    CHECK(errc_of(r.error()) == errc::invalid_argument);
  };
  bad(note(""));
  bad(note("x", "interaction", 1.5));
  bad(note("x", "interaction", -0.1));
  bad(note("x", ""));
  bad(note(std::string(entry_text_bytes_max + 1, 'a')));
  auto with_id = note("x");
  with_id.id = 77;
  bad(with_id);
  CHECK(s.size() == 3);
}

TEST_CASE("memory: recall ranks best first, filters by threshold, records access") {
  memory_config cfg;
  cfg.similarity_threshold = 0.2;
  auto s = memory_store_test::make_store(cfg);
  REQUIRE(s.store(note("the supervisor restarts a crashed actor"), 100));
  REQUIRE(s.store(note("a crashed actor is restarted by the supervisor with backoff"), 100));
  REQUIRE(s.store(note("banana bread recipe with walnuts"), 100));
  REQUIRE(s.store(note("the supervisor restarts a crashed actor quickly"), 100));
  auto hits = s.recall("the supervisor restarts a crashed actor", 10, 5000);
  REQUIRE(hits);
  REQUIRE(hits->size() >= 2);
  CHECK((*hits)[0].entry.id == 1);
  CHECK((*hits)[0].score == doctest::Approx(1.0));
  for (size_t i = 1; i < hits->size(); ++i)
    CHECK((*hits)[i - 1].score >= (*hits)[i].score);
  for (const auto& h : *hits) {
    CHECK(h.score >= 0.2);
    CHECK(h.entry.id != 3);  // the unrelated entry is below the threshold
    CHECK(h.entry.access_count == 1);
    CHECK(h.entry.last_access_ms == 5000);
  }
  CHECK(s.find(3)->access_count == 0);
  CHECK(s.find(1)->access_count == 1);
  // k bounds the hits.
  auto one = s.recall("the supervisor restarts a crashed actor", 1, 6000);
  REQUIRE(one);
  CHECK(one->size() == 1);
  CHECK(s.find(1)->access_count == 2);
  // A query with no words scores 0 against everything: nothing passes 0.2.
  auto empty = s.recall("?!", 5, 7000);
  REQUIRE(empty);
  CHECK(empty->empty());
}

TEST_CASE("memory: recall rejects k of 0 and above the bound") {
  auto s = memory_store_test::make_store(memory_config{});
  for (uint32_t k : {0u, recall_k_max + 1}) {
    auto r = s.recall("anything", k, 0);
    REQUIRE_FALSE(r);
    CHECK(errc_of(r.error()) == errc::invalid_argument);
  }
  CHECK(s.recall("anything", recall_k_max, 0));
}

TEST_CASE("memory: store evicts by retention as soon as max_entries is exceeded") {
  memory_config cfg;
  cfg.max_entries = 3;
  auto s = memory_store_test::make_store(cfg);
  for (int i = 1; i <= 5; ++i)
    REQUIRE(s.store(note("entry number " + std::to_string(i)), i * 100));
  CHECK(s.size() == 3);
  CHECK(s.evictions() == 2);
  CHECK(s.find(1) == nullptr);
  CHECK(s.find(2) == nullptr);
  CHECK(s.find(5) != nullptr);
  CHECK(s.index().size() == 3);
  // Evicted entries are gone from recall too.
  auto hits = s.recall("entry number 1", 10, 1000);
  REQUIRE(hits);
  for (const auto& h : *hits)
    CHECK(h.entry.id >= 3);
}

TEST_CASE("memory: restore keeps ids, cleanup retention trims an oversized restore") {
  memory_config big;
  big.max_entries = 20;
  auto source = memory_store_test::make_store(big);
  for (int i = 0; i < 20; ++i)
    REQUIRE(source.store(note("restored entry " + std::to_string(i)), 1000 + i));
  memory_config small;
  small.max_entries = 10;
  auto s = memory_store_test::make_store(small);
  REQUIRE_FALSE(s.restore(source.entries_copy(), source.next_id()));
  CHECK(s.size() == 20);  // restore itself never evicts
  CHECK(s.next_id() == 21);
  CHECK(s.enforce_retention(5000) == 10);
  CHECK(s.size() == 10);
  CHECK(s.evictions() == 10);
  CHECK(s.find(10) == nullptr);
  CHECK(s.find(11) != nullptr);
  CHECK(*s.store(note("after restore"), 6000) == 21);
}

TEST_CASE("memory: restore rejects duplicate and out-of-range ids") {
  auto s = memory_store_test::make_store(memory_config{});
  auto e = note("x");
  e.id = 5;
  auto err = s.restore({e, e}, 10);
  REQUIRE(err);
  CHECK(errc_of(err) == errc::parse_error);
  auto s2 = memory_store_test::make_store(memory_config{});
  CHECK(errc_of(s2.restore({e}, 5)) == errc::parse_error);
}

TEST_CASE("memory: bytes are measured and grow with content, per-entry is bytes/entries") {
  auto s = memory_store_test::make_store(memory_config{});
  auto empty = s.stats();
  CHECK(empty.entries == 0);
  CHECK(empty.bytes_per_entry == 0.0);
  CHECK(empty.bytes > 0);
  REQUIRE(s.store(note("short"), 0));
  auto one = s.stats();
  CHECK(one.bytes > empty.bytes);
  auto big = note(std::string(10'000, 'w') + " tail");
  big.metadata["source"] = std::string(5'000, 's');
  REQUIRE(s.store(std::move(big), 0));
  auto two = s.stats();
  // At least the long text and the long metadata string are counted.
  CHECK(two.bytes >= one.bytes + 15'000);
  CHECK(two.entries == 2);
  CHECK(two.bytes_per_entry == doctest::Approx(static_cast<double>(two.bytes) / 2));
  // Evicting gives the text's bytes back.
  REQUIRE(s.evict({2}) == 1);
  CHECK(s.stats().bytes + 15'000 <= two.bytes);
}

TEST_CASE("memory: snapshot save and load round-trip every field") {
  memory_store_test::temp_dir dir;
  auto path = dir.file("shard.db");
  std::vector<memory_entry> entries;
  for (uint64_t i = 1; i <= 5; ++i) {
    auto e = note("entry \xc3\xa9 " + std::to_string(i), i % 2 ? "fact" : "chat", 0.1 * i);
    e.id = i * 3;
    e.created_ms = 1'700'000'000'000 + i;
    e.last_access_ms = i == 2 ? 1'700'000'100'000 : 0;
    e.access_count = static_cast<uint32_t>(i * 7);
    e.metadata["n"] = static_cast<int>(i);
    e.metadata["tags"] = Value::Array{"a", 1.25, nullptr};
    entries.push_back(e);
  }
  entries[0].text.push_back('\0');  // embedded NUL survives
  entries[0].text += "after nul";
  auto written = save_memory_snapshot(path, entries, 99, memory_shard_test::hash256_label);
  REQUIRE(written);
  CHECK(*written == 5);
  auto loaded = load_memory_snapshot(path);
  REQUIRE(loaded);
  CHECK(loaded->next_id == 99);
  REQUIRE(loaded->entries.size() == 5);
  for (size_t i = 0; i < 5; ++i)
    memory_store_test::check_same(loaded->entries[i], entries[i]);
  // A second save replaces the first one entirely.
  entries.resize(2);
  REQUIRE(save_memory_snapshot(path, entries, 120, memory_shard_test::hash256_label));
  auto again = load_memory_snapshot(path);
  REQUIRE(again);
  CHECK(again->entries.size() == 2);
  CHECK(again->next_id == 120);
}

TEST_CASE("memory: a missing snapshot file is an empty snapshot") {
  memory_store_test::temp_dir dir;
  auto loaded = load_memory_snapshot(dir.file("never-written.db"));
  REQUIRE(loaded);
  CHECK(loaded->entries.empty());
  CHECK(loaded->next_id == 1);
}

TEST_CASE("memory: a file whose first writer stopped after creating the tables is an empty snapshot") {
  memory_store_test::temp_dir dir;
  auto path = dir.file("created-only.db");
  {
    // What a writer leaves when it is killed between creating the tables and
    // its first commit.
    auto db = memory_sqlite::open_for_writing(path);
    REQUIRE(db);
  }
  auto loaded = load_memory_snapshot(path);
  REQUIRE_MESSAGE(loaded, describe(loaded.error()));
  CHECK(loaded->entries.empty());
  CHECK(loaded->next_id == 1);
  // The next writer takes it over as a new file.
  memory_entry e;
  e.id = 1;
  e.text = "first";
  e.kind = "fact";
  REQUIRE(save_memory_snapshot(path, {e}, 2, memory_shard_test::hash256_label));
  auto again = load_memory_snapshot(path);
  REQUIRE(again);
  CHECK(again->entries.size() == 1);
  CHECK(again->next_id == 2);
  // Entries without their meta row were committed by no writer: still refused.
  {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
    CHECK(sqlite3_exec(db, "DELETE FROM memory_meta;", nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(db);
  }
  auto broken = load_memory_snapshot(path);
  REQUIRE_FALSE(broken);
  CHECK(errc_of(broken.error()) == errc::parse_error);
}

TEST_CASE("memory: a corrupt snapshot file is a parse_error naming the file") {
  memory_store_test::temp_dir dir;
  auto path = dir.file("corrupt.db");
  {
    std::ofstream out(path, std::ios::binary);
    for (int i = 0; i < 512; ++i)
      out << "this is not an sqlite database ";
  }
  auto loaded = load_memory_snapshot(path);
  REQUIRE_FALSE(loaded);
  CHECK(errc_of(loaded.error()) == errc::parse_error);
  CHECK(error_context(loaded.error()).find(path) != std::string::npos);
}

TEST_CASE("memory: an SQLite file without memory tables or with bad rows is rejected") {
  memory_store_test::temp_dir dir;
  auto exec = [](const std::string& path, const char* sql) {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
    CHECK(sqlite3_exec(db, sql, nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(db);
  };
  auto foreign = dir.file("foreign.db");
  exec(foreign, "CREATE TABLE users(id INTEGER);");
  auto r = load_memory_snapshot(foreign);
  REQUIRE_FALSE(r);
  CHECK(errc_of(r.error()) == errc::parse_error);
  CHECK(error_context(r.error()).find(foreign) != std::string::npos);
  // A valid snapshot whose metadata column was damaged by hand.
  auto damaged = dir.file("damaged.db");
  auto e = note("fine");
  e.id = 1;
  REQUIRE(save_memory_snapshot(damaged, {e}, 2, memory_shard_test::hash256_label));
  exec(damaged, "UPDATE memory_entries SET metadata = '{broken';");
  auto d = load_memory_snapshot(damaged);
  REQUIRE_FALSE(d);
  CHECK(errc_of(d.error()) == errc::parse_error);
  // Another schema version.
  auto future = dir.file("future.db");
  REQUIRE(save_memory_snapshot(future, {e}, 2, memory_shard_test::hash256_label));
  exec(future, "UPDATE memory_meta SET value = 99 WHERE key = 'schema_version';");
  auto f = load_memory_snapshot(future);
  REQUIRE_FALSE(f);
  CHECK(errc_of(f.error()) == errc::parse_error);
}

TEST_CASE("memory: saving creates a missing directory") {
  memory_store_test::temp_dir dir;
  auto path = dir.file("no/such/dir/shard.db");
  auto r = save_memory_snapshot(path, {}, 1, memory_shard_test::hash256_label);
  REQUIRE_MESSAGE(r, describe(r.error()));
  auto back = load_memory_snapshot(path);
  REQUIRE(back);
  CHECK(back->entries.empty());
}

TEST_CASE("memory: saving into an unwritable location is an io_error") {
  memory_store_test::temp_dir dir;
  auto blocker = dir.file("plain-file");
  { std::ofstream{blocker} << "not a directory"; }
  auto path = blocker + "/shard.db";  // a directory that cannot exist
  auto r = save_memory_snapshot(path, {}, 1, memory_shard_test::hash256_label);
  REQUIRE_FALSE(r);
  CHECK(errc_of(r.error()) == errc::io_error);
  CHECK(error_context(r.error()).find(path) != std::string::npos);
}

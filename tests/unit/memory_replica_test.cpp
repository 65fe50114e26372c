// A memory shard as one replica of a replicated shard
// (memory_replica_interface.hpp): stores under the front's id are
// idempotent, export pages are bounded and complete, import is idempotent
// and refuses a bad page whole, and pages decoded from hostile bytes (as a
// peer could send them) never break the store.
#include <doctest/doctest.h>

#include <optional>
#include <set>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>
#include <caf/scoped_actor.hpp>

#include "actors/host/register_types.hpp"
#include "actors/memory/memory_shard.hpp"
#include "actors/memory/memory_store.hpp"
#include "runtime/error.hpp"

namespace memory_replica_test {

using namespace agentgraph;
using namespace std::chrono_literals;

memory_config replica_config(uint32_t max_entries = 1000) {
  memory_config cfg;
  cfg.name = "notes";
  cfg.max_entries = max_entries;
  cfg.similarity_threshold = -1.0;
  return cfg;
}

memory_entry placed(uint64_t id, const std::string& text, int64_t created_ms = 1000) {
  memory_entry e;
  e.id = id;
  e.text = text;
  e.created_ms = created_ms;
  return e;
}

std::set<uint64_t> ids_of(const memory_store& s) {
  std::set<uint64_t> out;
  for (const auto& e : s.entries_copy())
    out.insert(e.id);
  return out;
}

// Every entry of `s`, paged out with `limit` per page.
std::vector<memory_entry> export_all(const memory_store& s, uint32_t limit, size_t* pages) {
  std::vector<memory_entry> out;
  uint64_t after = 0;
  *pages = 0;
  for (;;) {
    auto page = s.export_page(after, limit);
    REQUIRE(page);
    ++*pages;
    CHECK(page->entries.size() <= limit);
    for (auto& e : page->entries)
      out.push_back(e);
    if (!page->more)
      break;
    REQUIRE_FALSE(page->entries.empty());
    after = page->entries.back().id;
  }
  return out;
}

}  // namespace memory_replica_test

using namespace memory_replica_test;

TEST_CASE("memory replica: a placed store keeps the front's id and is never doubled") {
  auto s = memory_store::make(replica_config());
  REQUIRE(s);
  auto first = s->place(placed(987654321, "the crate is red"), 5000);
  REQUIRE(first);
  CHECK(*first == std::pair<uint64_t, bool>{987654321, true});
  auto again = s->place(placed(987654321, "another text, same id"), 5000);
  REQUIRE(again);
  CHECK(again->second == false);
  CHECK(s->size() == 1);
  CHECK(s->find(987654321)->text == "the crate is red");
  CHECK(s->find(987654321)->created_ms == 1000);  // the front's, not the shard's clock
  CHECK(s->next_id() == 987654322);
  // Refused: id 0, an id at the 62-bit limit, created_ms 0, a bad entry.
  CHECK_FALSE(s->place(placed(0, "x"), 1));
  CHECK_FALSE(s->place(placed(memory_replica_id_limit, "x"), 1));
  CHECK_FALSE(s->place(placed(5, "x", 0), 1));
  CHECK_FALSE(s->place(placed(5, ""), 1));
  // A plain store still refuses an id, and assigns after the placed one.
  CHECK_FALSE(s->store(placed(6, "x"), 1));
  memory_entry fresh;
  fresh.text = "own id";
  auto own = s->store(fresh, 1);
  REQUIRE(own);
  CHECK(*own == 987654322);
}

TEST_CASE("memory replica: export pages are bounded, ordered and complete") {
  auto s = memory_store::make(replica_config());
  REQUIRE(s);
  for (uint64_t i = 1; i <= 250; ++i)
    REQUIRE(s->place(placed(i * 7919, "entry " + std::to_string(i)), 1));
  size_t pages = 0;
  auto all = export_all(*s, 64, &pages);
  CHECK(pages == 4);
  REQUIRE(all.size() == 250);
  for (size_t i = 1; i < all.size(); ++i)
    CHECK(all[i - 1].id < all[i].id);
  CHECK_FALSE(s->export_page(0, 0));
  CHECK_FALSE(s->export_page(0, memory_page_entries_max + 1));
  auto tail = s->export_page(all.back().id, 10);
  REQUIRE(tail);
  CHECK(tail->entries.empty());
  CHECK_FALSE(tail->more);
  // Big entries: a page stops at memory_page_bytes_max.
  auto big = memory_store::make(replica_config());
  REQUIRE(big);
  const std::string kib900(900 << 10, 'a');
  for (uint64_t i = 1; i <= 9; ++i)
    REQUIRE(big->place(placed(i, kib900 + std::to_string(i)), 1));
  auto page = big->export_page(0, 100);
  REQUIRE(page);
  CHECK(page->entries.size() == 4);  // 4 MiB bound; each entry 900 KiB
  CHECK(page->more);
  export_all(*big, 100, &pages);
  CHECK(pages == 3);
}

TEST_CASE("memory replica: import adds what is missing, is idempotent, and refuses bad pages whole") {
  auto source = memory_store::make(replica_config());
  auto target = memory_store::make(replica_config());
  REQUIRE(source);
  REQUIRE(target);
  for (uint64_t i = 1; i <= 40; ++i)
    REQUIRE(source->place(placed(i * 1000003, "fact " + std::to_string(i)), 1));
  REQUIRE(target->place(placed(5 * 1000003, "fact 5"), 1));  // one already there
  auto page = source->export_page(0, 100);
  REQUIRE(page);
  auto added = target->import_page(*page, 2);
  REQUIRE(added);
  CHECK(*added == 39);
  CHECK(ids_of(*target) == ids_of(*source));
  auto again = target->import_page(*page, 3);
  REQUIRE(again);
  CHECK(*again == 0);
  CHECK(target->size() == 40);
  // Bad pages change nothing: a repeated id, a bad entry after good ones,
  // too many entries, too many bytes.
  memory_page twice;
  twice.entries = {placed(77, "a"), placed(77, "b")};
  CHECK(describe(target->import_page(twice, 4).error()).find("twice") != std::string::npos);
  memory_page bad_last;
  bad_last.entries = {placed(78, "good"), placed(79, "good"), placed(80, "")};
  CHECK_FALSE(target->import_page(bad_last, 4));
  memory_page many;
  for (uint64_t i = 1; i <= memory_page_entries_max + 1; ++i)
    many.entries.push_back(placed(100000 + i, "x"));
  CHECK_FALSE(target->import_page(many, 4));
  memory_page heavy;
  for (uint64_t i = 1; i <= 5; ++i)
    heavy.entries.push_back(placed(200000 + i, std::string(1 << 20, 'b')));
  CHECK_FALSE(target->import_page(heavy, 4));
  CHECK(target->size() == 40);
  CHECK(target->find(78) == nullptr);
}

TEST_CASE("memory replica: import keeps max_entries by retention, one entry at a time") {
  auto source = memory_store::make(replica_config());
  auto small = memory_store::make(replica_config(10));
  REQUIRE(source);
  REQUIRE(small);
  for (uint64_t i = 1; i <= 30; ++i)
    REQUIRE(source->place(placed(i, "e" + std::to_string(i), 1000 + static_cast<int64_t>(i)), 1));
  auto page = source->export_page(0, 100);
  REQUIRE(page);
  REQUIRE(small->import_page(*page, 5000));
  CHECK(small->size() == 10);
  // sliding_window keeps the newest by created_ms: ids 21..30.
  CHECK(ids_of(*small) == std::set<uint64_t>{21, 22, 23, 24, 25, 26, 27, 28, 29, 30});
}

TEST_CASE("memory replica: pages decoded from hostile bytes never break the store") {
  caf::actor_system_config cfg;
  register_all_types(cfg);
  caf::actor_system sys{cfg};
  memory_page valid;
  for (uint64_t i = 1; i <= 6; ++i) {
    auto e = placed(i * 31, "entry number " + std::to_string(i));
    e.metadata["task_id"] = Value{"t" + std::to_string(i)};
    valid.entries.push_back(e);
  }
  valid.more = true;
  std::vector<char> bytes;
  {
    caf::binary_serializer sink{sys, bytes};
    REQUIRE_FALSE(sink(valid));
  }
  uint64_t state = 0x243F6A8885A308D3ull;
  auto rnd = [&state] {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  auto target = memory_store::make(replica_config(50));
  REQUIRE(target);
  size_t decoded = 0;
  size_t accepted = 0;
  for (int round = 0; round < 4000; ++round) {
    auto input = bytes;
    const int edits = 1 + static_cast<int>(rnd() % 4);
    for (int k = 0; k < edits && !input.empty(); ++k) {
      const size_t pos = rnd() % input.size();
      switch (rnd() % 4) {
        case 0: input[pos] = static_cast<char>(rnd()); break;
        case 1: input.resize(pos); break;
        case 2: input.insert(input.begin() + static_cast<long>(pos), static_cast<char>(rnd())); break;
        default: input[pos] = static_cast<char>(0xff); break;
      }
    }
    memory_page page;
    caf::binary_deserializer source{sys, input};
    if (source(page))
      continue;  // refused by the decoder
    ++decoded;
    const auto before = target->size();
    auto added = target->import_page(page, 10'000);
    if (!added) {
      CHECK(target->size() == before);  // refused whole
      continue;
    }
    ++accepted;
    CHECK(target->size() <= 50);
    // Idempotent, whatever was accepted: the same page again leaves the
    // same entries (one retention evicted may come and go again at once).
    const auto held = ids_of(*target);
    REQUIRE(target->import_page(page, 10'000));
    CHECK(ids_of(*target) == held);
    CHECK(target->bytes() == target->bytes_recounted());
  }
  MESSAGE("decoded " << decoded << " of 4000 mutated pages, accepted " << accepted);
  CHECK(decoded > 0);
  CHECK(accepted > 0);
}

TEST_CASE("memory replica: the shard actor serves placed stores, export and import") {
  caf::actor_system_config cfg;
  register_all_types(cfg);
  caf::actor_system sys{cfg};
  auto a = spawn_memory_shard(sys, replica_config());
  auto b = spawn_memory_shard(sys, replica_config());
  REQUIRE(a);
  REQUIRE(b);
  auto ra = caf::actor_cast<memory_replica_actor>(*a);
  auto rb = caf::actor_cast<memory_replica_actor>(*b);
  {
    caf::scoped_actor self{sys};
    auto ask_store = [&](const memory_replica_actor& h, memory_entry e) {
      std::optional<uint64_t> out;
      self->request(h, 5s, replica_store_atom::value, std::move(e))
        .receive([&](uint64_t id) { out = id; }, [&](caf::error&) {});
      return out;
    };
    for (uint64_t i = 1; i <= 5; ++i)
      CHECK(ask_store(ra, placed(i * 11, "note " + std::to_string(i))) == i * 11);
    CHECK(ask_store(ra, placed(22, "note 2 again")) == 22);  // held: nothing changes
    memory_page page;
    self->request(ra, 5s, memory_export_atom::value, uint64_t{0}, uint32_t{100})
      .receive([&](memory_page& p) { page = std::move(p); }, [&](caf::error&) {});
    CHECK(page.entries.size() == 5);
    for (int twice = 0; twice < 2; ++twice) {
      uint64_t added = 99;
      self->request(rb, 5s, memory_import_atom::value, page)
        .receive([&](uint64_t n) { added = n; }, [&](caf::error&) {});
      CHECK(added == (twice == 0 ? 5u : 0u));
    }
    memory_stats st;
    self->request(rb, 5s, stats_atom::value).receive([&](memory_stats& s) { st = s; },
                                                     [&](caf::error&) {});
    CHECK(st.entries == 5);
  }
  caf::anon_send_exit(*a, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(*b, caf::exit_reason::user_shutdown);
}

// Memory shards with a provider's embedding model (issue 13): the shard asks
// a real HTTP provider actor, over loopback, against the in-process mock LLM
// server (deterministic vectors from the text), through the multi-level
// cache; Redis as L3 in the two-runtime case. And memory_store's own part:
// vectors checked at the door, entries held without one, keyword recall.
#include <doctest/doctest.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <thread>

#include "actors/memory/memory_shard.hpp"
#include "actors/memory/memory_store.hpp"
#include "cache_test_support.hpp"
#include "http_provider_fixture.hpp"
#include "runtime/cache/multi_level_cache.hpp"

namespace memory_embed_test {

using namespace agentgraph;
using namespace std::chrono_literals;
using provider_fixture = http_provider_fixture::fixture;

constexpr auto reply_wait = 20s;

const char* scenario = R"({
  "name": "memory-embed", "seed": 5, "api_key": "k", "embedding_dimensions": 16,
  "rules": [
    {"name": "poison", "match": {"kind": "embeddings", "contains": "poison"},
     "faults": {"inject": [{"fault": "status", "status": 503, "rate": 1}]}},
    {"name": "slow", "match": {"kind": "embeddings", "contains": "slowly"},
     "faults": {"latency_ms": 400}},
    {"name": "refuse", "match": {"kind": "embeddings", "contains": "please refuse me"},
     "faults": {"inject": [{"fault": "status", "status": 400, "rate": 1}]}}
  ]
})";

memory_config provider_memory(const std::string& model = "p:embed-model") {
  memory_config mc;
  mc.name = "m";
  mc.embedding_model = model;
  mc.similarity_threshold = 0.2;
  mc.embedding_timeout = 5s;
  return mc;
}

// Shards spawned in the fixture's system, stopped before it goes.
struct shards {
  provider_fixture& f;
  std::vector<memory_actor> all;
  explicit shards(provider_fixture& fx) : f(fx) {}
  ~shards() {
    for (auto& s : all)
      caf::anon_send_exit(s, caf::exit_reason::user_shutdown);
  }
  caf::expected<memory_actor> spawn(const memory_config& mc, provider_actor p,
                                    cache::cache_tiers tiers = {},
                                    std::shared_ptr<metrics::registry> reg = nullptr) {
    memory_embed_deps deps;
    deps.provider = std::move(p);
    deps.tiers = std::move(tiers);
    auto s = spawn_memory_shard(*f.sys, mc, {}, std::move(reg), std::move(deps));
    if (s)
      all.push_back(*s);
    return s;
  }
  template <class T, class Handle, class... Ts>
  caf::expected<T> ask(const Handle& shard, Ts&&... xs) {
    caf::expected<T> out{make_error(errc::internal, "no reply")};
    (*f.self)->request(shard, reply_wait, std::forward<Ts>(xs)...)
      .receive([&](T& value) { out = std::move(value); },
               [&](caf::error& err) { out = std::move(err); });
    return out;
  }
  caf::expected<uint64_t> store(const memory_actor& shard, const std::string& text) {
    memory_entry e;
    e.text = text;
    return ask<uint64_t>(shard, store_atom::value, e);
  }
  std::vector<memory_hit> recall(const memory_actor& shard, const std::string& q, uint32_t k) {
    auto hits = ask<std::vector<memory_hit>>(shard, recall_atom::value, q, k);
    REQUIRE_MESSAGE(hits, describe(hits.error()));
    return *hits;
  }
  memory_stats stats(const memory_actor& shard) {
    auto s = ask<memory_stats>(shard, stats_atom::value);
    REQUIRE(s);
    return *s;
  }
  // Polls until no entry waits for a vector (background embedding), within
  // a bound of tries.
  memory_stats settled(const memory_actor& shard) {
    for (int i = 0; i < 400; ++i) {
      auto s = stats(shard);
      if (s.vectors_pending == 0)
        return s;
      std::this_thread::sleep_for(10ms);
    }
    FAIL("entries still wait for vectors");
    return {};
  }
};

struct temp_file {
  std::filesystem::path path;
  explicit temp_file(const std::string& name)
      : path(std::filesystem::temp_directory_path()
             / ("agentgraph-memory-embed-" + std::to_string(::getpid()) + "-" + name)) {
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~temp_file() {
    std::error_code ec;  // a writer may still be closing its file
    std::filesystem::remove_all(path, ec);
  }
  std::string file(const std::string& n) const { return (path / n).string(); }
};

}  // namespace memory_embed_test

using namespace memory_embed_test;

TEST_CASE("memory embed: store and recall through the provider, each text embedded once") {
  provider_fixture f{scenario};
  shards s{f};
  auto p = f.spawn(f.config("openai"));
  auto shard = s.spawn(provider_memory(), p);
  REQUIRE(shard);
  auto apples = s.store(*shard, "red apples in a wicker basket");
  REQUIRE(apples);
  REQUIRE(s.store(*shard, "green pears on the kitchen table"));
  REQUIRE(s.store(*shard, "the stock market fell sharply today"));
  REQUIRE(s.store(*shard, "red apples in a wicker basket"));  // the same text again: the cache
  CHECK(f.mock_requests() == 3);
  auto hits = s.recall(*shard, "red apples in a wicker basket", 2);  // the cache again
  REQUIRE(hits.size() == 2);
  CHECK(hits[0].entry.id == *apples);  // the same vector: cosine 1, the lower id first
  CHECK(hits[0].score == doctest::Approx(1.0).epsilon(1e-5));
  CHECK(f.mock_requests() == 3);
  auto other = s.recall(*shard, "a falling stock market", 1);  // a new text: one request
  CHECK(f.mock_requests() == 4);
  CHECK(other.size() <= 1);
  auto st = s.stats(*shard);
  CHECK(st.embedding_model == "p:embed-model");
  CHECK(st.dimension == 16);
  CHECK(st.entries == 4);
  CHECK(st.embed_calls == 4);
  CHECK(st.cache_hits == 2);
  CHECK(st.vectors_cached == 4);
  CHECK(st.embed_failures == 0);
  CHECK(st.vectors_pending == 0);
  CHECK(st.embed_latency_p50_ms > 0);
  CHECK(st.embed_latency_p99_ms >= st.embed_latency_p50_ms);
}

TEST_CASE("memory embed: a provider failure fails the store after its attempts and degrades "
          "recall to keywords") {
  provider_fixture f{scenario};
  shards s{f};
  auto pc = f.config("openai");
  pc.retries_max = 0;  // the shard's own attempts are what this test counts
  auto p = f.spawn(pc);
  auto reg = std::make_shared<metrics::registry>();
  auto mc = provider_memory();
  mc.embedding_attempts = 2;
  auto shard = s.spawn(mc, p, {}, reg);
  REQUIRE(shard);
  auto ivy = s.store(*shard, "a note about ivy and apples");
  REQUIRE(ivy);
  auto failed = s.store(*shard, "poison ivy on the fence");
  REQUIRE_FALSE(failed);
  CHECK(is_retryable(failed.error()));  // 503: the provider's retryable error, passed on
  auto st = s.stats(*shard);
  CHECK(st.entries == 1);  // the failed store stored nothing
  CHECK(st.embed_failures == 2);
  // The query's vector fails: keywords answer, and say so in the figures.
  auto hits = s.recall(*shard, "poison ivy", 3);
  REQUIRE(hits.size() == 1);
  CHECK(hits[0].entry.id == *ivy);
  CHECK(hits[0].score == doctest::Approx(0.5));  // one of the query's two words
  st = s.stats(*shard);
  CHECK(st.recalls_degraded == 1);
  CHECK(st.embed_failures == 3);  // a recall asks once
  auto text = reg->scrape();
  CHECK(text.find("agentgraph_memory_recalls_degraded_total{shard=\"m\"} 1") != std::string::npos);
  CHECK(text.find("agentgraph_memory_embeddings_total{shard=\"m\",outcome=\"")
        != std::string::npos);
}

TEST_CASE("memory embed: stores beyond embedding_waiting_max are refused overloaded at once") {
  provider_fixture f{scenario};
  shards s{f};
  auto p = f.spawn(f.config("openai"));
  auto mc = provider_memory();
  mc.embedding_waiting_max = 1;
  auto shard = s.spawn(mc, p);
  REQUIRE(shard);
  memory_entry slow;
  slow.text = "stored slowly, the mock waits";
  memory_entry next;
  next.text = "another note";
  caf::expected<uint64_t> second{make_error(errc::internal, "no reply")};
  (*f.self)->send(*shard, store_atom::value, slow);
  // The first is waiting for its vector when the second arrives (same
  // mailbox order): the second is refused without waiting.
  (*f.self)->request(*shard, reply_wait, store_atom::value, next)
    .receive([&](uint64_t id) { second = id; }, [&](caf::error& e) { second = std::move(e); });
  REQUIRE_FALSE(second);
  CHECK(errc_of(second.error()) == errc::overloaded);
  for (int i = 0; i < 200 && s.stats(*shard).entries == 0; ++i)
    std::this_thread::sleep_for(10ms);
  CHECK(s.stats(*shard).entries == 1);  // the slow one landed
}

TEST_CASE("memory embed: a vector of another length never enters the index") {
  memory_config mc = provider_memory();
  mc.embedding_dimensions = 8;
  auto store = memory_store::make(mc);
  REQUIRE(store);
  CHECK(store->dimension() == 8);
  auto wrong = store->accept_vector(std::vector<float>(16, 0.25f));
  REQUIRE_FALSE(wrong);
  CHECK(errc_of(wrong.error()) == errc::provider_error);
  CHECK(error_context(wrong.error()).find("dimension mismatch") != std::string::npos);
  auto nan = store->accept_vector({1, 0, 0, 0, 0, 0, 0, std::nanf("")});
  REQUIRE_FALSE(nan);
  auto ok = store->accept_vector({3, 4, 0, 0, 0, 0, 0, 0});
  REQUIRE(ok);
  CHECK((*ok)[0] == doctest::Approx(0.6));  // normalised: the index scores unit vectors
  CHECK((*ok)[1] == doctest::Approx(0.8));
  // Without embedding_dimensions the first vector fixes the length.
  auto free = memory_store::make(provider_memory());
  REQUIRE(free);
  CHECK(free->dimension() == 0);
  CHECK_FALSE(free->has_index());
  REQUIRE(free->accept_vector(std::vector<float>(12, 1.0f)));
  CHECK(free->dimension() == 12);
  CHECK_FALSE(free->accept_vector(std::vector<float>(13, 1.0f)));
}

TEST_CASE("memory embed: entries without a vector are recalled by keywords, then by vector") {
  auto store = memory_store::make(provider_memory());
  REQUIRE(store);
  memory_entry a;
  a.id = 1;
  a.text = "the cat sat on the mat";
  a.created_ms = 10;
  memory_entry b;
  b.id = 2;
  b.text = "dogs bark at night";
  b.created_ms = 11;
  REQUIRE_FALSE(store->restore({a, b}, 3));
  CHECK(store->unembedded().size() == 2);
  CHECK(store->bytes() == store->bytes_recounted());
  // No query vector (degraded): keywords over every entry.
  auto hits = store->recall("a cat on a mat", 5, 100);
  REQUIRE(hits);
  REQUIRE(hits->size() == 1);
  CHECK(hits->front().entry.id == 1);
  CHECK(hits->front().score == doctest::Approx(0.75));  // cat, on, mat of a, cat, on, mat
  // One entry gets its vector; a query vector scores it by cosine, the
  // other still by keywords.
  auto v1 = store->accept_vector({1, 0, 0, 0});
  REQUIRE(v1);
  CHECK(store->set_vector(1, *v1));
  CHECK_FALSE(store->set_vector(1, *v1));  // has one already
  CHECK_FALSE(store->set_vector(9, *v1));  // not held
  CHECK(store->unembedded().size() == 1);
  auto q = store->accept_vector({0.6f, 0.8f, 0, 0});
  REQUIRE(q);
  hits = store->recall("dogs at night", 5, 100, &*q);
  REQUIRE(hits);
  REQUIRE(hits->size() == 2);
  CHECK(hits->front().entry.id == 2);  // keywords: all three words of the query
  CHECK(hits->front().score == doctest::Approx(1.0));
  CHECK(hits->back().entry.id == 1);  // cosine
  CHECK(hits->back().score == doctest::Approx(0.6));
  CHECK(store->bytes() == store->bytes_recounted());
  CHECK(store->evict({2}) == 1);
  CHECK(store->unembedded().empty());
  CHECK(store->bytes() == store->bytes_recounted());
}

TEST_CASE("memory embed: a snapshot of another model is refused, or embedded again in the "
          "background") {
  temp_file dir{"model-change"};  // outlives the fixture, whose system stops the writers
  provider_fixture f{scenario};
  auto p = f.spawn(f.config("openai"));
  auto mc = provider_memory();
  mc.snapshot_path = dir.file("m.sqlite");
  // One L2 for every shard below: it holds the old model's vectors, which
  // the changed model must not take (the model is part of the key).
  auto l2 = cache::shared_cache::make({});
  REQUIRE(l2);
  cache::cache_tiers tiers;
  tiers.l2 = *l2;
  {
    shards s{f};
    auto shard = s.spawn(mc, p, tiers);
    REQUIRE(shard);
    for (const char* t : {"red apples", "green pears", "yellow bananas"})
      REQUIRE(s.store(*shard, t));
    REQUIRE(s.ask<uint64_t>(*shard, snapshot_atom::value));
  }
  const auto before = f.mock_requests();
  auto changed = mc;
  changed.embedding_model = "p:embed-model-2";
  changed.model_change = embedding_model_change::refuse;
  {
    shards s{f};
    auto refused = s.spawn(changed, p, tiers);
    REQUIRE_FALSE(refused);
    CHECK(errc_of(refused.error()) == errc::invalid_argument);
    const auto why = error_context(refused.error());
    CHECK(why.find("p:embed-model (16 dimensions)") != std::string::npos);
    CHECK(why.find("p:embed-model-2") != std::string::npos);
    CHECK(why.find("model_change") != std::string::npos);
  }
  changed.model_change = embedding_model_change::reembed;
  shards s{f};
  auto shard = s.spawn(changed, p, tiers);
  REQUIRE(shard);
  auto st = s.settled(*shard);
  CHECK(st.entries == 3);
  CHECK(st.reembedded == 3);
  CHECK(st.cache_hits == 0);  // the L2 holds the old model's vectors only
  CHECK(st.embedding_model == "p:embed-model-2");
  CHECK(f.mock_requests() == before + 3);
  auto hits = s.recall(*shard, "green pears", 1);
  REQUIRE(hits.size() == 1);
  CHECK(hits[0].entry.text == "green pears");
  CHECK(hits[0].score == doctest::Approx(1.0).epsilon(1e-5));
}

TEST_CASE("memory embed: entries copied from a replica are embedded in the background") {
  provider_fixture f{scenario};
  shards s{f};
  auto p = f.spawn(f.config("openai"));
  auto shard = s.spawn(provider_memory(), p);
  REQUIRE(shard);
  memory_page page;
  for (uint64_t id = 1; id <= 5; ++id) {
    memory_entry e;
    e.id = id;
    e.text = "replicated note number " + std::to_string(id);
    e.created_ms = 1000 + static_cast<int64_t>(id);
    page.entries.push_back(e);
  }
  auto replica = caf::actor_cast<memory_replica_actor>(*shard);
  auto added = s.ask<uint64_t>(replica, memory_import_atom::value, page);
  REQUIRE(added);
  CHECK(*added == 5);
  auto st = s.settled(*shard);
  CHECK(st.entries == 5);
  CHECK(st.reembedded == 5);
  auto hits = s.recall(*shard, "replicated note number 4", 1);
  REQUIRE(hits.size() == 1);
  CHECK(hits[0].entry.id == 4);
  CHECK(hits[0].score == doctest::Approx(1.0).epsilon(1e-5));  // by vector, not keywords
  // A replica's store of an id held already is answered at once, with no embedding.
  const auto calls = s.stats(*shard).embed_calls;
  caf::expected<uint64_t> again{make_error(errc::internal, "no reply")};
  (*f.self)->request(replica, reply_wait, replica_store_atom::value, page.entries[0])
    .receive([&](uint64_t id) { again = id; }, [&](caf::error& e) { again = std::move(e); });
  REQUIRE(again);
  CHECK(*again == 1);
  CHECK(s.stats(*shard).embed_calls == calls);
}

TEST_CASE("memory embed: a second runtime with the same Redis embeds nothing twice") {
  temp_file dir{"redis"};  // outlives the fixture, whose system stops the writers
  provider_fixture f{scenario};
  auto url = cache_test_support::shared_redis_url();
  auto tiers_for = [&](const std::string& prefix) {
    cache_settings cs;
    cs.redis_url = url;
    cs.redis_key_prefix = prefix;
    cs.l2_entries_max = 0;  // no L2: each "runtime" below shares only Redis
    auto tiers = cache::make_cache_tiers(cs, nullptr);
    REQUIRE(tiers);
    return *tiers;
  };
  const auto prefix = cache_test_support::unique_prefix("memory-embed");
  auto p = f.spawn(f.config("openai"));
  auto mc = provider_memory();
  mc.snapshot_path = dir.file("m.sqlite");
  {
    shards s{f};
    auto shard = s.spawn(mc, p, tiers_for(prefix));
    REQUIRE(shard);
    for (const char* t : {"red apples", "green pears", "yellow bananas"})
      REQUIRE(s.store(*shard, t));
    REQUIRE(s.ask<uint64_t>(*shard, snapshot_atom::value));
  }
  const auto before = f.mock_requests();
  CHECK(before == 3);
  // A new runtime (new shard, new L1, no L2) restarts from the file: the
  // vectors come back from Redis, not from the provider.
  shards s{f};
  auto shard = s.spawn(mc, p, tiers_for(prefix));
  REQUIRE(shard);
  auto st = s.settled(*shard);
  CHECK(st.reembedded == 3);
  CHECK(st.cache_hits == 3);
  CHECK(st.embed_calls == 0);
  CHECK(f.mock_requests() == before);
  auto hits = s.recall(*shard, "yellow bananas", 1);  // and the query's own vector, also cached
  REQUIRE(hits.size() == 1);
  CHECK(hits[0].entry.text == "yellow bananas");
  CHECK(f.mock_requests() == before);
}

TEST_CASE("memory embed: a provider model needs its provider") {
  provider_fixture f{scenario};
  auto none = spawn_memory_shard(*f.sys, provider_memory(), {}, nullptr, {});
  REQUIRE_FALSE(none);
  CHECK(errc_of(none.error()) == errc::invalid_argument);
  CHECK(error_context(none.error()).find("needs the provider 'p'") != std::string::npos);
  for (const char* bad : {":model", "p:", "p q:model", "hash-8"}) {
    auto mc = provider_memory(bad);
    auto err = validate_memory_config(mc);
    CHECK_MESSAGE(err, bad);
    CHECK(error_context(err).find("memory.m.embedding_model") != std::string::npos);
  }
}

TEST_CASE("memory embed: a long text is embedded by its first embedding_input_bytes_max bytes") {
  provider_fixture f{scenario};
  shards s{f};
  auto p = f.spawn(f.config("openai"));
  auto mc = provider_memory();
  mc.embedding_input_bytes_max = 65;
  auto shard = s.spawn(mc, p);
  REQUIRE(shard);
  // The same first 66 bytes, different tails: one embedding. Byte 65 is
  // inside a two-byte character, so the cut goes back to 64 (invalid UTF-8
  // would not reach the vendor).
  const std::string head = "caf\xc3\xa9 notes " + std::string(52, 'x') + "\xc3\xa9";
  REQUIRE(head.size() == 66);
  REQUIRE(s.store(*shard, head + std::string(100'000, 'a')));
  REQUIRE(s.store(*shard, head + " and another ending"));
  auto st = s.stats(*shard);
  CHECK(st.entries == 2);
  CHECK(st.embed_calls == 1);
  CHECK(st.cache_hits == 1);
  CHECK(f.mock_requests() == 1);
}

TEST_CASE("memory embed: a text the vendor refuses fails only itself in the background") {
  provider_fixture f{scenario};
  shards s{f};
  auto pc = f.config("openai");
  pc.embed_batch_window = std::chrono::milliseconds{100};  // the four texts share one request
  auto p = f.spawn(pc);
  auto shard = s.spawn(provider_memory(), p);
  REQUIRE(shard);
  memory_page page;
  for (uint64_t id = 1; id <= 4; ++id) {
    memory_entry e;
    e.id = id;
    // The mock refuses a request whose last text has the phrase: the batch
    // of all four fails, then each is tried alone.
    e.text = id == 4 ? "please refuse me" : "an ordinary note " + std::to_string(id);
    e.created_ms = 1000 + static_cast<int64_t>(id);
    page.entries.push_back(e);
  }
  REQUIRE(s.ask<uint64_t>(caf::actor_cast<memory_replica_actor>(*shard), memory_import_atom::value,
                          page));
  memory_stats st;
  for (int i = 0; i < 500; ++i) {
    st = s.stats(*shard);
    if (st.reembedded == 3 && st.vectors_refused == 1)
      break;
    std::this_thread::sleep_for(10ms);
  }
  CHECK(st.reembedded == 3);
  CHECK(st.vectors_refused == 1);
  CHECK(st.vectors_pending == 1);
  CHECK(f.mock_count("faults", "status_400") >= 2);  // the batch, then the text alone
  auto hits = s.recall(*shard, "please refuse me", 1);  // by keywords, as it has no vector
  REQUIRE(hits.size() == 1);
  CHECK(hits[0].entry.id == 4);
}

// The hashing embedder and the vector index (exact scan and HNSW), without
// an actor system.
#include <doctest/doctest.h>

#include <cmath>
#include <mutex>
#include <random>
#include <set>

#include "actors/memory/hashing_embedder.hpp"
#include "actors/memory/vector_index.hpp"
#include "runtime/error.hpp"

using namespace agentgraph;

namespace memory_embedder_test {

double norm(const std::vector<float>& v) {
  double s = 0;
  for (float x : v)
    s += static_cast<double>(x) * x;
  return std::sqrt(s);
}

// Deterministic synthetic sentences over a small vocabulary, so that many
// pairs share words and ranking is non-trivial.
std::vector<std::string> sentences(size_t n, uint32_t seed) {
  static const char* words[] = {"actor", "memory", "shard", "recall", "vector", "index",
                                "cluster", "node",  "agent", "tool",   "graph",  "model",
                                "token",  "cache", "retry", "timer",  "snapshot", "sqlite",
                                "hash",   "cosine", "embed", "query",  "store",  "limit"};
  std::mt19937 rng{seed};
  std::vector<std::string> out;
  for (size_t i = 0; i < n; ++i) {
    std::string s;
    size_t len = 4 + rng() % 6;
    for (size_t w = 0; w < len; ++w)
      s.append(words[rng() % std::size(words)]).append(" ");
    out.push_back(s + "item" + std::to_string(i));
  }
  return out;
}

std::vector<uint64_t> ids_of(const std::vector<index_match>& m) {
  std::vector<uint64_t> out;
  for (const auto& x : m)
    out.push_back(x.id);
  return out;
}

}  // namespace memory_embedder_test

TEST_CASE("memory: fnv1a_64 matches the published test vectors") {
  CHECK(fnv1a_64("") == 0xcbf29ce484222325ull);
  CHECK(fnv1a_64("a") == 0xaf63dc4c8601ec8cull);
  CHECK(fnv1a_64("foobar") == 0x85944171f73967e8ull);
}

TEST_CASE("memory: parse_embedding_model accepts hash-<dim> within bounds") {
  CHECK(*parse_embedding_model("hash-16") == 16u);
  CHECK(*parse_embedding_model("hash-256") == 256u);
  CHECK(*parse_embedding_model("hash-4096") == 4096u);
}

TEST_CASE("memory: parse_embedding_model rejects bad values, naming them") {
  for (const char* bad : {"hash-15", "hash-4097", "hash-", "hash-abc", "hash-64x", "hash--64",
                          "hash-+64", "hash-99999999999999999999"}) {
    auto r = parse_embedding_model(bad);
    REQUIRE_FALSE(r);
    CHECK(errc_of(r.error()) == errc::invalid_argument);
    CHECK(error_context(r.error()).find(bad) != std::string::npos);
  }
  auto ext = parse_embedding_model("text-embedding-3-small");
  REQUIRE_FALSE(ext);
  CHECK(errc_of(ext.error()) == errc::unsupported);
  CHECK(error_context(ext.error()).find("is not hash-<dim>") != std::string::npos);
}

TEST_CASE("memory: tokens are lowercase words, UTF-8 bytes stay inside words") {
  auto t = embedding_tokens("Hello, WORLD! caf\xc3\xa9-bar x2");
  REQUIRE(t.size() == 5);
  CHECK(t[0] == "hello");
  CHECK(t[1] == "world");
  CHECK(t[2] == "caf\xc3\xa9");
  CHECK(t[3] == "bar");
  CHECK(t[4] == "x2");
}

TEST_CASE("memory: embeddings are deterministic and unit length") {
  hashing_embedder e{256};
  CHECK(e.dim() == 256);
  auto a = e.embed("The quick brown fox jumps over the lazy dog");
  auto b = hashing_embedder{256}.embed("The quick brown fox jumps over the lazy dog");
  REQUIRE(a.size() == 256);
  CHECK(a == b);
  CHECK(memory_embedder_test::norm(a) == doctest::Approx(1.0).epsilon(1e-6));
  // Case and punctuation do not change the features.
  CHECK(e.embed("the QUICK brown fox; jumps over the lazy dog!") == a);
  // Word order matters through bigrams.
  CHECK(e.embed("dog lazy the over jumps fox brown quick the") != a);
}

TEST_CASE("memory: text without word characters embeds to the zero vector") {
  hashing_embedder e{64};
  for (const char* text : {"", "   ", "!!! ... ---"}) {
    auto v = e.embed(text);
    REQUIRE(v.size() == 64);
    CHECK(memory_embedder_test::norm(v) == 0.0);
    CHECK(dot(v, e.embed("anything at all")) == 0.0f);
  }
}

TEST_CASE("memory: similar texts score higher than unrelated ones") {
  hashing_embedder e{256};
  auto q = e.embed("how do I restart a crashed actor");
  auto near = e.embed("the supervisor will restart a crashed actor");
  auto far = e.embed("banana bread recipe with walnuts");
  CHECK(dot(q, near) > 0.3f);
  CHECK(dot(q, near) > dot(q, far) + 0.2f);
  CHECK(dot(q, q) == doctest::Approx(1.0f));
}

TEST_CASE("memory: exact index ranks best first, ties by lower id") {
  hashing_embedder e{128};
  vector_index idx{128, 1000, 100};
  idx.add(7, e.embed("red apple pie"));
  idx.add(3, e.embed("red apple pie"));  // same vector as 7: a tie
  idx.add(5, e.embed("green apple"));
  idx.add(9, e.embed("tax forms due in april"));
  CHECK_FALSE(idx.uses_hnsw());
  auto hits = idx.search(e.embed("red apple pie"), 3);
  REQUIRE(hits.size() == 3);
  CHECK(memory_embedder_test::ids_of(hits) == std::vector<uint64_t>{3, 7, 5});
  CHECK(hits[0].score == doctest::Approx(1.0f));
  CHECK(hits[1].score >= hits[2].score);
  idx.remove(3);
  CHECK_FALSE(idx.contains(3));
  CHECK(idx.size() == 3);
  CHECK(idx.search(e.embed("red apple pie"), 1)[0].id == 7);
}

TEST_CASE("memory: index switches to hnsw at exact_search_max and agrees with exact") {
  const auto texts = memory_embedder_test::sentences(400, 7);
  hashing_embedder e{256};
  vector_index exact{256, 100000, 1000};
  vector_index hnsw{256, 200, 1000};
  for (size_t i = 0; i < texts.size(); ++i) {
    auto v = e.embed(texts[i]);
    exact.add(i + 1, v);
    hnsw.add(i + 1, v);
    // The switch happens when the count reaches the threshold, not later.
    CHECK(hnsw.uses_hnsw() == (i + 1 >= 200));
  }
  CHECK_FALSE(exact.uses_hnsw());
  REQUIRE(hnsw.size() == 400);
  const auto queries = memory_embedder_test::sentences(30, 99);
  size_t overlap = 0;
  size_t top1_same = 0;
  for (const auto& q : queries) {
    auto qv = e.embed(q);
    auto a = memory_embedder_test::ids_of(exact.search(qv, 5));
    auto b = memory_embedder_test::ids_of(hnsw.search(qv, 5));
    REQUIRE(a.size() == 5);
    REQUIRE(b.size() == 5);
    top1_same += a[0] == b[0] ? 1 : 0;
    std::set<uint64_t> sa(a.begin(), a.end());
    for (auto id : b)
      overlap += sa.count(id);
  }
  // HNSW is approximate; at 400 points and ef 64 it should find nearly all.
  CHECK(top1_same >= 28);
  CHECK(overlap >= 30 * 5 * 9 / 10);
}

TEST_CASE("memory: hnsw removal marks deleted, rebuilds past a quarter, may fall back") {
  hashing_embedder e{64};
  const auto texts = memory_embedder_test::sentences(100, 3);
  vector_index idx{64, 80, 200};
  for (size_t i = 0; i < texts.size(); ++i)
    idx.add(i + 1, e.embed(texts[i]));
  REQUIRE(idx.uses_hnsw());
  // 25 of 100 slots deleted is exactly a quarter: no rebuild yet.
  for (uint64_t id = 1; id <= 25; ++id)
    idx.remove(id);
  CHECK(idx.uses_hnsw());
  CHECK(idx.deleted_slots() == 25);
  CHECK(idx.size() == 75);
  CHECK_FALSE(idx.contains(10));
  for (const auto& m : idx.search(e.embed(texts[9]), 10))
    CHECK(m.id > 25);  // deleted vectors are never returned
  // The 26th deletion crosses a quarter: rebuild, and 74 < 80 means exact.
  idx.remove(26);
  CHECK_FALSE(idx.uses_hnsw());
  CHECK(idx.deleted_slots() == 0);
  CHECK(idx.size() == 74);
  auto top = idx.search(e.embed(texts[50]), 1);
  REQUIRE(top.size() == 1);
  CHECK(top[0].id == 51);
}

TEST_CASE("memory: hnsw reuses deleted slots under churn, without rebuilding") {
  hashing_embedder e{64};
  const auto texts = memory_embedder_test::sentences(300, 5);
  vector_index idx{64, 50, 100};
  for (uint64_t id = 1; id <= 100; ++id)
    idx.add(id, e.embed(texts[id - 1]));
  REQUIRE(idx.uses_hnsw());
  size_t bytes_full = idx.bytes();
  // A shard at max_entries: each store adds one and evicts the oldest.
  for (uint64_t id = 101; id <= 300; ++id) {
    idx.remove(id - 100);
    CHECK(idx.deleted_slots() == 1);
    idx.add(id, e.embed(texts[id - 1]));
    CHECK(idx.deleted_slots() == 0);
  }
  CHECK(idx.uses_hnsw());
  CHECK(idx.size() == 100);
  CHECK_FALSE(idx.contains(200));
  CHECK(idx.contains(201));
  // Reused slots hold the new vectors under the new ids.
  for (uint64_t id : {201u, 250u, 300u}) {
    auto top = idx.search(e.embed(texts[id - 1]), 1);
    REQUIRE(top.size() == 1);
    CHECK(top[0].id == id);
    CHECK(top[0].score == doctest::Approx(1.0f));
  }
  // No slot was added: the allocation did not grow.
  CHECK(idx.bytes() <= bytes_full + 64);
}

TEST_CASE("memory: hnsw grows past its first allocation and stays searchable") {
  hashing_embedder e{32};
  const auto texts = memory_embedder_test::sentences(1500, 11);
  vector_index idx{32, 10, 2000};
  for (size_t i = 0; i < texts.size(); ++i)
    idx.add(i + 1, e.embed(texts[i]));
  REQUIRE(idx.uses_hnsw());
  CHECK(idx.size() == 1500);
  auto top = idx.search(e.embed(texts[1234]), 1);
  REQUIRE(top.size() == 1);
  CHECK(top[0].score == doctest::Approx(1.0f));
}

TEST_CASE("memory: index bytes grow with content in both modes") {
  hashing_embedder e{128};
  vector_index idx{128, 50, 500};
  size_t empty = idx.bytes();
  idx.add(1, e.embed("one"));
  size_t one = idx.bytes();
  CHECK(one >= empty + 128 * sizeof(float));
  for (uint64_t id = 2; id <= 49; ++id)
    idx.add(id, e.embed("entry " + std::to_string(id)));
  size_t exact_49 = idx.bytes();
  CHECK(exact_49 >= 49 * 128 * sizeof(float));
  idx.add(50, e.embed("fifty"));
  REQUIRE(idx.uses_hnsw());
  // hnswlib allocates slots, links and 65536 update mutexes up front.
  CHECK(idx.bytes() > exact_49 + 65536 * sizeof(std::mutex));
}

// The population store contract, written once and run against every
// backend (population_store_sqlite_test.cpp, population_store_postgres_test.cpp).
// A backend test file supplies a factory that makes a fresh, empty location
// per test case and expands AGENTGRAPH_POPULATION_STORE_CONTRACT(prefix, factory).
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "runtime/error.hpp"
#include "runtime/population/population_store.hpp"

namespace agentgraph::population_store_contract {

using store_ptr = std::unique_ptr<population_store>;

// A fresh, empty location. `open` may be called many times: each call opens
// another store object (another connection) on the same data. The fields
// after `open` are those agentgraph_test::postgres_contract_factory fills.
struct store_factory {
  std::function<caf::expected<store_ptr>(const population_store_limits&)> open;
  std::vector<std::string> writer_args;  // backend, location (and schema)
  std::shared_ptr<void> cleanup;         // removes the location when the last copy goes
  std::function<void()> settle_after_kill = [] {};
};

inline store_ptr open_ok(const store_factory& f, const population_store_limits& limits = {}) {
  auto s = f.open(limits);
  REQUIRE_MESSAGE(static_cast<bool>(s), (s ? "" : describe(s.error())));
  return std::move(*s);
}

inline std::vector<uint8_t> bytes(const std::string& s) {
  return {s.begin(), s.end()};
}

template <class T>
T value_ok(caf::expected<T> r) {
  REQUIRE_MESSAGE(static_cast<bool>(r), (r ? "" : describe(r.error())));
  return std::move(*r);
}

inline std::vector<population_claim> claim_ok(population_store& s, const std::string& population,
                                              const std::vector<std::string>& keys,
                                              const std::string& owner = "n1",
                                              uint64_t epoch = 7) {
  auto out = value_ok(s.claim(population, keys, owner, epoch));
  REQUIRE(out.size() == keys.size());
  return out;
}

inline std::vector<std::string> save_ok(population_store& s, const std::string& population,
                                        const std::vector<population_save>& batch,
                                        const std::string& owner = "n1", uint64_t epoch = 7) {
  return value_ok(s.save(population, owner, epoch, batch));
}

// The state a fresh claim by a third owner finds for `key` (nullopt-like:
// existed false). Claims the key away from its holder: use at the end.
inline population_claim peek(population_store& s, const std::string& population,
                             const std::string& key) {
  return claim_ok(s, population, {key}, "peeker", 1).at(0);
}

// The error's code, or errc::none for a value.
template <class T>
errc code_of(const caf::expected<T>& r) {
  return r ? errc::none : errc_of(r.error()).value_or(errc::none);
}

template <class T>
std::string context_of(const caf::expected<T>& r) {
  return r ? std::string{} : error_context(r.error());
}

// Every page of keys(population), `page` at a time, until a page is empty.
inline std::vector<std::string> all_keys(population_store& s, const std::string& population,
                                         uint32_t page) {
  std::vector<std::string> out;
  std::string after;
  for (int pages = 0; pages < 10'000; ++pages) {  // bound: far above any test's size
    auto next = value_ok(s.keys(population, after, page));
    CHECK(next.size() <= page);
    if (next.empty())
      return out;
    out.insert(out.end(), next.begin(), next.end());
    after = next.back();
  }
  FAIL("keys did not end");
  return out;
}

// --- clauses -----------------------------------------------------------------

// A new key has no state; a saved one comes back, through another object,
// in the order of the claim's keys; bytes and 64-bit epochs round-trip.
inline void claim_new_and_saved(const store_factory& f) {
  auto a = open_ok(f);
  auto b = open_ok(f);
  std::vector<uint8_t> all_bytes;
  for (int i = 0; i < 256; ++i)
    all_bytes.push_back(static_cast<uint8_t>(i));
  std::vector<std::string> keys{"zeta", "alpha", "ünïcödé 🧪", "empty"};
  for (const auto& c : claim_ok(*a, "users", keys, "n1", UINT64_MAX)) {
    CHECK_FALSE(c.existed);
    CHECK(c.state.empty());
  }
  CHECK(value_ok(a->count("users")) == 0);  // claimed, not saved
  auto fenced = save_ok(*a, "users",
                        {{"alpha", bytes("state of alpha")},
                         {"ünïcödé 🧪", all_bytes},
                         {"empty", {}},
                         {"zeta", bytes("z")}},
                        "n1", UINT64_MAX);
  CHECK(fenced.empty());
  CHECK(value_ok(b->count("users")) == 4);
  std::vector<std::string> order{"empty", "zeta", "never saved", "ünïcödé 🧪", "alpha"};
  auto found = claim_ok(*b, "users", order, "n2", uint64_t{1} << 63);
  CHECK(found[0].existed);  // an empty state is a saved state
  CHECK(found[0].state.empty());
  CHECK(found[1].state == bytes("z"));
  CHECK_FALSE(found[2].existed);
  CHECK(found[3].existed);
  CHECK(found[3].state == all_bytes);
  CHECK(found[4].state == bytes("state of alpha"));
  // Another population is another namespace.
  CHECK_FALSE(claim_ok(*a, "orders", {"alpha"}).at(0).existed);
  CHECK(value_ok(a->count("orders")) == 0);
  CHECK(value_ok(a->count("users")) == 4);
  CHECK(a->backend() == b->backend());
}

// The newest claim wins, whatever the epochs: the previous claimant's saves
// are fenced (returned, in batch order, and not written), the rest of its
// batch is saved; a key never claimed is fenced too.
inline void newest_claim_wins(const store_factory& f) {
  auto old_node = open_ok(f);
  auto new_node = open_ok(f);
  claim_ok(*old_node, "p", {"k1", "k2", "k3"}, "n1", 7);
  CHECK(save_ok(*old_node, "p", {{"k1", bytes("v1")}, {"k2", bytes("v2")}, {"k3", bytes("v3")}},
                "n1", 7)
          .empty());
  // n2 takes k3 and k1 over (n1 was declared down).
  auto taken = claim_ok(*new_node, "p", {"k3", "k1"}, "n2", 8);
  CHECK(taken[0].state == bytes("v3"));
  CHECK(taken[1].state == bytes("v1"));
  auto fenced = save_ok(*old_node, "p",
                        {{"k3", bytes("stale 3")},
                         {"k2", bytes("v2 again")},
                         {"k1", bytes("stale 1")},
                         {"nobody", bytes("never claimed")}},
                        "n1", 7);
  CHECK(fenced == std::vector<std::string>{"k3", "k1", "nobody"});
  // The same owner with another epoch is another claimant.
  CHECK(save_ok(*new_node, "p", {{"k1", bytes("wrong epoch")}}, "n2", 9)
        == std::vector<std::string>{"k1"});
  CHECK(save_ok(*new_node, "p", {{"k1", bytes("n2's 1")}}, "n2", 8).empty());
  // A later claim with a LOWER epoch still wins: newest by time, not by number.
  claim_ok(*old_node, "p", {"k1"}, "n1", 3);
  CHECK(save_ok(*new_node, "p", {{"k1", bytes("n2 again")}}, "n2", 8)
        == std::vector<std::string>{"k1"});
  CHECK(save_ok(*old_node, "p", {{"k1", bytes("n1 epoch 3")}}, "n1", 3).empty());
  CHECK(value_ok(new_node->count("p")) == 3);  // "nobody" was not created
  CHECK(peek(*new_node, "p", "k1").state == bytes("n1 epoch 3"));
  CHECK(peek(*new_node, "p", "k2").state == bytes("v2 again"));
  CHECK(peek(*new_node, "p", "k3").state == bytes("v3"));
  CHECK_FALSE(peek(*new_node, "p", "nobody").existed);
}

// A claimant that claims its own keys again (a key passivated and activated
// again on one node) reads their current states; a batch mixing its keys
// with new and taken ones claims the others; once another node took a key,
// the same claimant's claim takes it back.
inline void same_claimant_claims_again(const store_factory& f) {
  auto a = open_ok(f);
  auto b = open_ok(f);
  claim_ok(*a, "p", {"k1", "k2"}, "n1", 5);
  CHECK(save_ok(*a, "p", {{"k1", bytes("one")}}, "n1", 5).empty());
  auto again = claim_ok(*a, "p", {"k1", "k2"}, "n1", 5);
  CHECK(again[0].state == bytes("one"));
  CHECK_FALSE(again[1].existed);  // claimed before, never saved
  CHECK(save_ok(*a, "p", {{"k1", bytes("one'")}}, "n1", 5).empty());  // still the claimant
  claim_ok(*b, "p", {"k2"}, "n2", 6);
  auto mixed = claim_ok(*a, "p", {"k2", "k1", "k3"}, "n1", 5);
  CHECK_FALSE(mixed[0].existed);
  CHECK(mixed[1].state == bytes("one'"));
  CHECK_FALSE(mixed[2].existed);
  // n1 took k2 back: n2's saves of it are fenced, n1's are not.
  CHECK(save_ok(*b, "p", {{"k2", bytes("n2")}}, "n2", 6) == std::vector<std::string>{"k2"});
  CHECK(save_ok(*a, "p", {{"k2", bytes("n1")}, {"k3", bytes("n1 3")}}, "n1", 5).empty());
  CHECK(peek(*a, "p", "k2").state == bytes("n1"));
  CHECK(peek(*a, "p", "k3").state == bytes("n1 3"));
}

// An invalid entry anywhere in a batch writes nothing of it.
inline void invalid_batch_writes_nothing(const store_factory& f) {
  population_store_limits limits;
  limits.state_bytes_max = 16;
  auto s = open_ok(f, limits);
  claim_ok(*s, "p", {"a", "b", "c"});
  CHECK(save_ok(*s, "p", {{"a", bytes("old a")}, {"b", bytes("old b")}}).empty());
  auto too_big = s->save("p", "n1", 7,
                         {{"a", bytes("new a")}, {"c", bytes("new c")},
                          {"b", std::vector<uint8_t>(17, 1)}});
  CHECK(code_of(too_big) == errc::invalid_argument);
  CHECK(context_of(too_big).find("'b'") != std::string::npos);
  auto twice = s->save("p", "n1", 7, {{"a", bytes("new a")}, {"c", bytes("c")}, {"a", bytes("x")}});
  CHECK(code_of(twice) == errc::invalid_argument);
  CHECK(context_of(twice).find("'a' appears twice") != std::string::npos);
  auto bad_key = s->save("p", "n1", 7, {{"a", bytes("new a")}, {std::string{"c\n"}, bytes("c")}});
  CHECK(code_of(bad_key) == errc::invalid_argument);
  CHECK(value_ok(s->count("p")) == 2);
  auto states = claim_ok(*s, "p", {"a", "b", "c"});
  CHECK(states[0].state == bytes("old a"));
  CHECK(states[1].state == bytes("old b"));
  CHECK_FALSE(states[2].existed);
  // Exactly state_bytes_max is allowed.
  CHECK(save_ok(*s, "p", {{"c", std::vector<uint8_t>(16, 2)}}).empty());
}

// Every bound of the limits and every malformed argument is
// invalid_argument, and changes nothing.
inline void limits_are_invalid_argument(const store_factory& f) {
  population_store_limits limits;
  limits.name_bytes_max = 8;
  limits.key_bytes_max = 10;
  limits.owner_bytes_max = 6;
  limits.batch_max = 3;
  auto s = open_ok(f, limits);
  auto bad = [](const auto& r) { return code_of(r) == errc::invalid_argument; };
  const std::string key10(10, 'k');
  CHECK(claim_ok(*s, "12345678", {key10}, "owner6").size() == 1);
  CHECK(save_ok(*s, "12345678", {{key10, bytes("x")}}, "owner6").empty());
  for (const std::string& name :
       {std::string{}, std::string(9, 'p'), std::string{"a\tb"}, std::string{"bad\xff"}}) {
    CHECK(bad(s->claim(name, {"k"}, "n1", 7)));
    CHECK(bad(s->save(name, "n1", 7, {{"k", {}}})));
    CHECK(bad(s->keys(name, "", 1)));
    CHECK(bad(s->count(name)));
    CHECK(bad(s->erase(name, "k")));
  }
  for (const std::string& key : {std::string{}, std::string(11, 'k'), std::string{"nul\0x", 5},
                                 std::string{"\xc3\x28"}}) {
    CHECK(bad(s->claim("p", {"ok", key}, "n1", 7)));
    CHECK(bad(s->save("p", "n1", 7, {{"ok", {}}, {key, {}}})));
    CHECK(bad(s->erase("p", key)));
    if (!key.empty())  // "" is keys' "from the first"
      CHECK(bad(s->keys("p", key, 1)));
  }
  for (const std::string& owner : {std::string{}, std::string(7, 'o'), std::string{"o\x7f"}}) {
    CHECK(bad(s->claim("p", {"k"}, owner, 7)));
    CHECK(bad(s->save("p", owner, 7, {{"k", {}}})));
  }
  // Batch sizes: 0 and above batch_max; duplicates; epoch 0.
  CHECK(bad(s->claim("p", {}, "n1", 7)));
  CHECK(bad(s->claim("p", {"a", "b", "c", "d"}, "n1", 7)));
  CHECK(bad(s->save("p", "n1", 7, {})));
  CHECK(bad(s->save("p", "n1", 7, {{"a", {}}, {"b", {}}, {"c", {}}, {"d", {}}})));
  CHECK(bad(s->keys("p", "", 0)));
  CHECK(bad(s->keys("p", "", 4)));
  auto dup = s->claim("p", {"a", "b", "a"}, "n1", 7);
  CHECK(bad(dup));
  CHECK(context_of(dup).find("'a' appears twice") != std::string::npos);
  auto epoch0 = s->claim("p", {"a"}, "n1", 0);
  CHECK(bad(epoch0));
  CHECK(context_of(epoch0).find("owner_epoch 0") != std::string::npos);
  CHECK(bad(s->save("p", "n1", 0, {{"a", {}}})));
  // Nothing of the refused calls was written: "p" has no row at all.
  CHECK(value_ok(s->count("p")) == 0);
  CHECK_FALSE(peek(*s, "p", "a").existed);
  CHECK(claim_ok(*s, "p", {"a", "b", "c"}).size() == 3);
  CHECK(value_ok(s->keys("p", "", 3)).empty());
  // Limits out of their own bounds are refused at open.
  for (auto set : std::vector<std::function<void(population_store_limits&)>>{
         [](auto& l) { l.name_bytes_max = 0; },
         [](auto& l) { l.key_bytes_max = population_name_bytes_max_max + 1; },
         [](auto& l) { l.owner_bytes_max = 0; },
         [](auto& l) { l.state_bytes_max = 0; },
         [](auto& l) { l.state_bytes_max = population_state_bytes_max_max + 1; },
         [](auto& l) { l.batch_max = 0; },
         [](auto& l) { l.batch_max = population_batch_max_max + 1; }}) {
    population_store_limits l;
    set(l);
    CHECK(bad(f.open(l)));
  }
}

// keys pages through the saved keys only, in byte order; count agrees.
inline void keys_page_in_byte_order(const store_factory& f) {
  auto s = open_ok(f);
  std::vector<std::string> saved{"b", "a", "ab", "B", "é", "z", "a b", "~", "10", "9", "Ω", "aa"};
  claim_ok(*s, "p", saved);
  claim_ok(*s, "p", {"claimed only", "zz"});
  std::vector<population_save> batch;
  for (const auto& k : saved)
    batch.push_back({k, bytes("state of " + k)});
  CHECK(save_ok(*s, "p", batch).empty());
  claim_ok(*s, "q", {"other population"});
  CHECK(save_ok(*s, "q", {{"other population", {}}}).empty());
  auto expected = saved;
  std::sort(expected.begin(), expected.end());  // std::string compares bytes as unsigned
  for (uint32_t page : {1u, 3u, 5u, 12u, 100u})
    CHECK(all_keys(*s, "p", page) == expected);
  CHECK(value_ok(s->keys("p", "a", 2)) == std::vector<std::string>{"a b", "aa"});
  CHECK(value_ok(s->keys("p", "aaa", 1)) == std::vector<std::string>{"ab"});
  CHECK(value_ok(s->keys("p", "\xce\xa9", 5)).empty());  // after the last ("Ω")
  CHECK(value_ok(s->count("p")) == saved.size());
  CHECK(value_ok(s->count("q")) == 1);
  CHECK(value_ok(s->count("nobody")) == 0);
  CHECK(all_keys(*s, "q", 2) == std::vector<std::string>{"other population"});
}

// erase removes the state and the claim: the old claimant is fenced, a new
// claim finds nothing.
inline void erase_removes_row(const store_factory& f) {
  auto s = open_ok(f);
  claim_ok(*s, "p", {"a", "b", "unsaved"});
  CHECK(save_ok(*s, "p", {{"a", bytes("A")}, {"b", bytes("B")}}).empty());
  CHECK(value_ok(s->erase("p", "a")));
  CHECK_FALSE(value_ok(s->erase("p", "a")));
  CHECK_FALSE(value_ok(s->erase("p", "never")));
  CHECK(value_ok(s->erase("p", "unsaved")));  // a claimed row is a row
  CHECK(value_ok(s->count("p")) == 1);
  CHECK(value_ok(s->keys("p", "", 10)) == std::vector<std::string>{"b"});
  CHECK(save_ok(*s, "p", {{"a", bytes("after erase")}, {"b", bytes("B2")}})
        == std::vector<std::string>{"a"});
  CHECK_FALSE(claim_ok(*s, "p", {"a"}).at(0).existed);
  CHECK(claim_ok(*s, "p", {"b"}).at(0).state == bytes("B2"));
}

}  // namespace agentgraph::population_store_contract

#define AGENTGRAPH_POPULATION_STORE_CONTRACT(PREFIX, FACTORY)                                  \
  TEST_CASE(PREFIX ": claim returns saved states in key order, nothing for new keys") {      \
    agentgraph::population_store_contract::claim_new_and_saved(FACTORY());                   \
  }                                                                                           \
  TEST_CASE(PREFIX ": the newest claim wins and fences the previous claimant's saves") {     \
    agentgraph::population_store_contract::newest_claim_wins(FACTORY());                     \
  }                                                                                           \
  TEST_CASE(PREFIX ": a claimant claiming its own keys again reads them, takes others back") { \
    agentgraph::population_store_contract::same_claimant_claims_again(FACTORY());            \
  }                                                                                           \
  TEST_CASE(PREFIX ": an invalid entry writes nothing of its batch") {                       \
    agentgraph::population_store_contract::invalid_batch_writes_nothing(FACTORY());          \
  }                                                                                           \
  TEST_CASE(PREFIX ": every limit and malformed argument is invalid_argument") {             \
    agentgraph::population_store_contract::limits_are_invalid_argument(FACTORY());           \
  }                                                                                           \
  TEST_CASE(PREFIX ": keys pages through saved keys in byte order, count agrees") {          \
    agentgraph::population_store_contract::keys_page_in_byte_order(FACTORY());               \
  }                                                                                           \
  TEST_CASE(PREFIX ": erase removes the state and the claim") {                              \
    agentgraph::population_store_contract::erase_removes_row(FACTORY());                     \
  }

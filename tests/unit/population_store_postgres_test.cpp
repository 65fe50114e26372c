// The population store contract on the PostgreSQL backend, against the
// throwaway server that tools/test.sh starts (tools/test-services.sh).
// Every case here is named "postgres ..." and labelled `postgres` in ctest;
// without AGENTGRAPH_TEST_POSTGRES_URL they FAIL, never skip.
#include <doctest/doctest.h>

#include <thread>

#include "population_store_contract.hpp"
#include "postgres_test_support.hpp"
#include "runtime/population/postgres_population_store.hpp"

namespace agentgraph::population_store_postgres_test {

namespace contract = population_store_contract;
using contract::store_factory;

// A fresh schema per test case (cases run in parallel processes against one
// database), dropped when the factory goes.
inline store_factory postgres_factory() {
  return agentgraph_test::postgres_contract_factory<store_factory>(
    "ps", [](const std::string& url, const auto& limits, const std::string& schema) {
      return open_postgres_population_store(url, limits, schema);
    });
}

AGENTGRAPH_POPULATION_STORE_CONTRACT("postgres population store", postgres_factory)

TEST_CASE("postgres population store: a failed connection is io_error without the password") {
  agentgraph_test::check_refused_connection_hides_password(
    [](const std::string& url) { return open_population_store(url); });
}

TEST_CASE("postgres population store: a schema name that is not an identifier is refused") {
  auto r = open_postgres_population_store(agentgraph_test::test_postgres_url(), {},
                                          "x; DROP TABLE population_keys");
  REQUIRE_FALSE(r);
  CHECK(errc_of(r.error()) == errc::invalid_argument);
}

// Keys with the characters an array literal quotes, and a save batch larger
// than one statement's chunk of states, round-trip exactly.
TEST_CASE("postgres population store: quoted keys and multi-statement saves round-trip") {
  auto f = postgres_factory();
  population_store_limits limits;
  limits.state_bytes_max = 8u << 20;
  auto s = contract::open_ok(f, limits);
  std::vector<std::string> keys{"a\"b", "c\\d", "{e,f}", "NULL", " g ", "'h'"};
  contract::claim_ok(*s, "p", keys);
  std::vector<population_save> batch;
  for (const auto& k : keys)
    batch.push_back({k, std::vector<uint8_t>(6u << 20, static_cast<uint8_t>(k[0]))});  // 36 MiB
  CHECK(contract::save_ok(*s, "p", batch).empty());
  auto found = contract::claim_ok(*s, "p", keys, "n2", 8);
  for (size_t i = 0; i < keys.size(); ++i)
    CHECK(found[i].state == batch[i].state);
  CHECK(contract::all_keys(*s, "p", 4).size() == keys.size());
}

// Two nodes claiming overlapping batches in opposite orders: rows are
// locked in key order, so neither deadlocks and every claim succeeds.
TEST_CASE("postgres population store: overlapping claims in opposite orders do not deadlock") {
  auto f = postgres_factory();
  auto a = contract::open_ok(f);
  auto b = contract::open_ok(f);
  std::vector<std::string> up, down;
  for (int i = 0; i < 50; ++i)
    up.push_back("k" + std::to_string(i));
  down.assign(up.rbegin(), up.rend());
  int failures_a = 0;
  std::thread t{[&] {
    for (int round = 0; round < 40; ++round)
      failures_a += a->claim("p", up, "na", 1 + round) ? 0 : 1;
  }};
  int failures_b = 0;
  for (int round = 0; round < 40; ++round)
    failures_b += b->claim("p", down, "nb", 1 + round) ? 0 : 1;
  t.join();
  CHECK(failures_a == 0);
  CHECK(failures_b == 0);
}

}  // namespace agentgraph::population_store_postgres_test

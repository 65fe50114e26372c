// The checkpoint contract on the PostgreSQL backend, against the throwaway
// server that tools/test.sh starts (tools/test-services.sh). Every case here
// is named "postgres ..." and labelled `postgres` in ctest; without
// AGENTGRAPH_TEST_POSTGRES_URL they FAIL, never skip (`ctest -LE postgres`
// leaves them out of a plain dev run on purpose).
#include <doctest/doctest.h>

#include <chrono>
#include <thread>

#include "checkpoint_contract.hpp"
#include "postgres_test_support.hpp"
#include "runtime/checkpoint/postgres_checkpoint_store.hpp"

namespace agentgraph::checkpoint_postgres_test {

using checkpoint_contract::store_factory;

using agentgraph_test::test_postgres_url;

// A fresh schema per test case (cases run in parallel processes against one
// database), dropped when the factory goes.
inline store_factory postgres_factory() {
  return agentgraph_test::postgres_contract_factory<store_factory>(
    "cp", [](const std::string& url, const auto& limits, const std::string& schema) {
      return open_postgres_checkpoint_store(url, limits, schema);
    });
}

AGENTGRAPH_CHECKPOINT_CONTRACT("postgres checkpoint", postgres_factory)

TEST_CASE("postgres checkpoint: a failed connection is io_error without the password") {
  agentgraph_test::check_refused_connection_hides_password(
    [](const std::string& url) { return open_postgres_checkpoint_store(url); });
}

TEST_CASE("postgres checkpoint: a schema name that is not an identifier is invalid_argument") {
  auto r = open_postgres_checkpoint_store(test_postgres_url(), {}, "x; DROP TABLE checkpoints");
  REQUIRE_FALSE(r);
  CHECK(errc_of(r.error()) == errc::invalid_argument);
}

TEST_CASE("postgres checkpoint: two stores sharing a schema create it once") {
  auto f = postgres_factory();
  caf::expected<checkpoint_contract::store_ptr> a{nullptr};
  std::thread t{[&] { a = f.open({}); }};  // no doctest assertion off the main thread
  auto b = checkpoint_contract::open_ok(f);
  t.join();
  REQUIRE_MESSAGE(static_cast<bool>(a), (a ? "" : describe(a.error())));
  CHECK(checkpoint_contract::put_ok(**a, checkpoint_contract::make_checkpoint("t", 1)) == 1);
  CHECK(b->latest("t").value().step == 1);
}

TEST_CASE("postgres checkpoint: a lost connection fails one call, the next reconnects") {
  auto f = postgres_factory();
  auto schema = f.writer_args.at(2);
  auto url = f.writer_args.at(1);  // with application_name = schema
  auto store = open_postgres_checkpoint_store(url, {}, schema);
  REQUIRE_MESSAGE(static_cast<bool>(store), (store ? "" : describe(store.error())));
  checkpoint_contract::put_ok(**store, checkpoint_contract::make_checkpoint("t", 1));
  REQUIRE(agentgraph_test::terminate_sessions(schema) == 1);
  // The call that finds the connection gone fails; only that one.
  auto first = (*store)->latest("t");
  REQUIRE_FALSE(first);
  CHECK(errc_of(first.error()) == errc::io_error);
  CHECK(error_context(first.error()).find("connection lost") != std::string::npos);
  auto second = (*store)->put(checkpoint_contract::make_checkpoint("t", 2, 1));
  REQUIRE_MESSAGE(static_cast<bool>(second), (second ? "" : describe(second.error())));
  CHECK(*second == 2);
  CHECK((*store)->latest("t").value().step == 2);
}

}  // namespace agentgraph::checkpoint_postgres_test

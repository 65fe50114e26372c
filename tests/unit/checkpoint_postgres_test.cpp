// The checkpoint contract on the PostgreSQL backend, against the throwaway
// server that tools/test.sh starts (tools/test-services.sh). Every case here
// is named "postgres ..." and labelled `postgres` in ctest; without
// AGENTGRAPH_TEST_POSTGRES_URL they FAIL, never skip (`ctest -LE postgres`
// leaves them out of a plain dev run on purpose).
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <random>
#include <thread>

#include <unistd.h>

#include <pqxx/pqxx>

#include "checkpoint_contract.hpp"
#include "runtime/checkpoint/postgres_checkpoint_store.hpp"

namespace agentgraph::checkpoint_postgres_test {

using checkpoint_contract::store_factory;

inline std::string test_url() {
  const char* url = std::getenv("AGENTGRAPH_TEST_POSTGRES_URL");
  REQUIRE_MESSAGE(url != nullptr,
                  "AGENTGRAPH_TEST_POSTGRES_URL is not set: run tools/test.sh, or "
                  "`tools/test-services.sh run ctest --test-dir build`, or leave these tests "
                  "out with `ctest -LE postgres`");
  return url;
}

// A fresh schema per test case (cases run in parallel processes against one
// database), dropped when the factory goes.
inline store_factory postgres_factory() {
  static std::atomic<int> counter{0};
  auto url = test_url();
  auto schema = "cp_" + std::to_string(getpid()) + "_" + std::to_string(++counter) + "_"
                + std::to_string(std::random_device{}() % 100'000);
  store_factory f;
  f.open = [url, schema](const checkpoint_limits& limits) {
    return open_postgres_checkpoint_store(url, limits, schema);
  };
  // The writer's sessions carry the schema as application_name, so that the
  // kill -9 clause can wait for the server to end them.
  f.writer_args = {"postgres", url + "?application_name=" + schema, schema};
  f.settle_after_kill = [url, schema] {
    pqxx::connection conn{url};
    for (int i = 0; i < 1'000; ++i) {
      pqxx::nontransaction tx{conn};
      auto r = tx.exec("SELECT 1 FROM pg_stat_activity WHERE application_name = "
                       + tx.quote(schema));
      if (r.empty())
        return;
      tx.abort();
      std::this_thread::sleep_for(std::chrono::milliseconds{10});
    }
    FAIL("the killed writer's session is still open after 10 s");
  };
  f.cleanup = std::shared_ptr<void>(nullptr, [url, schema](void*) {
    try {
      pqxx::connection conn{url};
      pqxx::nontransaction tx{conn};
      tx.exec("DROP SCHEMA IF EXISTS " + tx.quote_name(schema) + " CASCADE");
    } catch (const std::exception&) {
      // Best effort: the server is thrown away after the run anyway.
    }
  });
  return f;
}

AGENTGRAPH_CHECKPOINT_CONTRACT("postgres checkpoint", postgres_factory)

TEST_CASE("postgres checkpoint: a failed connection is io_error without the password") {
  // Port 1 (tcpmux): nothing listens there, the connection is refused at once.
  auto r = open_postgres_checkpoint_store("postgresql://agentgraph:s3cret-pw@127.0.0.1:1/x");
  REQUIRE_FALSE(r);
  CHECK(errc_of(r.error()) == errc::io_error);
  auto text = error_context(r.error());
  CHECK(text.find("s3cret-pw") == std::string::npos);
  CHECK(text.find("postgresql://agentgraph:***@127.0.0.1:1/x") != std::string::npos);
  CHECK_FALSE(test_url().empty());  // the suite still requires the server
}

TEST_CASE("postgres checkpoint: a schema name that is not an identifier is invalid_argument") {
  auto r = open_postgres_checkpoint_store(test_url(), {}, "x; DROP TABLE checkpoints");
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
  {
    pqxx::connection admin{test_url()};
    pqxx::nontransaction tx{admin};
    auto r = tx.exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "
                     "application_name = " + tx.quote(schema));
    REQUIRE(r.size() == 1);
  }
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

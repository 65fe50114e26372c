// What the PostgreSQL contract tests share (checkpoint_postgres_test.cpp,
// journal_postgres_test.cpp): the server's URL, a fresh schema per test case
// dropped afterwards, and the wait for a killed writer's session to end.
// The server is the throwaway one tools/test.sh starts
// (tools/test-services.sh); without AGENTGRAPH_TEST_POSTGRES_URL the cases
// FAIL, never skip.
#pragma once

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <thread>

#include <unistd.h>

#include <pqxx/pqxx>

#include "runtime/error.hpp"

namespace agentgraph_test {

inline std::string test_postgres_url() {
  const char* url = std::getenv("AGENTGRAPH_TEST_POSTGRES_URL");
  REQUIRE_MESSAGE(url != nullptr,
                  "AGENTGRAPH_TEST_POSTGRES_URL is not set: run tools/test.sh, or "
                  "`tools/test-services.sh run ctest --test-dir build`, or leave these tests "
                  "out with `ctest -LE postgres`");
  return url;
}

// A schema name no other test case uses (cases run in parallel processes
// against one database): PREFIX_pid_counter_random.
inline std::string fresh_postgres_schema(const std::string& prefix) {
  static std::atomic<int> counter{0};
  return prefix + "_" + std::to_string(getpid()) + "_" + std::to_string(++counter) + "_"
         + std::to_string(std::random_device{}() % 100'000);
}

// Drops `schema` when the last copy of the returned handle goes (best
// effort: the server is thrown away after the run anyway).
inline std::shared_ptr<void> drop_schema_at_exit(const std::string& url,
                                                 const std::string& schema) {
  return std::shared_ptr<void>(nullptr, [url, schema](void*) {
    try {
      pqxx::connection conn{url};
      pqxx::nontransaction tx{conn};
      tx.exec("DROP SCHEMA IF EXISTS " + tx.quote_name(schema) + " CASCADE");
    } catch (const std::exception&) {
    }
  });
}

// Waits (at most 10 s) until the server has no session named
// `application_name`: a killed client's transaction may still commit while
// its session lives, so "killed" is not yet "settled".
inline void wait_for_sessions_to_end(const std::string& url,
                                     const std::string& application_name) {
  pqxx::connection conn{url};
  for (int i = 0; i < 1'000; ++i) {
    pqxx::nontransaction tx{conn};
    auto r = tx.exec("SELECT 1 FROM pg_stat_activity WHERE application_name = "
                     + tx.quote(application_name));
    if (r.empty())
      return;
    tx.abort();
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  }
  FAIL("the killed writer's session is still open after 10 s");
}

// The factory of a storage contract (checkpoint_contract::store_factory,
// journal_contract::journal_factory) on a fresh schema: `open(url, limits,
// schema)` opens the backend. The writer of the kill -9 clause gets the
// schema as its application_name, so that the clause can wait for the
// server to end its sessions.
template <class Factory, class Open>
Factory postgres_contract_factory(const std::string& schema_prefix, Open open) {
  auto url = test_postgres_url();
  auto schema = fresh_postgres_schema(schema_prefix);
  Factory f;
  f.open = [url, schema, open](const auto& limits) { return open(url, limits, schema); };
  f.writer_args = {"postgres", url + "?application_name=" + schema, schema};
  f.settle_after_kill = [url, schema] { wait_for_sessions_to_end(url, schema); };
  f.cleanup = drop_schema_at_exit(url, schema);
  return f;
}

// A backend opened through `open(url)` at a port where nothing listens
// fails with io_error at once, naming the URL with its password hidden.
template <class Open>
void check_refused_connection_hides_password(Open open) {
  // Port 1 (tcpmux): nothing listens there, the connection is refused at once.
  auto r = open("postgresql://agentgraph:s3cret-pw@127.0.0.1:1/x");
  REQUIRE_FALSE(r);
  CHECK(agentgraph::errc_of(r.error()) == agentgraph::errc::io_error);
  auto text = agentgraph::error_context(r.error());
  CHECK(text.find("s3cret-pw") == std::string::npos);
  CHECK(text.find("postgresql://agentgraph:***@127.0.0.1:1/x") != std::string::npos);
  CHECK_FALSE(test_postgres_url().empty());  // the suite still requires the server
}

// Ends every session named `application_name` (a lost connection, as the
// client sees it); returns how many.
inline size_t terminate_sessions(const std::string& application_name) {
  pqxx::connection admin{test_postgres_url()};
  pqxx::nontransaction tx{admin};
  auto r = tx.exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "
                   "application_name = " + tx.quote(application_name));
  return r.size();
}

}  // namespace agentgraph_test

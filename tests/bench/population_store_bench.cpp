// population_store_bench: what the population store costs on the activation
// and passivation paths, on SQLite, against a baseline measured in the same
// run on the same disk (plain SQLite with the same durability, no fencing):
//   - save: `keys` keys in batches of `batch` states of `state_bytes` each
//     (claim the batch, then save it), rows/s; baseline: plain INSERTs of
//     the same rows in one synchronous=FULL transaction per batch.
//   - claim of one saved key (an activation): p50 and p99 of the blocking
//     call, and through population_store_actor from another actor (the
//     front, the worker's thread, the reply); baseline: a point SELECT of
//     one state by primary key.
// A program, not a test: it prints figures and ratios, asserts none.
//   population_store_bench [--dir DIR] [--keys N] [--batch N] [--state-bytes N]
//                          [--claims N] [--postgres URL] [--json]
// With --postgres, the store's figures on that server too (in a schema of
// its own, dropped at the end).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <sqlite3.h>
#include <unistd.h>

#include "runtime/error.hpp"
#include "runtime/population/population_store_actor.hpp"
#include "runtime/population/postgres_population_store.hpp"
#include "runtime/population/sqlite_population_store.hpp"
#include "runtime/register_types.hpp"

namespace {

using namespace agentgraph;
using clock_type = std::chrono::steady_clock;
namespace fs = std::filesystem;

struct options {
  std::string dir;
  uint64_t keys = 1'000'000;
  uint32_t batch = 1'000;
  uint32_t state_bytes = 300;
  uint32_t claims = 20'000;
  std::string postgres;  // a URL: the same figures on PostgreSQL too
  bool json = false;
};

[[noreturn]] void usage(const std::string& why) {
  std::fprintf(stderr,
               "population_store_bench: %s\nusage: population_store_bench [--dir DIR] "
               "[--keys N] [--batch N] [--state-bytes N] [--claims N] [--postgres URL] [--json]\n",
               why.c_str());
  std::exit(2);
}

uint64_t number(const char* flag, const char* text, uint64_t min, uint64_t max) {
  char* end = nullptr;
  auto v = std::strtoull(text, &end, 10);
  if (end == text || *end != '\0' || v < min || v > max)
    usage(std::string{flag} + " wants a number in [" + std::to_string(min) + ", "
          + std::to_string(max) + "]");
  return v;
}

options parse(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&] {
      if (i + 1 >= argc)
        usage(a + " wants a value");
      return argv[++i];
    };
    if (a == "--dir")
      o.dir = next();
    else if (a == "--keys")
      o.keys = number("--keys", next(), 1, 100'000'000);
    else if (a == "--batch")
      o.batch = static_cast<uint32_t>(number("--batch", next(), 1, 4'096));
    else if (a == "--state-bytes")
      o.state_bytes = static_cast<uint32_t>(number("--state-bytes", next(), 0, 1u << 20));
    else if (a == "--claims")
      o.claims = static_cast<uint32_t>(number("--claims", next(), 1, 10'000'000));
    else if (a == "--postgres")
      o.postgres = next();
    else if (a == "--json")
      o.json = true;
    else
      usage("unknown argument " + a);
  }
  if (o.dir.empty())
    o.dir = (fs::temp_directory_path() / ("agentgraph-ps-bench-" + std::to_string(getpid())))
              .string();
  return o;
}

double us_since(clock_type::time_point t0) {
  return std::chrono::duration<double, std::micro>(clock_type::now() - t0).count();
}

struct percentiles {
  double p50 = 0, p99 = 0;
};

percentiles of(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return {v[v.size() / 2], v[std::min(v.size() - 1, v.size() * 99 / 100)]};
}

std::string key_of(uint64_t i) {
  return "user-" + std::to_string(i);
}

template <class T>
T must(caf::expected<T> r, const char* what) {
  if (!r) {
    std::fprintf(stderr, "population_store_bench: %s: %s\n", what, describe(r.error()).c_str());
    std::exit(1);
  }
  return std::move(*r);
}

void must_sqlite(int rc, sqlite3* db, const char* what) {
  if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
    std::fprintf(stderr, "population_store_bench: baseline %s: %s\n", what, sqlite3_errmsg(db));
    std::exit(1);
  }
}

// The baseline: the same rows in a plain table, the same durability.
struct baseline {
  double rows_per_s = 0;
  percentiles get_us;
};

baseline measure_baseline(const options& o, const std::vector<uint8_t>& state) {
  auto path = o.dir + "/baseline.db";
  sqlite3* db = nullptr;
  must_sqlite(sqlite3_open(path.c_str(), &db), db, "open");
  must_sqlite(sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                               "CREATE TABLE t(k TEXT PRIMARY KEY, v BLOB);",
                           nullptr, nullptr, nullptr),
              db, "create");
  sqlite3_stmt* ins = nullptr;
  must_sqlite(sqlite3_prepare_v3(db, "INSERT INTO t VALUES(?1, ?2)", -1,
                                 SQLITE_PREPARE_PERSISTENT, &ins, nullptr),
              db, "prepare");
  auto t0 = clock_type::now();
  for (uint64_t first = 0; first < o.keys; first += o.batch) {
    must_sqlite(sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), db, "begin");
    for (uint64_t i = first; i < std::min(o.keys, first + o.batch); ++i) {
      auto k = key_of(i);
      sqlite3_bind_text(ins, 1, k.data(), static_cast<int>(k.size()), SQLITE_TRANSIENT);
      sqlite3_bind_blob(ins, 2, state.data(), static_cast<int>(state.size()), SQLITE_STATIC);
      must_sqlite(sqlite3_step(ins), db, "insert");
      sqlite3_reset(ins);
    }
    must_sqlite(sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr), db, "commit");
  }
  baseline b;
  b.rows_per_s = static_cast<double>(o.keys) / (us_since(t0) / 1e6);
  sqlite3_finalize(ins);
  sqlite3_stmt* get = nullptr;
  must_sqlite(sqlite3_prepare_v3(db, "SELECT v FROM t WHERE k = ?1", -1,
                                 SQLITE_PREPARE_PERSISTENT, &get, nullptr),
              db, "prepare");
  std::mt19937_64 rng{42};
  std::vector<double> us;
  for (uint32_t i = 0; i < o.claims; ++i) {
    auto k = key_of(rng() % o.keys);
    auto t = clock_type::now();
    sqlite3_bind_text(get, 1, k.data(), static_cast<int>(k.size()), SQLITE_STATIC);
    must_sqlite(sqlite3_step(get), db, "select");
    std::vector<uint8_t> v(static_cast<const uint8_t*>(sqlite3_column_blob(get, 0)),
                           static_cast<const uint8_t*>(sqlite3_column_blob(get, 0))
                             + sqlite3_column_bytes(get, 0));
    sqlite3_reset(get);
    us.push_back(us_since(t));
  }
  b.get_us = of(us);
  sqlite3_finalize(get);
  sqlite3_close(db);
  return b;
}

// What one store costs: saves and claims of new keys (rows/s), and the
// claim of one saved key (an activation), blocking.
struct store_figures {
  uint64_t saved = 0;
  double save_rows_per_s = 0;
  double claim_new_rows_per_s = 0;
  percentiles claim_one;
};

store_figures measure_store(population_store& store, const options& o,
                            const std::vector<uint8_t>& state) {
  store_figures f;
  // Passivation: claim each batch (activation of new keys), then save it.
  double claim_us = 0, save_us = 0;
  std::vector<std::string> keys;
  std::vector<population_save> batch;
  for (uint64_t first = 0; first < o.keys; first += o.batch) {
    keys.clear();
    batch.clear();
    for (uint64_t i = first; i < std::min(o.keys, first + o.batch); ++i) {
      keys.push_back(key_of(i));
      batch.push_back({keys.back(), state});
    }
    auto t0 = clock_type::now();
    must(store.claim("users", keys, "n1", 7), "claim");
    claim_us += us_since(t0);
    t0 = clock_type::now();
    auto fenced = must(store.save("users", "n1", 7, batch), "save");
    save_us += us_since(t0);
    if (!fenced.empty())
      std::exit((std::fprintf(stderr, "population_store_bench: %zu keys fenced\n", fenced.size()), 1));
  }
  f.saved = must(store.count("users"), "count");
  f.save_rows_per_s = static_cast<double>(o.keys) / (save_us / 1e6);
  f.claim_new_rows_per_s = static_cast<double>(o.keys) / (claim_us / 1e6);
  // Activation of a saved key: one claim of one key, by another node.
  std::mt19937_64 rng{42};
  std::vector<double> us;
  for (uint32_t i = 0; i < o.claims; ++i) {
    std::vector<std::string> one{key_of(rng() % o.keys)};
    auto t0 = clock_type::now();
    auto c = must(store.claim("users", one, "n2", 8 + i), "claim");
    us.push_back(us_since(t0));
    if (!c.at(0).existed || c[0].state.size() != state.size())
      std::exit((std::fprintf(stderr, "population_store_bench: a saved key came back empty\n"), 1));
  }
  f.claim_one = of(us);
  return f;
}

}  // namespace

int main(int argc, char** argv) {
  auto o = parse(argc, argv);
  std::error_code ec;
  fs::remove_all(o.dir, ec);
  fs::create_directories(o.dir);
  std::vector<uint8_t> state(o.state_bytes);
  for (size_t i = 0; i < state.size(); ++i)
    state[i] = static_cast<uint8_t>(i * 31 + 7);
  auto store = must(open_sqlite_population_store(o.dir + "/population.db"), "open");
  auto sq = measure_store(*store, o, state);
  std::mt19937_64 rng{43};
  std::vector<double> us;

  // The same through the actor, from a scoped actor on another thread.
  percentiles actor_claim;  // from a blocking caller (a scoped_actor)
  percentiles event_claim;  // from an event-based actor
  {
    caf::actor_system_config cfg;
    register_runtime_types(cfg);
    caf::actor_system sys{cfg};
    auto ps = spawn_population_store_actor(sys, std::move(store));
    caf::scoped_actor self{sys};
    us.clear();
    for (uint32_t i = 0; i < o.claims; ++i) {
      std::vector<std::string> one{key_of(rng() % o.keys)};
      auto t0 = clock_type::now();
      bool ok = false;
      self->request(ps, std::chrono::seconds{30}, pstore_claim_atom::value, std::string{"users"},
                    one, std::string{"n3"}, uint64_t{100'000'000} + i)
        .receive([&](std::vector<population_claim>& c) { ok = !c.empty() && c[0].existed; },
                 [&](caf::error&) {});
      us.push_back(us_since(t0));
      if (!ok)
        std::exit((std::fprintf(stderr, "population_store_bench: an actor claim failed\n"), 1));
    }
    actor_claim = of(us);
    // As a population's front actor sees it: an event-based actor on the
    // scheduler asks, and asks the next key when the reply arrives.
    auto keys_total = o.keys;
    auto driver = sys.spawn([ps, keys_total, n = o.claims](caf::event_based_actor* a) {
      struct run {
        std::vector<double> us;
        std::mt19937_64 rng{7};
        caf::response_promise done;
      };
      auto r = std::make_shared<run>();
      auto next = std::make_shared<std::function<void()>>();
      *next = [a, ps, keys_total, n, r, next] {
        if (r->us.size() == n) {
          r->done.deliver(r->us);
          *next = nullptr;  // breaks the cycle of the shared pointers
          return;
        }
        std::vector<std::string> one{key_of(r->rng() % keys_total)};
        auto t0 = clock_type::now();
        a->request(ps, std::chrono::seconds{30}, pstore_claim_atom::value, std::string{"users"},
                   std::move(one), std::string{"n4"}, uint64_t{200'000'000} + r->us.size())
          .then(
            [r, t0, next](std::vector<population_claim>&) {
              r->us.push_back(us_since(t0));
              (*next)();
            },
            [r](caf::error& err) { r->done.deliver(err); });
      };
      return caf::behavior{[a, r, next](caf::tick_atom) {
        r->done = a->make_response_promise();
        (*next)();
        return r->done;
      }};
    });
    self->request(driver, std::chrono::minutes{10}, caf::tick_atom::value)
      .receive([&](std::vector<double>& v) { event_claim = of(std::move(v)); },
               [&](caf::error& err) {
                 std::fprintf(stderr, "population_store_bench: %s\n", describe(err).c_str());
                 std::exit(1);
               });
    caf::anon_send_exit(driver, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(ps, caf::exit_reason::user_shutdown);
  }

  auto base = measure_baseline(o, state);
  nlohmann::json out = {
    {"keys", o.keys}, {"batch", o.batch}, {"state_bytes", o.state_bytes}, {"claims", o.claims},
    {"saved_count", sq.saved},
    {"save_rows_per_s", sq.save_rows_per_s},
    {"claim_new_batch_rows_per_s", sq.claim_new_rows_per_s},
    {"claim_one_saved_p50_us", sq.claim_one.p50}, {"claim_one_saved_p99_us", sq.claim_one.p99},
    {"actor_claim_one_saved_p50_us", actor_claim.p50},
    {"actor_claim_one_saved_p99_us", actor_claim.p99},
    {"event_actor_claim_one_saved_p50_us", event_claim.p50},
    {"event_actor_claim_one_saved_p99_us", event_claim.p99},
    {"baseline_insert_rows_per_s", base.rows_per_s},
    {"baseline_point_select_p50_us", base.get_us.p50},
    {"save_vs_baseline_insert", sq.save_rows_per_s / base.rows_per_s},
    {"claim_p50_vs_baseline_select_p50", sq.claim_one.p50 / base.get_us.p50}};
  std::optional<store_figures> pg;
  if (!o.postgres.empty()) {
    auto schema = "population_bench_" + std::to_string(getpid());
    auto pstore = must(open_postgres_population_store(o.postgres, {}, schema), "open postgres");
    pg = measure_store(*pstore, o, state);
    pstore.reset();
    try {  // the bench's own schema, best effort
      pqxx::connection conn{o.postgres};
      pqxx::nontransaction tx{conn};
      tx.exec("DROP SCHEMA IF EXISTS " + tx.quote_name(schema) + " CASCADE");
    } catch (const std::exception&) {
    }
    out["postgres"] = {{"save_rows_per_s", pg->save_rows_per_s},
                       {"claim_new_batch_rows_per_s", pg->claim_new_rows_per_s},
                       {"claim_one_saved_p50_us", pg->claim_one.p50},
                       {"claim_one_saved_p99_us", pg->claim_one.p99}};
  }
  if (o.json) {
    std::printf("%s\n", out.dump(2).c_str());
  } else {
    std::printf("population store (sqlite), %llu keys of %u bytes, batches of %u\n",
                static_cast<unsigned long long>(o.keys), o.state_bytes, o.batch);
    std::printf("  save:                 %10.0f rows/s  (baseline insert %10.0f rows/s, ratio %.2f)\n",
                sq.save_rows_per_s, base.rows_per_s, sq.save_rows_per_s / base.rows_per_s);
    std::printf("  claim of new keys:    %10.0f rows/s\n", sq.claim_new_rows_per_s);
    std::printf("  claim of 1 saved key: p50 %7.1f us  p99 %7.1f us  (baseline select p50 %.1f us, "
                "ratio %.1f)\n",
                sq.claim_one.p50, sq.claim_one.p99, base.get_us.p50,
                sq.claim_one.p50 / base.get_us.p50);
    std::printf("  via the actor, from a blocking caller:  p50 %7.1f us  p99 %7.1f us\n",
                actor_claim.p50, actor_claim.p99);
    std::printf("  via the actor, from an actor:           p50 %7.1f us  p99 %7.1f us\n",
                event_claim.p50, event_claim.p99);
    std::printf("  saved keys counted:   %llu\n", static_cast<unsigned long long>(sq.saved));
    if (pg)
      std::printf("postgresql: save %.0f rows/s, claim of new keys %.0f rows/s, claim of 1 saved "
                  "key p50 %.1f us p99 %.1f us\n",
                  pg->save_rows_per_s, pg->claim_new_rows_per_s, pg->claim_one.p50,
                  pg->claim_one.p99);
  }
  fs::remove_all(o.dir, ec);
  return 0;
}

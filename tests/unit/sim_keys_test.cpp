// The per-key invariants of `agentgraph sim` (actors/sim/sim_keys.hpp):
// the audit's replay on hand-made row sequences (a clean life of a key,
// each violation on its own, the at-least-once the design allows), the
// triggers on the product's own SQLite population store (its fence keeps
// the audit clean; a save that skips the fence, as a store that lost it
// would accept, is reported), and a population run whose audit is clean.
#include <doctest/doctest.h>

#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "actors/population/population_state.hpp"
#include "actors/sim/scenario.hpp"
#include "actors/sim/sim_keys.hpp"
#include "actors/sim/sim_record.hpp"
#include "actors/sim/sim_runner.hpp"
#include "runtime/error.hpp"
#include "runtime/log.hpp"
#include "runtime/population/population_store.hpp"
#include "sim_population_node.hpp"
#include "temp_dir.hpp"

using namespace agentgraph;
using namespace agentgraph::sim;

namespace sim_keys_test {

// A key's state after `tasks` completed tasks whose numbers are `turns`
// (oldest first): the history the agent would export.
std::vector<uint8_t> state_of(uint64_t tasks, const std::vector<uint64_t>& turns) {
  population_key_state s;
  s.agent.tasks_completed = tasks;
  for (auto t : turns) {
    s.agent.history.push_back("task " + std::to_string(t));
    s.agent.history.push_back("simulated answer of 11 tokens");
  }
  return encode_population_state(s);
}

struct rows {
  std::vector<key_audit_row> all;
  rows& claim(const std::string& owner, uint64_t epoch, const std::string& key = "k1") {
    all.push_back({all.size() + 1, "claim", "persona", key, owner, epoch, {}});
    return *this;
  }
  rows& save(const std::string& owner, uint64_t epoch, std::vector<uint8_t> state,
             const std::string& key = "k1") {
    all.push_back({all.size() + 1, "save", "persona", key, owner, epoch, std::move(state)});
    return *this;
  }
};

key_figures check(const rows& r, bool ran_again = false) {
  return check_key_audit(r.all, task_numbers_of("task {id}"),
                         [ran_again](uint64_t) { return ran_again; });
}

uint64_t broken(const key_figures& f) {
  return f.saves_superseded + f.saves_stale + f.saves_undecodable + f.tasks_applied_twice;
}

}  // namespace sim_keys_test

using namespace sim_keys_test;

TEST_CASE("sim keys: a key's clean life, moved between owners, its window cut, passes") {
  rows r;
  r.claim(preload_owner, 1).save(preload_owner, 1, state_of(0, {}));
  r.claim("n1", 11).save("n1", 11, state_of(1, {1})).save("n1", 11, state_of(3, {1, 2, 3}));
  // n2 takes the key over (n1 went) and goes on from n1's state; a
  // window of 3 turns drops the oldest.
  r.claim("n2", 22).save("n2", 22, state_of(4, {2, 3, 4})).save("n2", 22, state_of(6, {4, 5, 6}));
  // A save with no new task (variables changed) keeps the history.
  r.save("n2", 22, state_of(6, {4, 5, 6}));
  r.claim("n1", 11).save("n1", 11, state_of(7, {5, 6, 7}), "k1");
  r.claim("n1", 11, "k2").save("n1", 11, state_of(1, {8}), "k2");
  auto f = check(r);
  CHECK(broken(f) == 0);
  CHECK(f.details.empty());
  CHECK(f.keys == 2);
  CHECK(f.claims == 5);
  CHECK(f.claims_moved == 2);  // n1 -> n2 -> n1; not the preload's hand-over
  CHECK(f.saves == 8);
  CHECK(f.tasks_reapplied == 0);
}

TEST_CASE("sim keys: a save from a superseded owner's state is a lost update") {
  rows r;
  r.claim("n1", 11).save("n1", 11, state_of(1, {1}));
  r.claim("n2", 22).save("n2", 22, state_of(2, {1, 2}));
  // n1's stale instance (it holds task 1 only) ran task 3 and its save
  // landed although n2 claimed the key: the store recorded it under the
  // row's claim (n2's), but its state is not n2's plus task 3.
  r.save("n2", 22, state_of(2, {1, 3}));
  auto f = check(r);
  CHECK(f.saves_stale == 1);
  REQUIRE(f.details.size() == 1);
  CHECK(f.details[0].find("persona/k1: save #5") != std::string::npos);
  CHECK(f.details[0].find("not based on the state saved before") != std::string::npos);

  // The count going back is a lost update too, and so is a state with
  // more old turns than the key had.
  rows back;
  back.claim("n1", 11).save("n1", 11, state_of(3, {1, 2, 3})).save("n1", 11, state_of(2, {1, 2}));
  CHECK(check(back).saves_stale == 1);
  rows more;
  more.claim("n1", 11).save("n1", 11, state_of(1, {1})).save("n1", 11, state_of(2, {7, 1, 2}));
  CHECK(check(more).saves_stale == 1);
}

TEST_CASE("sim keys: a save under a claim that is not the key's newest is reported") {
  rows r;
  r.claim("n1", 11).save("n1", 11, state_of(1, {1}));
  r.claim("n2", 22).save("n1", 11, state_of(2, {1, 2}));
  auto f = check(r);
  CHECK(f.saves_superseded == 1);
  CHECK(f.saves_stale == 0);
  REQUIRE(f.details.size() == 1);
  CHECK(f.details[0].find("after the newer claim of n2#22") != std::string::npos);
  rows none;
  none.save("n1", 11, state_of(1, {1}));
  CHECK(check(none).saves_superseded == 1);
}

TEST_CASE("sim keys: a task's turn added twice is a violation only when nothing ran twice") {
  rows same;
  same.claim("n1", 11).save("n1", 11, state_of(1, {5})).save("n1", 11, state_of(2, {5, 5}));
  auto f = check(same);
  CHECK(f.tasks_applied_twice == 1);
  CHECK(f.tasks_reapplied == 0);
  CHECK(f.details.at(0).find("task 5 added again") != std::string::npos);
  // The same, where the task ran again (adopted by the journal, say).
  f = check(same, true);
  CHECK(f.tasks_applied_twice == 0);
  CHECK(f.tasks_reapplied == 1);
  // Added again under another owner's claim: the key moved and the task
  // was sent on, the at-least-once of DESIGN.md.
  rows moved;
  moved.claim("n1", 11).save("n1", 11, state_of(1, {5}));
  moved.claim("n2", 22).save("n2", 22, state_of(2, {5, 5}));
  f = check(moved);
  CHECK(f.tasks_applied_twice == 0);
  CHECK(f.tasks_reapplied == 1);
  // Turns that are not a simulated task's are not counted.
  CHECK_FALSE(task_numbers_of("task {id}")("hello"));
  CHECK_FALSE(task_numbers_of("task {id}")("task 12x"));
  CHECK(task_numbers_of("say {id}!")("say 12!") == std::optional<uint64_t>{12});
  CHECK_FALSE(task_numbers_of("no id")("no id"));
}

TEST_CASE("sim keys: a state that does not decode is reported, and details are bounded") {
  rows r;
  r.claim("n1", 11);
  for (int i = 0; i < 20; ++i)
    r.save("n1", 11, {0xc1, 0x00});  // 0xc1: never valid msgpack
  auto f = check(r);
  CHECK(f.saves_undecodable == 20);
  CHECK(f.details.size() == key_details_max);
  run_record rec;
  rec.keys = f;
  auto v = violations(rec);
  REQUIRE(v.size() == 1);
  CHECK(v[0] == "20 key state(s) saved that do not decode");
}

TEST_CASE("sim keys: the triggers on the product's store; its fence keeps them clean, a lost one is seen") {
  test_support::temp_dir d{"sim-keys"};
  const auto loc = "sqlite:" + (d.path / "pop.sqlite").string();
  auto store = open_population_store(loc);
  REQUIRE(store);
  REQUIRE_FALSE(install_key_audit(loc));
  auto& s = **store;
  const std::vector<std::string> key{"k1"};
  REQUIRE(s.claim("persona", key, "n1", 11));
  auto saved = s.save("persona", "n1", 11, {{"k1", state_of(1, {1})}});
  REQUIRE(saved);
  CHECK(saved->empty());
  // n2 claims the key (n1 is thought gone) and saves its next state.
  REQUIRE(s.claim("persona", key, "n2", 22));
  REQUIRE(s.save("persona", "n2", 22, {{"k1", state_of(2, {1, 2})}}));
  // n1's stale instance saves: the fence refuses it, nothing is written.
  auto fenced = s.save("persona", "n1", 11, {{"k1", state_of(2, {1, 3})}});
  REQUIRE(fenced);
  CHECK(*fenced == key);
  // Passivated and claimed again by the same claim: no claim row.
  REQUIRE(s.claim("persona", key, "n2", 22));
  auto read = [&] {
    key_audit_checker c{task_numbers_of("task {id}"), [](uint64_t) { return false; }};
    auto err = read_key_audit(loc, c);
    REQUIRE_FALSE(err);
    return c.figures();
  };
  auto f = read();
  CHECK(broken(f) == 0);
  CHECK(f.claims == 2);
  CHECK(f.claims_moved == 1);
  CHECK(f.saves == 2);
  CHECK(f.audit_rows == 4);

  // A store that lost its fence would have written n1's stale save: the
  // same write without the claim's condition.
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open((d.path / "pop.sqlite").c_str(), &db) == SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, "UPDATE population_keys SET state = ?1 WHERE key = 'k1';", -1, &st,
                             nullptr)
          == SQLITE_OK);
  const auto stale = state_of(2, {1, 3});
  sqlite3_bind_blob(st, 1, stale.data(), static_cast<int>(stale.size()), SQLITE_STATIC);
  CHECK(sqlite3_step(st) == SQLITE_DONE);
  sqlite3_finalize(st);
  sqlite3_close(db);
  f = read();
  CHECK(f.saves_stale == 1);
  CHECK(f.saves == 3);
  run_record rec;
  rec.keys = f;
  auto v = violations(rec);
  REQUIRE(v.size() == 1);
  CHECK(v[0].find("not based on the key's previous state") != std::string::npos);

  // A second install (a data directory reused) starts from the rows as
  // they are: the stale state is now the key's first, nothing is broken.
  REQUIRE_FALSE(install_key_audit(loc));
  f = read();
  CHECK(broken(f) == 0);
  CHECK(f.saves == 1);
  CHECK(static_cast<bool>(install_key_audit("postgresql://x/y")));
}

TEST_CASE("sim keys: a population run across a kill and a freeze keeps every key's invariants") {
  set_log_level(log_severity::error);
  test_support::temp_dir d{"sim-keys"};
  std::ofstream{d.path / "pop.ini"} << sim_population_node::ini;
  std::ofstream{d.path / "s.ini"} << R"(
[sim]
node_config = pop.ini
nodes = 3
duration = 8s
drain = 20s
saved_keys = 10
[arrivals]
rate = 20
agent = persona
keys = 12
deadline = 15s
[llm.llm]
first_token_ms = fixed 300
per_token_ms = fixed 10
completion_tokens = fixed 11
[fault.freeze3]
kind = freeze
at = 2s
duration = 4s
nodes = n3
[fault.kill2]
kind = kill
at = 6s
nodes = n2
)";
  auto sc = load_scenario((d.path / "s.ini").string(), {});
  REQUIRE_MESSAGE(sc, (sc ? "" : describe(sc.error())));
  run_options o;
  o.seed = 5;
  auto rec = run_scenario(*sc, o);
  REQUIRE_MESSAGE(rec, (rec ? "" : describe(rec.error())));
  const auto& k = rec->keys;
  REQUIRE(k.audited);
  CHECK(k.keys == 12);
  CHECK(k.saves > 100);  // durability task: a save per task
  CHECK(k.claims_moved > 0);  // the freeze and the kill moved keys
  CHECK(broken(k) == 0);
  CHECK(violations(*rec).empty());
}

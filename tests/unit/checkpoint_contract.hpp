// The checkpoint store contract, written once and run against every backend
// (checkpoint_sqlite_test.cpp, checkpoint_postgres_test.cpp). A backend test
// file supplies a factory that makes a fresh, empty store location per test
// case and expands AGENTGRAPH_CHECKPOINT_CONTRACT(prefix, factory).
#pragma once

#include <doctest/doctest.h>

#include <chrono>
#include <functional>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "runtime/checkpoint/checkpoint_store.hpp"
#include "runtime/error.hpp"
#include "writer_process.hpp"

namespace agentgraph::checkpoint_contract {

using store_ptr = std::unique_ptr<checkpoint_store>;

// A fresh, empty location. `open` may be called many times: each call opens
// another store object (another connection) on the same data.
struct store_factory {
  std::function<caf::expected<store_ptr>(const checkpoint_limits&)> open;
  // Arguments that make tests/checkpoint_writer open the same location.
  std::vector<std::string> writer_args;
  std::shared_ptr<void> cleanup;  // removes the location when the last copy goes
  // Waits until nothing of a killed writer can still change the data. A
  // server may finish a transaction whose COMMIT it received before the
  // client died (PostgreSQL does), so "killed" is not yet "settled".
  std::function<void()> settle_after_kill = [] {};
};

inline store_ptr open_ok(const store_factory& f, const checkpoint_limits& limits = {}) {
  auto s = f.open(limits);
  REQUIRE_MESSAGE(static_cast<bool>(s), (s ? "" : describe(s.error())));
  return std::move(*s);
}

inline checkpoint make_checkpoint(const std::string& thread, uint64_t step, uint64_t parent = 0) {
  checkpoint c;
  c.thread_id = thread;
  c.step = step;
  c.parent_id = parent;
  c.state = Value::object();
  c.state["step"] = Value{static_cast<long long>(step)};
  c.state["log"] = Value::array();
  for (uint64_t i = 0; i < step; ++i)
    c.state["log"].push_back(Value{"step " + std::to_string(i)});
  c.pending = Value{Value::Array{Value{"node_" + std::to_string(step + 1)}}};
  c.metadata = Value::object();
  c.metadata["source"] = Value{"loop"};
  return c;
}

inline uint64_t put_ok(checkpoint_store& s, const checkpoint& c) {
  auto id = s.put(c);
  REQUIRE_MESSAGE(static_cast<bool>(id), (id ? "" : describe(id.error())));
  return *id;
}

template <class T>
errc code_of(const caf::expected<T>& r) {
  REQUIRE_FALSE(static_cast<bool>(r));
  return errc_of(r.error()).value_or(errc::none);
}

inline void put_latest_get_list(const store_factory& f) {
  auto s = open_ok(f);
  CHECK(code_of(s->latest("t")) == errc::not_found);
  CHECK(s->list("t", 10).value().empty());
  CHECK(put_ok(*s, make_checkpoint("t", 1)) == 1);
  CHECK(put_ok(*s, make_checkpoint("t", 2, 1)) == 2);
  CHECK(put_ok(*s, make_checkpoint("t", 3, 2)) == 3);
  CHECK(put_ok(*s, make_checkpoint("other", 7)) == 1);  // ids count per thread
  auto latest = s->latest("t").value();
  CHECK(latest.checkpoint_id == 3);
  CHECK(latest.parent_id == 2);
  CHECK(latest.step == 3);
  CHECK(latest.state == make_checkpoint("t", 3).state);
  CHECK(latest.pending == make_checkpoint("t", 3).pending);
  CHECK(latest.created_ms > 0);
  auto second = s->get("t", 2).value();
  CHECK(second.state == make_checkpoint("t", 2).state);
  CHECK(code_of(s->get("t", 4)) == errc::not_found);
  CHECK(code_of(s->get("nobody", 1)) == errc::not_found);
  auto all = s->list("t", 10).value();
  REQUIRE(all.size() == 3);
  for (size_t i = 0; i < all.size(); ++i) {
    CHECK(all[i].checkpoint_id == 3 - i);  // newest first
    CHECK(all[i].state.is_null());         // headers only
    CHECK(all[i].pending.is_null());
    CHECK(all[i].metadata == make_checkpoint("t", 1).metadata);
    CHECK(all[i].thread_id == "t");
  }
  CHECK(all[0].created_ms >= all[2].created_ms);
  auto two = s->list("t", 2).value();
  REQUIRE(two.size() == 2);
  CHECK(two[1].checkpoint_id == 2);
}

inline void keep_last_pruning(const store_factory& f) {
  checkpoint_limits limits;
  limits.keep_last = 3;
  auto s = open_ok(f, limits);
  for (uint64_t step = 1; step <= 7; ++step)
    CHECK(put_ok(*s, make_checkpoint("t", step, step - 1)) == step);
  auto kept = s->list("t", 100).value();
  REQUIRE(kept.size() == 3);
  CHECK(kept[0].checkpoint_id == 7);
  CHECK(kept[2].checkpoint_id == 5);
  CHECK(code_of(s->get("t", 4)) == errc::not_found);
  CHECK(s->get("t", 5).value().step == 5);
  // Pruning never resets the counter, and a pruned parent is allowed.
  CHECK(put_ok(*s, make_checkpoint("t", 8, 1)) == 8);
  CHECK(s->list("t", 100).value().size() == 3);
}

inline void bounds_and_errors(const store_factory& f) {
  checkpoint_limits bad;
  bad.keep_last = 0;
  CHECK(code_of(f.open(bad)) == errc::invalid_argument);
  checkpoint_limits limits;
  limits.state_bytes_max = 1'024;
  limits.thread_id_bytes_max = 16;
  limits.list_max = 5;
  limits.threads_listed_max = 5;
  auto s = open_ok(f, limits);
  CHECK(code_of(s->put(make_checkpoint("", 1))) == errc::invalid_argument);
  CHECK(code_of(s->put(make_checkpoint(std::string(17, 'x'), 1))) == errc::invalid_argument);
  CHECK(code_of(s->latest(std::string(17, 'x'))) == errc::invalid_argument);
  CHECK(code_of(s->put(make_checkpoint(std::string("a\0b", 3), 1))) == errc::invalid_argument);
  CHECK(code_of(s->put(make_checkpoint("bad \xff utf8", 1))) == errc::invalid_argument);
  CHECK(code_of(s->get("tab\there", 1)) == errc::invalid_argument);
  auto big = make_checkpoint("t", 1);
  big.state["blob"] = Value{std::string(2'000, 'b')};
  auto too_big = s->put(big);
  CHECK(code_of(too_big) == errc::limit_exceeded);
  CHECK(error_context(too_big.error()).find("state") != std::string::npos);
  CHECK(code_of(s->latest("t")) == errc::not_found);  // nothing written
  // A parent newer than the latest is refused, and the refusal rolls back
  // the id counter too: the next put still gets id 1.
  CHECK(code_of(s->put(make_checkpoint("t", 1, 5))) == errc::invalid_argument);
  CHECK(put_ok(*s, make_checkpoint("t", 1)) == 1);
  CHECK(code_of(s->list("t", 0)) == errc::invalid_argument);
  CHECK(code_of(s->list("t", 6)) == errc::invalid_argument);
  CHECK(code_of(s->list_threads(0)) == errc::invalid_argument);
  CHECK(code_of(s->list_threads(6)) == errc::invalid_argument);
  CHECK(code_of(s->delete_thread("nobody")) == errc::not_found);
  // Every error names the backend.
  auto err = s->get("t", 99);
  CHECK(error_context(err.error()).find(s->backend()) != std::string::npos);
}

inline void threads_and_delete(const store_factory& f) {
  auto s = open_ok(f);
  for (const char* t : {"b", "a", "c"})
    put_ok(*s, make_checkpoint(t, 1));
  put_ok(*s, make_checkpoint("b", 2, 1));
  CHECK(s->list_threads(10).value() == std::vector<std::string>{"a", "b", "c"});
  CHECK(s->list_threads(2).value() == std::vector<std::string>{"a", "b"});
  CHECK(s->delete_thread("b").value() == 2);
  CHECK(code_of(s->latest("b")) == errc::not_found);
  CHECK(s->list_threads(10).value() == std::vector<std::string>{"a", "c"});
  CHECK(put_ok(*s, make_checkpoint("b", 1)) == 1);  // a new run starts again at 1
}

// A run's first checkpoint (step 0, no parent) on a thread that already
// has checkpoints is refused: a second run can never take over a thread.
inline void new_run_never_takes_a_thread(const store_factory& f) {
  auto s = open_ok(f);
  CHECK(put_ok(*s, make_checkpoint("t", 0)) == 1);
  CHECK(put_ok(*s, make_checkpoint("t", 1, 1)) == 2);
  auto again = s->put(make_checkpoint("t", 0));
  CHECK(code_of(again) == errc::conflict);
  CHECK(error_context(again.error()).find("thread 't' already has checkpoints")
        != std::string::npos);
  // Nothing written, and the id counter rolled back.
  CHECK(s->latest("t").value().step == 1);
  CHECK(put_ok(*s, make_checkpoint("t", 2, 2)) == 3);
  // After delete_thread the id is free again.
  CHECK(s->delete_thread("t").value() == 3);
  CHECK(put_ok(*s, make_checkpoint("t", 0)) == 1);
}

inline void reopen_sees_everything(const store_factory& f) {
  {
    auto s = open_ok(f);
    for (uint64_t step = 1; step <= 5; ++step) {
      put_ok(*s, make_checkpoint("t1", step, step - 1));
      put_ok(*s, make_checkpoint("t2", step * 10));
    }
  }  // closed: destructor closes the connection
  auto s = open_ok(f);
  auto latest = s->latest("t1").value();
  CHECK(latest.checkpoint_id == 5);
  CHECK(latest.state == make_checkpoint("t1", 5).state);
  CHECK(s->latest("t2").value().step == 50);
  CHECK(s->list("t1", 100).value().size() == 5);
  CHECK(put_ok(*s, make_checkpoint("t1", 6, 5)) == 6);
}

// Two store objects (two connections) on the same data, one per thread,
// both putting to one shared thread id: ids stay contiguous and unique.
inline void two_objects_two_threads(const store_factory& f) {
  constexpr uint64_t puts_per_writer = 40;
  checkpoint_limits limits;
  limits.keep_last = 1'000;
  std::vector<store_ptr> stores;
  stores.push_back(open_ok(f, limits));
  stores.push_back(open_ok(f, limits));
  std::vector<std::string> failures[2];
  auto write = [&](int w) {
    for (uint64_t i = 1; i <= puts_per_writer; ++i) {
      auto c = make_checkpoint("shared", i);
      c.state["writer"] = Value{w};
      if (auto id = stores[w]->put(c); !id)
        failures[w].push_back(describe(id.error()));
      if (auto id = stores[w]->put(make_checkpoint("own-" + std::to_string(w), i)); !id)
        failures[w].push_back(describe(id.error()));
    }
  };
  std::thread other{write, 1};
  write(0);
  other.join();
  for (const auto& fs : failures)
    CHECK_MESSAGE(fs.empty(), (fs.empty() ? "" : fs.front()));
  auto shared = stores[0]->list("shared", 1'000).value();
  REQUIRE(shared.size() == 2 * puts_per_writer);
  for (size_t i = 0; i < shared.size(); ++i)
    CHECK(shared[i].checkpoint_id == shared.size() - i);
  // Each writer's own steps appear in increasing id order.
  uint64_t last_step[2] = {0, 0};
  for (auto it = shared.rbegin(); it != shared.rend(); ++it) {
    auto c = stores[1]->get("shared", it->checkpoint_id).value();
    auto w = c.state.find("writer")->as_int();
    CHECK(c.step == last_step[w] + 1);
    last_step[w] = c.step;
  }
  CHECK(stores[1]->latest("own-0").value().checkpoint_id == puts_per_writer);
}

inline Value tricky_value() {
  auto v = Value::from_json(R"({
    "unicode": "naïve café — 日本語テキスト — emoji 🧪🚀 — combining é — rtl עברית",
    "nested": {"a": [1, [2, [3, {"deep": [true, false, null]}]]], "empty_obj": {}, "empty_arr": []},
    "numbers": [0, -1, 9223372036854775807, -9223372036854775808, 0.1, -2.5e-300, 1e300],
    "empty": "",
    "keys": {"": 1, "ключ": 2, "🔑": 3}
  })");
  REQUIRE(static_cast<bool>(v));
  (*v)["nul inside"] = Value{std::string("a\0b", 3)};
  return *v;
}

inline void values_round_trip_exactly(const store_factory& f) {
  auto s = open_ok(f);
  auto c = make_checkpoint("ünïcödé thread 🧵", 1);
  c.state = tricky_value();
  c.pending = Value{Value::Array{tricky_value(), Value{}}};
  c.metadata = tricky_value();
  put_ok(*s, c);
  auto back = s->latest(c.thread_id).value();
  CHECK(back.thread_id == c.thread_id);
  CHECK(back.state == c.state);
  CHECK(back.pending == c.pending);
  CHECK(back.metadata == c.metadata);
  CHECK(back.state.to_json() == c.state.to_json());
  CHECK(s->list(c.thread_id, 1).value().at(0).metadata == c.metadata);
  CHECK(s->list_threads(10).value() == std::vector<std::string>{c.thread_id});
}

// --- kill -9 of a writer process --------------------------------------------

// The writer (tests/integration/checkpoint_writer.cpp) puts checkpoints whose
// state is derived from the step, so any checkpoint can be checked alone.
inline std::string writer_payload(uint64_t step) {
  return std::string(64 * 1024, static_cast<char>('a' + step % 26)) + std::to_string(step);
}

inline agentgraph_test::writer_process start_writer(const store_factory& f,
                                                   const std::string& thread) {
  std::vector<std::string> args{AGENTGRAPH_BINARY_DIR "/tests/checkpoint_writer", thread};
  args.insert(args.end(), f.writer_args.begin(), f.writer_args.end());
  return agentgraph_test::writer_process{std::move(args)};
}

inline void check_consistent(checkpoint_store& s, const std::string& thread, uint64_t acked_id) {
  auto latest = s.latest(thread);
  REQUIRE_MESSAGE(static_cast<bool>(latest), (latest ? "" : describe(latest.error())));
  // Every put the writer saw return is durable; at most the one in flight is extra.
  CHECK(latest->checkpoint_id >= acked_id);
  CHECK(latest->checkpoint_id <= acked_id + 1);
  auto history = s.list(thread, 1'000).value();
  REQUIRE(history.size() == std::min<uint64_t>(latest->checkpoint_id, s.limits().keep_last));
  for (size_t i = 0; i < history.size(); ++i) {
    auto c = s.get(thread, history[i].checkpoint_id);
    REQUIRE(static_cast<bool>(c));
    CHECK(c->checkpoint_id == latest->checkpoint_id - i);
    CHECK(c->state.find("payload")->as_string() == writer_payload(c->step));
    CHECK(c->state.find("step")->as_int() == static_cast<int64_t>(c->step));
    CHECK(c->parent_id + 1 == c->checkpoint_id);
  }
}

// Three rounds: start the writer (it resumes from the latest checkpoint),
// let it put some checkpoints, SIGKILL it at a random moment, reopen and
// check that the latest checkpoint and the kept history are whole.
inline void kill_9_leaves_consistent_store(const store_factory& f) {
  const std::string thread = "killed-writer";
  std::mt19937 rng{std::random_device{}()};
  uint64_t expected_step_min = 0;
  for (int round = 0; round < 3; ++round) {
    auto w = start_writer(f, thread);
    // The writer prints each id after its put returned; the last one counts.
    auto acked = std::stoull(w.read_lines(10).back());
    for (const auto& line : w.kill_9_and_drain(rng))
      acked = std::stoull(line);
    f.settle_after_kill();
    auto s = open_ok(f);
    check_consistent(*s, thread, acked);
    auto step = s->latest(thread).value().step;
    CHECK(step > expected_step_min);  // each round resumed and made progress
    expected_step_min = step;
  }
}

}  // namespace agentgraph::checkpoint_contract

// Expands to one doctest case per contract clause, named "PREFIX: clause".
#define AGENTGRAPH_CHECKPOINT_CONTRACT(PREFIX, FACTORY)                                    \
  TEST_CASE(PREFIX ": put, latest, get, list newest first") {                              \
    agentgraph::checkpoint_contract::put_latest_get_list(FACTORY());                       \
  }                                                                                        \
  TEST_CASE(PREFIX ": keep_last prunes on put") {                                          \
    agentgraph::checkpoint_contract::keep_last_pruning(FACTORY());                         \
  }                                                                                        \
  TEST_CASE(PREFIX ": bounds and errors") {                                                \
    agentgraph::checkpoint_contract::bounds_and_errors(FACTORY());                         \
  }                                                                                        \
  TEST_CASE(PREFIX ": list_threads and delete_thread") {                                   \
    agentgraph::checkpoint_contract::threads_and_delete(FACTORY());                        \
  }                                                                                        \
  TEST_CASE(PREFIX ": a new run never takes over an existing thread") {                   \
    agentgraph::checkpoint_contract::new_run_never_takes_a_thread(FACTORY());              \
  }                                                                                        \
  TEST_CASE(PREFIX ": a reopened store sees everything") {                                 \
    agentgraph::checkpoint_contract::reopen_sees_everything(FACTORY());                    \
  }                                                                                        \
  TEST_CASE(PREFIX ": two store objects in two threads share one thread id") {             \
    agentgraph::checkpoint_contract::two_objects_two_threads(FACTORY());                   \
  }                                                                                        \
  TEST_CASE(PREFIX ": nested, unicode and extreme Values round-trip exactly") {            \
    agentgraph::checkpoint_contract::values_round_trip_exactly(FACTORY());                 \
  }                                                                                        \
  TEST_CASE(PREFIX ": kill -9 of a writer leaves a consistent latest checkpoint") {        \
    agentgraph::checkpoint_contract::kill_9_leaves_consistent_store(FACTORY());            \
  }

// The replay provider's timing under CAF's test_coordinator (virtual time,
// the simulator's scheduler): timing = recorded answers exactly after the
// recorded latency (divided by speed), a stream's chunks come at their
// recorded offsets, timing = none answers at once, and cancel and the
// pending bound work while answers wait. Nothing reads a wall clock.
#include <doctest/doctest.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <caf/send.hpp>

#include "actors/host/register_types.hpp"
#include "actors/provider/recording_store.hpp"
#include "actors/provider/replay_provider.hpp"
#include "runtime/error.hpp"

using namespace agentgraph;
using namespace std::chrono_literals;

namespace replay_timing_test {

// What one call got, and when (virtual time since the fixture started).
struct outcome {
  std::optional<chat_response> reply;
  std::optional<caf::error> error;
  std::chrono::microseconds at{-1};
  std::vector<std::pair<std::chrono::microseconds, std::string>> chunks;
  [[nodiscard]] bool done() const { return reply || error; }
};

chat_request ask(std::string id, std::string text) {
  chat_request req;
  req.request_id = std::move(id);
  req.model = "m1";
  req.messages.push_back({chat_role::user, std::move(text), {}, {}, {}});
  return req;
}

// A recorded stream: "Hel" at 100 ms, "lo" at 200 ms, reply at 250 ms.
call_record streamed_record(const chat_request& req) {
  call_record r;
  r.request_hash = chat_request_hash(req);
  r.call = recorded_call::chat_stream;
  r.chat.message.role = chat_role::assistant;
  r.chat.message.content = "Hello";
  r.chunks = {{100'000, "Hel", {}}, {200'000, "lo", {}}};
  r.ttft_us = 100'000;
  r.latency_us = 250'000;
  return r;
}

struct fixture {
  caf::actor_system_config cfg;
  std::optional<caf::actor_system> sys;
  caf::scheduler::test_coordinator* sched = nullptr;
  caf::actor_clock::time_point start;
  std::vector<caf::actor> spawned;

  fixture() {
    register_all_types(cfg);
    cfg.set("scheduler.policy", caf::atom("testing"));
    sys.emplace(cfg);
    sched = &dynamic_cast<caf::scheduler::test_coordinator&>(sys->scheduler());
    start = sys->clock().now();
  }

  ~fixture() {
    for (auto& a : spawned)
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    sched->run();
    spawned.clear();
    sys.reset();
  }

  std::chrono::microseconds now() {
    return std::chrono::duration_cast<std::chrono::microseconds>(sys->clock().now() - start);
  }

  provider_actor spawn_replay(std::shared_ptr<const recording> rec, replay_timing timing,
                              double speed) {
    provider_actor p{sys->spawn(replay_provider, std::string{"timed"}, std::move(rec),
                                std::shared_ptr<const scripted_rules>{}, timing, speed,
                                provider_metrics{})};
    spawned.push_back(caf::actor_cast<caf::actor>(p));
    sched->run();
    return p;
  }

  // Sends the call from a client actor (and a sink for streams); the
  // outcome fills in as the scheduler runs.
  std::shared_ptr<outcome> call(const provider_actor& p, chat_request req, bool streamed) {
    auto out = std::make_shared<outcome>();
    auto* fx = this;
    stream_sink_actor sink;
    if (streamed) {
      sink = sys->spawn([out, fx](stream_sink_actor::pointer) -> stream_sink_actor::behavior_type {
        return {[out, fx](stream_chunk& c) { out->chunks.emplace_back(fx->now(), c.delta_text); }};
      });
      spawned.push_back(caf::actor_cast<caf::actor>(sink));
    }
    auto client = sys->spawn([p, req, sink, out, fx](caf::event_based_actor* self) {
      auto on_reply = [out, fx](chat_response& r) {
        out->reply = std::move(r);
        out->at = fx->now();
      };
      auto on_error = [out, fx](caf::error& e) {
        out->error = std::move(e);
        out->at = fx->now();
      };
      if (sink)
        self->request(p, caf::infinite, chat_stream_atom::value, req, sink).then(on_reply, on_error);
      else
        self->request(p, caf::infinite, chat_atom::value, req).then(on_reply, on_error);
      return caf::behavior{[](int) {}};
    });
    spawned.push_back(client);
    sched->run();
    return out;
  }

  void advance(std::chrono::microseconds d) {
    sched->advance_time(d);
    sched->run();
  }
};

std::shared_ptr<const recording> recording_of(std::vector<call_record> records) {
  auto rec = std::make_shared<recording>();
  rec->path = "in-memory";
  for (auto& r : records) {
    ++rec->entries;
    rec->by_hash[r.request_hash].push_back(std::move(r));
  }
  return rec;
}

// A record answering `text` to `req` after `latency_us`.
call_record answer_after(const chat_request& req, std::string text, int64_t latency_us) {
  call_record r;
  r.request_hash = chat_request_hash(req);
  r.chat.message.content = std::move(text);
  r.latency_us = latency_us;
  return r;
}

TEST_CASE("replay timing: the answer comes after the recorded latency, on virtual time") {
  fixture f;
  auto req = ask("r1", "hi");
  auto p = f.spawn_replay(recording_of({answer_after(req, "recorded answer", 250'000)}), replay_timing::recorded, 1.0);
  auto o = f.call(p, req, false);
  CHECK_FALSE(o->done());
  f.advance(249'999us);
  CHECK_FALSE(o->done());
  f.advance(1us);
  REQUIRE(o->reply);
  CHECK(o->reply->message.content == "recorded answer");
  CHECK(o->at == 250'000us);
}

TEST_CASE("replay timing: speed divides the latency, and timing none answers at once") {
  fixture f;
  auto req = ask("r1", "hi");
  auto r = answer_after(req, "fast", 300'000);
  auto fast = f.spawn_replay(recording_of({r}), replay_timing::recorded, 4.0);
  auto o = f.call(fast, req, false);
  f.advance(74'999us);
  CHECK_FALSE(o->done());
  f.advance(1us);
  REQUIRE(o->reply);
  CHECK(o->at == 75'000us);
  auto now = f.spawn_replay(recording_of({r}), replay_timing::none, 1.0);
  auto o2 = f.call(now, ask("r2", "hi"), false);
  REQUIRE(o2->reply);
  CHECK(o2->at == o->at);  // no virtual time passed
}

TEST_CASE("replay timing: stream chunks come at their recorded offsets") {
  fixture f;
  auto req = ask("s1", "stream me");
  auto p = f.spawn_replay(recording_of({streamed_record(req)}), replay_timing::recorded, 1.0);
  auto o = f.call(p, req, true);
  f.advance(99'999us);
  CHECK(o->chunks.empty());
  f.advance(1us);
  REQUIRE(o->chunks.size() == 1);
  CHECK(o->chunks[0] == std::make_pair(100'000us, std::string{"Hel"}));
  f.advance(100'000us);
  REQUIRE(o->chunks.size() == 2);
  CHECK(o->chunks[1] == std::make_pair(200'000us, std::string{"lo"}));
  CHECK_FALSE(o->done());
  f.advance(50'000us);
  REQUIRE(o->reply);
  CHECK(o->at == 250'000us);
  CHECK(o->reply->message.content == "Hello");
}

TEST_CASE("replay timing: a recorded error comes after its latency, and cancel answers at once") {
  fixture f;
  auto late = ask("e1", "fail late");
  call_record err;
  err.request_hash = chat_request_hash(late);
  err.error_code = errc::timeout;
  err.error_text = "no answer within 60000 ms";
  err.latency_us = 60'000'000;
  auto slow = ask("c1", "slow");
  auto s = answer_after(slow, "never seen", 10'000'000);
  auto p = f.spawn_replay(recording_of({err, s}), replay_timing::recorded, 1.0);
  auto o1 = f.call(p, late, false);
  auto o2 = f.call(p, slow, false);
  f.advance(1'000'000us);
  CHECK_FALSE(o1->done());
  CHECK_FALSE(o2->done());
  caf::anon_send(p, cancel_atom::value, std::string{"c1"});
  f.sched->run();
  REQUIRE(o2->error);
  CHECK(errc_of(*o2->error) == errc::cancelled);
  CHECK(o2->at == 1'000'000us);
  f.advance(59'000'000us);
  REQUIRE(o1->error);
  CHECK(errc_of(*o1->error) == errc::timeout);
  CHECK(error_context(*o1->error) == err.error_text);
  CHECK(o1->at == 60'000'000us);
  // The cancelled call's timer fired meanwhile and found nothing.
  CHECK_FALSE(o2->reply);
}

TEST_CASE("replay timing: at most replay_pending_max answers wait, one more is overloaded") {
  fixture f;
  auto req = ask("x", "wait");
  auto r = answer_after(req, "done", 1'000'000);
  auto p = f.spawn_replay(recording_of({r}), replay_timing::recorded, 1.0);
  std::vector<std::shared_ptr<outcome>> waiting;
  for (size_t i = 0; i < replay_pending_max; ++i)
    waiting.push_back(f.call(p, ask("w" + std::to_string(i), "wait"), false));
  auto extra = f.call(p, ask("extra", "wait"), false);
  REQUIRE(extra->error);
  CHECK(errc_of(*extra->error) == errc::overloaded);
  f.advance(1'000'000us);
  size_t answered = 0;
  for (const auto& o : waiting)
    answered += o->reply ? 1 : 0;
  CHECK(answered == replay_pending_max);
}

}  // namespace replay_timing_test

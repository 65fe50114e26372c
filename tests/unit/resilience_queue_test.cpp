// admission_queue: the concurrency bound, the wait-queue bound (overloaded),
// FIFO order, cancellation by id and deadline expiry.
#include <doctest/doctest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "runtime/resilience/admission_queue.hpp"

namespace resilience_queue_test {

using namespace std::chrono_literals;
using namespace agentgraph;
using time_point = std::chrono::steady_clock::time_point;

const time_point t0{};

admission_config bounds(size_t in_flight_max, size_t waiting_max) {
  admission_config cfg;
  cfg.in_flight_max = in_flight_max;
  cfg.waiting_max = waiting_max;
  return cfg;
}

TEST_CASE("resilience: queue starts up to in_flight_max, queues up to waiting_max, then rejects") {
  admission_queue<int> q{bounds(2, 3)};
  const std::vector<admission> expected{admission::started, admission::started, admission::queued,
                                        admission::queued,  admission::queued,  admission::rejected,
                                        admission::rejected};
  for (int i = 0; i < static_cast<int>(expected.size()); ++i) {
    CAPTURE(i);
    auto r = q.submit("r" + std::to_string(i), i);
    CHECK(r.outcome == expected[static_cast<size_t>(i)]);
    // Started and rejected items come back (to run, or to answer overloaded).
    CHECK(r.item.has_value() == (r.outcome != admission::queued));
    if (r.item)
      CHECK(*r.item == i);
  }
  CHECK(q.in_flight() == 2);
  CHECK(q.waiting() == 3);
  CHECK(q.stats().started == 2);
  CHECK(q.stats().queued == 3);
  CHECK(q.stats().rejected == 2);
  CHECK(q.stats().waiting_peak == 3);
}

TEST_CASE("resilience: queue starts waiting items in FIFO order as slots free") {
  admission_queue<int> q{bounds(1, 10)};
  for (int i = 0; i < 5; ++i)
    (void) q.submit("r" + std::to_string(i), i);
  std::vector<int> order;
  for (int i = 0; i < 4; ++i) {
    auto c = q.complete(t0);
    REQUIRE(c.next.has_value());
    order.push_back(*c.next);
    CHECK(q.in_flight() == 1);
  }
  CHECK(order == std::vector<int>{1, 2, 3, 4});
  auto last = q.complete(t0);
  CHECK_FALSE(last.next.has_value());
  CHECK(q.in_flight() == 0);
  CHECK(q.submit("again", 9).outcome == admission::started);
}

TEST_CASE("resilience: queue with waiting_max 0 rejects whenever every slot is busy") {
  admission_queue<int> q{bounds(1, 0)};
  CHECK(q.submit("a", 1).outcome == admission::started);
  CHECK(q.submit("b", 2).outcome == admission::rejected);
}

TEST_CASE("resilience: queue cancels a waiting item by id and keeps the others in order") {
  admission_queue<std::string> q{bounds(1, 10)};
  (void) q.submit("run", "running");
  for (auto id : {"a", "b", "c", "b"})
    (void) q.submit(id, std::string{"item-"} + id);
  CHECK(q.cancel("b") == std::string{"item-b"});  // the oldest "b"
  CHECK_FALSE(q.cancel("run").has_value());       // running: the caller aborts it
  CHECK_FALSE(q.cancel("zzz").has_value());
  CHECK(q.waiting() == 3);
  CHECK(q.stats().cancelled == 1);
  std::vector<std::string> order;
  for (int i = 0; i < 3; ++i)
    order.push_back(*q.complete(t0).next);
  CHECK(order == std::vector<std::string>{"item-a", "item-c", "item-b"});
}

TEST_CASE("resilience: queue hands back waiting items whose deadline passed") {
  admission_queue<int> q{bounds(1, 10)};
  (void) q.submit("run", 0);
  (void) q.submit("soon", 1, t0 + 1s);
  (void) q.submit("later", 2, t0 + 10s);
  (void) q.submit("never", 3);
  (void) q.submit("soon2", 4, t0 + 1s);
  // complete() skips the expired head and starts the next live item.
  auto c = q.complete(t0 + 2s);
  CHECK(c.expired == std::vector<int>{1});
  CHECK(c.next == 2);
  // A sweep removes the rest that expired, wherever they wait.
  CHECK(q.take_expired(t0 + 2s) == std::vector<int>{4});
  CHECK(q.waiting() == 1);
  CHECK(q.stats().expired == 2);
  CHECK(q.take_expired(t0 + 24h).empty());  // no deadline: never expires
}

TEST_CASE("resilience: queue holds move-only items (e.g. a response promise)") {
  admission_queue<std::unique_ptr<int>, int> q{bounds(1, 1)};
  auto first = q.submit(1, std::make_unique<int>(10));
  REQUIRE(first.item.has_value());
  CHECK(**first.item == 10);
  CHECK(q.submit(2, std::make_unique<int>(20)).outcome == admission::queued);
  auto rejected = q.submit(3, std::make_unique<int>(30));
  CHECK(rejected.outcome == admission::rejected);
  CHECK(**rejected.item == 30);
  auto c = q.complete(t0);
  CHECK(**c.next == 20);
}

}  // namespace resilience_queue_test

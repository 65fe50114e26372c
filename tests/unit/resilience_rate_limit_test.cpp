// token_bucket and rate_limiter with a hand-moved clock: refill, waits,
// refusals and the estimate/usage correction (refund and debt).
#include <doctest/doctest.h>

#include <chrono>
#include <memory>
#include <vector>

#include "runtime/resilience/token_bucket.hpp"

namespace resilience_rate_limit_test {

using namespace std::chrono_literals;
using namespace agentgraph;
using time_point = std::chrono::steady_clock::time_point;

const time_point t0{};

rate_limit_config limits(uint64_t rpm, uint64_t tpm, std::chrono::milliseconds wait_max = 60s) {
  rate_limit_config cfg;
  cfg.requests_per_minute = rpm;
  cfg.tokens_per_minute = tpm;
  cfg.rate_wait_max = wait_max;
  return cfg;
}

TEST_CASE("resilience: rate limiter grants a full minute's requests, then waits for the refill") {
  rate_limiter rl{limits(60, 0), t0};  // one request per second on average
  for (int i = 0; i < 60; ++i)
    REQUIRE(rl.try_acquire(0, t0).outcome == acquire_outcome::granted);
  auto r = rl.try_acquire(0, t0);
  CHECK(r.outcome == acquire_outcome::wait);
  CHECK(r.wait == 1s);
  CHECK(std::string{r.limited_by} == "requests");
  CHECK(rl.try_acquire(0, t0 + 999ms).outcome == acquire_outcome::wait);
  CHECK(rl.try_acquire(0, t0 + 1s).outcome == acquire_outcome::granted);
  CHECK(rl.stats().granted == 61);
  CHECK(rl.stats().waits == 2);
}

TEST_CASE("resilience: rate limiter token waits follow the deficit, and waits charge nothing") {
  rate_limiter rl{limits(0, 1000), t0};
  CHECK(rl.try_acquire(600, t0).outcome == acquire_outcome::granted);
  struct row {
    time_point at;
    int64_t tokens;
    acquire_outcome outcome;
    std::chrono::steady_clock::duration wait;
  };
  // 400 left; 1000 tokens per minute refill 1 token per 60 ms.
  const std::vector<row> rows{
    {t0, 600, acquire_outcome::wait, 12s},        // 200 short: 200 * 60 ms
    {t0 + 6s, 600, acquire_outcome::wait, 6s},    // 100 refilled meanwhile
    {t0 + 12s, 600, acquire_outcome::granted, 0s},
    {t0 + 12s, 1, acquire_outcome::wait, 60ms},
  };
  for (const auto& r : rows) {
    auto got = rl.try_acquire(r.tokens, r.at);
    CHECK(got.outcome == r.outcome);
    CHECK(got.wait == r.wait);
  }
  CHECK(rl.stats().tokens_charged == 1200);
}

TEST_CASE("resilience: rate limiter waits for the slower of its two limits") {
  rate_limiter rl{limits(2, 100), t0};
  CHECK(rl.try_acquire(10, t0).outcome == acquire_outcome::granted);
  CHECK(rl.try_acquire(10, t0).outcome == acquire_outcome::granted);
  auto r = rl.try_acquire(10, t0);  // requests empty: 30 s; tokens fine
  CHECK(r.wait == 30s);
  CHECK(std::string{r.limited_by} == "requests");
  auto big = rl.try_acquire(100, t0 + 30s);  // tokens: 80 + 50 refilled, capped at 100
  CHECK(big.outcome == acquire_outcome::granted);
  auto t = rl.try_acquire(90, t0 + 30s);  // requests: 30 s; tokens: 90 * 600 ms = 54 s
  CHECK(t.wait == 54s);
  CHECK(std::string{t.limited_by} == "tokens");
}

TEST_CASE("resilience: rate limiter refuses at once when the wait would exceed rate_wait_max") {
  rate_limiter rl{limits(0, 600, 5s), t0};  // 10 tokens per second
  CHECK(rl.try_acquire(600, t0).outcome == acquire_outcome::granted);
  auto ok = rl.try_acquire(50, t0);
  CHECK(ok.outcome == acquire_outcome::wait);
  CHECK(ok.wait == 5s);
  auto no = rl.try_acquire(51, t0);
  CHECK(no.outcome == acquire_outcome::refused);
  CHECK(no.wait == 5100ms);
  CHECK(rl.stats().refused == 1);
  CHECK(*rl.tokens_available(t0) == doctest::Approx(0.0));  // nothing charged
}

TEST_CASE("resilience: rate limiter correction refunds an over-estimate") {
  rate_limiter rl{limits(0, 1000), t0};
  REQUIRE(rl.try_acquire(800, t0).outcome == acquire_outcome::granted);
  CHECK(rl.try_acquire(800, t0).outcome == acquire_outcome::wait);
  rl.correct(800, 100, t0);  // the answer used 100 tokens
  CHECK(*rl.tokens_available(t0) == doctest::Approx(900.0));
  CHECK(rl.try_acquire(800, t0).outcome == acquire_outcome::granted);
  CHECK(rl.stats().tokens_charged == 900);
  rl.correct(800, 800, t0);  // exact estimate: no change
  CHECK(*rl.tokens_available(t0) == doctest::Approx(100.0));
}

TEST_CASE("resilience: rate limiter correction charges an under-estimate as debt, bounded") {
  rate_limiter rl{limits(0, 1000), t0};
  REQUIRE(rl.try_acquire(100, t0).outcome == acquire_outcome::granted);
  rl.correct(100, 1600, t0);
  CHECK(*rl.tokens_available(t0) == doctest::Approx(-600.0));
  auto r = rl.try_acquire(100, t0);
  CHECK(r.wait == 42s);  // 700 tokens at 60 ms each
  rl.correct(0, 1'000'000, t0);  // absurd usage: debt stops at one minute's allowance
  CHECK(*rl.tokens_available(t0) == doctest::Approx(-1000.0));
  CHECK(*rl.tokens_available(t0 + 2min) == doctest::Approx(1000.0));  // and never refills past full
}

TEST_CASE("resilience: rate limiter grants a request larger than a minute's tokens once full") {
  rate_limiter rl{limits(0, 1000), t0};
  CHECK(rl.try_acquire(5000, t0).outcome == acquire_outcome::granted);
  CHECK(*rl.tokens_available(t0) == doctest::Approx(-1000.0));
  CHECK(rl.try_acquire(5000, t0).wait == 2min);  // back to full, then granted again
}

TEST_CASE("resilience: rate limiter with both limits 0 grants everything") {
  rate_limiter rl{limits(0, 0), t0};
  for (int i = 0; i < 1000; ++i)
    REQUIRE(rl.try_acquire(1'000'000, t0).outcome == acquire_outcome::granted);
  CHECK_FALSE(rl.requests_available(t0).has_value());
  CHECK_FALSE(rl.tokens_available(t0).has_value());
}

TEST_CASE("resilience: rate limiter ignores a clock that steps backwards") {
  token_bucket b{60, t0 + 10s};
  b.take(60, t0 + 10s);
  CHECK(b.level(t0) == doctest::Approx(0.0));
  CHECK(b.level(t0 + 11s) == doctest::Approx(1.0));
}

TEST_CASE("resilience: token estimates are chars/4 rounded up plus framing and max_tokens") {
  struct row {
    size_t chars;
    int64_t tokens;
  };
  for (auto r : std::vector<row>{{0, 0}, {1, 1}, {4, 1}, {5, 2}, {400, 100}, {401, 101}}) {
    CAPTURE(r.chars);
    CHECK(estimate_text_tokens(r.chars) == r.tokens);
  }
  CHECK(estimate_request_tokens(400, 2, 1024) == 100 + 8 + 1024);
  CHECK(estimate_request_tokens(0, 0, -1) == 0);
}

}  // namespace resilience_rate_limit_test

// retry_policy and parse_http_date: every rule of issue 3's retry section,
// with injected "now"s and a seeded generator, so nothing sleeps and every
// draw is reproducible.
#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <vector>

#include "runtime/resilience/http_date.hpp"
#include "runtime/resilience/retry_policy.hpp"

namespace resilience_retry_test {

using namespace std::chrono;
using namespace std::chrono_literals;
using namespace agentgraph;

// 1994-11-06 08:49:30 UTC: seven seconds before RFC 9110's example date.
const system_clock::time_point wall_now = sys_days{1994y / November / 6} + 8h + 49min + 30s;
const steady_clock::time_point t0{};

retry_config test_config() {
  retry_config cfg;
  cfg.retries_max = 3;
  cfg.retry_delay = 100ms;
  cfg.retry_delay_max = 1000ms;
  cfg.retry_after_max = 60s;
  cfg.jitter = jitter_mode::equal;
  return cfg;
}

attempt_failure http(int status) {
  return attempt_failure{transport_failure::none, status, false};
}

retry_input input_for(attempt_failure f, const header_list* headers = nullptr,
                      uint32_t retries_done = 0) {
  retry_input in;
  in.failure = f;
  in.headers = headers;
  in.retries_done = retries_done;
  in.now = t0;
  in.deadline = t0 + 10min;
  in.wall_now = wall_now;
  return in;
}

TEST_CASE("resilience: retry classifies HTTP statuses (408, 409, 429, 5xx yes, other 4xx never)") {
  struct row {
    int status;
    retry_reason expected;
  };
  const std::vector<row> rows{
    {408, retry_reason::retryable_status},     {409, retry_reason::retryable_status},
    {429, retry_reason::retryable_status},     {500, retry_reason::retryable_status},
    {502, retry_reason::retryable_status},     {503, retry_reason::retryable_status},
    {504, retry_reason::retryable_status},     {599, retry_reason::retryable_status},
    {400, retry_reason::status_not_retryable}, {401, retry_reason::status_not_retryable},
    {403, retry_reason::status_not_retryable}, {404, retry_reason::status_not_retryable},
    {422, retry_reason::status_not_retryable}, {413, retry_reason::status_not_retryable},
    {499, retry_reason::status_not_retryable}, {600, retry_reason::status_not_retryable},
    {301, retry_reason::status_not_retryable},
  };
  retry_policy policy{test_config(), 1};
  for (const auto& r : rows) {
    CAPTURE(r.status);
    CHECK(policy.classify(http(r.status), nullptr) == r.expected);
    auto d = policy.decide(input_for(http(r.status)));
    CHECK(d.retry == (r.expected == retry_reason::retryable_status));
    CHECK(d.detail.find("HTTP " + std::to_string(r.status)) == 0);
  }
}

TEST_CASE("resilience: retry classifies transport failures (timeouts and connection errors yes)") {
  struct row {
    transport_failure failure;
    bool retry;
  };
  const std::vector<row> rows{
    {transport_failure::timeout, true},
    {transport_failure::connection_refused, true},
    {transport_failure::connection_reset, true},
    {transport_failure::dns_failure, true},
    {transport_failure::tls_failure, false},
    {transport_failure::response_too_large, false},
    {transport_failure::malformed_response, false},
  };
  retry_policy policy{test_config(), 1};
  for (const auto& r : rows) {
    CAPTURE(to_string(r.failure));
    auto d = policy.decide(input_for(attempt_failure{r.failure, 0, false}));
    CHECK(d.retry == r.retry);
    CHECK(d.reason
          == (r.retry ? retry_reason::retryable_transport
                      : retry_reason::transport_not_retryable));
  }
}

TEST_CASE("resilience: retry never retries an attempt that already streamed part of its answer") {
  retry_policy policy{test_config(), 1};
  for (auto f : {attempt_failure{transport_failure::none, 503, true},
                 attempt_failure{transport_failure::connection_reset, 0, true},
                 attempt_failure{transport_failure::timeout, 0, true}}) {
    header_list asked{{"x-should-retry", "true"}, {"retry-after", "1"}};
    auto d = policy.decide(input_for(f, &asked));
    CHECK_FALSE(d.retry);
    CHECK(d.reason == retry_reason::answer_started);
    CHECK(d.detail.find("already streamed") != std::string::npos);
  }
}

TEST_CASE("resilience: retry honours x-should-retry over the status rule") {
  retry_policy policy{test_config(), 1};
  header_list yes{{"X-Should-Retry", "true"}};
  header_list no{{"x-should-retry", "false"}};
  header_list junk{{"x-should-retry", "maybe"}};
  CHECK(policy.classify(http(400), &yes) == retry_reason::server_asked_retry);
  CHECK(policy.classify(http(503), &no) == retry_reason::server_refused_retry);
  CHECK(policy.classify(http(503), &junk) == retry_reason::retryable_status);
  CHECK(policy.decide(input_for(http(400), &yes)).retry);
  CHECK_FALSE(policy.decide(input_for(http(503), &no)).retry);
}

TEST_CASE("resilience: retry backoff doubles from retry_delay and stops at retry_delay_max") {
  retry_policy policy{test_config(), 1};
  const std::vector<milliseconds> expected{100ms, 200ms, 400ms, 800ms, 1000ms, 1000ms};
  for (uint32_t n = 1; n <= expected.size(); ++n) {
    CAPTURE(n);
    CHECK(policy.backoff(n) == expected[n - 1]);
  }
  CHECK(policy.backoff(1'000'000) == 1000ms);  // no overflow for absurd attempt numbers
}

TEST_CASE("resilience: retry jitter stays within its bounds and is reproducible from the seed") {
  for (auto mode : {jitter_mode::equal, jitter_mode::full}) {
    CAPTURE(to_string(mode));
    auto cfg = test_config();
    cfg.jitter = mode;
    retry_policy policy{cfg, 42};
    retry_policy twin{cfg, 42};
    retry_policy other{cfg, 43};
    bool any_differs = false;
    for (uint32_t n = 1; n <= 5; ++n) {
      auto b = policy.backoff(n);
      auto low = mode == jitter_mode::equal ? b - b / 2 : 0ms;
      for (int draw = 0; draw < 200; ++draw) {
        auto d = policy.next_delay(n, nullptr, wall_now);
        CHECK(d.source == delay_source::backoff);
        CHECK(d.delay >= low);
        CHECK(d.delay <= b);
        CHECK(twin.next_delay(n, nullptr, wall_now).delay == d.delay);
        any_differs |= other.next_delay(n, nullptr, wall_now).delay != d.delay;
      }
    }
    CHECK(any_differs);
  }
}

TEST_CASE("resilience: retry uses Retry-After seconds and retry-after-ms exactly") {
  struct row {
    header_list headers;
    milliseconds delay;
    delay_source source;
  };
  const std::vector<row> rows{
    {{{"Retry-After", "3"}}, 3000ms, delay_source::retry_after_seconds},
    {{{"retry-after", " 0 "}}, 0ms, delay_source::retry_after_seconds},
    {{{"Retry-After", "1.5"}}, 1500ms, delay_source::retry_after_seconds},
    {{{"retry-after-ms", "250"}}, 250ms, delay_source::retry_after_ms},
    {{{"Retry-After-Ms", "12.2"}}, 13ms, delay_source::retry_after_ms},  // rounded up
    // retry-after-ms wins over Retry-After, as in the vendors' SDKs.
    {{{"Retry-After", "9"}, {"retry-after-ms", "400"}}, 400ms, delay_source::retry_after_ms},
    // A malformed retry-after-ms falls back to Retry-After.
    {{{"retry-after-ms", "soon"}, {"Retry-After", "2"}}, 2000ms, delay_source::retry_after_seconds},
  };
  retry_policy policy{test_config(), 1};
  for (const auto& r : rows) {
    CAPTURE(r.headers.front().first);
    CAPTURE(r.headers.front().second);
    auto d = policy.decide(input_for(http(429), &r.headers));
    CHECK(d.retry);
    CHECK(d.delay == r.delay);
    CHECK(d.source == r.source);
  }
}

TEST_CASE("resilience: retry uses a Retry-After HTTP-date relative to the injected wall clock") {
  struct row {
    std::string value;
    milliseconds delay;
    delay_source source;
  };
  const std::vector<row> rows{
    {"Sun, 06 Nov 1994 08:49:37 GMT", 7000ms, delay_source::retry_after_date},
    {"Sunday, 06-Nov-94 08:49:37 GMT", 7000ms, delay_source::retry_after_date},
    {"Sun Nov  6 08:49:37 1994", 7000ms, delay_source::retry_after_date},
    {"Sun, 06 Nov 1994 08:50:30 GMT", 60000ms, delay_source::retry_after_date},
  };
  retry_policy policy{test_config(), 1};
  for (const auto& r : rows) {
    CAPTURE(r.value);
    header_list headers{{"Retry-After", r.value}};
    auto d = policy.decide(input_for(http(503), &headers));
    CHECK(d.retry);
    CHECK(d.delay == r.delay);
    CHECK(d.source == r.source);
  }
}

TEST_CASE("resilience: retry ignores malformed Retry-After values and dates in the past") {
  const std::vector<std::string> values{
    "Sun, 06 Nov 1994 08:49:00 GMT",  // 30 s ago: a skewed clock, not "retry now"
    "Sun, 06 Nov 1994 08:49:30 GMT",  // exactly now
    "-5", "soon", "", "1e999", "nan",
  };
  retry_policy policy{test_config(), 7};
  for (const auto& v : values) {
    CAPTURE(v);
    header_list headers{{"Retry-After", v}};
    auto d = policy.decide(input_for(http(503), &headers));
    CHECK(d.retry);
    CHECK(d.source == delay_source::backoff);
    CHECK(d.delay >= 50ms);
    CHECK(d.delay <= 100ms);
  }
}

TEST_CASE("resilience: retry gives up when the server asks to wait longer than retry_after_max") {
  retry_policy policy{test_config(), 1};  // retry_after_max = 60 s
  struct row {
    header_list headers;
    bool retry;
  };
  const std::vector<row> rows{
    {{{"Retry-After", "60"}}, true},
    {{{"Retry-After", "61"}}, false},
    {{{"retry-after-ms", "60001"}}, false},
    {{{"Retry-After", "99999999999999999999"}}, false},
    {{{"Retry-After", "Sun, 06 Nov 1994 09:49:30 GMT"}}, false},  // an hour away
  };
  for (const auto& r : rows) {
    CAPTURE(r.headers.front().second);
    auto d = policy.decide(input_for(http(429), &r.headers));
    CHECK(d.retry == r.retry);
    if (!r.retry) {
      CHECK(d.reason == retry_reason::retry_after_too_long);
      CHECK(d.detail.find("cap 60000ms") != std::string::npos);
    }
  }
}

TEST_CASE("resilience: retry counts attempts up to retries_max") {
  retry_policy policy{test_config(), 1};  // retries_max = 3
  for (uint32_t done = 0; done < 3; ++done) {
    auto d = policy.decide(input_for(http(500), nullptr, done));
    CHECK(d.retry);
    CHECK(d.detail.find("retry " + std::to_string(done + 1) + " of 3") != std::string::npos);
  }
  auto d = policy.decide(input_for(http(500), nullptr, 3));
  CHECK_FALSE(d.retry);
  CHECK(d.reason == retry_reason::retries_exhausted);

  auto cfg = test_config();
  cfg.retries_max = 0;
  retry_policy never{cfg, 1};
  CHECK(never.decide(input_for(http(503))).reason == retry_reason::retries_exhausted);
}

TEST_CASE("resilience: retry never schedules a retry that would end at or past the deadline") {
  retry_policy policy{test_config(), 1};
  header_list five_s{{"Retry-After", "5"}};
  struct row {
    milliseconds deadline_in;
    bool retry;
  };
  for (auto r : std::vector<row>{{10s, true}, {5001ms, true}, {5s, false}, {1s, false}, {0ms, false}}) {
    CAPTURE(r.deadline_in.count());
    auto in = input_for(http(429), &five_s);
    in.deadline = in.now + r.deadline_in;
    auto d = policy.decide(in);
    CHECK(d.retry == r.retry);
    if (!r.retry)
      CHECK(d.reason == retry_reason::deadline_too_close);
  }
}

TEST_CASE("resilience: http date parses the three RFC 9110 forms and rejects everything else") {
  const auto expected = sys_days{1994y / November / 6} + 8h + 49min + 37s;
  for (const char* ok : {"Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT",
                         "Sun Nov  6 08:49:37 1994"}) {
    CAPTURE(ok);
    CHECK(parse_http_date(ok, wall_now) == expected);
  }
  CHECK(parse_http_date("Sat Nov 16 08:49:37 1994", wall_now)
        == sys_days{1994y / November / 16} + 8h + 49min + 37s);
  CHECK(parse_http_date("Wed, 29 Feb 2028 23:59:60 GMT", wall_now).has_value());  // leap day, leap second
  for (const char* bad : {
         "", "Sun, 06 Nov 1994 08:49:37 gmt", "Sun, 06 Nov 1994 08:49:37 UTC",
         "sun, 06 Nov 1994 08:49:37 GMT", "Sun, 6 Nov 1994 08:49:37 GMT",
         "Sun,06 Nov 1994 08:49:37 GMT", "Sun, 31 Feb 1994 08:49:37 GMT",
         "Sun, 06 Nov 1994 24:00:00 GMT", "Sun, 06 Nov 1994 08:60:00 GMT",
         "Sun, 06 Nov 1994 08:49:37 GMT ", "Sun, 06 Xyz 1994 08:49:37 GMT",
         "Sunday, 06-Nov-1994 08:49:37 GMT", "Sun Nov 6 08:49:37 1994",
         "Funday, 06-Nov-94 08:49:37 GMT", "3",
         "Sun, 06 Nov 1994 08:49:37 GMT                                                          "}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_http_date(bad, wall_now).has_value());
  }
}

TEST_CASE("resilience: http date resolves RFC 850 two-digit years against now (50-year rule)") {
  const auto now_2026 = sys_days{2026y / November / 24};
  struct row {
    const char* text;
    int year;
  };
  for (auto r : std::vector<row>{{"Monday, 01-Jan-30 00:00:00 GMT", 2030},
                                 {"Monday, 01-Jan-76 00:00:00 GMT", 2076},
                                 {"Monday, 01-Jan-77 00:00:00 GMT", 1977},
                                 {"Monday, 01-Jan-94 00:00:00 GMT", 1994},
                                 {"Monday, 01-Jan-26 00:00:00 GMT", 2026}}) {
    CAPTURE(r.text);
    auto t = parse_http_date(r.text, now_2026);
    REQUIRE(t.has_value());
    CHECK(static_cast<int>(year_month_day{floor<days>(*t)}.year()) == r.year);
  }
}

}  // namespace resilience_retry_test

// Histogram series: bucket placement (le is inclusive), cumulative counts,
// +Inf, NaN, and strict validation of bucket bounds.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "runtime/error.hpp"
#include "runtime/metrics/histogram.hpp"
#include "runtime/metrics/series_text.hpp"

namespace metrics_histogram_test {

using namespace agentgraph;
using namespace agentgraph::metrics;

TEST_CASE("metrics: histogram buckets are cumulative and end with +Inf equal to the count") {
  histogram h{histogram::shape{{1, 2, 5}}};
  for (double v : {0.5, 1.0, 1.5, 2.0, 4.0, 7.0, -3.0})
    h.observe(v);
  auto snap = h.snapshot();
  // le=1: 0.5, 1.0, -3; le=2: + 1.5, 2.0; le=5: + 4.0; +Inf: + 7.0
  CHECK(snap.cumulative == std::vector<uint64_t>{3, 5, 6, 7});
  CHECK(snap.count == 7);
  CHECK(snap.sum == doctest::Approx(13.0));
}

TEST_CASE("metrics: histogram series text has bucket lines, sum and count") {
  histogram h{histogram::shape{{0.25, 1}}};
  h.observe(0.1);
  h.observe(3);
  std::string out;
  append_series(out, "lat_seconds", {"agent"}, {"a"}, h);
  CHECK(out ==
        "lat_seconds_bucket{agent=\"a\",le=\"0.25\"} 1\n"
        "lat_seconds_bucket{agent=\"a\",le=\"1\"} 1\n"
        "lat_seconds_bucket{agent=\"a\",le=\"+Inf\"} 2\n"
        "lat_seconds_sum{agent=\"a\"} 3.1\n"
        "lat_seconds_count{agent=\"a\"} 2\n");
}

TEST_CASE("metrics: infinities and NaN go to the edge buckets") {
  constexpr double inf = std::numeric_limits<double>::infinity();
  histogram h{histogram::shape{{1}}};
  h.observe(-inf);
  h.observe(inf);
  h.observe(std::nan(""));
  auto snap = h.snapshot();
  CHECK(snap.cumulative == std::vector<uint64_t>{1, 3});
  CHECK(std::isnan(snap.sum));
}

TEST_CASE("metrics: a histogram without bounds has only the +Inf bucket") {
  histogram h{histogram::shape{{}}};
  h.observe(42);
  CHECK(h.snapshot().cumulative == std::vector<uint64_t>{1});
}

TEST_CASE("metrics: bucket bounds must be finite and strictly increasing and bounded in number") {
  constexpr double inf = std::numeric_limits<double>::infinity();
  CHECK_FALSE(check_bucket_bounds(std::vector<double>{}));
  CHECK_FALSE(check_bucket_bounds(latency_buckets_seconds()));
  CHECK(errc_of(check_bucket_bounds(std::vector<double>{1, 1})) == errc::invalid_argument);
  CHECK(errc_of(check_bucket_bounds(std::vector<double>{2, 1})) == errc::invalid_argument);
  CHECK(errc_of(check_bucket_bounds(std::vector<double>{1, inf})) == errc::invalid_argument);
  CHECK(errc_of(check_bucket_bounds(std::vector<double>{std::nan(""), 1})) ==
        errc::invalid_argument);
  std::vector<double> many(histogram_buckets_max + 1);
  for (size_t i = 0; i < many.size(); ++i)
    many[i] = static_cast<double>(i);
  CHECK(errc_of(check_bucket_bounds(many)) == errc::invalid_argument);
  many.pop_back();
  CHECK_FALSE(check_bucket_bounds(many));
}

TEST_CASE("metrics: default latency buckets span milliseconds to minutes") {
  auto b = latency_buckets_seconds();
  REQUIRE_FALSE(b.empty());
  CHECK(b.front() == 0.005);
  CHECK(b.back() == 120);
}

}  // namespace metrics_histogram_test

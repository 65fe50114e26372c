// The text-format building blocks: escaping, number formatting, names.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <string>

#include "runtime/error.hpp"
#include "runtime/metrics/names.hpp"
#include "runtime/metrics/text_format.hpp"

namespace metrics_text_format_test {

using namespace agentgraph;
using namespace agentgraph::metrics;

std::string fmt(double v) {
  std::string out;
  append_double(out, v);
  return out;
}

TEST_CASE("metrics: doubles are written in a form Prometheus parses back exactly") {
  constexpr double inf = std::numeric_limits<double>::infinity();
  CHECK(fmt(inf) == "+Inf");
  CHECK(fmt(-inf) == "-Inf");
  CHECK(fmt(std::nan("")) == "NaN");
  CHECK(fmt(0) == "0");
  CHECK(fmt(1) == "1");
  CHECK(fmt(-2.5) == "-2.5");
  CHECK(fmt(0.005) == "0.005");
  CHECK(fmt(0.1) == "0.1");  // shortest round trip, not 0.10000000000000001
  CHECK(fmt(1e21) == "1e+21");
  CHECK(std::stod(fmt(1.0 / 3)) == 1.0 / 3);
  std::string n;
  append_uint(n, 18446744073709551615ull);
  CHECK(n == "18446744073709551615");
}

TEST_CASE("metrics: label values escape backslash, double quote and newline") {
  std::string out;
  append_escaped_label_value(out, "a\\b\"c\nd\te");
  CHECK(out == "a\\\\b\\\"c\\nd\te");
  out.clear();
  append_labels(out, {"agent", "tool"}, {"plan\"ner", "x\\y"});
  CHECK(out == "{agent=\"plan\\\"ner\",tool=\"x\\\\y\"}");
  out.clear();
  append_labels(out, {}, {});
  CHECK(out.empty());
  append_labels(out, {}, {}, "le", "+Inf");
  CHECK(out == "{le=\"+Inf\"}");
}

TEST_CASE("metrics: HELP escapes backslash and newline but not double quotes") {
  std::string out;
  append_family_header(out, "x_total", "line one\nsays \"hi\" \\o/", "counter");
  CHECK(out == "# HELP x_total line one\\nsays \"hi\" \\\\o/\n# TYPE x_total counter\n");
}

TEST_CASE("metrics: metric names follow the Prometheus grammar") {
  CHECK(is_valid_metric_name("agentgraph_tasks_total"));
  CHECK(is_valid_metric_name("_x"));
  CHECK(is_valid_metric_name(":recording:rule"));
  CHECK(is_valid_metric_name("a1:b2"));
  CHECK_FALSE(is_valid_metric_name(""));
  CHECK_FALSE(is_valid_metric_name("1abc"));
  CHECK_FALSE(is_valid_metric_name("a-b"));
  CHECK_FALSE(is_valid_metric_name("a b"));
  CHECK_FALSE(is_valid_metric_name("caf\xc3\xa9"));
}

TEST_CASE("metrics: label names follow the Prometheus grammar without the __ prefix") {
  CHECK(is_valid_label_name("agent"));
  CHECK(is_valid_label_name("_x"));
  CHECK(is_valid_label_name("a_1"));
  CHECK_FALSE(is_valid_label_name(""));
  CHECK_FALSE(is_valid_label_name("__name__"));
  CHECK_FALSE(is_valid_label_name("a:b"));
  CHECK_FALSE(is_valid_label_name("9a"));
}

TEST_CASE("metrics: a label list is checked for duplicates and for le on histograms") {
  CHECK_FALSE(check_label_names("f", {"a", "b"}, false));
  auto dup = check_label_names("f", {"a", "b", "a"}, false);
  REQUIRE(dup);
  CHECK(errc_of(dup) == errc::invalid_argument);
  CHECK(error_context(dup).find("'a' appears twice") != std::string::npos);
  CHECK_FALSE(check_label_names("f", {"le"}, false));
  CHECK(errc_of(check_label_names("f", {"le"}, true)) == errc::invalid_argument);
  CHECK(errc_of(check_label_names("f", {"__x"}, false)) == errc::invalid_argument);
}

}  // namespace metrics_text_format_test

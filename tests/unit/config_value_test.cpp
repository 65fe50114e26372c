// Typed config values: the syntax of each type, bounds, choices, and that
// printing a value gives text that parses back to it.
#include "runtime/config/config_value.hpp"

#include <doctest/doctest.h>

#include "runtime/error.hpp"

using namespace agentgraph;
using namespace std::chrono_literals;

namespace config_value_test {

value_rules rules(value_type t) {
  value_rules r;
  r.type = t;
  return r;
}

value_rules bounded(value_type t, long double min, long double max) {
  auto r = rules(t);
  r.min = min;
  r.max = max;
  return r;
}

// The error message for `text`, with its code checked.
std::string rejects(const value_rules& r, std::string_view text, errc code) {
  auto v = parse_config_value(r, text);
  REQUIRE_FALSE(v);
  CHECK(errc_of(v.error()) == code);
  return error_context(v.error());
}

}  // namespace config_value_test

using namespace config_value_test;

TEST_CASE("config: bool accepts the usual words and nothing else") {
  for (auto t : {"true", "yes", "on", "1", "TRUE", "Yes"})
    CHECK(std::get<bool>(*parse_config_value(rules(value_type::boolean), t)));
  for (auto f : {"false", "no", "off", "0", "Off"})
    CHECK_FALSE(std::get<bool>(*parse_config_value(rules(value_type::boolean), f)));
  CHECK(rejects(rules(value_type::boolean), "maybe", errc::parse_error) ==
        "'maybe' is not a bool (true/false, yes/no, on/off, 1/0)");
  rejects(rules(value_type::boolean), "", errc::parse_error);
}

TEST_CASE("config: int and uint reject wrong types, junk and overflow") {
  auto i = rules(value_type::integer);
  CHECK(std::get<int64_t>(*parse_config_value(i, "-42")) == -42);
  CHECK(rejects(i, "4x", errc::parse_error) == "'4x' is not an integer");
  rejects(i, "1.5", errc::parse_error);
  rejects(i, "+3", errc::parse_error);
  rejects(i, "", errc::parse_error);
  rejects(i, "99999999999999999999", errc::invalid_argument);
  auto u = rules(value_type::unsigned_integer);
  CHECK(std::get<uint64_t>(*parse_config_value(u, "18446744073709551615")) == UINT64_MAX);
  CHECK(rejects(u, "-1", errc::parse_error) == "'-1' is not an unsigned integer");
  rejects(u, "ten", errc::parse_error);
}

TEST_CASE("config: double rejects junk, inf and nan") {
  auto d = rules(value_type::number);
  CHECK(std::get<double>(*parse_config_value(d, "0.25")) == 0.25);
  CHECK(std::get<double>(*parse_config_value(d, "1e-3")) == 0.001);
  CHECK(rejects(d, "warm", errc::parse_error) == "'warm' is not a number");
  rejects(d, "inf", errc::parse_error);
  rejects(d, "nan", errc::parse_error);
  rejects(d, "0.5.1", errc::parse_error);
}

TEST_CASE("config: numbers out of bounds name the bound") {
  CHECK(rejects(bounded(value_type::number, 0, 2), "3.5", errc::invalid_argument) ==
        "3.5 is above the maximum 2.0");
  CHECK(rejects(bounded(value_type::number, 0, 2), "-0.1", errc::invalid_argument) ==
        "-0.1 is below the minimum 0.0");
  CHECK(rejects(bounded(value_type::unsigned_integer, 1, 64), "0", errc::invalid_argument) ==
        "0 is below the minimum 1");
  CHECK(rejects(bounded(value_type::integer, -5, 5), "6", errc::invalid_argument) ==
        "6 is above the maximum 5");
  CHECK(parse_config_value(bounded(value_type::unsigned_integer, 1, 64), "64"));
}

TEST_CASE("config: durations need a unit") {
  auto d = rules(value_type::duration);
  CHECK(std::get<config_duration>(*parse_config_value(d, "250ms")) == 250ms);
  CHECK(std::get<config_duration>(*parse_config_value(d, "30s")) == 30s);
  CHECK(std::get<config_duration>(*parse_config_value(d, "5m")) == 5min);
  CHECK(std::get<config_duration>(*parse_config_value(d, "2h")) == 2h);
  CHECK(std::get<config_duration>(*parse_config_value(d, "0s")) == 0ms);
  CHECK(rejects(d, "30", errc::parse_error) ==
        "'30' has no unit; write it with ms, s, m or h (e.g. 30s or 250ms)");
  for (auto bad : {"30sec", "1.5s", "s", "-1s", "10 s", "1m30s", "3d", ""})
    rejects(d, bad, errc::parse_error);
  rejects(d, "9999999999999999h", errc::invalid_argument);
  CHECK(rejects(bounded(value_type::duration, 1, 3'600'000), "2h", errc::invalid_argument) ==
        "2h is above the maximum 1h");
}

TEST_CASE("config: lists split at commas and reject empty items") {
  auto l = rules(value_type::string_list);
  CHECK(std::get<config_list>(*parse_config_value(l, "a, b ,c")) == config_list{"a", "b", "c"});
  CHECK(std::get<config_list>(*parse_config_value(l, "")).empty());
  CHECK(rejects(l, "a,,b", errc::parse_error) ==
        "'a,,b' has an empty item in its comma-separated list");
  rejects(l, "a,", errc::parse_error);
  std::string many;
  for (size_t i = 0; i <= config_list_items_max; ++i)
    many += "x,";
  many += "x";
  rejects(l, many, errc::invalid_argument);
}

TEST_CASE("config: enums accept only their choices") {
  auto e = rules(value_type::enumeration);
  e.choices = {"general", "coding", "analysis"};
  CHECK(std::get<std::string>(*parse_config_value(e, "coding")) == "coding");
  CHECK(rejects(e, "codng", errc::invalid_argument) ==
        "'codng' is not one of general|coding|analysis (did you mean 'coding'?)");
  CHECK(rejects(e, "Coding", errc::invalid_argument).find("did you mean 'coding'") !=
        std::string::npos);
  CHECK(rejects(e, "zzz", errc::invalid_argument) == "'zzz' is not one of general|coding|analysis");
}

TEST_CASE("config: uint maps parse name:count pairs within bounds") {
  auto m = bounded(value_type::uint_map, 1, 1000);
  CHECK(std::get<config_uint_map>(*parse_config_value(m, "fact:500, episode : 20")) ==
        config_uint_map{{"fact", 500}, {"episode", 20}});
  CHECK(std::get<config_uint_map>(*parse_config_value(m, "")).empty());
  CHECK(rejects(m, "fact", errc::parse_error) == "'fact' is not a 'name:number' pair");
  rejects(m, ":5", errc::parse_error);
  rejects(m, "fact:x", errc::parse_error);
  CHECK(rejects(m, "fact:0", errc::invalid_argument) == "fact:0 is below the minimum 1");
  CHECK(rejects(m, "a:1, a:2", errc::invalid_argument) == "'a' is listed twice");
}

TEST_CASE("config: strings are bounded") {
  CHECK(parse_config_value(rules(value_type::string), std::string(config_value_bytes_max, 'x')));
  rejects(rules(value_type::path), std::string(config_value_bytes_max + 1, 'x'),
          errc::invalid_argument);
}

TEST_CASE("config: formatted values parse back to themselves") {
  CHECK(format_duration(250ms) == "250ms");
  CHECK(format_duration(90s) == "90s");
  CHECK(format_duration(60s) == "1m");
  CHECK(format_duration(2h) == "2h");
  CHECK(format_duration(0ms) == "0s");
  CHECK(format_double(2.0) == "2.0");
  CHECK(format_double(0.2) == "0.2");
  std::vector<std::pair<value_type, config_value>> samples = {
      {value_type::boolean, config_value{true}},
      {value_type::integer, config_value{int64_t{-3}}},
      {value_type::unsigned_integer, config_value{uint64_t{7}}},
      {value_type::number, config_value{0.1}},
      {value_type::duration, config_value{config_duration{1500}}},
      {value_type::string_list, config_value{config_list{"a", "b"}}},
      {value_type::uint_map, config_value{config_uint_map{{"x", 1}, {"y", 2}}}},
  };
  for (const auto& [type, v] : samples) {
    auto back = parse_config_value(rules(type), format_config_value(v));
    REQUIRE(back);
    CHECK(*back == v);
  }
}

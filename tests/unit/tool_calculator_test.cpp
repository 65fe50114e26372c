// The calculator: evaluate_expression table-tested without an actor system,
// then the actor through spawn_tool.
#include <doctest/doctest.h>

#include <cmath>
#include <numbers>
#include <string>
#include <vector>

#include "actors/tool/expression.hpp"
#include "actors/tool/tool_factory.hpp"
#include "tool_test_fixture.hpp"

namespace tool_calculator_test {

struct valid_case {
  const char* text;
  double value;
};

struct error_case {
  std::string text;
  std::string context;  // the exact error text
};

using agentgraph::errc;
using agentgraph::evaluate_expression;

TEST_CASE("tool: calculator evaluates valid expressions") {
  const std::vector<valid_case> cases{
    {"1+2", 3},          {" 1 + 2 ", 3},       {"2*3+4", 10},        {"2*(3+4)", 14},
    {"7/2", 3.5},        {"10%3", 1},          {"-7%3", -1},         {"2^3^2", 512},
    {"-2^2", -4},        {"(-2)^2", 4},        {"2^-1", 0.5},        {"--3", 3},
    {"+4", 4},           {"1.5e3", 1500},      {"2E-3*1000", 2},     {".5", 0.5},
    {"1-2-3", -4},       {"2*3^2", 18},        {"sqrt(16)", 4},      {"abs(-3)", 3},
    {"ln(e)", 1},        {"log10(1000)", 3},   {"exp(0)", 1},        {"sin(0)", 0},
    {"cos(0)", 1},       {"tan(0)", 0},        {"floor(2.7)", 2},    {"ceil(2.1)", 3},
    {"round(2.5)", 3},   {"round(-2.5)", -3},  {"min(3,1,2)", 1},    {"max(3, 1, 2)", 3},
    {"pow(2,10)", 1024}, {"2*pi", 2 * std::numbers::pi}, {"e", std::numbers::e},
    {"sqrt(abs(-81))+max(1,min(5,4))", 13}, {"-0", 0},
  };
  for (const auto& c : cases) {
    CAPTURE(c.text);
    auto r = evaluate_expression(c.text);
    REQUIRE(r);
    CHECK(*r == doctest::Approx(c.value).epsilon(1e-12));
  }
  CHECK_FALSE(std::signbit(*evaluate_expression("-0")));
}

TEST_CASE("tool: calculator errors name the problem and its position") {
  const std::vector<error_case> cases{
    {"", "empty expression"},
    {"   ", "empty expression"},
    {"1 + #", "unexpected character '#' at position 5"},
    {"2 3", "unexpected character '3' at position 3"},
    {std::string("1+\x01", 3), "unexpected character byte 0x01 at position 3"},
    {"1+", "unexpected end of expression at position 3"},
    {"(1+2", "unbalanced parenthesis: '(' is never closed at position 1"},
    {"sqrt(4", "unbalanced parenthesis: '(' is never closed at position 5"},
    {"1+2)", "unbalanced parenthesis: ')' has no matching '(' at position 4"},
    {"()", "expected a number, name or '(' before ')' at position 2"},
    {"foo(1)", "unknown function 'foo' at position 1"},
    {"pi(1)", "unknown function 'pi' at position 1"},
    {"x + 1", "unknown name 'x' at position 1"},
    {"sqrt", "function 'sqrt' needs its arguments in parentheses at position 1"},
    {"sqrt(1,2)", "function 'sqrt' takes 1 argument, got 2 at position 1"},
    {"1+pow(2)", "function 'pow' takes 2 arguments, got 1 at position 3"},
    {"min(1)", "function 'min' takes at least 2 arguments, got 1 at position 1"},
    {"abs()", "function 'abs' takes 1 argument, got 0 at position 1"},
    {"1/0", "division by zero at position 2"},
    {"5 % (2-2)", "division by zero at position 3"},
    {"sqrt(-1)", "sqrt of a negative number (-1) at position 1"},
    {"2*ln(0)", "ln of a non-positive number (0) at position 3"},
    {"log10(-5)", "log10 of a non-positive number (-5) at position 1"},
    {"10^400", "result of '^' is not a finite number at position 3"},
    {"exp(1000)", "result of 'exp' is not a finite number at position 1"},
    {"pow(-8, 1/3)", "result of 'pow' is not a finite number at position 1"},
    {"1e308*10", "result of '*' is not a finite number at position 6"},
    {"1e999", "number '1e999' is out of range at position 1"},
    {"1e+", "malformed number '1e+' at position 1"},
    {".", "malformed number at position 1"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.text);
    auto r = evaluate_expression(c.text);
    REQUIRE_FALSE(r);
    CHECK(agentgraph::errc_of(r.error()) == errc::invalid_argument);
    CHECK(agentgraph::error_context(r.error()) == c.context);
  }
}

TEST_CASE("tool: calculator enforces its length and nesting bounds") {
  std::string ok_depth = std::string(60, '(') + "1" + std::string(60, ')');
  CHECK(evaluate_expression(ok_depth) == 1.0);
  std::string deep = std::string(100, '(') + "1" + std::string(100, ')');
  auto r = evaluate_expression(deep);
  REQUIRE_FALSE(r);
  CHECK(agentgraph::errc_of(r.error()) == errc::invalid_argument);
  CHECK(agentgraph::error_context(r.error()).find("nesting deeper than 64") != std::string::npos);
  auto minus = evaluate_expression(std::string(200, '-') + "1");
  REQUIRE_FALSE(minus);
  CHECK(agentgraph::error_context(minus.error()).find("nesting") != std::string::npos);

  std::string longest = "1";
  while (longest.size() + 2 <= agentgraph::expression_chars_max)
    longest += "+1";
  longest.resize(agentgraph::expression_chars_max, ' ');
  CHECK(evaluate_expression(longest) == 512.0);
  auto too_long = evaluate_expression(longest + "1");
  REQUIRE_FALSE(too_long);
  CHECK(agentgraph::error_context(too_long.error())
        == "expression is 1025 characters; the limit is 1024");
}

TEST_CASE("tool: calculator actor answers invoke, describe, stats and ping") {
  tool_test::fixture fx;
  agentgraph::tool_config cfg;
  cfg.name = "calc";
  cfg.kind = "calculator";
  auto tool = agentgraph::spawn_tool(fx.sys, cfg);
  REQUIRE(tool);
  fx.keep(*tool);
  auto ok = fx.invoke(*tool, "call-1", tool_test::args_of(R"({"expression":"6*7"})"));
  REQUIRE(ok);
  CHECK(ok->call_id == "call-1");
  CHECK(ok->output.to_json() == R"({"expression":"6*7","value":42.0})");
  CHECK_FALSE(ok->from_cache);

  auto bad = fx.invoke(*tool, "call-2", tool_test::args_of(R"({"expression":"1/0"})"));
  REQUIRE_FALSE(bad);
  CHECK(tool_test::code_of(bad.error()) == errc::invalid_argument);
  CHECK(agentgraph::error_context(bad.error()) == "tool 'calc': division by zero at position 2");

  auto wrong = fx.invoke(*tool, "call-3", tool_test::args_of(R"({"expr":"1"})"));
  REQUIRE_FALSE(wrong);
  CHECK(tool_test::code_of(wrong.error()) == errc::invalid_argument);

  CHECK(fx.describe(*tool).name == "calc");
  CHECK(fx.describe(*tool).deterministic);
  CHECK(fx.pongs(*tool));
  auto st = fx.stats(*tool);
  CHECK(st.name == "calc");
  CHECK(st.calls == 3);
  CHECK(st.errors == 2);
}

}  // namespace tool_calculator_test

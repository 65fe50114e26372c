// price_table: parsing (every bad line is a parse_error with its line
// number), lookups with the per-kind `*` entry, costs, and the shipped
// configs/prices.ini.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "runtime/error.hpp"
#include "runtime/resilience/price_table.hpp"

namespace resilience_price_test {

using namespace agentgraph;

const char* sample = R"(# test prices
[openai]
gpt-4o-mini = 0.15 0.60
gpt-4o      = 2.50   10.00

[openrouter]
openai/gpt-4o = 2.5 10
* = 1 2

[scripted]
* = 0 0
)";

TEST_CASE("resilience: price table computes costs per million tokens") {
  auto table = parse_price_table(sample, "sample.ini");
  REQUIRE(static_cast<bool>(table));
  CHECK(table->size() == 5);
  struct row {
    const char* kind;
    const char* model;
    priced_tokens tokens;
    double usd;
  };
  const std::vector<row> rows{
    {"openai", "gpt-4o-mini", {1'000'000, 1'000'000}, 0.75},
    {"openai", "gpt-4o", {1000, 500}, 0.0025 + 0.005},
    {"openai", "gpt-4o", {0, 0}, 0.0},
    {"openrouter", "openai/gpt-4o", {2'000'000, 0}, 5.0},
    {"openrouter", "meta/llama", {1'000'000, 1'000'000}, 3.0},  // the `*` entry
    {"scripted", "anything", {123456, 654321}, 0.0},
  };
  for (const auto& r : rows) {
    CAPTURE(r.model);
    auto cost = table->cost_usd(r.kind, r.model, r.tokens);
    REQUIRE(static_cast<bool>(cost));
    CHECK(*cost == doctest::Approx(r.usd));
  }
}

TEST_CASE("resilience: price table lookups fail with not_found or invalid_argument") {
  auto table = parse_price_table(sample, "sample.ini");
  REQUIRE(static_cast<bool>(table));
  auto unknown_model = table->cost_usd("openai", "gpt-9", {1, 1});
  REQUIRE_FALSE(static_cast<bool>(unknown_model));
  CHECK(errc_of(unknown_model.error()) == errc::not_found);
  CHECK(error_context(unknown_model.error()) == "no price for openai model 'gpt-9'");
  auto unknown_kind = table->cost_usd("gemini", "gemini-2.5-pro", {1, 1});
  CHECK(errc_of(unknown_kind.error()) == errc::not_found);
  auto negative = table->cost_usd("openai", "gpt-4o", {-1, 0});
  CHECK(errc_of(negative.error()) == errc::invalid_argument);
}

TEST_CASE("resilience: price table rejects each bad line with a parse_error naming it") {
  struct row {
    std::string text;
    std::string message_start;
  };
  const std::vector<row> rows{
    {"[openai]\ngpt = abc 1\n", "t.ini:2: [openai] gpt: expected '<input> <output>'"},
    {"[openai]\n\ngpt = 1\n", "t.ini:3: [openai] gpt: expected"},
    {"[openai]\ngpt = 1 2 3\n", "t.ini:2: [openai] gpt: expected"},
    {"[openai]\ngpt = -1 2\n", "t.ini:2: [openai] gpt: expected"},
    {"[openai]\ngpt = nan 2\n", "t.ini:2: [openai] gpt: expected"},
    {"[openai]\ngpt = 1 20000\n", "t.ini:2: [openai] gpt: expected"},
    {"[openai]\ngpt = 1,5 2\n", "t.ini:2: [openai] gpt: expected"},
    {"[openai]\ngpt = \n", "t.ini:2: [openai] gpt: expected"},
    {"[openai]\njust words\n", "t.ini:2: expected 'key = value'"},
    {"gpt = 1 2\n", "t.ini:1: key 'gpt' appears before any [section]"},
    {"[openai]\ngpt = 1 2\ngpt = 3 4\n", "t.ini:3: [openai] duplicate key 'gpt'"},
    {"[opneai]\ngpt = 1 2\n", "t.ini:1: [opneai] is not a provider kind"},
  };
  const std::vector<std::string> kinds{"openai", "anthropic"};
  for (const auto& r : rows) {
    CAPTURE(r.text);
    auto table = parse_price_table(r.text, "t.ini", kinds);
    REQUIRE_FALSE(static_cast<bool>(table));
    CHECK(errc_of(table.error()) == errc::parse_error);
    CHECK(error_context(table.error()).rfind(r.message_start, 0) == 0);
  }
}

TEST_CASE("resilience: price table accepts any section name when no kinds are given") {
  auto table = parse_price_table("[custom]\nm = 1 1\n", "t.ini");
  REQUIRE(static_cast<bool>(table));
  CHECK(table->kinds() == std::vector<std::string>{"custom"});
}

TEST_CASE("resilience: the shipped configs/prices.ini parses and prices every provider kind") {
  const std::vector<std::string> kinds{"scripted",   "openai",           "anthropic", "gemini",
                                       "openrouter", "openai_compatible"};
  auto table = load_price_table(std::string{AGENTGRAPH_SOURCE_DIR} + "/configs/prices.ini", kinds);
  REQUIRE(static_cast<bool>(table));
  CHECK(table->kinds().size() == kinds.size());
  struct row {
    const char* kind;
    const char* model;
    double usd;
  };
  for (auto r : std::vector<row>{{"openai", "gpt-4o-mini", 0.75},
                                 {"anthropic", "claude-haiku-4-5", 6.0},
                                 {"gemini", "gemini-2.0-flash", 0.5},
                                 {"openrouter", "openai/gpt-4o", 12.5},
                                 {"scripted", "any", 0.0},
                                 {"openai_compatible", "llama3:8b", 0.0}}) {
    CAPTURE(r.model);
    auto cost = table->cost_usd(r.kind, r.model, {1'000'000, 1'000'000});
    REQUIRE(static_cast<bool>(cost));
    CHECK(*cost == doctest::Approx(r.usd));
  }
  auto missing = load_price_table("/nonexistent/prices.ini");
  CHECK(errc_of(missing.error()) == errc::io_error);
}

}  // namespace resilience_price_test

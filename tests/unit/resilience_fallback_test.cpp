// fallback_chain: which provider a request goes to next, and the error that
// names every provider's reason when none is left.
#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <vector>

#include "runtime/error.hpp"
#include "runtime/resilience/circuit_breaker.hpp"
#include "runtime/resilience/fallback_chain.hpp"

namespace resilience_fallback_test {

using namespace std::chrono_literals;
using namespace agentgraph;
using cs = candidate_status;

TEST_CASE("resilience: fallback picks the first available provider in chain order") {
  struct row {
    std::vector<cs> statuses;  // for openai, openrouter, scripted
    size_t from;
    std::string expected;  // "" when none is left
  };
  const std::vector<row> rows{
    {{cs::available, cs::available, cs::available}, 0, "openai"},
    {{cs::breaker_open, cs::available, cs::available}, 0, "openrouter"},
    {{cs::retries_exhausted, cs::breaker_open, cs::available}, 0, "scripted"},
    {{cs::overloaded, cs::rate_limited, cs::available}, 0, "scripted"},
    {{cs::available, cs::available, cs::available}, 1, "openrouter"},
    {{cs::available, cs::breaker_open, cs::breaker_open}, 1, ""},
    {{cs::breaker_open, cs::retries_exhausted, cs::overloaded}, 0, ""},
  };
  const std::vector<std::string> names{"openai", "openrouter", "scripted"};
  for (const auto& r : rows) {
    std::vector<fallback_candidate> chain;
    for (size_t i = 0; i < names.size(); ++i)
      chain.push_back({names[i], r.statuses[i], {}});
    CAPTURE(r.expected);
    auto picked = pick_fallback(chain, r.from);
    if (r.expected.empty()) {
      REQUIRE_FALSE(static_cast<bool>(picked));
      CHECK(errc_of(picked.error()) == errc::unavailable);
    } else {
      REQUIRE(static_cast<bool>(picked));
      CHECK(chain[*picked].name == r.expected);
    }
  }
}

TEST_CASE("resilience: fallback with nothing left is unavailable naming each provider's reason") {
  fallback_chain chain{{"openai", "openrouter", "scripted"}};
  CHECK(chain.mark("openai", cs::breaker_open, "reopens in 4s"));
  CHECK(chain.mark("openrouter", cs::retries_exhausted, "HTTP 503"));
  CHECK(chain.next() == std::string{"scripted"});
  CHECK(chain.mark("scripted", cs::overloaded));
  CHECK_FALSE(chain.mark("gemini", cs::overloaded));  // not in this chain
  auto none = chain.next();
  REQUIRE_FALSE(static_cast<bool>(none));
  CHECK(errc_of(none.error()) == errc::unavailable);
  CHECK(error_context(none.error())
        == "no provider available: openai: circuit breaker open (reopens in 4s); "
           "openrouter: retries exhausted (HTTP 503); scripted: overloaded");
}

TEST_CASE("resilience: fallback skips a provider while its breaker is open, and returns to it") {
  breaker_config cfg;
  cfg.failures_consecutive_max = 1;
  cfg.window_outcomes = 0;
  cfg.window_outcomes_min = 0;
  cfg.cooldown = 1000ms;
  circuit_breaker openai_breaker{cfg};
  std::chrono::steady_clock::time_point t{};
  openai_breaker.on_failure(t);
  auto status_at = [&](auto now) {
    return openai_breaker.would_allow(now) ? cs::available : cs::breaker_open;
  };
  fallback_chain chain{{"openai", "scripted"}};
  chain.mark("openai", status_at(t));
  CHECK(chain.next() == std::string{"scripted"});
  chain.mark("openai", status_at(t + 1s));  // cooldown over: a probe may go
  CHECK(chain.next() == std::string{"openai"});
}

TEST_CASE("resilience: fallback chain config is checked: empty, too long, duplicates") {
  struct row {
    std::vector<std::string> providers;
    std::string message_part;  // "" when valid
  };
  const std::vector<row> rows{
    {{"openai"}, ""},
    {{"openai", "openrouter", "scripted"}, ""},
    {{}, "empty"},
    {{"a", "b", "c", "d", "e", "f", "g", "h", "i"}, "at most 8"},
    {{"openai", "scripted", "openai"}, "'openai' twice"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.message_part);
    auto err = validate_fallback_chain(r.providers);
    if (r.message_part.empty()) {
      CHECK_FALSE(err);
    } else {
      CHECK(errc_of(err) == errc::invalid_argument);
      CHECK(error_context(err).find(r.message_part) != std::string::npos);
    }
  }
}

}  // namespace resilience_fallback_test

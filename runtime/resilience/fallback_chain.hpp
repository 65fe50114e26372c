// Which provider an agent's request goes to next. An agent names an ordered
// chain (e.g. openai -> openrouter -> scripted); a provider is skipped while
// its circuit breaker is open or it cannot take the request now, and for
// the rest of a request once it exhausted its retries on it. When none is
// left the caller gets `unavailable` naming every provider's reason, so an
// operator can see at once why nothing answered.
//
// Pure: the caller fills in each candidate's status from its breakers
// (circuit_breaker::would_allow), admission queues and rate limiters, and
// marks providers as it tries them. Not thread-safe; owned by one actor
// (one per request in flight).
#pragma once

#include <caf/error.hpp>
#include <caf/expected.hpp>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace agentgraph {

// Longest chain an agent may name; the schema should enforce it. Each hop
// can cost a full retry budget, so long chains mostly add latency.
constexpr size_t fallback_providers_max = 8;

enum class candidate_status : uint8_t {
  available,
  breaker_open,       // its endpoint's breaker rejects requests (open or probes busy)
  retries_exhausted,  // this request already failed there after its retries
  overloaded,         // its admission queue is full
  rate_limited,       // its rate limiter would wait longer than rate_wait_max
};

[[nodiscard]] const char* to_string(candidate_status s);

struct fallback_candidate {
  std::string name;
  candidate_status status = candidate_status::available;
  std::string detail;  // optional: the last error, the breaker's reopen time
};

// Index of the first available candidate at or after `from`; unavailable
// naming each skipped provider and its reason when there is none.
[[nodiscard]] caf::expected<size_t> pick_fallback(const std::vector<fallback_candidate>& chain,
                                                  size_t from = 0);

// Config check for a chain: not empty, at most fallback_providers_max
// names, no name twice. invalid_argument otherwise; none when fine.
[[nodiscard]] caf::error validate_fallback_chain(const std::vector<std::string>& providers);

// A chain with its per-provider status, for one request.
class fallback_chain {
 public:
  // Aborts unless validate_fallback_chain(providers) is fine: the config
  // check runs first, so a bad chain here is a programmer error.
  explicit fallback_chain(const std::vector<std::string>& providers);

  // Sets `name`'s status; false if the chain has no such provider.
  bool mark(std::string_view name, candidate_status status, std::string detail = {});

  // The most preferred available provider, or unavailable with every reason.
  [[nodiscard]] caf::expected<std::string> next() const;

  [[nodiscard]] const std::vector<fallback_candidate>& candidates() const { return chain_; }

 private:
  std::vector<fallback_candidate> chain_;  // <= fallback_providers_max, preference order
};

}  // namespace agentgraph

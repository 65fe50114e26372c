#include "runtime/resilience/fallback_chain.hpp"

#include <algorithm>

#include "runtime/assert.hpp"
#include "runtime/error.hpp"

namespace agentgraph {

const char* to_string(candidate_status s) {
  switch (s) {
    case candidate_status::available: return "available";
    case candidate_status::breaker_open: return "circuit breaker open";
    case candidate_status::retries_exhausted: return "retries exhausted";
    case candidate_status::overloaded: return "overloaded";
    case candidate_status::rate_limited: return "rate limited";
  }
  return "unknown";
}

caf::expected<size_t> pick_fallback(const std::vector<fallback_candidate>& chain, size_t from) {
  std::string reasons;
  for (size_t i = from; i < chain.size(); ++i) {
    const auto& c = chain[i];
    if (c.status == candidate_status::available)
      return i;
    reasons += (reasons.empty() ? "" : "; ") + c.name + ": " + to_string(c.status);
    if (!c.detail.empty())
      reasons += " (" + c.detail + ")";
  }
  if (reasons.empty())
    return make_error(errc::unavailable, "no provider left in the fallback chain");
  return make_error(errc::unavailable, "no provider available: " + reasons);
}

caf::error validate_fallback_chain(const std::vector<std::string>& providers) {
  if (providers.empty())
    return make_error(errc::invalid_argument, "fallback chain is empty");
  if (providers.size() > fallback_providers_max)
    return make_error(errc::invalid_argument,
                      "fallback chain names " + std::to_string(providers.size())
                        + " providers; at most " + std::to_string(fallback_providers_max));
  for (size_t i = 0; i < providers.size(); ++i)
    if (std::find(providers.begin(), providers.begin() + i, providers[i])
        != providers.begin() + i)
      return make_error(errc::invalid_argument,
                        "fallback chain names provider '" + providers[i] + "' twice");
  return caf::none;
}

fallback_chain::fallback_chain(const std::vector<std::string>& providers) {
  AG_ASSERT(!validate_fallback_chain(providers));
  chain_.reserve(providers.size());
  for (const auto& name : providers)
    chain_.push_back(fallback_candidate{name, candidate_status::available, {}});
}

bool fallback_chain::mark(std::string_view name, candidate_status status, std::string detail) {
  for (auto& c : chain_) {
    if (c.name == name) {
      c.status = status;
      c.detail = std::move(detail);
      return true;
    }
  }
  return false;
}

caf::expected<std::string> fallback_chain::next() const {
  auto index = pick_fallback(chain_);
  if (!index)
    return index.error();
  return chain_[*index].name;
}

}  // namespace agentgraph

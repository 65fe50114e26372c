#include "runtime/cache/multi_level_cache.hpp"

#include "runtime/error.hpp"
#include "runtime/metrics/series_ref.hpp"

namespace agentgraph::cache {

namespace multi_level_cache_detail {

constexpr const char* request_outcomes[] = {"hit", "miss", "error", "rejected"};
constexpr const char* put_outcomes[] = {"ok", "refused", "dropped"};

constexpr const char* requests_help =
  "Cache lookups per level and outcome (hit, miss; at l3 also error and rejected: Redis failed, "
  "or its queue was full or its breaker open).";
constexpr const char* fills_help = "Upper cache levels filled after a hit in a lower one.";
constexpr const char* puts_help =
  "Cache writes per level and outcome (ok; refused: too large for the level; dropped, l3 only: "
  "Redis queue full, value above redis_value_bytes_max, or Redis failed).";

}  // namespace multi_level_cache_detail

caf::expected<cache_tiers> make_cache_tiers(const cache_settings& cfg,
                                            std::shared_ptr<metrics::registry> reg) {
  cache_tiers out;
  out.metrics = reg;
  if (cfg.l2_entries_max > 0) {
    shared_cache_config l2;
    l2.entries_max = cfg.l2_entries_max;
    l2.bytes_max = cfg.l2_bytes_max;
    auto made = shared_cache::make(std::move(l2));
    if (!made)
      return std::move(made.error());
    out.l2 = std::move(*made);
  }
  if (!cfg.redis_url.empty()) {
    redis_cache_config l3;
    l3.url = cfg.redis_url;
    l3.timeout = cfg.redis_timeout;
    l3.key_prefix = cfg.redis_key_prefix;
    l3.ttl_max = cfg.redis_ttl_max;
    l3.value_bytes_max = cfg.redis_value_bytes_max;
    l3.queue_max = cfg.redis_queue_max;
    l3.breaker_failures = cfg.redis_breaker_failures;
    l3.breaker_cooldown = cfg.redis_breaker_cooldown;
    l3.metrics = std::move(reg);
    auto made = redis_cache::make(std::move(l3));
    if (!made)
      return std::move(made.error());
    out.l3 = std::move(*made);
  }
  return out;
}

caf::expected<multi_level_cache> multi_level_cache::make(multi_level_cache_config cfg) {
  if (cfg.l1_entries_max == 0 || cfg.ttl <= std::chrono::milliseconds::zero() || !cfg.clock)
    return make_error(errc::invalid_argument,
                      "cache: l1_entries_max must be at least 1 and ttl positive, with a clock");
  return multi_level_cache{std::move(cfg)};
}

multi_level_cache::multi_level_cache(multi_level_cache_config cfg)
  : cfg_(std::move(cfg)),
    l1_(std::make_unique<local_cache>(cfg_.l1_entries_max, cfg_.ttl, cfg_.clock)) {
  resolve_series();
}

void multi_level_cache::resolve_series() {
  using namespace multi_level_cache_detail;
  auto* reg = cfg_.tiers.metrics.get();
  if (reg == nullptr)
    return;
  const std::string user = to_string(cfg_.user);
  for (uint8_t l = 0; l < 3; ++l) {
    const std::string level = to_string(static_cast<level_id>(l));
    // l1 and l2 are in-memory maps: only hits and misses can happen there.
    const uint8_t slots = l == 2 ? slot_count : slot_error;
    for (uint8_t o = 0; o < slots; ++o)
      series_.requests[l][o] =
        metrics::counter_of(reg, "agentgraph_cache_requests_total", requests_help,
                            {"user", "level", "outcome"}, {user, level, request_outcomes[o]});
    for (uint8_t o = 0; o < put_count; ++o)
      series_.puts[l][o] = metrics::counter_of(reg, "agentgraph_cache_puts_total", puts_help,
                                               {"user", "level", "outcome"},
                                               {user, level, put_outcomes[o]});
    if (l < 2)  // only the upper levels are ever filled
      series_.fills[l] = metrics::counter_of(reg, "agentgraph_cache_fills_total", fills_help,
                                             {"user", "level"}, {user, level});
  }
}

void multi_level_cache::count(level_id level, outcome_slot slot) {
  metrics::inc(series_.requests[static_cast<uint8_t>(level)][slot]);
}

void multi_level_cache::count_put(level_id level, put_slot slot) {
  metrics::inc(series_.puts[static_cast<uint8_t>(level)][slot]);
}

void multi_level_cache::fill_l1(const std::string& nkey, const std::string& value,
                                std::chrono::milliseconds ttl) {
  if (l1_->put(nkey, value, ttl))
    metrics::inc(series_.fills[0]);
}

lookup_result multi_level_cache::lookup(const std::string& key, l3_callback on_l3) {
  const auto nkey = namespaced_key(cfg_.user, key);
  if (auto v = l1_->get(nkey)) {
    count(level_id::l1, slot_hit);
    return {found::hit, std::move(*v), level_id::l1};
  }
  count(level_id::l1, slot_miss);
  if (cfg_.tiers.l2) {
    if (auto v = cfg_.tiers.l2->get(nkey)) {
      count(level_id::l2, slot_hit);
      // L2 does not say how long the entry has left; the user's TTL is the
      // bound it was written with, so L1 may keep it at most that long again.
      fill_l1(nkey, *v, cfg_.ttl);
      return {found::hit, std::move(*v), level_id::l2};
    }
    count(level_id::l2, slot_miss);
  }
  if (cfg_.tiers.l3 && on_l3) {
    if (cfg_.tiers.l3->get(nkey, std::move(on_l3)))
      return {found::pending, {}, level_id::l3};
    count(level_id::l3, slot_rejected);  // queue full: a miss, at once
  }
  return {};
}

std::optional<std::string> multi_level_cache::complete(const std::string& key,
                                                       const l3_reply& rep) {
  switch (rep.outcome) {
    case l3_outcome::hit:
      break;
    case l3_outcome::miss:
      count(level_id::l3, slot_miss);
      return std::nullopt;
    case l3_outcome::error:
      count(level_id::l3, slot_error);
      return std::nullopt;
    case l3_outcome::rejected:
      count(level_id::l3, slot_rejected);
      return std::nullopt;
  }
  count(level_id::l3, slot_hit);
  const auto nkey = namespaced_key(cfg_.user, key);
  if (cfg_.tiers.l2 && cfg_.tiers.l2->put(nkey, rep.value, rep.ttl_left))
    metrics::inc(series_.fills[1]);
  fill_l1(nkey, rep.value, rep.ttl_left);
  return rep.value;
}

void multi_level_cache::put(const std::string& key, const std::string& value) {
  const auto nkey = namespaced_key(cfg_.user, key);
  count_put(level_id::l1, l1_->put(nkey, value, cfg_.ttl) ? put_ok : put_refused);
  if (cfg_.tiers.l2)
    count_put(level_id::l2, cfg_.tiers.l2->put(nkey, value, cfg_.ttl) ? put_ok : put_refused);
  if (!cfg_.tiers.l3)
    return;
  // The outcome arrives on the I/O thread: the callback touches only the
  // (atomic) series, and keeps their registry alive.
  auto* ok = series_.puts[2][put_ok];
  auto* dropped = series_.puts[2][put_dropped];
  auto done = [reg = cfg_.tiers.metrics, ok, dropped](bool written) {
    metrics::inc(written ? ok : dropped);
  };
  if (!cfg_.tiers.l3->put(nkey, value, cfg_.ttl, std::move(done)))
    count_put(level_id::l3, put_dropped);
}

}  // namespace agentgraph::cache

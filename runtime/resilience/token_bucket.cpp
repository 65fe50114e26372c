#include "runtime/resilience/token_bucket.hpp"

#include <algorithm>
#include <cmath>

#include "runtime/assert.hpp"

namespace agentgraph {

namespace token_bucket_detail {

using seconds_f = std::chrono::duration<double>;
constexpr double seconds_per_minute = 60.0;

}  // namespace token_bucket_detail

token_bucket::token_bucket(uint64_t per_minute, time_point now)
    : capacity_(per_minute), level_(static_cast<double>(per_minute)), last_(now) {
  AG_ASSERT(per_minute > 0);
}

void token_bucket::refill(time_point now) {
  using namespace token_bucket_detail;
  // An injected clock that steps backwards adds nothing rather than draining.
  if (now <= last_)
    return;
  double elapsed_s = std::chrono::duration_cast<seconds_f>(now - last_).count();
  double cap = static_cast<double>(capacity_);
  level_ = std::min(cap, level_ + elapsed_s * cap / seconds_per_minute);
  last_ = now;
  AG_ASSERT(level_ >= -cap && level_ <= cap);
}

double token_bucket::level(time_point now) {
  refill(now);
  return level_;
}

token_bucket::duration token_bucket::time_until(int64_t amount, time_point now) {
  using namespace token_bucket_detail;
  refill(now);
  auto need = static_cast<double>(std::clamp<int64_t>(amount, 0, static_cast<int64_t>(capacity_)));
  double deficit = need - level_;
  if (deficit <= 0)
    return duration::zero();
  double wait_s = deficit * seconds_per_minute / static_cast<double>(capacity_);
  // Round up to the clock's tick so that waiting exactly this long suffices.
  return std::chrono::ceil<duration>(seconds_f{wait_s});
}

void token_bucket::take(int64_t amount, time_point now) {
  refill(now);
  double cap = static_cast<double>(capacity_);
  // Debt is bounded by one bucket: the level stays in [-capacity, capacity].
  AG_ASSERT(amount >= 0);
  level_ = std::max(-cap, level_ - static_cast<double>(amount));
  AG_ASSERT(level_ >= -cap && level_ <= cap);
}

void token_bucket::give_back(int64_t amount, time_point now) {
  AG_ASSERT(amount >= 0);
  refill(now);
  level_ = std::min(static_cast<double>(capacity_), level_ + static_cast<double>(amount));
}

const char* to_string(acquire_outcome o) {
  switch (o) {
    case acquire_outcome::granted: return "granted";
    case acquire_outcome::wait: return "wait";
    case acquire_outcome::refused: return "refused";
  }
  return "unknown";
}

rate_limiter::rate_limiter(rate_limit_config cfg, time_point now) : cfg_(cfg) {
  AG_ASSERT(cfg_.requests_per_minute <= rate_requests_per_minute_limit);
  AG_ASSERT(cfg_.tokens_per_minute <= rate_tokens_per_minute_limit);
  AG_ASSERT(cfg_.rate_wait_max.count() >= 0);
  if (cfg_.requests_per_minute > 0)
    requests_.emplace(cfg_.requests_per_minute, now);
  if (cfg_.tokens_per_minute > 0)
    tokens_.emplace(cfg_.tokens_per_minute, now);
}

acquire_result rate_limiter::try_acquire(int64_t estimated_tokens, time_point now) {
  AG_ASSERT(estimated_tokens >= 0);
  acquire_result out;
  if (requests_) {
    out.wait = requests_->time_until(1, now);
    if (out.wait > out.wait.zero())
      out.limited_by = "requests";
  }
  if (tokens_) {
    auto token_wait = tokens_->time_until(estimated_tokens, now);
    if (token_wait > out.wait) {
      out.wait = token_wait;
      out.limited_by = "tokens";
    }
  }
  if (out.wait > out.wait.zero()) {
    bool too_long = out.wait > cfg_.rate_wait_max;
    out.outcome = too_long ? acquire_outcome::refused : acquire_outcome::wait;
    ++(too_long ? stats_.refused : stats_.waits);
    return out;
  }
  if (requests_)
    requests_->take(1, now);
  if (tokens_)
    tokens_->take(estimated_tokens, now);
  ++stats_.granted;
  stats_.tokens_charged += estimated_tokens;
  return out;
}

void rate_limiter::correct(int64_t estimated_tokens, int64_t actual_tokens, time_point now) {
  AG_ASSERT(estimated_tokens >= 0 && actual_tokens >= 0);
  int64_t extra = actual_tokens - estimated_tokens;
  stats_.tokens_charged += extra;
  if (!tokens_)
    return;
  if (extra > 0)
    tokens_->take(extra, now);
  else
    tokens_->give_back(-extra, now);
}

std::optional<double> rate_limiter::requests_available(time_point now) {
  if (!requests_)
    return std::nullopt;
  return requests_->level(now);
}

std::optional<double> rate_limiter::tokens_available(time_point now) {
  if (!tokens_)
    return std::nullopt;
  return tokens_->level(now);
}

int64_t estimate_text_tokens(size_t chars) {
  auto c = static_cast<int64_t>(chars);
  return (c + estimate_chars_per_token - 1) / estimate_chars_per_token;
}

int64_t estimate_request_tokens(size_t prompt_chars, size_t messages,
                                int64_t completion_tokens_max) {
  return estimate_text_tokens(prompt_chars)
         + static_cast<int64_t>(messages) * estimate_message_overhead_tokens
         + std::max<int64_t>(completion_tokens_max, 0);
}

}  // namespace agentgraph

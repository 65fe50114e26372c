// Client-side rate limiting per provider: requests per minute and tokens per
// minute, the two limits LLM vendors publish per API key. Staying under them
// ourselves turns a storm of 429s (each costing a round trip and a retry)
// into short local waits, and lets the provider reply `overloaded` at once
// when the wait would be too long.
//
// Each limit is a token bucket holding at most one minute's allowance and
// refilling continuously, so a quiet provider can burst up to its per-minute
// limit and a busy one is held to the average. A request is charged its
// *estimated* tokens up front (prompt estimate + max_tokens, since vendors
// count the completion limit too) and `correct` settles the difference when
// the response's usage arrives: a refund, or a charge that may leave the
// bucket in debt (negative), which later requests wait out.
//
// Not thread-safe; owned by one actor. Time is passed in by the caller (an
// injectable clock), so tests move it by hand.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>

namespace agentgraph {

// One bucket of `per_minute` units. Starts full.
class token_bucket {
 public:
  using time_point = std::chrono::steady_clock::time_point;
  using duration = std::chrono::steady_clock::duration;

  // `per_minute` must be positive (use no bucket for "unlimited").
  token_bucket(uint64_t per_minute, time_point now);

  // Units available at `now`; negative while in debt.
  [[nodiscard]] double level(time_point now);

  // How long until `amount` units are available; zero if they are now. An
  // amount above the capacity counts as the capacity (see take()).
  [[nodiscard]] duration time_until(int64_t amount, time_point now);

  // Removes `amount` units, which may leave the bucket in debt. The debt is
  // bounded at one minute's allowance (level >= -capacity): a request much
  // larger than estimated delays later ones by at most two minutes, rather
  // than locking the provider for as long as the error was large.
  void take(int64_t amount, time_point now);

  // Returns `amount` units; the level never exceeds the capacity.
  void give_back(int64_t amount, time_point now);

  [[nodiscard]] uint64_t capacity() const { return capacity_; }

 private:
  void refill(time_point now);

  const uint64_t capacity_;
  double level_;     // units; fractional because refill is continuous
  time_point last_;  // when level_ was last brought up to date
};

struct rate_limit_config {
  uint64_t requests_per_minute = 0;  // 0: no request limit
  uint64_t tokens_per_minute = 0;    // 0: no token limit
  // Longest wait try_acquire offers. A longer one is refused, and the caller
  // replies `overloaded` at once rather than parking the request.
  std::chrono::milliseconds rate_wait_max{30000};
};

// Bounds the schema should enforce; asserted at construction.
constexpr uint64_t rate_requests_per_minute_limit = 1'000'000;
constexpr uint64_t rate_tokens_per_minute_limit = 1'000'000'000;

enum class acquire_outcome : uint8_t {
  granted,  // charged; send now
  wait,     // nothing charged; ask again after `wait`
  refused,  // nothing charged; the wait would exceed rate_wait_max
};

[[nodiscard]] const char* to_string(acquire_outcome o);

struct acquire_result {
  acquire_outcome outcome = acquire_outcome::granted;
  std::chrono::steady_clock::duration wait{0};  // wait and refused: until it would be granted
  const char* limited_by = "";                  // "requests", "tokens" or ""
};

struct rate_limit_stats {
  uint64_t granted = 0;
  uint64_t waits = 0;           // try_acquire answers of `wait`
  uint64_t refused = 0;
  int64_t tokens_charged = 0;   // estimates charged plus corrections
};

class rate_limiter {
 public:
  using time_point = token_bucket::time_point;

  rate_limiter(rate_limit_config cfg, time_point now);

  // Grants one request carrying `estimated_tokens` only if both buckets can
  // pay; otherwise charges nothing and says how long until both can. A wait
  // is a hint, not a reservation: the caller asks again after it (for the
  // head of its FIFO queue, so fairness is the queue's).
  [[nodiscard]] acquire_result try_acquire(int64_t estimated_tokens, time_point now);

  // Settles a granted request once its usage is known: refunds
  // estimated - actual, or charges actual - estimated (possibly into debt).
  void correct(int64_t estimated_tokens, int64_t actual_tokens, time_point now);

  [[nodiscard]] const rate_limit_stats& stats() const { return stats_; }
  // Current levels, or nothing when that limit is off.
  [[nodiscard]] std::optional<double> requests_available(time_point now);
  [[nodiscard]] std::optional<double> tokens_available(time_point now);

 private:
  const rate_limit_config cfg_;
  std::optional<token_bucket> requests_;
  std::optional<token_bucket> tokens_;
  rate_limit_stats stats_;
};

// Token estimates for a request before sending it, when no tokenizer is at
// hand: about 4 characters per token for English text (the figure OpenAI
// and Anthropic both quote), plus a small per-message framing cost, plus the
// completion limit, which vendors count against tokens per minute until the
// usage says otherwise. Deliberately pessimistic: correct() refunds.
// (The actors layer has a finer word-based count in
// actors/provider/token_count.hpp; either works as the estimate.)
constexpr int64_t estimate_chars_per_token = 4;
constexpr int64_t estimate_message_overhead_tokens = 4;

[[nodiscard]] int64_t estimate_text_tokens(size_t chars);
[[nodiscard]] int64_t estimate_request_tokens(size_t prompt_chars, size_t messages,
                                              int64_t completion_tokens_max);

}  // namespace agentgraph

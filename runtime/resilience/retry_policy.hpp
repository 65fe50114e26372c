// When and how long to wait before retrying a failed LLM request: the rules
// of issue 3 ("Behaviour under load and faults") as one pure policy that the
// provider pipeline asks after every failed attempt. The provider then waits
// with `delayed_send` (never a sleep, STYLE habit 8) and sends again.
//
//   * Retried: HTTP 408, 409, 429, 500-599; timeouts; connection refused or
//     reset; DNS failures. Never: any other status (400, 401, 403, 404, 422,
//     ...), TLS failures, oversized or malformed answers (a retry would get
//     the same answer).
//   * Never retried: an attempt that already streamed part of its answer to
//     the caller. Retrying would show the caller the beginning twice; the
//     caller gets the error and decides (the agent may re-ask).
//   * The server's `x-should-retry: true|false` (sent by OpenAI and
//     Anthropic) overrides the status rule, as their official SDKs do; the
//     partial-stream rule still wins.
//   * Waits: capped exponential backoff with jitter, unless the server names
//     the wait (`retry-after-ms`, else `Retry-After` in seconds or as an
//     HTTP-date), which is then used exactly.
//   * Bounds: at most `retries_max` retries; no retry whose wait would end at
//     or after the request's deadline; a server-requested wait longer than
//     `retry_after_max` gives up at once instead of waiting (see below).
//
// Not thread-safe; owned by one actor. Randomness comes from a generator
// seeded at construction, and the caller passes "now" (steady for deadlines,
// system for HTTP-dates), so tests and `agentgraph sim` are deterministic
// and never sleep.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace agentgraph {

// Full jitter waits uniform(0, backoff); equal jitter waits backoff/2 +
// uniform(0, backoff/2). The default is equal: a provider has few clients
// per node and each makes at most a handful of retries, so guaranteeing at
// least half the backoff between attempts matters more than the slightly
// lower total load full jitter gives with many competing clients (AWS
// Architecture Blog, "Exponential Backoff and Jitter", 2015). Full jitter
// can draw a near-zero wait and hit a struggling server again at once.
// OpenAI's SDKs make the same trade (they wait 75-100% of the backoff).
enum class jitter_mode : uint8_t { full, equal };

// Every mode, in the order a config lists its words (the choices of a
// provider's retry_jitter key): the default first.
inline constexpr jitter_mode jitter_modes[] = {jitter_mode::equal, jitter_mode::full};

[[nodiscard]] const char* to_string(jitter_mode m);
// The inverse of to_string; nullopt for any other word.
[[nodiscard]] std::optional<jitter_mode> parse_jitter_mode(std::string_view word);

struct retry_config {
  // Retries after the first attempt; 0 disables retrying. Hit: the last
  // failure goes to the caller (and the fallback chain may move on).
  uint32_t retries_max = 2;
  // Backoff before retry n is retry_delay * 2^(n-1), capped below.
  std::chrono::milliseconds retry_delay{500};
  // Cap on the computed backoff, before jitter.
  std::chrono::milliseconds retry_delay_max{8000};
  // Longest server-requested wait we honour. A longer one gives up at once
  // (retry_after_too_long) rather than waiting or retrying early: waiting
  // holds the caller (and an admission slot) for longer than anyone asked
  // for, and retrying before the server's time just earns another 429 and
  // burns an attempt. Giving up promptly lets the fallback chain try the
  // next provider while this one is cooling down.
  std::chrono::milliseconds retry_after_max{60000};
  jitter_mode jitter = jitter_mode::equal;
};

// Hard bounds the config schema should enforce; also asserted here, since a
// policy built from unchecked numbers is a programmer error.
constexpr uint32_t retry_retries_max_limit = 10;
constexpr std::chrono::milliseconds retry_delay_limit{std::chrono::minutes{10}};

// How one attempt failed, as the HTTP layer saw it.
enum class transport_failure : uint8_t {
  none,                // an HTTP response arrived; look at its status
  timeout,             // connect, total or stream-idle timeout
  connection_refused,  // nobody listening (restart, deploy)
  connection_reset,    // dropped by the peer or a proxy before the answer
  dns_failure,         // name did not resolve (often transient resolver trouble)
  tls_failure,         // certificate or handshake: configuration, not luck
  response_too_large,  // over the response size limit: it would be again
  malformed_response,  // undecodable body or SSE: deterministic server bug
};

[[nodiscard]] const char* to_string(transport_failure f);

struct attempt_failure {
  transport_failure transport = transport_failure::none;
  int http_status = 0;          // meaningful when transport == none
  bool answer_started = false;  // part of the answer already reached the caller
};

// Why a retry will or will not happen; each value names one rule above.
enum class retry_reason : uint8_t {
  retryable_status,      // retry: 408, 409, 429 or 5xx
  retryable_transport,   // retry: timeout, refused, reset, DNS
  server_asked_retry,    // retry: x-should-retry: true
  status_not_retryable,  // give up: another status (e.g. 400, 401, 404, 422)
  transport_not_retryable,  // give up: TLS, too large, malformed
  server_refused_retry,  // give up: x-should-retry: false
  answer_started,        // give up: part of the answer was already streamed
  retries_exhausted,     // give up: retries_max reached
  retry_after_too_long,  // give up: the server asked for more than retry_after_max
  deadline_too_close,    // give up: the wait would end at or after the deadline
};

[[nodiscard]] const char* to_string(retry_reason r);

// Where a wait came from.
enum class delay_source : uint8_t { backoff, retry_after_ms, retry_after_seconds, retry_after_date };

[[nodiscard]] const char* to_string(delay_source s);

// Response headers as (name, value) pairs; names compare case-insensitively.
using header_list = std::vector<std::pair<std::string, std::string>>;

struct retry_delay_choice {
  std::chrono::milliseconds delay{0};
  delay_source source = delay_source::backoff;
  // The server asked for longer than retry_after_max; `delay` is what it asked.
  bool over_cap = false;
};

// Everything decide() needs about one failed attempt.
struct retry_input {
  attempt_failure failure;
  const header_list* headers = nullptr;  // may be null (no response)
  uint32_t retries_done = 0;             // retries already made for this request
  std::chrono::steady_clock::time_point now;
  std::chrono::steady_clock::time_point deadline;  // the request's overall deadline
  std::chrono::system_clock::time_point wall_now;  // for HTTP-date Retry-After
};

struct retry_decision {
  bool retry = false;
  retry_reason reason = retry_reason::status_not_retryable;
  std::chrono::milliseconds delay{0};  // when retry: wait this long, then attempt again
  delay_source source = delay_source::backoff;
  std::string detail;  // one line for logs and the caller's error, e.g. "HTTP 429; ..."
};

class retry_policy {
 public:
  // Aborts on a config outside the documented limits (a programmer error:
  // the schema validates user input first).
  retry_policy(retry_config cfg, uint64_t seed);

  // The status/transport rules only: retry_reason is one of the first seven.
  // `headers` may be null.
  [[nodiscard]] retry_reason classify(const attempt_failure& failure,
                                      const header_list* headers) const;

  // The wait before retry number `retry_number` (1 for the first retry): the
  // server's wait if it named one, else jittered capped backoff. Draws from
  // the generator only for backoff waits.
  [[nodiscard]] retry_delay_choice next_delay(uint32_t retry_number, const header_list* headers,
                                              std::chrono::system_clock::time_point wall_now);

  // The whole decision: classify, count, pick the wait, check the cap and
  // the deadline.
  [[nodiscard]] retry_decision decide(const retry_input& in);

  [[nodiscard]] const retry_config& config() const { return cfg_; }

  // The un-jittered backoff before retry `retry_number`, capped.
  [[nodiscard]] std::chrono::milliseconds backoff(uint32_t retry_number) const;

 private:
  [[nodiscard]] std::chrono::milliseconds jittered(std::chrono::milliseconds backoff);

  const retry_config cfg_;
  std::mt19937_64 rng_;  // fully specified by the standard: same draws everywhere
};

// The server-requested wait in the headers, if any and well-formed:
// `retry-after-ms` (non-negative number of milliseconds) first, then
// `Retry-After` (non-negative decimal seconds, or an HTTP-date in the future
// relative to `wall_now`). Malformed values and dates in the past are
// ignored: a skewed server clock must not turn into an immediate retry.
[[nodiscard]] std::optional<retry_delay_choice>
server_requested_delay(const header_list& headers, std::chrono::system_clock::time_point wall_now);

// Case-insensitive header lookup; the first match wins.
[[nodiscard]] std::optional<std::string_view> find_header(const header_list& headers,
                                                          std::string_view name);

}  // namespace agentgraph

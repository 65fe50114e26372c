#include "runtime/resilience/retry_policy.hpp"

#include <charconv>
#include <cmath>

#include "runtime/assert.hpp"
#include "runtime/resilience/http_date.hpp"

namespace agentgraph {

namespace retry_policy_detail {

using std::chrono::milliseconds;

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size())
    return false;
  for (size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; };
    if (lower(a[i]) != lower(b[i]))
      return false;
  }
  return true;
}

// Strips HTTP optional whitespace (space and tab, RFC 9110 "OWS"). Not
// agentgraph::trim: header values have their own whitespace rule.
std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

// A non-negative finite decimal number filling all of `text`, or nothing.
std::optional<double> parse_non_negative(std::string_view text) {
  text = trim_ows(text);
  double v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || end != text.data() + text.size() || !std::isfinite(v) || v < 0)
    return std::nullopt;
  return v;
}

// Rounds up so we never retry before the server's time; saturates at a
// value far above any cap so absurd headers still compare as "too long".
milliseconds ceil_ms(double ms) {
  constexpr double saturation_ms = 1e12;  // ~31 years
  return milliseconds{static_cast<int64_t>(std::ceil(std::min(ms, saturation_ms)))};
}

bool is_retryable_status(int status) {
  return status == 408 || status == 409 || status == 429 || (status >= 500 && status <= 599);
}

bool is_retryable_transport(transport_failure f) {
  switch (f) {
    case transport_failure::timeout:
    case transport_failure::connection_refused:
    case transport_failure::connection_reset:
    case transport_failure::dns_failure: return true;
    default: return false;
  }
}

std::string describe_failure(const attempt_failure& f) {
  if (f.transport == transport_failure::none)
    return "HTTP " + std::to_string(f.http_status);
  return to_string(f.transport);
}

bool is_retry(retry_reason r) {
  return r == retry_reason::retryable_status || r == retry_reason::retryable_transport
         || r == retry_reason::server_asked_retry;
}

}  // namespace retry_policy_detail

const char* to_string(jitter_mode m) {
  return m == jitter_mode::full ? "full" : "equal";
}

std::optional<jitter_mode> parse_jitter_mode(std::string_view word) {
  for (auto m : jitter_modes)
    if (word == to_string(m))
      return m;
  return std::nullopt;
}

const char* to_string(transport_failure f) {
  switch (f) {
    case transport_failure::none: return "none";
    case transport_failure::timeout: return "timeout";
    case transport_failure::connection_refused: return "connection refused";
    case transport_failure::connection_reset: return "connection reset";
    case transport_failure::dns_failure: return "DNS failure";
    case transport_failure::tls_failure: return "TLS failure";
    case transport_failure::response_too_large: return "response too large";
    case transport_failure::malformed_response: return "malformed response";
  }
  return "unknown";
}

const char* to_string(retry_reason r) {
  switch (r) {
    case retry_reason::retryable_status: return "retryable status";
    case retry_reason::retryable_transport: return "retryable transport failure";
    case retry_reason::server_asked_retry: return "server asked to retry";
    case retry_reason::status_not_retryable: return "status not retryable";
    case retry_reason::transport_not_retryable: return "transport failure not retryable";
    case retry_reason::server_refused_retry: return "server said not to retry";
    case retry_reason::answer_started: return "part of the answer was already streamed";
    case retry_reason::retries_exhausted: return "retries exhausted";
    case retry_reason::retry_after_too_long: return "server-requested wait exceeds retry_after_max";
    case retry_reason::deadline_too_close: return "the wait would pass the deadline";
  }
  return "unknown";
}

const char* to_string(delay_source s) {
  switch (s) {
    case delay_source::backoff: return "backoff";
    case delay_source::retry_after_ms: return "retry-after-ms";
    case delay_source::retry_after_seconds: return "Retry-After seconds";
    case delay_source::retry_after_date: return "Retry-After date";
  }
  return "unknown";
}

std::optional<std::string_view> find_header(const header_list& headers, std::string_view name) {
  for (const auto& [key, value] : headers)
    if (retry_policy_detail::iequals(key, name))
      return std::string_view{value};
  return std::nullopt;
}

std::optional<retry_delay_choice>
server_requested_delay(const header_list& headers, std::chrono::system_clock::time_point wall_now) {
  using namespace retry_policy_detail;
  if (auto ms = find_header(headers, "retry-after-ms"))
    if (auto v = parse_non_negative(*ms))
      return retry_delay_choice{ceil_ms(*v), delay_source::retry_after_ms, false};
  auto value = find_header(headers, "retry-after");
  if (!value)
    return std::nullopt;
  if (auto secs = parse_non_negative(*value))
    return retry_delay_choice{ceil_ms(*secs * 1000.0), delay_source::retry_after_seconds, false};
  auto when = parse_http_date(trim_ows(*value), wall_now);
  if (!when || *when <= wall_now)
    return std::nullopt;
  auto wait = std::chrono::ceil<milliseconds>(*when - wall_now);
  return retry_delay_choice{wait, delay_source::retry_after_date, false};
}

retry_policy::retry_policy(retry_config cfg, uint64_t seed) : cfg_(cfg), rng_(seed) {
  AG_ASSERT(cfg_.retries_max <= retry_retries_max_limit);
  AG_ASSERT(cfg_.retry_delay.count() >= 0 && cfg_.retry_delay <= retry_delay_limit);
  AG_ASSERT(cfg_.retry_delay_max >= cfg_.retry_delay && cfg_.retry_delay_max <= retry_delay_limit);
  AG_ASSERT(cfg_.retry_after_max.count() >= 0 && cfg_.retry_after_max <= retry_delay_limit);
}

retry_reason retry_policy::classify(const attempt_failure& failure,
                                    const header_list* headers) const {
  using namespace retry_policy_detail;
  if (failure.answer_started)
    return retry_reason::answer_started;
  if (failure.transport != transport_failure::none)
    return is_retryable_transport(failure.transport) ? retry_reason::retryable_transport
                                                     : retry_reason::transport_not_retryable;
  if (headers) {
    if (auto hint = find_header(*headers, "x-should-retry")) {
      if (trim_ows(*hint) == "true")
        return retry_reason::server_asked_retry;
      if (trim_ows(*hint) == "false")
        return retry_reason::server_refused_retry;
    }
  }
  return is_retryable_status(failure.http_status) ? retry_reason::retryable_status
                                                  : retry_reason::status_not_retryable;
}

std::chrono::milliseconds retry_policy::backoff(uint32_t retry_number) const {
  AG_ASSERT(retry_number >= 1);
  // Doubling stops at the cap, so at most ~log2(cap/base) steps and no overflow.
  auto delay = cfg_.retry_delay;
  for (uint32_t i = 1; i < retry_number && delay < cfg_.retry_delay_max; ++i)
    delay *= 2;
  return std::min(delay, cfg_.retry_delay_max);
}

std::chrono::milliseconds retry_policy::jittered(std::chrono::milliseconds backoff) {
  // rng_() % (span + 1) rather than uniform_int_distribution: the
  // distribution's algorithm is implementation-defined, so its draws (and
  // our tests) would differ between standard libraries. The modulo bias is
  // below 2^-40 for any span we allow.
  auto draw = [this](int64_t span) {
    return static_cast<int64_t>(rng_() % (static_cast<uint64_t>(span) + 1));
  };
  auto b = backoff.count();
  if (cfg_.jitter == jitter_mode::full)
    return std::chrono::milliseconds{draw(b)};
  return std::chrono::milliseconds{b - b / 2 + draw(b / 2)};
}

retry_delay_choice retry_policy::next_delay(uint32_t retry_number, const header_list* headers,
                                            std::chrono::system_clock::time_point wall_now) {
  if (headers) {
    if (auto asked = server_requested_delay(*headers, wall_now)) {
      asked->over_cap = asked->delay > cfg_.retry_after_max;
      return *asked;
    }
  }
  return retry_delay_choice{jittered(backoff(retry_number)), delay_source::backoff, false};
}

retry_decision retry_policy::decide(const retry_input& in) {
  using namespace retry_policy_detail;
  retry_decision out;
  out.reason = classify(in.failure, in.headers);
  out.detail = describe_failure(in.failure);
  auto give_up = [&](retry_reason why) {
    out.retry = false;
    out.reason = why;
    out.detail += std::string{"; not retried: "} + to_string(why);
    return out;
  };
  if (!is_retry(out.reason))
    return give_up(out.reason);
  if (in.retries_done >= cfg_.retries_max)
    return give_up(retry_reason::retries_exhausted);
  auto choice = next_delay(in.retries_done + 1, in.headers, in.wall_now);
  out.delay = choice.delay;
  out.source = choice.source;
  if (choice.over_cap) {
    give_up(retry_reason::retry_after_too_long);
    out.detail += " (asked " + std::to_string(choice.delay.count()) + "ms, cap "
                  + std::to_string(cfg_.retry_after_max.count()) + "ms)";
    return out;
  }
  if (in.now + choice.delay >= in.deadline)
    return give_up(retry_reason::deadline_too_close);
  out.retry = true;
  out.detail += "; retry " + std::to_string(in.retries_done + 1) + " of "
                + std::to_string(cfg_.retries_max) + " in " + std::to_string(choice.delay.count())
                + "ms (" + to_string(choice.source) + ")";
  return out;
}

}  // namespace agentgraph

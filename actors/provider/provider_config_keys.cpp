#include "actors/provider/provider_config_keys.hpp"

#include "runtime/resilience/admission_queue.hpp"
#include "runtime/resilience/circuit_breaker.hpp"
#include "runtime/resilience/token_bucket.hpp"

namespace agentgraph {

using namespace std::chrono_literals;

void assign(provider_kind& f, const config_value& v) {
  f = enum_from(provider_kinds, v);
}

void assign(jitter_mode& f, const config_value& v) {
  f = enum_from(jitter_modes, v);
}

void assign(replay_on_miss& f, const config_value& v) {
  f = enum_from(replay_on_miss_modes, v);
}

void assign(replay_timing& f, const config_value& v) {
  f = enum_from(replay_timings, v);
}

const std::vector<field<provider_config>>& provider_fields() {
  static const auto fields = [] {
    using S = provider_config;
    const S d;
    // The HTTP keys apply to the HTTP kinds only.
    std::vector<provider_kind> http_kinds;
    for (auto k : provider_kinds)
      if (is_http_kind(k))
        http_kinds.push_back(k);
    auto applies_to = [](key_spec k, const std::vector<provider_kind>& kinds) {
      std::vector<std::string> words;
      for (auto kind : kinds)
        words.emplace_back(to_string(kind));
      return applies_if(std::move(k), "kind", std::move(words));
    };
    auto http = [&](key_spec k) { return applies_to(std::move(k), http_kinds); };
    auto only = [&](key_spec k, std::vector<provider_kind> kinds) {
      return applies_to(std::move(k), kinds);
    };
    return std::vector<field<S>>{
        bind(enum_key("kind", to_string(d.kind), enum_words(provider_kinds),
                      "Provider implementation. scripted is embedded, offline and "
                      "deterministic; replay answers from a recording (see record); the "
                      "others speak their vendor's HTTP API."),
             &S::kind),
        bind(only(path_key("rules", d.rules,
                           "Rules file of the scripted provider (and of a replay provider with "
                           "on_miss = scripted); relative: against the config file's directory."),
                  {provider_kind::scripted, provider_kind::replay}),
             &S::rules),
        bind(path_key("record", d.record,
                      "Record mode: append every completed call (request hash, response or "
                      "error, latency, time to first token, usage) to this SQLite file, for "
                      "kind replay to answer from later; empty: off."),
             &S::record),
        bind(uint_key("record_queue_max", d.record_queue_max, 1, 1'000'000,
                      "Records waiting for the recording's writer thread; past it a record is "
                      "dropped and counted (the call itself is never held or failed)."),
             &S::record_queue_max),
        bind(only(path_key("recording", d.recording,
                           "Recording file (made by record) a replay provider answers from; "
                           "read whole at start."),
                  {provider_kind::replay}),
             &S::recording),
        bind(only(enum_key("on_miss", to_string(d.on_miss), enum_words(replay_on_miss_modes),
                           "A request the recording lacks: error (provider_error with its hash) "
                           "or scripted (the rules file answers)."),
                  {provider_kind::replay}),
             &S::on_miss),
        bind(only(enum_key("timing", to_string(d.timing), enum_words(replay_timings),
                           "recorded: answer after the recorded latency (streams chunk by chunk "
                           "at their recorded offsets); none: at once."),
                  {provider_kind::replay}),
             &S::timing),
        bind(only(double_key("speed", d.speed, 0.01, 1000.0,
                             "Divides the recorded latencies (2: twice as fast)."),
                  {provider_kind::replay}),
             &S::speed),
        bind(only(uint_key("recording_entries_max", d.recording_entries_max, 1, 10'000'000,
                           "Recorded calls a replay provider loads; a larger recording is "
                           "refused at start."),
                  {provider_kind::replay}),
             &S::recording_entries_max),
        bind(http(string_key("base_url", d.base_url,
                             "API base URL, e.g. http://127.0.0.1:11434/v1; empty: the vendor's "
                             "public endpoint (required for openai_compatible).")),
             &S::base_url),
        bind(http(string_key("api_key", d.api_key,
                             "API key. Prefer api_key_env: a key in a file is easy to leak. "
                             "Never logged or shown in errors.")),
             &S::api_key),
        bind(http(string_key("api_key_env", d.api_key_env,
                             "Environment variable holding the key; it must be set and "
                             "non-empty at start, for every kind. Empty: OPENAI_API_KEY, "
                             "ANTHROPIC_API_KEY, GEMINI_API_KEY or OPENROUTER_API_KEY by kind "
                             "(openai_compatible: no key).")),
             &S::api_key_env),
        bind(http(string_key("model", d.model,
                             "Model for requests that name none, and for requests that fall "
                             "back to this provider from another one.")),
             &S::model),
        bind(only(string_key("anthropic_version", d.anthropic_version,
                             "anthropic-version header; empty: 2023-06-01."),
                  {provider_kind::anthropic}),
             &S::anthropic_version),
        bind(only(string_key("openrouter_referer", d.openrouter_referer,
                             "HTTP-Referer attribution header sent to OpenRouter."),
                  {provider_kind::openrouter}),
             &S::openrouter_referer),
        bind(only(string_key("openrouter_title", d.openrouter_title,
                             "X-Title attribution header sent to OpenRouter."),
                  {provider_kind::openrouter}),
             &S::openrouter_title),
        bind(only(string_key("max_tokens_field", d.max_tokens_field,
                             "Body field carrying max_tokens; empty: max_completion_tokens for "
                             "openai, max_tokens otherwise."),
                  {provider_kind::openai, provider_kind::openrouter,
                   provider_kind::openai_compatible}),
             &S::max_tokens_field),
        bind(http(duration_key("timeout", d.timeout, 10ms, 1h,
                               "One HTTP attempt, connect to last byte; a timeout is retried.")),
             &S::timeout),
        bind(http(duration_key("connect_timeout", d.connect_timeout, 10ms, 5min,
                               "TCP and TLS connect of one attempt (shared HTTP client: the "
                               "largest value of all providers applies).")),
             &S::connect_timeout),
        bind(http(duration_key("stream_idle_timeout", d.stream_idle_timeout, 10ms, 1h,
                               "A streamed answer with no byte for this long fails the attempt.")),
             &S::stream_idle_timeout),
        bind(http(duration_key("request_deadline", d.request_deadline, 10ms, 24h,
                               "A call's whole life: queue, rate waits, every attempt and retry "
                               "wait. Keep it below the agent's request_timeout.")),
             &S::request_deadline),
        bind(http(uint_key("retries_max", d.retries_max, 0, retry_retries_max_limit,
                           "Retries after the first attempt for 408, 409, 429, 5xx, timeouts "
                           "and connection errors; never other 4xx or a half-streamed answer.")),
             &S::retries_max),
        bind(http(duration_key("retry_delay", d.retry_delay, 1ms, retry_delay_limit,
                               "Backoff before the first retry; doubles per retry, with jitter.")),
             &S::retry_delay),
        bind(http(duration_key("retry_delay_max", d.retry_delay_max, 1ms, retry_delay_limit,
                               "Cap on the backoff before jitter.")),
             &S::retry_delay_max),
        bind(http(duration_key("retry_after_max", d.retry_after_max, 1ms, retry_delay_limit,
                               "Longest Retry-After / retry-after-ms wait honoured; a longer "
                               "one fails at once so the fallback chain can move on.")),
             &S::retry_after_max),
        bind(http(enum_key("retry_jitter", to_string(d.retry_jitter), enum_words(jitter_modes),
                           "equal: wait backoff/2 + random(backoff/2); full: random(backoff).")),
             &S::retry_jitter),
        bind(http(uint_key("in_flight_max", d.in_flight_max, 1, admission_in_flight_max_limit,
                           "Calls holding a slot at once (retries included).")),
             &S::in_flight_max),
        bind(http(uint_key("waiting_max", d.waiting_max, 0, admission_waiting_max_limit,
                           "Calls queued for a slot; one more gets `overloaded` at once.")),
             &S::waiting_max),
        bind(http(uint_key("requests_per_minute", d.requests_per_minute, 0,
                           rate_requests_per_minute_limit,
                           "Client-side request rate limit (token bucket); 0: none.")),
             &S::requests_per_minute),
        bind(http(uint_key("tokens_per_minute", d.tokens_per_minute, 0,
                           rate_tokens_per_minute_limit,
                           "Client-side token rate limit: estimated before each call, "
                           "corrected from its usage; 0: none.")),
             &S::tokens_per_minute),
        bind(http(duration_key("rate_wait_max", d.rate_wait_max, 0ms, 1h,
                               "Longest wait for the rate limiter; longer: `overloaded` at once.")),
             &S::rate_wait_max),
        bind(http(uint_key("breaker_failures", d.breaker_failures, 0, 1000,
                           "Consecutive failures (5xx, 408, 429, timeouts, connection errors) "
                           "that open the circuit breaker; 0: this trigger off.")),
             &S::breaker_failures),
        bind(http(double_key("breaker_failure_ratio", d.breaker_failure_ratio, 0.01, 1.0,
                             "Failure ratio over the window that opens the breaker.")),
             &S::breaker_failure_ratio),
        bind(http(uint_key("breaker_window", d.breaker_window, 0, breaker_window_outcomes_limit,
                           "Outcomes the failure-ratio window remembers; 0: ratio trigger off.")),
             &S::breaker_window),
        bind(http(uint_key("breaker_window_min", d.breaker_window_min, 0,
                           breaker_window_outcomes_limit,
                           "Outcomes needed before the ratio counts (at most breaker_window).")),
             &S::breaker_window_min),
        bind(http(duration_key("breaker_cooldown", d.breaker_cooldown, 1ms, 1h,
                               "Open time before the first half-open probe; doubles per failed "
                               "probe.")),
             &S::breaker_cooldown),
        bind(http(duration_key("breaker_cooldown_max", d.breaker_cooldown_max, 1ms, 24h,
                               "Cap on the doubled cooldown.")),
             &S::breaker_cooldown_max),
        bind(http(uint_key("breaker_probes", d.breaker_probes, 1, breaker_probes_max_limit,
                           "Probe calls admitted at once while half-open.")),
             &S::breaker_probes),
        bind(http(duration_key("embed_batch_window", d.embed_batch_window, 0ms, 10s,
                               "Embedding requests arriving within this window travel as one "
                               "request; 0: no batching.")),
             &S::embed_batch_window),
        bind(http(uint_key("embed_batch_inputs_max", d.embed_batch_inputs_max, 1, 2048,
                           "Inputs per batched embedding request (gemini: at most 100, what its "
                           "batchEmbedContents takes).")),
             &S::embed_batch_inputs_max),
    };
  }();
  return fields;
}

}  // namespace agentgraph

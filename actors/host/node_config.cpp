// Declarations of every node config key, next to the struct field each one
// fills: a key and its field are one table row, so no key can exist without
// an effect and no field can be forgotten by the binding (the table test in
// config_binding_test.cpp sets every key and checks every field).
// Over 600 lines because every component's key table still lives here; the
// house issue (10) moves each table beside its component's *_config.hpp.
#include "actors/host/node_config.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <limits>

#include "actors/host/node_config_checks.hpp"
#include "runtime/config/config_resolve.hpp"
#include "runtime/config/config_text.hpp"
#include "runtime/config/ini_parser.hpp"
#include "runtime/error.hpp"
#include "runtime/file_open.hpp"
#include "runtime/resilience/admission_queue.hpp"
#include "runtime/resilience/circuit_breaker.hpp"
#include "runtime/resilience/fallback_chain.hpp"
#include "runtime/resilience/retry_policy.hpp"
#include "runtime/resilience/token_bucket.hpp"

namespace agentgraph {

namespace node_config_detail {

using namespace std::chrono_literals;

constexpr uint64_t mib = 1 << 20;

// One key and how it lands in struct S.
template <class S>
struct field {
  key_spec spec;
  std::function<void(S&, const config_value&)> assign;
};

// The enum's words in declaration order: the choices of its schema key.
template <class E, size_t N>
std::vector<std::string> words(const E (&all)[N]) {
  std::vector<std::string> out;
  for (auto e : all)
    out.emplace_back(to_string(e));
  return out;
}

constexpr agent_role all_roles[] = {agent_role::general, agent_role::coding, agent_role::analysis,
                                    agent_role::creative};
constexpr retention_policy all_retentions[] = {
    retention_policy::sliding_window, retention_policy::importance, retention_policy::hierarchical};
constexpr memory_durability all_durabilities[] = {memory_durability::commit,
                                                  memory_durability::snapshot};
constexpr group_strategy all_strategies[] = {group_strategy::least_loaded,
                                             group_strategy::round_robin};
constexpr log_severity all_severities[] = {log_severity::error, log_severity::warn,
                                           log_severity::info, log_severity::debug};

template <class E, size_t N>
E enum_from(const E (&all)[N], const config_value& v) {
  const auto& word = std::get<std::string>(v);
  for (auto e : all)
    if (word == to_string(e))
      return e;
  // The schema only lets declared words through; anything else is a bug.
  std::fprintf(stderr, "agentgraph: config binding bug: enum word '%s'\n", word.c_str());
  std::abort();
}

// Conversions from the schema's value types to the field types. Narrowing
// casts are safe because bind() checks that the key's bounds fit the field.
void assign(std::string& f, const config_value& v) {
  f = std::get<std::string>(v);
}
void assign(bool& f, const config_value& v) {
  f = std::get<bool>(v);
}
void assign(int32_t& f, const config_value& v) {
  f = static_cast<int32_t>(std::get<int64_t>(v));
}
void assign(uint32_t& f, const config_value& v) {
  f = static_cast<uint32_t>(std::get<uint64_t>(v));
}
void assign(uint64_t& f, const config_value& v) {
  f = std::get<uint64_t>(v);
}
void assign(double& f, const config_value& v) {
  f = std::get<double>(v);
}
void assign(std::optional<double>& f, const config_value& v) {
  f = std::get<double>(v);
}
void assign(std::chrono::milliseconds& f, const config_value& v) {
  f = std::get<config_duration>(v);
}
void assign(std::vector<std::string>& f, const config_value& v) {
  f = std::get<config_list>(v);
}
void assign(std::map<std::string, uint32_t>& f, const config_value& v) {
  f.clear();
  for (const auto& [k, n] : std::get<config_uint_map>(v))
    f.emplace(k, static_cast<uint32_t>(n));
}
void assign(agent_role& f, const config_value& v) {
  f = enum_from(all_roles, v);
}
void assign(retention_policy& f, const config_value& v) {
  f = enum_from(all_retentions, v);
}
void assign(memory_durability& f, const config_value& v) {
  f = enum_from(all_durabilities, v);
}
void assign(group_strategy& f, const config_value& v) {
  f = enum_from(all_strategies, v);
}
void assign(log_severity& f, const config_value& v) {
  f = enum_from(all_severities, v);
}

// Integral fields narrower than the schema's 64-bit values must have bounds
// that fit, or a valid config could overflow the field.
template <class F>
void check_fits(const key_spec& spec) {
  using T = std::conditional_t<std::is_same_v<F, std::map<std::string, uint32_t>>, uint32_t, F>;
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    bool fits = spec.rules.max && *spec.rules.max <= std::numeric_limits<T>::max() &&
                spec.rules.min && *spec.rules.min >= std::numeric_limits<T>::min();
    if (!fits) {
      std::fprintf(stderr, "agentgraph: config schema bug: %s: bounds exceed the field\n",
                   spec.name.c_str());
      std::abort();
    }
  }
}

template <class S, class F>
field<S> bind(key_spec spec, F S::*member) {
  check_fits<F>(spec);
  return field<S>{std::move(spec), [member](S& s, const config_value& v) { assign(s.*member, v); }};
}

const std::vector<field<runtime_settings>>& runtime_fields() {
  static const auto fields = [] {
    using S = runtime_settings;
    const S d;
    return std::vector<field<S>>{
        bind(uint_key("scheduler_threads", d.scheduler_threads, 1, 64,
                      "CAF scheduler worker threads. CAF's own default, max(cores, 4), "
                      "oversubscribes small machines."),
             &S::scheduler_threads),
        bind(enum_key("log_level", to_string(d.log_level), words(all_severities),
                      "Least severe log message that is written."),
             &S::log_level),
        bind(path_key("data_dir", d.data_dir,
                      "Directory for node data. A memory shard without its own snapshot_path "
                      "snapshots to <data_dir>/<shard>.sqlite; empty: such shards are not "
                      "persisted. Relative: against the config file's directory."),
             &S::data_dir),
        bind(path_key("prices", d.prices,
                      "Price table (format of configs/prices.ini) used to report each "
                      "provider's cost from token usage; empty: no costs. Relative: against "
                      "the config file's directory."),
             &S::prices),
        bind(path_key("checkpoint_path", d.checkpoint_path,
                      "SQLite file (WAL) where workflow runs save every super-step; relative: "
                      "against the config file's directory. Empty (and no checkpoint_url): "
                      "runs are not checkpointed and cannot be resumed by thread id."),
             &S::checkpoint_path),
        bind(string_key("checkpoint_url", d.checkpoint_url,
                        "PostgreSQL URL (postgresql://user@host:port/db) for workflow "
                        "checkpoints shared by several nodes; instead of checkpoint_path. The "
                        "password never appears in logs or errors."),
             &S::checkpoint_url),
        bind(uint_key("checkpoint_keep_last", d.checkpoint_keep_last, 1, 100'000,
                      "Checkpoints kept per workflow thread; older ones are deleted on save."),
             &S::checkpoint_keep_last),
    };
  }();
  return fields;
}

const std::vector<field<node_settings>>& node_fields() {
  static const auto fields = [] {
    using S = node_settings;
    const S d;
    return std::vector<field<S>>{
        bind(string_key("listen", d.listen,
                        "Interface (address) the HTTP gateway of `agentgraph node` binds; "
                        "0.0.0.0 opens it to every interface."),
             &S::listen),
        bind(uint_key("port", d.port, 0, 65535,
                      "TCP port of the HTTP gateway; 0: the OS picks a free one (printed on "
                      "the `listening on` line)."),
             &S::port),
        bind(string_key("auth_token_env", d.auth_token_env,
                        "Name of the environment variable holding the gateway's bearer token; "
                        "every route but /health and /ready then needs `Authorization: Bearer "
                        "<token>`. Empty: no auth. The variable must be set and non-empty."),
             &S::auth_token_env),
        bind(uint_key("http_threads", d.http_threads, 1, 64,
                      "Event-loop threads of the gateway's HTTP server. They only parse, route "
                      "and write (no request holds one while it waits), so one or two serve "
                      "thousands of connections."),
             &S::http_threads),
        bind(uint_key("connections_max", d.connections_max, 1, 1'000'000,
                      "Open connections the gateway serves; one more is answered 503 with "
                      "Retry-After and closed. The open-file limit is raised to fit where the "
                      "hard limit allows."),
             &S::connections_max),
        bind(uint_key("header_bytes_max", d.header_bytes_max, 1024, 1024 * 1024,
                      "Largest request line plus headers the gateway reads; larger ones get "
                      "431."),
             &S::header_bytes_max),
        bind(duration_key("header_timeout", d.header_timeout, 1ms, 10min,
                          "A request's line and headers must arrive within this of its first "
                          "byte (a new connection's first byte too); else 408 and the "
                          "connection is closed."),
             &S::header_timeout),
        bind(duration_key("body_timeout", d.body_timeout, 1ms, 1h,
                          "A request's whole body must arrive within this of its headers; else "
                          "408 and the connection is closed."),
             &S::body_timeout),
        bind(duration_key("keep_alive_timeout", d.keep_alive_timeout, 1ms, 1h,
                          "A kept-alive connection with no request in progress is closed after "
                          "this."),
             &S::keep_alive_timeout),
        bind(duration_key("send_timeout", d.send_timeout, 1ms, 1h,
                          "A client must take a response (or one event-stream chunk) within "
                          "this; else its connection is closed."),
             &S::send_timeout),
        bind(uint_key("stream_buffer_bytes", d.stream_buffer_bytes, 1024, 1024 * mib,
                      "Bytes of /v1/tasks/<id>/events queued for a subscriber that does not "
                      "read; past it the subscriber is dropped (its connection closed)."),
             &S::stream_buffer_bytes),
        bind(uint_key("bodies_bytes_max", d.bodies_bytes_max, 1024, 64 * 1024 * mib,
                      "Request bodies the gateway reads at once, over all connections (a "
                      "declared length counts in full from the headers on, a chunked body as "
                      "body_bytes_max); one more gets 503 with Retry-After."),
             &S::bodies_bytes_max),
        bind(uint_key("tasks_in_flight_max", d.tasks_in_flight_max, 1, 100'000,
                      "Tasks the gateway runs at once; one more is refused with 429 and "
                      "Retry-After."),
             &S::tasks_in_flight_max),
        bind(uint_key("tasks_kept", d.tasks_kept, 0, 1'000'000,
                      "Finished tasks kept for GET /v1/tasks/<id>; beyond it the oldest "
                      "finished task is forgotten (404)."),
             &S::tasks_kept),
        bind(uint_key("task_events_max", d.task_events_max, 1, 1'000'000,
                      "Stream events (tokens, tool calls) buffered per task for "
                      "/v1/tasks/<id>/events; beyond it the oldest are dropped and a late "
                      "subscriber gets a `truncated` event."),
             &S::task_events_max),
        bind(uint_key("body_bytes_max", d.body_bytes_max, 1024, 64 * mib,
                      "Largest request body the gateway reads; larger ones get 413."),
             &S::body_bytes_max),
        bind(duration_key("health_ping_timeout", d.health_ping_timeout, 1ms, 1min,
                          "How long /ready and /v1/agents wait for each provider, memory shard "
                          "and agent to answer before calling it unhealthy."),
             &S::health_ping_timeout),
        bind(duration_key("shutdown_deadline", d.shutdown_deadline, 0ms, 1h,
                          "On SIGTERM or SIGINT, how long the node waits for accepted tasks to "
                          "finish; then the rest end `cancelled`."),
             &S::shutdown_deadline),
    };
  }();
  return fields;
}

const std::vector<field<supervision_config>>& supervisor_fields() {
  static const auto fields = [] {
    using S = supervision_config;
    const S d;
    return std::vector<field<S>>{
        bind(uint_key("restarts_max", d.restarts_max, 0, 1000,
                      "Restarts of one child allowed within restart_window; one more crash "
                      "and the supervisor gives up and stops itself (escalates)."),
             &S::restarts_max),
        bind(duration_key("restart_window", d.restart_window, 1s, 24h,
                          "Sliding window over which restarts_max is counted."),
             &S::restart_window),
        bind(duration_key("heartbeat_interval", d.heartbeat_interval, 0ms, 10min,
                          "How often the supervisor pings each child; 0s disables heartbeats."),
             &S::heartbeat_interval),
        bind(uint_key("heartbeat_misses_max", d.heartbeat_misses_max, 1, 100,
                      "Missed pings in a row after which a child is killed and restarted."),
             &S::heartbeat_misses_max),
        bind(duration_key("request_timeout", d.request_timeout, 1ms, 24h,
                          "Deadline of every request forwarded to a child; callers get a "
                          "timeout error when it passes, never a hang."),
             &S::request_timeout),
    };
  }();
  return fields;
}

const std::vector<field<cache_settings>>& cache_fields() {
  static const auto fields = [] {
    using S = cache_settings;
    const S d;
    return std::vector<field<S>>{
        bind(uint_key("l2_entries_max", d.l2_entries_max, 0, 10'000'000,
                      "Entries of the L2 cache shared by every actor of this process (tool "
                      "results today); beyond it the least recently used go. 0: no L2."),
             &S::l2_entries_max),
        bind(uint_key("l2_bytes_max", d.l2_bytes_max, 1024, 64ull * 1024 * mib,
                      "Bytes (keys + values) the L2 cache holds at most; beyond it the least "
                      "recently used entries go."),
             &S::l2_bytes_max),
        bind(string_key("redis_url", d.redis_url,
                        "L3 cache shared by the cluster: redis://HOST:PORT[/DB]. Empty: no L3. "
                        "Redis down only makes lookups miss."),
             &S::redis_url),
        bind(duration_key("redis_timeout", d.redis_timeout, 1ms, 1min,
                          "Connect and command timeout of each Redis call (made on the cache's "
                          "own I/O thread); an L3 lookup waits about this long at most."),
             &S::redis_timeout),
        bind(string_key("redis_key_prefix", d.redis_key_prefix,
                        "Prepended to every Redis key, so deployments can share a server."),
             &S::redis_key_prefix),
        bind(duration_key("redis_ttl_max", d.redis_ttl_max, 1s, 30 * 24h,
                          "Longest lifetime of a Redis entry, whatever TTL its user asks for."),
             &S::redis_ttl_max),
        bind(uint_key("redis_value_bytes_max", d.redis_value_bytes_max, 1, 512 * mib,
                      "Larger values are not written to (nor read from) Redis."),
             &S::redis_value_bytes_max),
        bind(uint_key("redis_queue_max", d.redis_queue_max, 1, 1'000'000,
                      "Redis requests waiting for the cache's I/O thread; beyond it a lookup "
                      "is a miss and a write is dropped, at once."),
             &S::redis_queue_max),
        bind(uint_key("redis_breaker_failures", d.redis_breaker_failures, 1, 1000,
                      "Failed Redis calls in a row after which Redis is left alone for "
                      "redis_breaker_cooldown (every lookup a fast miss)."),
             &S::redis_breaker_failures),
        bind(duration_key("redis_breaker_cooldown", d.redis_breaker_cooldown, 1ms, 1h,
                          "How long Redis is left alone before one probe reconnects; doubles "
                          "per failed probe, up to 32 times this."),
             &S::redis_breaker_cooldown),
    };
  }();
  return fields;
}

const std::vector<field<provider_config>>& provider_fields() {
  static const auto fields = [] {
    using S = provider_config;
    const S d;
    const std::vector<std::string> http_kinds = {"openai", "anthropic", "gemini", "openrouter",
                                                 "openai_compatible"};
    auto http = [&](key_spec k) { return applies_if(std::move(k), "kind", http_kinds); };
    auto only = [](key_spec k, std::vector<std::string> kinds) {
      return applies_if(std::move(k), "kind", std::move(kinds));
    };
    return std::vector<field<S>>{
        bind(enum_key(
                 "kind", d.kind,
                 {"scripted", "openai", "anthropic", "gemini", "openrouter", "openai_compatible"},
                 "Provider implementation. scripted is embedded, offline and "
                 "deterministic; the others speak their vendor's HTTP API."),
             &S::kind),
        bind(only(path_key("rules", d.rules,
                           "Rules file of the scripted provider; relative: against the "
                           "config file's directory."),
                  {"scripted"}),
             &S::rules),
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
                  {"anthropic"}),
             &S::anthropic_version),
        bind(only(string_key("openrouter_referer", d.openrouter_referer,
                             "HTTP-Referer attribution header sent to OpenRouter."),
                  {"openrouter"}),
             &S::openrouter_referer),
        bind(only(string_key("openrouter_title", d.openrouter_title,
                             "X-Title attribution header sent to OpenRouter."),
                  {"openrouter"}),
             &S::openrouter_title),
        bind(only(string_key("max_tokens_field", d.max_tokens_field,
                             "Body field carrying max_tokens; empty: max_completion_tokens for "
                             "openai, max_tokens otherwise."),
                  {"openai", "openrouter", "openai_compatible"}),
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
        bind(http(enum_key("retry_jitter", d.retry_jitter, {"equal", "full"},
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
                           "Inputs per batched embedding request.")),
             &S::embed_batch_inputs_max),
    };
  }();
  return fields;
}

const std::vector<field<tool_config>>& tool_fields() {
  static const auto fields = [] {
    using S = tool_config;
    const S d;
    auto only = [](key_spec k, std::string kind) {
      return applies_if(std::move(k), "kind", {std::move(kind)});
    };
    return std::vector<field<S>>{
        bind(required_key(enum_key("kind", "calculator",
                                   {"file_read", "http_get", "calculator", "agent"},
                                   "Built-in tool this section configures; only the keys of "
                                   "that kind apply.")),
             &S::kind),
        bind(bool_key("cache", d.cache,
                      "Wrap the tool in a result cache (for tools whose spec says "
                      "deterministic)."),
             &S::cache),
        bind(duration_key("cache_ttl", d.cache_ttl, 1s, 24h, "Lifetime of a cached result."),
             &S::cache_ttl),
        bind(uint_key("cache_entries_max", d.cache_entries_max, 1, 1'000'000,
                      "Cached results kept; the least recently used is evicted beyond this."),
             &S::cache_entries_max),
        bind(only(path_key("root", d.root,
                           "Directory reads are confined below (required for file_read); "
                           "relative: against the config file's directory."),
                  "file_read"),
             &S::root),
        bind(only(uint_key("file_bytes_max", d.file_bytes_max, 1, 1024 * mib,
                           "Files larger than this are refused."),
                  "file_read"),
             &S::file_bytes_max),
        bind(only(list_key("allowed_hosts",
                           "Exact host names the tool may fetch from; empty: none."),
                  "http_get"),
             &S::allowed_hosts),
        bind(only(duration_key("connect_timeout", d.connect_timeout, 1ms, 1min,
                               "Deadline for establishing the connection."),
                  "http_get"),
             &S::connect_timeout),
        bind(applies_if(duration_key("timeout", d.timeout, 1ms, 10min,
                                     "http_get: deadline for the whole request, body included. "
                                     "agent: deadline for the agent's whole task."),
                        "kind", {"http_get", "agent"}),
             &S::timeout),
        bind(only(uint_key("body_bytes_max", d.body_bytes_max, 1, 1024 * mib,
                           "Responses with a larger body are refused."),
                  "http_get"),
             &S::body_bytes_max),
        bind(only(string_key("agent", d.agent,
                             "Agent that receives the tool's task argument (required for "
                             "kind agent)."),
                  "agent"),
             &S::agent),
    };
  }();
  return fields;
}

const std::vector<field<memory_config>>& memory_fields() {
  static const auto fields = [] {
    using S = memory_config;
    const S d;
    return std::vector<field<S>>{
        bind(uint_key("max_entries", d.max_entries, 1, 10'000'000,
                      "Entries kept; the retention policy decides which go beyond this."),
             &S::max_entries),
        bind(string_key("embedding_model", d.embedding_model,
                        "Embedder; hash-<dim> is the built-in offline feature-hashing "
                        "embedder."),
             &S::embedding_model),
        bind(double_key("similarity_threshold", d.similarity_threshold, -1.0, 1.0,
                        "Recall drops entries whose cosine similarity is below this."),
             &S::similarity_threshold),
        bind(duration_key("cleanup_interval", d.cleanup_interval, 1s, 24h,
                          "How often the retention policy runs."),
             &S::cleanup_interval),
        bind(enum_key("retention", to_string(d.retention), words(all_retentions),
                      "Which entries are dropped when the shard is full."),
             &S::retention),
        bind(applies_if(duration_key("importance_half_life", d.importance_half_life, 1s, 8760h,
                                     "Age (since last access) that halves an entry's "
                                     "importance."),
                        "retention", {"importance"}),
             &S::importance_half_life),
        bind(applies_if(uint_map_key("kind_limits", 1, 10'000'000,
                                     "Per-kind entry limits, e.g. 'fact:500, episode:200'; "
                                     "unlisted kinds share max_entries."),
                        "retention", {"hierarchical"}),
             &S::kind_limits),
        bind(uint_key("exact_search_max", d.exact_search_max, 0, 10'000'000,
                      "Up to this many entries recall scans exactly; above, it uses the "
                      "HNSW index."),
             &S::exact_search_max),
        bind(path_key("snapshot_path", d.snapshot_path,
                      "SQLite snapshot file; empty: not persisted; relative: against the "
                      "config file's directory."),
             &S::snapshot_path),
        bind(duration_key("snapshot_interval", d.snapshot_interval, 1s, 24h,
                          "durability snapshot: how often the whole shard is written to "
                          "snapshot_path. durability commit: how often that file is compacted "
                          "(WAL checkpointed and truncated)."),
             &S::snapshot_interval),
        bind(enum_key("durability", to_string(d.durability), words(all_durabilities),
                      "With a snapshot file: commit = a store is answered after its row is "
                      "committed (fsync'd; stores of one commit_window share a commit); "
                      "snapshot = answered at once, the shard is written every "
                      "snapshot_interval and at shutdown: faster, but a crash loses what was "
                      "stored since the last snapshot."),
             &S::durability),
        bind(applies_if(duration_key("commit_window", d.commit_window, 0ms, 1s,
                                     "How long changes gather after the first one before "
                                     "they are committed in one transaction. 0ms: at once "
                                     "when the writer is idle; what arrives during a commit "
                                     "forms the next batch."),
                        "durability", {"commit"}),
             &S::commit_window),
        bind(applies_if(uint_key("commit_batch_max", d.commit_batch_max, 1, 100'000,
                                 "Changed entries per commit at most; a full batch is "
                                 "committed without waiting for commit_window."),
                        "durability", {"commit"}),
             &S::commit_batch_max),
        bind(applies_if(uint_key("commit_waiting_max", d.commit_waiting_max, 1, 1'000'000,
                                 "Stores waiting for their commit at most; beyond, a store is "
                                 "refused with overloaded (not stored)."),
                        "durability", {"commit"}),
             &S::commit_waiting_max),
    };
  }();
  return fields;
}

const std::vector<field<agent_config>>& agent_fields() {
  static const auto fields = [] {
    using S = agent_config;
    const S d;
    return std::vector<field<S>>{
        bind(enum_key("role", to_string(d.role), words(all_roles),
                      "Role preset; sets the temperature unless temperature is given."),
             &S::role),
        bind(string_key("system_prompt", d.system_prompt,
                        "System prompt (one line; the file format has no line continuation)."),
             &S::system_prompt),
        bind(string_key("provider", d.provider, "Name of the [provider.<name>] section to use."),
             &S::provider),
        bind(string_key("model", d.model, "Model name passed to the provider."), &S::model),
        bind(list_key("fallback",
                      "Providers tried in order when `provider` fails after its retries, has "
                      "its circuit open or is overloaded, e.g. openrouter, local. Each uses its "
                      "own `model` key when set."),
             &S::fallback),
        bind(bool_key("llm_cache", d.llm_cache,
                      "Answer exactly repeated model requests (same model, messages, tools, "
                      "temperature, max_tokens) from the multi-level cache ([cache]); a hit "
                      "costs no tokens. Off by default: a cached answer freezes one sample."),
             &S::llm_cache),
        bind(duration_key("llm_cache_ttl", d.llm_cache_ttl, 1s, 24h * 30,
                          "Lifetime of a cached model answer (Redis caps it at "
                          "cache.redis_ttl_max)."),
             &S::llm_cache_ttl),
        bind(uint_key("llm_cache_entries_max", d.llm_cache_entries_max, 1, 1'000'000,
                      "Model answers the agent's own cache level (L1) keeps."),
             &S::llm_cache_entries_max),
        bind(unset_by_default(double_key("temperature", 0.5, 0.0, 2.0,
                                         "Sampling temperature; unset: the role's preset.")),
             &S::temperature),
        bind(int_key("max_tokens", d.max_tokens, 1, 1'000'000,
                     "Most tokens the model may generate per call."),
             &S::max_tokens),
        bind(list_key("tools", "Names of [tool.<name>] sections the agent may call."), &S::tools),
        bind(string_key("memory", d.memory,
                        "Name of the [memory.<name>] section to recall from and store to; "
                        "empty: none."),
             &S::memory),
        bind(uint_key("memory_recall_k", d.memory_recall_k, 0, 100,
                      "Memory entries recalled into the prompt per task."),
             &S::memory_recall_k),
        bind(uint_key("history_window", d.history_window, 0, 1000,
                      "Conversation turns (user + assistant) kept between tasks."),
             &S::history_window),
        bind(duration_key("request_timeout", d.request_timeout, 1ms, 1h,
                          "Deadline of each model call and each tool call."),
             &S::request_timeout),
        bind(uint_key("max_tool_iterations", d.max_tool_iterations, 0, 100,
                      "Tool rounds per task; one more fails the task with limit_exceeded."),
             &S::max_tool_iterations),
        bind(uint_key("tasks_in_flight_max", d.tasks_in_flight_max, 1, 1024,
                      "Tasks accepted at once; more are rejected with overloaded."),
             &S::tasks_in_flight_max),
    };
  }();
  return fields;
}

template <class S>
std::vector<key_spec> keys_of(const std::vector<field<S>>& fields) {
  std::vector<key_spec> out;
  for (const auto& f : fields)
    out.push_back(f.spec);
  return out;
}

template <class S>
void bind_section(const config_section& sec, const std::vector<field<S>>& fields, S& out) {
  for (const auto& f : fields)
    if (auto e = sec.find(f.spec.name))
      f.assign(out, e->value);
}

// Named sections become list entries named after the section.
template <class S>
std::vector<S> bind_family(const config_tree& tree, std::string_view family,
                           const std::vector<field<S>>& fields) {
  std::vector<S> out;
  for (const auto* sec : tree.family(family)) {
    S s;
    bind_section(*sec, fields, s);
    s.name = sec->instance;
    out.push_back(std::move(s));
  }
  return out;
}

const std::vector<field<group_config>>& group_fields() {
  static const auto fields = [] {
    using S = group_config;
    const S d;
    return std::vector<field<S>>{
        bind(required_key(list_key("agents",
                                   "Member agents; the group's name is addressed like an "
                                   "agent's (run --agent, the gateway, workflows).")),
             &S::agents),
        bind(enum_key("strategy", to_string(d.strategy), words(all_strategies),
                      "least_loaded: the member with the fewest of the group's tasks in "
                      "flight; round_robin: members in turn. An overloaded member passes the "
                      "task to the next."),
             &S::strategy),
    };
  }();
  return fields;
}

const std::vector<field<workflow_config>>& workflow_fields() {
  static const auto fields = [] {
    using S = workflow_config;
    return std::vector<field<S>>{
        bind(required_key(path_key("file", "",
                                   "The workflow file (JSON, actors/workflow/workflow_file.hpp); "
                                   "relative: against the config file's directory. Loaded and "
                                   "checked against the node's agents and tools at start.")),
             &S::file),
    };
  }();
  return fields;
}

node_config bind_tree(const config_tree& tree) {
  node_config cfg;
  bind_section(*tree.find("runtime"), runtime_fields(), cfg.runtime);
  bind_section(*tree.find("supervisor"), supervisor_fields(), cfg.supervisor);
  bind_section(*tree.find("node"), node_fields(), cfg.node);
  bind_section(*tree.find("cache"), cache_fields(), cfg.cache);
  cfg.providers = bind_family(tree, "provider", provider_fields());
  cfg.tools = bind_family(tree, "tool", tool_fields());
  cfg.memories = bind_family(tree, "memory", memory_fields());
  cfg.agents = bind_family(tree, "agent", agent_fields());
  cfg.groups = bind_family(tree, "group", group_fields());
  cfg.workflows = bind_family(tree, "workflow", workflow_fields());
  if (!cfg.runtime.data_dir.empty())
    for (auto& m : cfg.memories)
      if (m.snapshot_path.empty())
        m.snapshot_path = cfg.runtime.data_dir + "/" + m.name + ".sqlite";
  return cfg;
}

// Cross-references between sections. Each error blames the key that holds
// the reference (file:line, or the section header when it is a default).
class cross_checker {
 public:
  cross_checker(const config_tree& tree, const node_config& cfg, std::string origin)
    : tree_(tree), cfg_(cfg), origin_(std::move(origin)) {}

  caf::error run() {
    if (cfg_.agents.empty())
      return make_error(errc::invalid_argument,
                        origin_ + ": no [agent.<name>] section; a node needs at least one agent");
    for (const auto& a : cfg_.agents)
      if (auto err = check_agent(a))
        return err;
    for (const auto& g : cfg_.groups)
      if (auto err = check_group(g))
        return err;
    for (const auto& t : cfg_.tools)
      if (auto err = check_tool(t))
        return err;
    for (const auto& p : cfg_.providers)
      if (auto err = check_provider(p))
        return err;
    if (!cfg_.runtime.checkpoint_path.empty() && !cfg_.runtime.checkpoint_url.empty()) {
      const auto& sec = *tree_.find("runtime");
      return config_error(errc::invalid_argument, sec.origin_of("checkpoint_url"), sec.name,
                          "checkpoint_url", "set checkpoint_path or checkpoint_url, not both");
    }
    return check_cycles();
  }

 private:
  const config_section& section(std::string_view family, const std::string& name) const {
    return *tree_.find(std::string{family} + "." + name);
  }

  // `target` must name an existing [family.target] section.
  caf::error reference(const config_section& sec, std::string_view key, std::string_view family,
                       const std::string& target) const {
    if (tree_.find(std::string{family} + "." + target) != nullptr)
      return {};
    std::vector<std::string> names;
    for (const auto* s : tree_.family(family))
      names.push_back(s->instance);
    std::string msg = "no section [" + std::string{family} + "." + target + "]";
    if (auto hint = closest_name(target, names))
      msg += " (did you mean '" + *hint + "'?)";
    return config_error(errc::invalid_argument, sec.origin_of(key), sec.name, key, msg);
  }

  caf::error check_agent(const agent_config& a) const {
    const auto& sec = section("agent", a.name);
    if (auto err = reference(sec, "provider", "provider", a.provider))
      return err;
    if (a.fallback.size() + 1 > fallback_providers_max)
      return config_error(errc::invalid_argument, sec.origin_of("fallback"), sec.name, "fallback",
                          "at most " + std::to_string(fallback_providers_max - 1)
                            + " fallback providers");
    for (size_t i = 0; i < a.fallback.size(); ++i) {
      if (auto err = reference(sec, "fallback", "provider", a.fallback[i]))
        return err;
      bool twice = a.fallback[i] == a.provider;
      for (size_t j = 0; j < i; ++j)
        twice = twice || a.fallback[j] == a.fallback[i];
      if (twice)
        return config_error(errc::invalid_argument, sec.origin_of("fallback"), sec.name,
                            "fallback",
                            "provider '" + a.fallback[i] + "' appears twice in the chain");
    }
    for (size_t i = 0; i < a.tools.size(); ++i) {
      if (auto err = reference(sec, "tools", "tool", a.tools[i]))
        return err;
      for (size_t j = 0; j < i; ++j)
        if (a.tools[j] == a.tools[i])
          return config_error(errc::invalid_argument, sec.origin_of("tools"), sec.name, "tools",
                              "tool '" + a.tools[i] + "' is listed twice");
    }
    if (!a.memory.empty())
      return reference(sec, "memory", "memory", a.memory);
    return {};
  }

  caf::error check_group(const group_config& g) const {
    const auto& sec = section("group", g.name);
    if (tree_.find("agent." + g.name) != nullptr)
      return config_error(errc::invalid_argument, sec.origin_of("agents"), sec.name, "agents",
                          "an agent is already named '" + g.name + "'");
    if (g.agents.size() > agent_group_members_max)
      return config_error(errc::invalid_argument, sec.origin_of("agents"), sec.name, "agents",
                          "more than " + std::to_string(agent_group_members_max) + " members");
    for (size_t i = 0; i < g.agents.size(); ++i) {
      if (auto err = reference(sec, "agents", "agent", g.agents[i]))
        return err;
      for (size_t j = 0; j < i; ++j)
        if (g.agents[j] == g.agents[i])
          return config_error(errc::invalid_argument, sec.origin_of("agents"), sec.name,
                              "agents", "agent '" + g.agents[i] + "' is listed twice");
    }
    return {};
  }

  // Pairs of keys whose order matters; each error blames the first key.
  caf::error check_provider(const provider_config& p) const {
    const auto& sec = section("provider", p.name);
    // Either key of the pair may be the one somebody set (the other keeping
    // its default), so the error blames the one that was set and names
    // where the other came from.
    auto above = [&](std::string_view key, std::string_view limit_key) {
      auto e = sec.find(key);
      bool key_set = e != nullptr && !e->is_default();
      return config_error(errc::invalid_argument, sec.origin_of(key_set ? key : limit_key),
                          sec.name, key,
                          "must not be above " + std::string{limit_key} + " ("
                            + sec.origin_of(limit_key) + ")");
    };
    if (p.kind == "scripted")
      return {};
    if (p.kind == "openai_compatible" && p.base_url.empty())
      return config_error(errc::invalid_argument, sec.origin_of("kind"), sec.name, "base_url",
                          "required for kind openai_compatible");
    if (p.breaker_window_min > p.breaker_window)
      return above("breaker_window_min", "breaker_window");
    if (p.breaker_cooldown > p.breaker_cooldown_max)
      return above("breaker_cooldown", "breaker_cooldown_max");
    if (p.retry_delay > p.retry_delay_max)
      return above("retry_delay", "retry_delay_max");
    return {};
  }

  caf::error check_tool(const tool_config& t) const {
    const auto& sec = section("tool", t.name);
    auto required_for_kind = [&](std::string_view key, const std::string& value) -> caf::error {
      if (!value.empty())
        return {};
      return config_error(errc::invalid_argument, sec.origin_of("kind"), sec.name, key,
                          "required for kind " + t.kind);
    };
    if (t.kind == "file_read")
      return required_for_kind("root", t.root);
    if (t.kind != "agent")
      return {};
    if (auto err = required_for_kind("agent", t.agent))
      return err;
    return reference(sec, "agent", "agent", t.agent);
  }

  // Agents reach other agents through tools of kind agent. A cycle would
  // let one task recurse until every agent's in-flight limit is exhausted.
  // Depth-first search; the depth is bounded by the number of agents.
  caf::error check_cycles() const {
    std::map<std::string, int> state;  // 0 unvisited, 1 on the path, 2 done
    std::vector<std::string> path;     // agent, tool, agent, tool, ...
    for (const auto& a : cfg_.agents)
      if (auto err = visit(a, state, path))
        return err;
    return {};
  }

  caf::error visit(const agent_config& a, std::map<std::string, int>& state,
                   std::vector<std::string>& path) const {
    if (state[a.name] == 2)
      return {};
    state[a.name] = 1;
    path.push_back(a.name);
    for (const auto& tool_name : a.tools) {
      const auto* t = find_tool(tool_name);
      if (t == nullptr || t->kind != "agent")
        continue;
      path.push_back(tool_name);
      if (state[t->agent] == 1)
        return cycle_error(*t, path);
      if (auto err = visit(*find_agent(t->agent), state, path))
        return err;
      path.pop_back();
    }
    path.pop_back();
    state[a.name] = 2;
    return {};
  }

  caf::error cycle_error(const tool_config& closing, const std::vector<std::string>& path) const {
    auto start = std::find(path.begin(), path.end(), closing.agent);
    std::string chain;
    for (auto i = start; i != path.end(); ++i)
      chain += *i + " -> ";
    chain += closing.agent;
    const auto& sec = section("tool", closing.name);
    return config_error(errc::invalid_argument, sec.origin_of("agent"), sec.name, "agent",
                        "agent tools form a cycle: " + chain);
  }

  const tool_config* find_tool(const std::string& name) const {
    for (const auto& t : cfg_.tools)
      if (t.name == name)
        return &t;
    return nullptr;
  }

  const agent_config* find_agent(const std::string& name) const {
    for (const auto& a : cfg_.agents)
      if (a.name == name)
        return &a;
    return nullptr;
  }

  const config_tree& tree_;
  const node_config& cfg_;
  const std::string origin_;
};

caf::expected<node_config> parse_with_base(std::string_view text, std::string origin,
                                           const std::string& base_dir,
                                           const std::map<std::string, std::string>& env,
                                           const std::vector<std::string>& overrides) {
  auto doc = parse_ini(text, origin);
  if (!doc)
    return std::move(doc.error());
  auto tree = resolve_config(node_schema(), *doc, env, overrides, base_dir);
  if (!tree)
    return std::move(tree.error());
  auto cfg = bind_tree(*tree);
  if (auto err = cross_checker{*tree, cfg, origin}.run())
    return err;
  if (auto err = check_component_configs(*tree, cfg))
    return err;
  return cfg;
}

}  // namespace node_config_detail

const config_schema& node_schema() {
  static const config_schema schema = [] {
    using namespace node_config_detail;
    config_schema s;
    s.add_section(
        {"runtime", false, "Process-wide settings of the node.", keys_of(runtime_fields())});
    s.add_section({"supervisor", false, "Restart, heartbeat and timeout policy of the supervisors.",
                   keys_of(supervisor_fields())});
    s.add_section({"node", false, "The HTTP gateway of `agentgraph node` and its shutdown.",
                   keys_of(node_fields())});
    s.add_section({"cache", false,
                   "Shared levels of the multi-level cache: L2 per process, L3 Redis per "
                   "cluster.",
                   keys_of(cache_fields())});
    s.add_section({"provider", true, "An LLM provider that agents name in their provider key.",
                   keys_of(provider_fields())});
    s.add_section(
        {"tool", true, "A tool that agents name in their tools list.", keys_of(tool_fields())});
    s.add_section({"memory", true, "A memory shard that agents name in their memory key.",
                   keys_of(memory_fields())});
    s.add_section({"agent", true, "An agent; a node needs at least one.", keys_of(agent_fields())});
    s.add_section({"group", true, "An agent group: one name in front of several agents.",
                   keys_of(group_fields())});
    s.add_section({"workflow", true, "A workflow the node serves by name (gateway /v1/workflows).",
                   keys_of(workflow_fields())});
    return s;
  }();
  return schema;
}

caf::expected<node_config> load_node_config(const std::string& path,
                                            const std::map<std::string, std::string>& env,
                                            const std::vector<std::string>& overrides) {
  // A FIFO or a device (/dev/zero) is refused at once, not read forever.
  auto text = read_regular_file(path, ini_bytes_max);
  if (!text)
    return std::move(text.error());
  std::error_code ec;
  auto dir = std::filesystem::absolute(path, ec).parent_path();
  if (ec)
    return make_error(errc::io_error, path + ": cannot resolve its directory: " + ec.message());
  return node_config_detail::parse_with_base(*text, path, dir.string(), env, overrides);
}

caf::expected<node_config> parse_node_config(std::string_view text, std::string origin,
                                             const std::map<std::string, std::string>& env,
                                             const std::vector<std::string>& overrides) {
  auto dir = std::filesystem::path{origin}.parent_path().string();
  return node_config_detail::parse_with_base(text, std::move(origin), dir, env, overrides);
}

}  // namespace agentgraph

#include "actors/host/node/node_config_keys.hpp"

namespace agentgraph {

using namespace std::chrono_literals;

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

}  // namespace agentgraph

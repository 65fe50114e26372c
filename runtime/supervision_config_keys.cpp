#include "runtime/supervision_config_keys.hpp"

namespace agentgraph {

using namespace std::chrono_literals;

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
                          "How often a supervisor pings each child; 0s (the default) disables "
                          "heartbeats, so idle components cost no CPU."),
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

}  // namespace agentgraph

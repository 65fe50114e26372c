// Structured log lines, one logfmt record per line on stderr:
//   time=2026-11-24T08:00:00.123Z level=warn component=supervisor name=agent.planner msg="restarting child" reason=...
// The level comes from [runtime] log_level. Thread-safe: a line is written
// with one fwrite under a mutex, so lines from actors never interleave.
// Never log secrets (keys, tokens); log names and ids instead.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace agentgraph {

enum class log_severity : uint8_t { error, warn, info, debug };
[[nodiscard]] const char* to_string(log_severity s);

// Process-wide threshold: records less severe than this are dropped.
void set_log_level(log_severity level);
[[nodiscard]] log_severity log_level();
[[nodiscard]] bool log_enabled(log_severity level);

using log_field = std::pair<std::string_view, std::string_view>;

// Formats one record (without the time, for tests) and writes it if enabled.
[[nodiscard]] std::string format_log_fields(log_severity level, std::string_view component,
                                            std::string_view message,
                                            std::initializer_list<log_field> fields);
void log(log_severity level, std::string_view component, std::string_view message,
         std::initializer_list<log_field> fields = {});

// What a record's time= field shows, when not the wall clock: the
// simulator stamps records with virtual time and the node that wrote them
// (actors/sim). Set it while no actor logs; nullptr restores the wall clock.
using log_time_source = std::string (*)(void* context);
void set_log_time_source(log_time_source source, void* context);

}  // namespace agentgraph

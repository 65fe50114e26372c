#include "runtime/log.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace agentgraph {

namespace log_detail {

std::atomic<uint8_t> threshold{static_cast<uint8_t>(log_severity::info)};
std::mutex write_mutex;
std::atomic<log_time_source> time_source{nullptr};
std::atomic<void*> time_context{nullptr};

// logfmt: bare when the value has no space, quote or '=', quoted otherwise.
void append_value(std::string& out, std::string_view v) {
  bool bare = !v.empty();
  for (char c : v)
    if (c == ' ' || c == '"' || c == '=' || c == '\n' || c == '\\' || static_cast<unsigned char>(c) < 0x20)
      bare = false;
  if (bare) {
    out += v;
    return;
  }
  out += '"';
  for (char c : v) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += ' ';
    } else {
      out += c;
    }
  }
  out += '"';
}

std::string utc_now() {
  auto now = std::chrono::system_clock::now();
  auto secs = std::chrono::system_clock::to_time_t(now);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count()
            % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return buf;
}

}  // namespace log_detail

const char* to_string(log_severity s) {
  switch (s) {
    case log_severity::error: return "error";
    case log_severity::warn: return "warn";
    case log_severity::info: return "info";
    case log_severity::debug: return "debug";
  }
  return "unknown";
}

void set_log_level(log_severity level) {
  log_detail::threshold.store(static_cast<uint8_t>(level));
}

log_severity log_level() {
  return static_cast<log_severity>(log_detail::threshold.load());
}

bool log_enabled(log_severity level) {
  return static_cast<uint8_t>(level) <= log_detail::threshold.load();
}

std::string format_log_fields(log_severity level, std::string_view component,
                              std::string_view message, std::initializer_list<log_field> fields) {
  std::string out = "level=";
  out += to_string(level);
  out += " component=";
  log_detail::append_value(out, component);
  out += " msg=";
  log_detail::append_value(out, message);
  for (const auto& [k, v] : fields) {
    out += ' ';
    out += k;
    out += '=';
    log_detail::append_value(out, v);
  }
  return out;
}

void log(log_severity level, std::string_view component, std::string_view message,
         std::initializer_list<log_field> fields) {
  if (!log_enabled(level))
    return;
  const auto source = log_detail::time_source.load();
  std::string line = "time="
                     + (source != nullptr ? source(log_detail::time_context.load())
                                          : log_detail::utc_now())
                     + " "
                     + format_log_fields(level, component, message, fields) + "\n";
  std::lock_guard<std::mutex> guard{log_detail::write_mutex};
  std::fwrite(line.data(), 1, line.size(), stderr);
}

void set_log_time_source(log_time_source source, void* context) {
  log_detail::time_context.store(context);
  log_detail::time_source.store(source);
}

}  // namespace agentgraph

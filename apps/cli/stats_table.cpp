#include "apps/cli/stats_table.hpp"

#include <algorithm>
#include <cstdio>

namespace agentgraph::cli {

namespace stats_table_detail {

using row = std::vector<std::string>;

std::string render(const row& header, const std::vector<row>& rows) {
  std::vector<size_t> width(header.size());
  for (size_t c = 0; c < header.size(); ++c) {
    width[c] = header[c].size();
    for (const auto& r : rows)
      width[c] = std::max(width[c], r[c].size());
  }
  auto line = [&](const row& r) {
    std::string out;
    for (size_t c = 0; c < r.size(); ++c) {
      // First column left-aligned (names), the figures right-aligned.
      std::string pad(width[c] - r[c].size(), ' ');
      out += c == 0 ? r[c] + pad : pad + r[c];
      out += c + 1 < r.size() ? "  " : "\n";
    }
    return out;
  };
  std::string out = line(header);
  for (const auto& r : rows)
    out += line(r);
  return out;
}

std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

}  // namespace stats_table_detail

std::string format_agent_table(const std::vector<agent_stats>& rows) {
  using namespace stats_table_detail;
  std::vector<row> body;
  for (const auto& s : rows)
    body.push_back({s.name, s.role, to_string(s.status), std::to_string(s.tasks_completed),
                    std::to_string(s.errors), std::to_string(s.prompt_tokens),
                    std::to_string(s.completion_tokens), std::to_string(s.total_tokens),
                    fixed(static_cast<double>(s.response_time_avg_us) / 1000.0, 2),
                    std::to_string(s.uptime_ms), std::to_string(s.memory_bytes)});
  return render({"agent", "role", "status", "tasks", "errors", "prompt_tok", "completion_tok",
                 "total_tok", "avg_ms", "uptime_ms", "mem_bytes"},
                body);
}

std::string format_memory_table(const std::vector<memory_stats>& rows) {
  using namespace stats_table_detail;
  std::vector<row> body;
  for (const auto& s : rows)
    body.push_back({s.name, std::to_string(s.entries), std::to_string(s.bytes),
                    fixed(s.bytes_per_entry, 1), std::to_string(s.evictions),
                    std::to_string(s.snapshots_written)});
  return render({"memory", "entries", "bytes", "bytes_per_entry", "evictions", "snapshots"},
                body);
}

std::string format_embedding_table(const std::vector<memory_stats>& rows) {
  using namespace stats_table_detail;
  std::vector<row> body;
  for (const auto& s : rows)
    body.push_back({s.name, s.embedding_model, std::to_string(s.dimension),
                    std::to_string(s.vectors_pending), std::to_string(s.vectors_cached),
                    std::to_string(s.cache_hits), std::to_string(s.embed_calls),
                    std::to_string(s.embed_failures), fixed(s.embed_latency_p50_ms, 2),
                    fixed(s.embed_latency_p99_ms, 2), std::to_string(s.recalls_degraded)});
  return render({"memory", "model", "dim", "pending", "cached", "cache_hits", "calls", "failures",
                 "p50_ms", "p99_ms", "degraded"},
                body);
}

std::string format_provider_table(const std::vector<provider_stats>& rows) {
  using namespace stats_table_detail;
  std::vector<row> body;
  for (const auto& s : rows)
    body.push_back({s.name, s.kind, std::to_string(s.calls), std::to_string(s.succeeded),
                    std::to_string(s.failed), std::to_string(s.retries),
                    std::to_string(s.rate_waits), s.breaker_state,
                    std::to_string(s.prompt_tokens), std::to_string(s.completion_tokens),
                    fixed(s.cost_usd, 6)});
  return render({"provider", "kind", "calls", "ok", "failed", "retries", "rate_waits", "breaker",
                 "prompt_tok", "completion_tok", "cost_usd"},
                body);
}

std::string format_memory_profile_table(const std::vector<memory_profile_row>& rows) {
  using namespace stats_table_detail;
  std::vector<row> body;
  uint64_t total = 0;
  for (const auto& r : rows) {
    total += r.bytes;
    body.push_back({r.name, r.kind, std::to_string(r.entries), std::to_string(r.bytes),
                    r.entries == 0 ? "-"
                                   : fixed(static_cast<double>(r.bytes)
                                             / static_cast<double>(r.entries),
                                           1)});
  }
  body.push_back({"total", "", "", std::to_string(total), ""});
  return render({"component", "kind", "entries", "bytes", "bytes_per_entry"}, body);
}

std::string format_agent_figures_table(const std::vector<agent_figures_row>& rows) {
  using namespace stats_table_detail;
  std::vector<row> body;
  for (const auto& r : rows)
    body.push_back({r.name, r.status, r.healthy ? "yes" : "NO", std::to_string(r.tasks_completed),
                    std::to_string(r.errors), std::to_string(r.tasks_in_flight),
                    fixed(r.requests_per_second, 3), fixed(r.avg_response_ms, 2),
                    fixed(r.tokens_per_second, 1), fixed(r.error_rate, 3),
                    std::to_string(r.memory_bytes)});
  return render({"agent", "status", "healthy", "tasks", "errors", "in_flight", "req_per_s",
                 "avg_ms", "tok_per_s", "error_rate", "mem_bytes"},
                body);
}

std::string format_population_table(const std::vector<population_figures_row>& rows) {
  using namespace stats_table_detail;
  std::vector<row> body;
  for (const auto& r : rows) {
    const auto& s = r.stats;
    body.push_back({s.name, r.healthy ? "yes" : "NO", std::to_string(s.active),
                    std::to_string(s.activating), std::to_string(s.passivating),
                    std::to_string(s.saved_keys), std::to_string(s.waiting),
                    std::to_string(s.tasks_in_flight), std::to_string(s.activations),
                    std::to_string(s.passivations), std::to_string(s.evictions),
                    std::to_string(s.store_errors), std::to_string(s.active_max),
                    std::to_string(s.passivated),
                    // Encoded state per key held here: what an active key's
                    // history, stats and variables weigh (not its RSS).
                    std::to_string(s.active > 0 ? s.state_bytes / s.active : 0)});
  }
  return render({"population", "healthy", "active", "activating", "passivating", "saved_keys",
                 "waiting", "in_flight", "activations", "passivations", "evictions",
                 "store_errors", "active_max", "passivated", "state_bytes_per_active"},
                body);
}

}  // namespace agentgraph::cli

// `agentgraph bench llm`: the pieces the command joins. Each client under
// test is driven by one closed loop: `concurrency` requests are kept in
// flight; when one completes the next starts, until `count` have completed.
// Every loop posts the same OpenAI chat body (encoded once by our wire codec)
// to the same in-process mock server and times each request with
// steady_clock, from the moment it is handed to the client to the moment
// the client hands back its answer.
//
// A loop never hides a failure: every non-2xx answer or transport error
// counts in loop_result::errors and the command exits 1 if any occurred.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>

#include "actors/provider/provider_interface.hpp"
#include "net/llm/wire_codec.hpp"

namespace agentgraph::cli {

// Bounds of the command's options (TigerBeetle: a limit on everything).
inline constexpr uint32_t bench_concurrency_max = 100;  // the mock serves at most 256 connections
inline constexpr uint64_t bench_requests_max = 1'000'000;
// No single loop may run longer than this; only a broken client gets near it.
inline constexpr auto bench_loop_wait_max = std::chrono::minutes{10};
// One request's deadline inside a loop.
inline constexpr auto bench_request_timeout = std::chrono::seconds{30};

using bench_clock = std::chrono::steady_clock;

// What every loop sends: the mock's address and the encoded request.
struct bench_target {
  std::string base_url;  // the mock: "http://127.0.0.1:PORT"
  std::string api_key;
  std::string model;
  chat_request request;     // what the provider actor is asked
  http_request_spec http;   // `request` encoded by the OpenAI wire codec
};

// One loop's outcome. latency_ns holds one entry per completed request, in
// completion order.
struct loop_result {
  std::vector<int64_t> latency_ns;
  double seconds = 0;  // wall time from the first start to the last completion
  uint64_t errors = 0;
  std::string first_error;  // empty when errors == 0
  // Client CPU (client_cpu_now) over the measured requests, warm-up
  // excluded: run time in ns (-1: not measured) and time slices.
  int64_t cpu_ns = -1;
  int64_t cpu_slices = 0;
  void add_error(const std::string& what) {
    if (errors++ == 0)
      first_error = what;
  }
};

// One row of the table.
struct row_figures {
  uint64_t requests = 0;  // completed in the measured part, errors included
  double seconds = 0;
  double p50_ms = 0;
  double p99_ms = 0;
  uint64_t errors = 0;
  std::string first_error;
  [[nodiscard]] double per_second() const { return seconds > 0 ? requests / seconds : 0; }
};

// "1,8,32" -> {1, 8, 32}: the --concurrency option of the bench commands.
// Errors: invalid_argument naming the item outside [1, bench_concurrency_max].
[[nodiscard]] caf::expected<std::vector<uint32_t>> parse_levels(const std::string& text);

// Nearest-rank percentiles of the latencies, the same rule as bench_openai.mjs.
[[nodiscard]] row_figures summarize(loop_result r);

// The rows of the `bench agents` and `bench population` tables: a figure
// with `decimals` decimals; ours / raw as "1.23x" ("n/a" when raw is 0);
// one line "name ours raw ratio  note" in fixed columns on stdout.
[[nodiscard]] std::string format_fixed(double v, int decimals = 0);
[[nodiscard]] std::string format_ratio(double ours, double raw);
void print_versus_row(const std::string& name, const std::string& ours, const std::string& raw,
                      const std::string& ratio, const std::string& note);

// The raw libcurl floor: one thread, one multi handle, `concurrency` easy
// handles re-added as each transfer ends. reuse = false sets
// CURLOPT_FORBID_REUSE, so every request opens and closes its own connection.
// Runs a warm-up of `warmup` requests first (not in the result).
[[nodiscard]] loop_result run_raw_curl(const bench_target& t, uint32_t concurrency,
                                       uint64_t warmup, uint64_t count, bool reuse);

// Our net::http_client without an actor: requests submitted from this
// thread and resubmitted from the completion callbacks; each body is decoded
// by the wire codec. close_connection adds `Connection: close`, which the
// mock (cpp-httplib) honours by closing after its answer, so every request
// opens a new connection.
[[nodiscard]] loop_result run_http_client(const bench_target& t, uint32_t concurrency,
                                          uint64_t warmup, uint64_t count, bool close_connection);

// Our provider actor (kind openai, its own net::http_client) driven by a
// small actor that keeps `concurrency` chat requests in flight.
[[nodiscard]] loop_result run_provider(caf::actor_system& sys, const bench_target& t,
                                       uint32_t concurrency, uint64_t warmup, uint64_t count);

// The openai npm SDK, run as `node tools/peers/bench_openai.mjs`. Either
// figures or the reason the peer was skipped (node or the SDK missing).
struct peer_result {
  std::optional<row_figures> figures;
  std::string skipped;  // set when the peer cannot run: why, and how to install
  std::string failed;   // set when it ran and failed: exit status and output
};

// What this process's client threads have used so far: the calling
// thread, http_client I/O threads and CAF's threads, not the in-process
// mock's (bench_llm_cpu.cpp). `ns` is -1 when /proc cannot tell; `slices`
// counts the times the scheduler put one of them on a CPU (wake-ups and
// preemptions; 0 where the kernel does not say).
struct client_cpu {
  int64_t ns = 0;
  int64_t slices = 0;
  // Sets out.cpu_ns and out.cpu_slices to the use since `begin` (taken by
  // client_cpu_now() before the measured requests); this is taken after.
  void end(const client_cpu& begin, loop_result& out);
};
[[nodiscard]] client_cpu client_cpu_now();

// One line of a table: figures, or a note saying why there are none.
struct bench_row {
  std::string name;
  std::optional<row_figures> figures;
  // Client CPU per measured request (loop_result::cpu_ns / requests);
  // empty for the SDK (another process) or when /proc could not tell.
  std::optional<double> cpu_us_per_request;
  std::optional<double> cpu_slices_per_request;  // with cpu_us_per_request
  std::string note;          // "skipped: ..." or "failed: ..." when figures is empty
  uint64_t connections = 0;  // connections the mock accepted during the row, warm-up included
};

// The rows of every table, in this order.
enum class bench_row_id : size_t { raw_reuse, raw_close, client_reuse, client_close, provider, sdk };
inline constexpr size_t bench_row_count = 6;

// Row `a` against row `b`: requests/s as a ratio, p50 as added microseconds.
struct bench_versus {
  double per_second_ratio = 0;
  double p50_added_us = 0;
};
// Empty when either row has no figures or `b` measured no throughput.
[[nodiscard]] std::optional<bench_versus> compare_rows(const row_figures* a, const row_figures* b);

// One ratio line of a level: provider and SDK against the raw libcurl floor,
// provider against the SDK, and what connection reuse gains (raw libcurl,
// http_client). `key` names it in --json; `label` in the table.
struct bench_ratio {
  const char* key;
  const char* label;
  const char* suffix;  // after the figures in the table
  std::optional<bench_versus> versus;
};
[[nodiscard]] std::vector<bench_ratio> bench_ratios(const std::vector<bench_row>& rows);

// The table of one concurrency level (rows indexed by bench_row_id). Each
// row's ratio is against the raw libcurl floor with reuse; the table is
// followed by the level's bench_ratios lines.
[[nodiscard]] std::string format_bench_table(uint32_t concurrency, const std::vector<bench_row>& rows);

[[nodiscard]] peer_result run_openai_sdk(const std::string& peers_dir, const bench_target& t,
                                         uint32_t concurrency, uint64_t warmup, uint64_t count);

}  // namespace agentgraph::cli

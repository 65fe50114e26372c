// `agentgraph bench llm`: requests/s and latency (p50, p99) of our LLM client
// against the mock LLM server, next to a raw libcurl loop (the floor) and the
// official openai npm SDK (the peer), at several concurrency levels, with and
// without connection reuse. Every row of one run talks to the same
// in-process mock (no latency, no faults, a short fixed reply), so the
// figures differ only by client. Nothing here is a hard-coded figure; --json
// prints the same figures and ratios as one JSON object.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <sstream>
#include <thread>

#include <boost/program_options.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <nlohmann/json.hpp>

#include "actors/host/register_types.hpp"
#include "actors/host/runtime.hpp"
#include "apps/cli/bench_llm.hpp"
#include "apps/cli/bench_memory.hpp"
#include "apps/cli/bench_workflow.hpp"
#include "apps/cli/commands.hpp"
#include "runtime/error.hpp"
#include "scenario.hpp"
#include "server.hpp"

namespace po = boost::program_options;

namespace agentgraph::cli {

namespace cmd_bench_llm_detail {

struct bench_options {
  uint64_t requests = 2000;
  uint64_t warmup = 200;
  std::vector<uint32_t> levels{1, 8, 32};
  std::string peers_dir = AGENTGRAPH_PEERS_DIR;
  bool json = false;
};

constexpr const char* bench_api_key = "bench-key";
constexpr const char* bench_model = "bench-model";
constexpr const char* bench_prompt = "Say pong.";
constexpr const char* bench_reply = "pong";

// Returns the exit code when parsing ends the command (help, bad usage).
std::optional<int> parse(const args& argv, bench_options& out) {
  po::options_description desc{"agentgraph bench llm"};
  std::string levels = "1,8,32";
  desc.add_options()("help", "print this help")(
    "requests", po::value(&out.requests), "measured requests per row and level (default 2000)")(
    "warmup", po::value(&out.warmup), "warm-up requests per row and level, not measured (default 200)")(
    "concurrency", po::value(&levels), "requests in flight, a comma-separated list (default 1,8,32)")(
    "quick", "small counts for a smoke test: 200 requests, 20 warm-up (unless given)")(
    "peers-dir", po::value(&out.peers_dir),
    "where bench_openai.mjs and node_modules/openai live (default: the source tree's tools/peers)")(
    "json", "print one JSON object (rows, figures, ratios) instead of tables");
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argv).options(desc).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "agentgraph bench llm: " << e.what() << "\n";
    return 2;
  }
  if (vm.count("help")) {
    std::cout << desc;
    return 0;
  }
  out.json = vm.count("json") != 0;
  if (vm.count("quick")) {
    out.requests = vm.count("requests") ? out.requests : 200;
    out.warmup = vm.count("warmup") ? out.warmup : 20;
  }
  auto parsed = parse_levels(levels);
  if (!parsed) {
    std::cerr << "agentgraph bench llm: " << describe(parsed.error()) << "\n";
    return 2;
  }
  out.levels = std::move(*parsed);
  if (out.requests < 1 || out.requests > bench_requests_max || out.warmup > bench_requests_max) {
    std::cerr << "agentgraph bench llm: --requests must be in [1, " << bench_requests_max
              << "] and --warmup at most that\n";
    return 2;
  }
  return std::nullopt;
}

// No latency, no faults, one short reply. Every connection holds a worker
// thread of the mock while it is open, so there are workers for every
// concurrent connection of a row plus the stragglers of the previous row.
// Answers are not compressed: cpp-httplib's brotli would cost the mock about
// half a millisecond per answer, on the same cores as the clients, and only
// for the clients that accept it (raw libcurl does not ask).
// Idle connections are kept long enough that Node's fetch reuses them too
// (scenario.hpp, keep_alive_idle_s); every client closes its connections at
// the end of its row, so the long idle time never delays stop().
std::string scenario_json(uint32_t level_max) {
  const uint32_t threads = std::min<uint32_t>(mock_llm::threads_max, 2 * level_max + 8);
  nlohmann::json j = {{"name", "bench"},
                      {"seed", 1},
                      {"api_key", bench_api_key},
                      {"compress_responses", false},
                      {"limits", {{"threads", threads}, {"pending_connections_max", 1024}, {"keep_alive_idle_s", 10}}},
                      {"default_reply", {{"text", bench_reply}}}};
  return j.dump();
}

caf::expected<bench_target> make_target(const std::string& base_url) {
  bench_target t;
  t.base_url = base_url;
  t.api_key = bench_api_key;
  t.model = bench_model;
  t.request.model = bench_model;
  t.request.messages.push_back({chat_role::user, bench_prompt, {}, {}, {}});
  t.request.max_tokens = 16;
  wire_settings ws;
  ws.kind = wire_kind::openai;
  ws.base_url = base_url + "/v1";
  ws.api_key = bench_api_key;
  auto codec = make_wire_codec(std::move(ws));
  if (!codec)
    return codec.error();
  auto spec = (*codec)->encode_chat(t.request, false);
  if (!spec)
    return spec.error();
  t.http = std::move(*spec);
  return t;
}

uint64_t mock_connections(const mock_llm::server& mock) {
  return mock.stats_json().value("connections", uint64_t{0});
}

// Runs one row and counts the connections the mock accepted meanwhile.
template <class Run>
bench_row measure(const mock_llm::server& mock, std::string name, Run run) {
  bench_row row;
  row.name = std::move(name);
  const auto before = mock_connections(mock);
  loop_result r = run();
  if (r.cpu_ns >= 0 && !r.latency_ns.empty()) {
    const auto n = static_cast<double>(r.latency_ns.size());
    row.cpu_us_per_request = static_cast<double>(r.cpu_ns) / 1e3 / n;
    row.cpu_slices_per_request = static_cast<double>(r.cpu_slices) / n;
  }
  row.figures = summarize(std::move(r));
  row.connections = mock_connections(mock) - before;
  return row;
}

// "  client CPU per request: raw libcurl 21 us, ..." for the rows that have it.
std::string cpu_line(const std::vector<bench_row>& rows) {
  std::string line = "  client CPU per request (us):       ";
  bool first = true;
  for (const auto& r : rows) {
    if (!r.cpu_us_per_request)
      continue;
    char figure[48];
    std::snprintf(figure, sizeof figure, " %.1f (%.1f wake-ups)", *r.cpu_us_per_request,
                  r.cpu_slices_per_request.value_or(0));
    line += (first ? "" : ", ") + r.name + figure;
    first = false;
  }
  return line + "\n";
}

std::vector<bench_row> run_level(caf::actor_system& sys, const mock_llm::server& mock,
                                 const bench_target& t, const bench_options& o, uint32_t n) {
  std::vector<bench_row> rows;
  rows.push_back(measure(mock, "raw libcurl, reuse",
                         [&] { return run_raw_curl(t, n, o.warmup, o.requests, true); }));
  rows.push_back(measure(mock, "raw libcurl, no reuse",
                         [&] { return run_raw_curl(t, n, o.warmup, o.requests, false); }));
  rows.push_back(measure(mock, "http_client, reuse",
                         [&] { return run_http_client(t, n, o.warmup, o.requests, false); }));
  rows.push_back(measure(mock, "http_client, Connection: close",
                         [&] { return run_http_client(t, n, o.warmup, o.requests, true); }));
  rows.push_back(measure(mock, "agentgraph provider",
                         [&] { return run_provider(sys, t, n, o.warmup, o.requests); }));
  bench_row sdk;
  sdk.name = "openai npm SDK";
  const auto before = mock_connections(mock);
  auto peer = run_openai_sdk(o.peers_dir, t, n, o.warmup, o.requests);
  sdk.connections = mock_connections(mock) - before;
  sdk.figures = peer.figures;
  sdk.note = !peer.skipped.empty() ? "skipped: " + peer.skipped : "failed: " + peer.failed;
  rows.push_back(std::move(sdk));
  return rows;
}

bool has_failure(const std::vector<bench_row>& rows) {
  return std::any_of(rows.begin(), rows.end(), [](const bench_row& r) {
    return r.figures ? r.figures->errors > 0 : r.note.rfind("failed:", 0) == 0;
  });
}

void print_preamble(const mock_llm::server& mock, const bench_options& o) {
#ifdef __OPTIMIZE__
  const char* build = "optimized";
#else
  const char* build = "NOT optimized (-O0): these figures say little";
#endif
  std::cout << "agentgraph bench llm: every row against one in-process mock LLM server at "
            << mock.base_url() << " (no latency, no faults, reply \"" << bench_reply << "\")\n"
            << "each row: " << o.warmup << " warm-up + " << o.requests
            << " measured requests, closed loop; " << std::thread::hardware_concurrency()
            << " hardware threads; build " << build << "\n"
            << "latency: from handing the request to the client to getting its answer back;\n"
            << "conns: connections the mock accepted during the row (warm-up included);\n"
            << "vs raw: req/s against raw libcurl with reuse; +p50 us: added median latency;\n"
            << "client CPU: time on the client's threads (caller, http_client I/O, CAF), not the mock's;\n"
            << "wake-ups: times the scheduler put one of those threads on a CPU\n\n";
}

nlohmann::json versus_json(const std::optional<bench_versus>& v) {
  if (!v)
    return nullptr;
  return {{"requests_per_second_ratio", v->per_second_ratio}, {"p50_us_added", v->p50_added_us}};
}

// One object per row and level: its figures and its ratio to the raw
// libcurl floor of the same level, or the note saying why it has none.
nlohmann::json row_json(const bench_row& r, uint32_t level, const std::vector<bench_row>& rows) {
  nlohmann::json j = {{"client", r.name}, {"concurrency", level}, {"connections", r.connections}};
  if (r.cpu_us_per_request) {
    j["client_cpu_us_per_request"] = *r.cpu_us_per_request;
    j["client_wakeups_per_request"] = r.cpu_slices_per_request.value_or(0);
  }
  if (!r.figures) {
    j["note"] = r.note;
    return j;
  }
  const auto& f = *r.figures;
  const auto& floor = rows[static_cast<size_t>(bench_row_id::raw_reuse)].figures;
  const auto v = compare_rows(&f, floor ? &*floor : nullptr);
  j.update({{"requests", f.requests},
            {"requests_per_second", f.per_second()},
            {"p50_ms", f.p50_ms},
            {"p99_ms", f.p99_ms},
            {"errors", f.errors},
            {"vs_raw", v ? nlohmann::json(v->per_second_ratio) : nlohmann::json()},
            {"p50_us_vs_raw", v ? nlohmann::json(v->p50_added_us) : nlohmann::json()}});
  if (f.errors > 0)
    j["first_error"] = f.first_error;
  return j;
}

void add_level_json(nlohmann::json& out, uint32_t level, const std::vector<bench_row>& rows) {
  for (const auto& r : rows)
    out["rows"].push_back(row_json(r, level, rows));
  nlohmann::json ratios = {{"concurrency", level}};
  for (const auto& r : bench_ratios(rows))
    ratios[r.key] = versus_json(r.versus);
  out["ratios"].push_back(std::move(ratios));
}

int bench_llm(const args& argv) {
  bench_options o;
  if (auto code = parse(argv, o))
    return *code;
  const uint32_t level_max = *std::max_element(o.levels.begin(), o.levels.end());
  auto scn = mock_llm::parse_scenario(scenario_json(level_max));
  if (!scn.value) {
    std::cerr << "agentgraph bench llm: scenario: " << scn.error << "\n";
    return 1;
  }
  std::string error;
  auto mock = mock_llm::server::start({scn.value, std::nullopt, 0}, &error);
  if (!mock) {
    std::cerr << "agentgraph bench llm: mock server: " << error << "\n";
    return 1;
  }
  auto target = make_target(mock->base_url());
  if (!target) {
    std::cerr << "agentgraph bench llm: " << describe(target.error()) << "\n";
    return 1;
  }
  caf::actor_system_config cfg;
  register_all_types(cfg);
  // The provider row runs on the scheduler a Runtime gets by default.
  const runtime_options defaults;
  apply_scheduler_settings(defaults.scheduler, defaults.scheduler_threads, cfg);
  caf::actor_system sys{cfg};
  nlohmann::json json = {{"bench", "llm"},
                         {"requests", o.requests},
                         {"warmup", o.warmup},
                         {"rows", nlohmann::json::array()},
                         {"ratios", nlohmann::json::array()}};
  if (!o.json)
    print_preamble(*mock, o);
  bool failed = false;
  for (uint32_t n : o.levels) {
    auto rows = run_level(sys, *mock, *target, o, n);
    if (o.json)
      add_level_json(json, n, rows);
    else
      std::cout << format_bench_table(n, rows) << cpu_line(rows) << "\n" << std::flush;
    failed = failed || has_failure(rows);
  }
  if (o.json)
    std::cout << json.dump(2) << "\n";
  if (failed)
    std::cerr << "agentgraph bench llm: some requests failed (see ERRORS / failed above)\n";
  return failed ? 1 : 0;
}

}  // namespace cmd_bench_llm_detail

int bench_command(const args& argv) {
  if (!argv.empty() && argv[0] == "llm")
    return cmd_bench_llm_detail::bench_llm({argv.begin() + 1, argv.end()});
  if (!argv.empty() && argv[0] == "workflow")
    return bench_workflow({argv.begin() + 1, argv.end()});
  if (!argv.empty() && argv[0] == "gateway")
    return bench_gateway({argv.begin() + 1, argv.end()});
  if (!argv.empty() && argv[0] == "memory")
    return bench_memory({argv.begin() + 1, argv.end()});
  if (!argv.empty() && argv[0] == "agents")
    return bench_agents({argv.begin() + 1, argv.end()});
  if (!argv.empty() && argv[0] == "population")
    return bench_population({argv.begin() + 1, argv.end()});
  if (!argv.empty() && argv[0] == "cluster")
    return bench_cluster({argv.begin() + 1, argv.end()});
  std::cerr << "usage: agentgraph bench llm [--requests N] [--warmup N] [--concurrency 1,8,32] "
               "[--quick] [--peers-dir DIR] [--json]\n"
               "       agentgraph bench workflow [--runs N] [--warmup N] [--quick] "
               "[--postgres-url URL] [--rules F] [--peers-dir DIR]\n"
               "       agentgraph bench gateway [--requests N] [--warmup N] [--concurrency 1,64] "
               "[--slow-clients N] [--health-requests N] [--quick] [--json]\n"
               "       agentgraph bench memory [--stores N] [--warmup N] [--concurrency 1,64] "
               "[--quick] [--json]\n"
               "       agentgraph bench agents [--tasks N] [--warmup N] [--agents N[,N]] "
               "[--time-cap-s S] [--quick] [--json]\n"
               "       agentgraph bench population [--keys N] [--active-max N] "
               "[--activations N] [--quick] [--json]\n"
               "       agentgraph bench cluster [--requests N] [--concurrency 1,32] [--clients N] "
               "[--failover-tasks N] [--quick] [--json]\n";
  return 2;
}

}  // namespace agentgraph::cli

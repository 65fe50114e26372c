// `agentgraph bench memory` (bench_memory.hpp says what it measures).
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <future>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include <boost/program_options.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/all.hpp>
#include <nlohmann/json.hpp>

#include "actors/memory/memory_shard.hpp"
#include "actors/host/register_types.hpp"
#include "apps/cli/bench_llm.hpp"
#include "apps/cli/bench_loop.hpp"
#include "apps/cli/bench_memory.hpp"
#include "runtime/error.hpp"
#include "runtime/metrics/registry.hpp"

namespace po = boost::program_options;

namespace agentgraph::cli {

namespace cmd_bench_memory_detail {

// The commit rows: no window (a batch is whatever arrived during the
// previous fsync) and a short one.
constexpr std::chrono::milliseconds bench_commit_windows[] = {std::chrono::milliseconds{0},
                                                              std::chrono::milliseconds{2}};
struct bench_options {
  uint64_t stores = 20'000;
  uint64_t warmup = 1'000;
  std::string levels = "1,64";
  bool json = false;
};

std::optional<int> parse(const args& argv, bench_options& out, std::vector<uint32_t>& levels) {
  po::options_description desc{"agentgraph bench memory"};
  desc.add_options()("help", "print this help")(
    "stores", po::value(&out.stores), "measured stores per row (default 20000)")(
    "warmup", po::value(&out.warmup), "warm-up stores per row, not measured (default 1000)")(
    "concurrency", po::value(&out.levels),
    "stores in flight, a comma-separated list (default 1,64)")(
    "quick", "small counts for a smoke test: 200 stores, 20 warm-up (unless given)")(
    "json", "print the rows as one JSON document instead of a table");
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argv).options(desc).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "agentgraph bench memory: " << e.what() << "\n";
    return 2;
  }
  if (vm.count("help")) {
    std::cout << desc;
    return 0;
  }
  out.json = vm.count("json") != 0;
  if (vm.count("quick")) {
    out.stores = vm.count("stores") ? out.stores : 200;
    out.warmup = vm.count("warmup") ? out.warmup : 20;
  }
  if (out.stores < 1 || out.stores > bench_memory_stores_max
      || out.warmup > bench_memory_stores_max) {
    std::cerr << "agentgraph bench memory: --stores must be in [1, " << bench_memory_stores_max
              << "] and --warmup at most that\n";
    return 2;
  }
  auto parsed = parse_levels(out.levels);
  if (!parsed) {
    std::cerr << "agentgraph bench memory: " << error_context(parsed.error()) << "\n";
    return 2;
  }
  levels = std::move(*parsed);
  return std::nullopt;
}

// One store of the closed loop: distinct texts of a realistic note's
// length (the embedding is part of a store's cost).
auto store_sender(memory_actor shard) {
  return [shard](caf::event_based_actor* self, uint64_t i, auto done) {
    memory_entry e;
    e.text = "bench note " + std::to_string(i) + ": the agent answered task "
             + std::to_string(i % 97) + " about crate capacity with the calculator tool";
    e.kind = "interaction";
    self->request(shard, bench_request_timeout, store_atom::value, std::move(e))
      .then([done](uint64_t) { done(caf::error{}); }, [done](caf::error& err) { done(err); });
  };
}

struct memory_row {
  std::string mode;  // commit | snapshot
  uint32_t concurrency = 0;
  std::chrono::milliseconds window{0};  // commit_window of a commit row
  std::optional<row_figures> figures;
  uint64_t commits = 0;  // batches committed (commit mode)
  uint64_t committed_changes = 0;
  std::string note;  // why there are no figures
};

// agentgraph_memory_commit_batch_changes_{sum,count} of the row's shard.
double series(const std::string& page, const std::string& name) {
  const auto line = "\n" + name + "{shard=\"bench\"} ";
  auto at = page.find(line);
  return at == std::string::npos ? 0 : std::strtod(page.c_str() + at + line.size(), nullptr);
}

// The row's name in the table: "snapshot, 64", "commit 2ms, 64".
std::string name_of(const memory_row& r) {
  auto mode = r.mode == "commit" ? "commit " + std::to_string(r.window.count()) + "ms" : r.mode;
  return mode + ", " + std::to_string(r.concurrency);
}

memory_row run_row(caf::actor_system& sys, const bench_options& o, const std::filesystem::path& dir,
                   memory_durability mode, std::chrono::milliseconds window, uint32_t concurrency) {
  memory_row row{to_string(mode), concurrency, window, std::nullopt, 0, 0, ""};
  memory_config mc;
  mc.name = "bench";
  mc.durability = mode;
  mc.commit_window = window;
  mc.snapshot_path = (dir / (row.mode + std::to_string(window.count()) + "ms-"
                             + std::to_string(concurrency) + ".db"))
                      .string();
  // Room for every store: the bench measures stores, not retention, and
  // the exact scan is kept so that no row pays the one-off switch to HNSW.
  mc.max_entries = static_cast<uint32_t>(o.warmup + o.stores + 1);
  mc.exact_search_max = mc.max_entries + 1;
  auto reg = std::make_shared<metrics::registry>();
  auto shard = spawn_memory_shard(sys, mc, {}, reg);
  if (!shard) {
    row.note = "failed: " + describe(shard.error());
    return row;
  }
  auto result = run_actor_loop(sys, concurrency, o.warmup, o.stores, store_sender(*shard));
  if (!result) {
    row.note = "failed: no end within the loop's bound";
  } else {
    row.figures = summarize(std::move(*result));
    const auto page = reg->scrape();
    const std::string family = "agentgraph_memory_commit_batch_changes";
    row.commits = static_cast<uint64_t>(series(page, family + "_count"));
    row.committed_changes = static_cast<uint64_t>(series(page, family + "_sum"));
  }
  caf::anon_send_exit(*shard, caf::exit_reason::user_shutdown);
  return row;
}

const memory_row* snapshot_row(const std::vector<memory_row>& rows, uint32_t concurrency) {
  for (const auto& r : rows)
    if (r.mode == "snapshot" && r.concurrency == concurrency && r.figures)
      return &r;
  return nullptr;
}

std::string ratio(const memory_row& r, const memory_row* base) {
  if (!r.figures || base == nullptr || base->figures->per_second() <= 0)
    return "n/a";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3fx", r.figures->per_second() / base->figures->per_second());
  return buf;
}

void print_table(const std::vector<memory_row>& rows, const bench_options& o) {
#ifdef __OPTIMIZE__
  const char* build = "optimized";
#else
  const char* build = "NOT optimized (-O0): these figures say little";
#endif
  std::printf("agentgraph bench memory: each row %llu warm-up + %llu measured stores, closed loop; "
              "%u hardware threads; build %s\n"
              "snapshot: answered from memory, written every 30 s (not within this run);\n"
              "commit Nms: answered after its row is committed (WAL, synchronous=FULL: an fsync "
              "per commit) with commit_window N ms\n"
              "per commit: changed entries per transaction (group commit); vs snapshot: stores/s "
              "over snapshot's at the same concurrency\n\n",
              static_cast<unsigned long long>(o.warmup), static_cast<unsigned long long>(o.stores),
              std::thread::hardware_concurrency(), build);
  std::printf("%-24s %8s %10s %8s %8s %8s %10s %11s\n", "durability, concurrency", "stores",
              "stores/s", "p50 ms", "p99 ms", "commits", "per commit", "vs snapshot");
  for (const auto& r : rows) {
    const auto name = name_of(r);
    if (!r.figures) {
      std::printf("%-24s %s\n", name.c_str(), r.note.c_str());
      continue;
    }
    const auto& f = *r.figures;
    const double per_commit
      = r.commits > 0 ? static_cast<double>(r.committed_changes) / r.commits : 0;
    std::printf("%-24s %8llu %10.0f %8.3f %8.3f %8llu %10.1f %11s", name.c_str(),
                static_cast<unsigned long long>(f.requests), f.per_second(), f.p50_ms, f.p99_ms,
                static_cast<unsigned long long>(r.commits), per_commit,
                ratio(r, snapshot_row(rows, r.concurrency)).c_str());
    if (f.errors > 0)
      std::printf("  ERRORS: %llu (first: %s)", static_cast<unsigned long long>(f.errors),
                  f.first_error.substr(0, 160).c_str());
    std::printf("\n");
  }
}

void print_json(const std::vector<memory_row>& rows, const bench_options& o) {
  nlohmann::json out
    = {{"warmup", o.warmup}, {"stores", o.stores}, {"rows", nlohmann::json::array()}};
  for (const auto& r : rows) {
    nlohmann::json j = {{"durability", r.mode}, {"concurrency", r.concurrency}};
    if (r.mode == "commit")
      j["commit_window_ms"] = r.window.count();
    if (r.figures) {
      const auto& f = *r.figures;
      const auto* base = snapshot_row(rows, r.concurrency);
      j.update({{"stores", f.requests}, {"stores_per_second", f.per_second()}, {"p50_ms", f.p50_ms},
                {"p99_ms", f.p99_ms}, {"errors", f.errors}, {"commits", r.commits},
                {"committed_changes", r.committed_changes},
                {"vs_snapshot", base ? nlohmann::json(f.per_second() / base->figures->per_second())
                                     : nlohmann::json()}});
    } else {
      j["note"] = r.note;
    }
    out["rows"].push_back(std::move(j));
  }
  std::cout << out.dump(2) << "\n";
}

}  // namespace cmd_bench_memory_detail

int bench_memory(const args& argv) {
  using namespace cmd_bench_memory_detail;
  bench_options o;
  std::vector<uint32_t> levels;
  if (auto code = parse(argv, o, levels))
    return *code;
  std::error_code ec;
  const auto dir = std::filesystem::temp_directory_path(ec)
                   / ("agentgraph-bench-memory-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    std::cerr << "agentgraph bench memory: temp directory " << dir << ": " << ec.message() << "\n";
    return 1;
  }
  caf::actor_system_config cfg;
  register_all_types(cfg);
  // Explicit (CAF's default, max(cores, 4), oversubscribes small machines).
  cfg.set("scheduler.max-threads", 2);
  std::vector<memory_row> rows;
  {
    caf::actor_system sys{cfg};
    for (auto c : levels) {
      rows.push_back(run_row(sys, o, dir, memory_durability::snapshot, {}, c));
      for (auto window : bench_commit_windows)
        rows.push_back(run_row(sys, o, dir, memory_durability::commit, window, c));
    }
  }
  std::filesystem::remove_all(dir, ec);
  if (o.json)
    print_json(rows, o);
  else
    print_table(rows, o);
  bool failed = false;
  for (const auto& r : rows)
    failed = failed || !r.figures || r.figures->errors > 0;
  if (failed)
    std::cerr << "agentgraph bench memory: some rows failed\n";
  return failed ? 1 : 0;
}

}  // namespace agentgraph::cli

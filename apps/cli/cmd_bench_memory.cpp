// `agentgraph bench memory` (bench_memory.hpp says what it measures).
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
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

#include "actors/memory/hashing_embedder.hpp"
#include "actors/memory/memory_shard.hpp"
#include "actors/memory/memory_snapshot.hpp"
#include "actors/host/register_types.hpp"
#include "apps/cli/bench_llm.hpp"
#include "apps/cli/bench_loop.hpp"
#include "apps/cli/bench_memory.hpp"
#include "runtime/blocking_ask.hpp"
#include "runtime/config/config_text.hpp"
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
  std::string fill;                  // --fill as given; empty: no fill rows
  std::vector<uint64_t> fills;       // parsed, in the order given
  std::string fill_index = "exact";  // exact | hnsw
  bool index = true;                 // the index rows (--no-index: none)
  std::string index_sizes = "10000,100000";
  std::string index_dims = "384,768,1536";
  index_bench_options index_rows;    // parsed from the two above
  bool embed = true;                 // the embedder rows (--no-embed: none)
  embed_bench_options embed_rows;
};

// "1000,10000" -> {1000, 10000}, each in [1, max], at most `items_max` of
// them; `option` names the option in errors, `items` what it lists.
caf::expected<std::vector<uint64_t>> parse_counts(const std::string& text, const std::string& option,
                                                  const std::string& items_name, uint64_t max,
                                                  size_t items_max) {
  auto items = split(text, ',');
  if (items.size() > items_max)
    return make_error(errc::invalid_argument,
                      option + ": at most " + std::to_string(items_max) + " " + items_name);
  std::vector<uint64_t> out;
  for (auto view : items) {
    std::string item{view};
    char* end = nullptr;
    errno = 0;
    auto n = std::strtoull(item.c_str(), &end, 10);
    if (item.empty() || item[0] == '-' || *end != '\0' || errno != 0 || n < 1 || n > max)
      return make_error(errc::invalid_argument, option + ": '" + item + "' is not a count in [1, "
                                                  + std::to_string(max) + "]");
    out.push_back(n);
  }
  return out;
}

caf::expected<std::vector<uint64_t>> parse_fills(const std::string& text) {
  return parse_counts(text, "--fill", "sizes", bench_memory_fill_max, bench_memory_fills_max);
}

// --index-sizes and --index-dims into o.index_rows. A clustered row's dim
// is bounded like hash-<dim>'s: the embedding sizes a shard can hold.
caf::expected<void> parse_index(bench_options& o) {
  auto sizes = parse_counts(o.index_sizes, "--index-sizes", "sizes",
                            bench_memory_index_entries_max, bench_memory_index_sizes_max);
  if (!sizes)
    return std::move(sizes.error());
  auto dims = parse_counts(o.index_dims, "--index-dims", "dims", hash_embedding_dim_max,
                           bench_memory_index_dims_max);
  if (!dims)
    return std::move(dims.error());
  o.index_rows.sizes = std::move(*sizes);
  for (auto d : *dims) {
    if (d < hash_embedding_dim_min)
      return make_error(errc::invalid_argument,
                        "--index-dims: at least " + std::to_string(hash_embedding_dim_min));
    o.index_rows.dims.push_back(static_cast<uint32_t>(d));
  }
  return {};
}

std::optional<int> parse(const args& argv, bench_options& out, std::vector<uint32_t>& levels) {
  po::options_description desc{"agentgraph bench memory"};
  desc.add_options()("help", "print this help")(
    "stores", po::value(&out.stores), "measured stores per row (default 20000)")(
    "warmup", po::value(&out.warmup), "warm-up stores per row, not measured (default 1000)")(
    "concurrency", po::value(&out.levels),
    "stores in flight, a comma-separated list (default 1,64)")(
    "quick",
    "small counts for a smoke test: 200 stores, 20 warm-up, index rows of 3000 entries at "
    "384 dims with 50 queries (unless given)")(
    "fill", po::value(&out.fill),
    "also measure one store at a time on a shard already holding N entries, a comma-separated "
    "list (e.g. 1000,10000,100000)")(
    "fill-index", po::value(&out.fill_index),
    "the fill rows' index: exact (a scan, whose insert is O(1); default) or hnsw "
    "(exact_search_sparse false and the default exact_search_max: HNSW from 2000 entries)")(
    "no-index", "leave out the index rows")(
    "no-embed", "leave out the embedder rows")(
    "embed-stores", po::value(&out.embed_rows.stores),
    "the embedder rows' measured stores (default 2000; --quick 200)")(
    "embed-recalls", po::value(&out.embed_rows.recalls),
    "the embedder rows' recalls (default 500; --quick 50)")(
    "embed-concurrency", po::value(&out.embed_rows.concurrency),
    "the embedder rows' stores and recalls in flight (default 32)")(
    "index-sizes", po::value(&out.index_sizes),
    "the index rows' entries, a comma-separated list (default 10000,100000; --quick 3000)")(
    "index-dims", po::value(&out.index_dims),
    "the clustered index rows' dimensions (default 384,768,1536; --quick 384)")(
    "index-queries", po::value(&out.index_rows.queries),
    "queries per index row, each on both indexes (default 500; --quick 50)")(
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
  out.index = vm.count("no-index") == 0;
  out.embed = vm.count("no-embed") == 0;
  const bool quick = vm.count("quick") != 0;
  if (quick) {
    out.embed_rows.stores = vm.count("embed-stores") ? out.embed_rows.stores : 200;
    out.embed_rows.recalls = vm.count("embed-recalls") ? out.embed_rows.recalls : 50;
    out.embed_rows.warmup = 20;
    out.stores = vm.count("stores") ? out.stores : 200;
    out.warmup = vm.count("warmup") ? out.warmup : 20;
    out.index_sizes = vm.count("index-sizes") ? out.index_sizes : "3000";
    out.index_dims = vm.count("index-dims") ? out.index_dims : "384";
  }
  if (!vm.count("index-queries"))
    out.index_rows.queries = quick ? 50 : 500;
  if (out.index_rows.queries < 1 || out.index_rows.queries > bench_memory_index_queries_max) {
    std::cerr << "agentgraph bench memory: --index-queries must be in [1, "
              << bench_memory_index_queries_max << "]\n";
    return 2;
  }
  if (auto parsed_index = parse_index(out); !parsed_index) {
    std::cerr << "agentgraph bench memory: " << error_context(parsed_index.error()) << "\n";
    return 2;
  }
  const auto& e = out.embed_rows;
  if (e.stores < 1 || e.stores > bench_memory_embed_ops_max || e.recalls < 1
      || e.recalls > bench_memory_embed_ops_max || e.concurrency < 1
      || e.concurrency > bench_concurrency_max) {
    std::cerr << "agentgraph bench memory: --embed-stores and --embed-recalls must be in [1, "
              << bench_memory_embed_ops_max << "], --embed-concurrency in [1, "
              << bench_concurrency_max << "]\n";
    return 2;
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
  if (!out.fill.empty()) {
    auto fills = parse_fills(out.fill);
    if (!fills) {
      std::cerr << "agentgraph bench memory: " << error_context(fills.error()) << "\n";
      return 2;
    }
    out.fills = std::move(*fills);
  }
  if (out.fill_index != "exact" && out.fill_index != "hnsw") {
    std::cerr << "agentgraph bench memory: --fill-index must be exact or hnsw\n";
    return 2;
  }
  return std::nullopt;
}

// Distinct texts of a realistic note's length; the embedding is part of a
// store's cost. `i` numbers the note: a fill's notes and the measured ones
// take different ranges, so no two entries of a shard share a text.
std::string bench_note_text(uint64_t i) {
  return "bench note " + std::to_string(i) + ": the agent answered task " + std::to_string(i % 97)
         + " about crate capacity with the calculator tool";
}

// One store of the closed loop, its note numbered from `first_note`.
auto store_sender(memory_actor shard, uint64_t first_note) {
  return [shard, first_note](caf::event_based_actor* self, uint64_t i, auto done) {
    memory_entry e;
    e.text = bench_note_text(first_note + i);
    e.kind = "interaction";
    self->request(shard, bench_request_timeout, store_atom::value, std::move(e))
      .then([done](uint64_t) { done(caf::error{}); }, [done](caf::error& err) { done(err); });
  };
}

// Runs the closed loop (o.warmup + o.stores stores, `concurrency` in
// flight) against `shard`; texts are numbered from `first_note`.
caf::expected<row_figures> drive(caf::actor_system& sys, const memory_actor& shard,
                                 const bench_options& o, uint32_t concurrency,
                                 uint64_t first_note) {
  auto result =
    run_actor_loop(sys, concurrency, o.warmup, o.stores, store_sender(shard, first_note));
  if (!result)
    return make_error(errc::timeout, "no end within the loop's bound");
  return summarize(std::move(*result));
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
  auto figures = drive(sys, *shard, o, concurrency, 0);
  if (!figures) {
    row.note = "failed: " + error_context(figures.error());
  } else {
    row.figures = std::move(*figures);
    const auto page = reg->scrape();
    const std::string family = "agentgraph_memory_commit_batch_changes";
    row.commits = static_cast<uint64_t>(series(page, family + "_count"));
    row.committed_changes = static_cast<uint64_t>(series(page, family + "_sum"));
  }
  caf::anon_send_exit(*shard, caf::exit_reason::user_shutdown);
  return row;
}

// A fill row: stores on a shard that already holds `fill` entries.
struct fill_row {
  uint64_t fill = 0;
  std::optional<row_figures> figures;
  double load_seconds = 0;  // spawn_memory_shard: load the file, embed, index
  uint64_t entries = 0;     // the shard's entries after the row (== fill)
  uint64_t evictions = 0;   // one per store: the shard stays at `fill`
  double bytes_per_entry = 0;  // memory_stats after the row
  std::string note;         // why there are no figures
};

// The shard of a fill row, holding `fill` entries: a snapshot file of them
// loaded the way a node loads one at start. Filling through stores would
// cost what the row measures, fill times over.
caf::expected<memory_actor> spawn_filled(caf::actor_system& sys, const bench_options& o,
                                         const std::filesystem::path& dir, uint64_t fill,
                                         std::shared_ptr<metrics::registry> reg) {
  memory_config mc;
  mc.name = "bench";
  mc.durability = memory_durability::snapshot;
  mc.snapshot_path = (dir / ("fill-" + std::to_string(fill) + ".db")).string();
  // Full from the start: every measured store makes retention evict the
  // oldest entry (sliding_window), so the row measures the steady state
  // of a full shard of this size, eviction included.
  mc.max_entries = static_cast<uint32_t>(fill);
  if (o.fill_index == "exact")  // +1: a store inserts before retention evicts
    mc.exact_search_max = static_cast<uint32_t>(fill + 2);
  else  // the notes hash to sparse vectors, which would keep the exact scan
    mc.exact_search_sparse = false;
  const int64_t now = system_unix_ms();
  std::vector<memory_entry> entries(fill);
  for (uint64_t i = 0; i < fill; ++i) {
    auto& e = entries[i];
    e.id = i + 1;
    e.text = bench_note_text(i);
    e.created_ms = now - static_cast<int64_t>(fill - i);  // older first, as stored
  }
  if (auto written = save_memory_snapshot(mc.snapshot_path, entries, fill + 1, {mc.embedding_model, 0}); !written)
    return std::move(written.error());
  return spawn_memory_shard(sys, mc, {}, std::move(reg));
}

fill_row run_fill_row(caf::actor_system& sys, const bench_options& o,
                      const std::filesystem::path& dir, uint64_t fill) {
  fill_row row;
  row.fill = fill;
  const auto begin = bench_clock::now();
  auto shard = spawn_filled(sys, o, dir, fill, std::make_shared<metrics::registry>());
  if (!shard) {
    row.note = "failed: " + describe(shard.error());
    return row;
  }
  // Its first message is the retention pass over the loaded entries: a
  // stats reply comes after it, so the load is complete when timed.
  auto loaded = blocking_ask<memory_stats>(sys, *shard, bench_request_timeout, "bench shard",
                                           stats_atom::value);
  row.load_seconds = std::chrono::duration<double>(bench_clock::now() - begin).count();
  auto figures = loaded ? drive(sys, *shard, o, 1, fill)
                        : caf::expected<row_figures>{std::move(loaded.error())};
  auto after = blocking_ask<memory_stats>(sys, *shard, bench_request_timeout, "bench shard",
                                          stats_atom::value);
  if (!figures)
    row.note = "failed: " + error_context(figures.error());
  else if (!after)
    row.note = "failed: " + error_context(after.error());
  else {
    row.figures = std::move(*figures);
    row.entries = after->entries;
    row.evictions = after->evictions;
    row.bytes_per_entry = after->bytes_per_entry;
  }
  caf::anon_send_exit(*shard, caf::exit_reason::user_shutdown);
  return row;
}

// Stores/s of `r` over the smallest fill's, measured in the same run.
std::optional<double> vs_smallest(const fill_row& r, const std::vector<fill_row>& rows) {
  if (rows.empty() || !rows.front().figures || !r.figures
      || rows.front().figures->per_second() <= 0)
    return std::nullopt;
  return r.figures->per_second() / rows.front().figures->per_second();
}

void print_fill_table(const std::vector<fill_row>& rows, const bench_options& o) {
  if (rows.empty())
    return;
  std::printf("\nfill rows: one store at a time on a full shard of N entries (durability "
              "snapshot, sliding_window with max_entries = N: every store evicts the oldest), "
              "%s index; load s: spawning the shard on a file of N entries; B/entry: the "
              "shard's bytes per entry after the row; vs %llu: stores/s over the first fill's\n",
              o.fill_index.c_str(), static_cast<unsigned long long>(rows.front().fill));
  std::printf("%-10s %8s %8s %10s %8s %8s %9s %8s %10s\n", "fill", "load s", "stores",
              "stores/s", "p50 ms", "p99 ms", "entries", "B/entry", "vs first");
  for (const auto& r : rows) {
    if (!r.figures) {
      std::printf("%-10llu %s\n", static_cast<unsigned long long>(r.fill), r.note.c_str());
      continue;
    }
    const auto& f = *r.figures;
    auto ratio = vs_smallest(r, rows);
    std::printf("%-10llu %8.2f %8llu %10.0f %8.3f %8.3f %9llu %8.0f %9.3fx",
                static_cast<unsigned long long>(r.fill), r.load_seconds,
                static_cast<unsigned long long>(f.requests), f.per_second(), f.p50_ms, f.p99_ms,
                static_cast<unsigned long long>(r.entries), r.bytes_per_entry,
                ratio.value_or(0.0));
    if (f.errors > 0)
      std::printf("  ERRORS: %llu (first: %s)", static_cast<unsigned long long>(f.errors),
                  f.first_error.substr(0, 160).c_str());
    std::printf("\n");
  }
}

nlohmann::json fill_json(const std::vector<fill_row>& rows, const bench_options& o) {
  auto out = nlohmann::json::array();
  for (const auto& r : rows) {
    nlohmann::json j = {{"fill", r.fill}, {"index", o.fill_index}, {"concurrency", 1}};
    if (r.figures) {
      const auto& f = *r.figures;
      auto ratio = vs_smallest(r, rows);
      j.update({{"stores", f.requests}, {"stores_per_second", f.per_second()},
                {"p50_ms", f.p50_ms}, {"p99_ms", f.p99_ms}, {"errors", f.errors},
                {"load_seconds", r.load_seconds}, {"entries", r.entries},
                {"evictions", r.evictions}, {"bytes_per_entry", r.bytes_per_entry},
                {"vs_first_fill", ratio ? nlohmann::json(*ratio) : nlohmann::json()}});
    } else {
      j["note"] = r.note;
    }
    out.push_back(std::move(j));
  }
  return out;
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

// The index rows under "index_rows", and at the top level (issue 13:
// entries, insert_per_s, recall_p50_us, ...) the first of the largest rows
// in which the shard's defaults built an HNSW graph: the approximate index
// against the exact scan, on clustered vectors of the first --index-dims.
// (hash-256 rows keep the exact scan under the defaults: nothing
// approximate to compare.)
void add_index_json(nlohmann::json& out, const std::vector<index_row>& index_rows) {
  if (index_rows.empty())
    return;
  out["index_rows"] = nlohmann::json::array();
  const index_row* headline = nullptr;
  for (const auto& r : index_rows) {
    out["index_rows"].push_back(index_json(r));
    if (r.uses_hnsw && r.sparse_exact && (headline == nullptr || r.entries > headline->entries))
      headline = &r;
  }
  if (headline != nullptr)
    out.update(index_json(*headline));
}

void print_json(const std::vector<memory_row>& rows, const std::vector<fill_row>& fills,
                const std::vector<embed_row>& embed_rows,
                const std::vector<index_row>& index_rows, const bench_options& o) {
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
  if (!fills.empty())  // a key of its own: "rows" keeps one shape
    out["fill_rows"] = fill_json(fills, o);
  if (!embed_rows.empty())
    out["embed_rows"] = embed_json(embed_rows);
  add_index_json(out, index_rows);
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
  std::vector<fill_row> fills;
  std::vector<embed_row> embeds;
  {
    caf::actor_system sys{cfg};
    for (auto c : levels) {
      rows.push_back(run_row(sys, o, dir, memory_durability::snapshot, {}, c));
      for (auto window : bench_commit_windows)
        rows.push_back(run_row(sys, o, dir, memory_durability::commit, window, c));
    }
    for (auto fill : o.fills)
      fills.push_back(run_fill_row(sys, o, dir, fill));
    if (o.embed)
      embeds = run_embed_rows(sys, o.embed_rows);
  }
  // After the actor system is gone: the index rows use this thread alone.
  std::vector<index_row> index_rows;
  if (o.index)
    index_rows = run_index_rows(o.index_rows);
  std::filesystem::remove_all(dir, ec);
  if (o.json) {
    print_json(rows, fills, embeds, index_rows, o);
  } else {
    print_table(rows, o);
    print_fill_table(fills, o);
    if (!embeds.empty())
      print_embed_table(embeds, o.embed_rows);
    print_index_table(index_rows);
  }
  bool failed = false;
  for (const auto& r : rows)
    failed = failed || !r.figures || r.figures->errors > 0;
  for (const auto& r : fills)
    failed = failed || !r.figures || r.figures->errors > 0 || r.entries != r.fill;
  for (const auto& r : embeds)
    failed = failed || !r.stores || !r.recalls || r.stores->errors > 0 || r.recalls->errors > 0;
  if (failed)
    std::cerr << "agentgraph bench memory: some rows failed\n";
  return failed ? 1 : 0;
}

}  // namespace agentgraph::cli

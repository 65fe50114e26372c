// The embedder rows of `agentgraph bench memory` (issue 13): what a store
// and a recall cost with the shard's built-in hash-256 embedder, the
// baseline measured in the same run, against a provider's model served by
// the in-process mock LLM server over loopback (real HTTP through the
// provider actor and its client), with the provider's embedding batching
// off (embed_batch_window 0: one HTTP request per text) and on (a 5 ms
// window joins the texts of concurrent stores into one request). No
// snapshot file: the rows measure embedding, not fsync. Every text and
// query is distinct, so each one asks the provider (no cache hit).
#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include <caf/all.hpp>
#include <nlohmann/json.hpp>

#include "actors/memory/memory_shard.hpp"
#include "actors/provider/provider_factory.hpp"
#include "apps/cli/bench_llm.hpp"
#include "apps/cli/bench_loop.hpp"
#include "apps/cli/bench_memory.hpp"
#include "net/curl_global.hpp"
#include "net/http_client.hpp"
#include "runtime/blocking_ask.hpp"
#include "runtime/error.hpp"
#include "scenario.hpp"
#include "server.hpp"

namespace agentgraph::cli {

namespace bench_memory_embed_detail {

constexpr const char* embed_key = "bench-embed-key";
constexpr uint32_t embed_dimensions = 256;  // the hash row's, so vectors cost the same to index

std::string scenario_json(uint32_t concurrency) {
  nlohmann::json j = {
    {"name", "bench-embed"},
    {"seed", 1},
    {"api_key", embed_key},
    {"compress_responses", false},
    {"embedding_dimensions", embed_dimensions},
    {"limits",
     {{"threads", std::min<uint32_t>(mock_llm::threads_max, 2 * concurrency + 8)},
      {"pending_connections_max", 1024},
      {"keep_alive_idle_s", 10}}}};
  return j.dump();
}

std::string note(uint64_t i) {
  return "embedded note " + std::to_string(i) + ": the agent filed task " + std::to_string(i % 89)
         + " about the warehouse crate count";
}

std::string query(uint64_t i) {
  return "which task " + std::to_string(i) + " was about crates";
}

auto store_sender(memory_actor shard) {
  return [shard](caf::event_based_actor* self, uint64_t i, auto done) {
    memory_entry e;
    e.text = note(i);
    self->request(shard, bench_request_timeout, store_atom::value, std::move(e))
      .then([done](uint64_t) { done(caf::error{}); }, [done](caf::error& err) { done(err); });
  };
}

auto recall_sender(memory_actor shard) {
  return [shard](caf::event_based_actor* self, uint64_t i, auto done) {
    self->request(shard, bench_request_timeout, recall_atom::value, query(i), uint32_t{5})
      .then([done](const std::vector<memory_hit>&) { done(caf::error{}); },
            [done](caf::error& err) { done(err); });
  };
}

std::optional<row_figures> loop(caf::actor_system& sys, uint32_t concurrency, uint64_t warmup,
                                uint64_t count, auto sender) {
  auto r = run_actor_loop(sys, concurrency, warmup, count, std::move(sender));
  if (!r)
    return std::nullopt;
  return summarize(std::move(*r));
}

uint64_t mock_requests(const mock_llm::server& mock) {
  return mock.stats_json()["requests"].get<uint64_t>();
}

// One row: `window` < 0 is the hash-256 baseline, else the provider's
// embed_batch_window.
embed_row run_row(caf::actor_system& sys, const mock_llm::server& mock,
                  const embed_bench_options& o, std::chrono::milliseconds window, bool hash) {
  embed_row row;
  row.name = hash ? "hash-256 (in the shard)"
                  : "provider, batching " + std::string{window.count() > 0 ? "on" : "off"};
  row.batch_window_ms = hash ? -1 : static_cast<int64_t>(window.count());
  memory_config mc;
  mc.name = "bench";
  mc.max_entries = static_cast<uint32_t>(o.warmup + o.stores + 1);
  mc.exact_search_max = mc.max_entries + 1;  // no one-off switch to HNSW inside a row
  mc.embedding_waiting_max = 2 * o.concurrency;
  mc.embedding_model = hash ? "hash-256" : "bench:embed-model";
  memory_embed_deps deps;
  provider_actor provider;
  if (!hash) {
    net::http_client_limits limits;
    limits.in_flight_max = std::max<uint32_t>(limits.in_flight_max, o.concurrency);
    http_provider_deps hd;
    hd.http = std::make_shared<net::http_client>(limits);
    hd.jitter_seed = 1;
    provider_config pc;
    pc.name = "bench";
    pc.kind = provider_kind::openai;
    pc.base_url = mock.base_url() + "/v1";
    pc.api_key = embed_key;
    pc.model = "embed-model";
    pc.in_flight_max = o.concurrency;
    pc.waiting_max = 4 * o.concurrency;
    pc.retries_max = 0;  // a failure must show as an error, not as a slow store
    pc.embed_batch_window = window;
    pc.embed_batch_inputs_max = 64;
    auto p = spawn_provider(sys, pc, hd);
    if (!p) {
      row.note = "failed: " + describe(p.error());
      return row;
    }
    provider = *p;
    deps.provider = provider;
  }
  auto shard = spawn_memory_shard(sys, mc, {}, nullptr, deps);
  if (!shard) {
    row.note = "failed: " + describe(shard.error());
    if (provider)
      stop_and_wait(sys, std::vector{provider}, std::chrono::seconds{10});
    return row;
  }
  const auto before = mock_requests(mock);
  row.stores = loop(sys, o.concurrency, o.warmup, o.stores, store_sender(*shard));
  row.store_requests = mock_requests(mock) - before;
  row.recalls = loop(sys, o.concurrency, 0, o.recalls, recall_sender(*shard));
  stop_and_wait(sys, std::vector<memory_actor>{*shard}, std::chrono::seconds{10});
  if (provider)
    stop_and_wait(sys, std::vector{provider}, std::chrono::seconds{10});
  if (!row.stores || !row.recalls)
    row.note = "failed: no end within the loop's bound";
  return row;
}

}  // namespace bench_memory_embed_detail

std::vector<embed_row> run_embed_rows(caf::actor_system& sys, const embed_bench_options& o) {
  namespace d = bench_memory_embed_detail;
  using std::chrono::milliseconds;
  net::ensure_curl_initialized();
  std::vector<embed_row> rows;
  auto scn = mock_llm::parse_scenario(d::scenario_json(o.concurrency));
  std::string error;
  auto mock = scn.value ? mock_llm::server::start({scn.value, std::nullopt, 0}, &error) : nullptr;
  if (!mock) {
    embed_row failed;
    failed.name = "provider";
    failed.note = "failed: mock server: " + (scn.value ? error : scn.error);
    rows.push_back(std::move(failed));
    return rows;
  }
  rows.push_back(d::run_row(sys, *mock, o, milliseconds{0}, true));
  rows.push_back(d::run_row(sys, *mock, o, milliseconds{0}, false));
  rows.push_back(d::run_row(sys, *mock, o, milliseconds{5}, false));
  mock->stop();
  return rows;
}

void print_embed_table(const std::vector<embed_row>& rows, const embed_bench_options& o) {
  namespace d = bench_memory_embed_detail;
  std::cout << "\nembedders (" << o.stores << " stores, then " << o.recalls << " recalls, "
            << o.concurrency << " in flight; no file; the provider is the mock over loopback, "
            << d::embed_dimensions << " dimensions):\n";
  std::printf("%-26s %12s %10s %10s %12s %10s %10s %10s %14s\n", "embedder", "stores/s", "p50_ms",
              "p99_ms", "recalls/s", "p50_ms", "p99_ms", "vs_hash", "http_requests");
  const embed_row* base = rows.empty() ? nullptr : &rows.front();
  for (const auto& r : rows) {
    if (!r.stores || !r.recalls) {
      std::printf("%-26s %s\n", r.name.c_str(), r.note.c_str());
      continue;
    }
    const std::string vs = base->stores ? format_ratio(r.stores->per_second(),
                                                        base->stores->per_second())
                                        : "n/a";
    std::printf("%-26s %12s %10s %10s %12s %10s %10s %10s %14s\n", r.name.c_str(),
                format_fixed(r.stores->per_second(), 0).c_str(), format_fixed(r.stores->p50_ms, 3).c_str(),
                format_fixed(r.stores->p99_ms, 3).c_str(), format_fixed(r.recalls->per_second(), 0).c_str(),
                format_fixed(r.recalls->p50_ms, 3).c_str(), format_fixed(r.recalls->p99_ms, 3).c_str(),
                vs.c_str(),
                r.batch_window_ms < 0 ? "-" : std::to_string(r.store_requests).c_str());
  }
  std::cout << "vs_hash: stores/s against the hash-256 row; http_requests: embedding requests "
               "the mock received for the measured stores and their warm-up\n";
}

nlohmann::json embed_json(const std::vector<embed_row>& rows) {
  auto out = nlohmann::json::array();
  for (const auto& r : rows) {
    nlohmann::json j = {{"embedder", r.name}, {"batch_window_ms", r.batch_window_ms}};
    if (r.stores && r.recalls) {
      j["stores_per_s"] = r.stores->per_second();
      j["store_p50_ms"] = r.stores->p50_ms;
      j["store_p99_ms"] = r.stores->p99_ms;
      j["store_errors"] = r.stores->errors;
      j["recalls_per_s"] = r.recalls->per_second();
      j["recall_p50_ms"] = r.recalls->p50_ms;
      j["recall_p99_ms"] = r.recalls->p99_ms;
      j["recall_errors"] = r.recalls->errors;
      j["http_requests"] = r.store_requests;
    } else {
      j["note"] = r.note;
    }
    out.push_back(std::move(j));
  }
  return out;
}

}  // namespace agentgraph::cli

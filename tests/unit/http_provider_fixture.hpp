// Shared by the HTTP provider tests: the mock LLM server in-process on a
// free loopback port, an actor system, one shared http_client, and blocking
// helpers that talk to provider actors the way an agent would. Waits are
// bounded (`wait_max`) and nothing asserts on wall time.
#pragma once

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>
#include <nlohmann/json.hpp>

#include "actors/provider/provider_factory.hpp"
#include "actors/host/register_types.hpp"
#include "net/curl_global.hpp"
#include "net/http_client.hpp"
#include "runtime/error.hpp"
#include "scenario.hpp"
#include "server.hpp"

namespace http_provider_fixture {

using namespace agentgraph;
using namespace std::chrono_literals;

// Generous: only a broken provider ever waits this long.
constexpr auto wait_max = std::chrono::seconds{20};

// Chunks a stream sink received, readable from the test thread.
struct chunk_log {
  std::mutex mu;
  std::vector<stream_chunk> chunks;
  std::string text() {
    std::lock_guard<std::mutex> lock{mu};
    std::string out;
    for (const auto& c : chunks)
      out += c.delta_text;
    return out;
  }
  size_t size() {
    std::lock_guard<std::mutex> lock{mu};
    return chunks.size();
  }
  // The sink is its own actor: its mailbox may still hold chunks when the
  // caller already has the reply. Waits (bounded) until `n` arrived.
  bool wait_for(size_t n) {
    for (int i = 0; i < 2000 && size() < n; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds{5});
    return size() >= n;
  }
};

inline stream_sink_actor::behavior_type logging_sink(stream_sink_actor::pointer,
                                                     std::shared_ptr<chunk_log> log) {
  return {[log](stream_chunk& c) {
    std::lock_guard<std::mutex> lock{log->mu};
    log->chunks.push_back(std::move(c));
  }};
}

struct fixture {
  std::unique_ptr<mock_llm::server> mock;
  caf::actor_system_config cfg;
  std::optional<caf::actor_system> sys;
  std::optional<caf::scoped_actor> self;
  std::shared_ptr<net::http_client> http;
  std::vector<provider_actor> spawned;

  explicit fixture(const std::string& scenario_json, net::http_client_limits limits = {}) {
    net::ensure_curl_initialized();
    auto loaded = mock_llm::parse_scenario(scenario_json);
    REQUIRE_MESSAGE(loaded.value, loaded.error);
    std::string error;
    mock = mock_llm::server::start({loaded.value, std::nullopt, 0}, &error);
    REQUIRE_MESSAGE(mock, error);
    register_all_types(cfg);
    cfg.set("scheduler.max-threads", 2);
    sys.emplace(cfg);
    self.emplace(*sys);
    http = std::make_shared<net::http_client>(limits);
  }

  ~fixture() {
    for (auto& p : spawned)
      caf::anon_send_exit(p, caf::exit_reason::user_shutdown);
    self.reset();
    sys.reset();   // waits for the providers to stop
    http.reset();  // joins the I/O thread, on this (non-scheduler) thread
    mock->stop();
  }

  // A provider config pointing at the mock: the base URL each kind expects,
  // the scenario's key, fast retries.
  provider_config config(const std::string& kind, const std::string& name = "p") const {
    provider_config c;
    c.name = name;
    c.kind = *parse_provider_kind(kind);
    c.api_key = "k";
    c.model = "test-model";
    const auto base = mock->base_url();
    if (kind == "openai" || kind == "openai_compatible")
      c.base_url = base + "/v1";
    else if (kind == "openrouter")
      c.base_url = base + "/api/v1";
    else if (kind == "anthropic")
      c.base_url = base + "/v1";
    else if (kind == "gemini")
      c.base_url = base + "/v1beta";
    c.retry_delay = 5ms;
    c.retry_delay_max = 20ms;
    c.embed_batch_window = 0ms;
    return c;
  }

  provider_actor spawn(const provider_config& c, std::shared_ptr<const price_table> prices = {}) {
    http_provider_deps deps;
    deps.http = http;
    deps.prices = std::move(prices);
    deps.jitter_seed = 42;
    auto p = spawn_provider(*sys, c, deps);
    REQUIRE_MESSAGE(p, describe(p.error()));
    spawned.push_back(*p);
    return *p;
  }

  static chat_request ask(std::string id, std::string text, std::vector<tool_definition> tools = {}) {
    chat_request r;
    r.request_id = std::move(id);
    r.model = "test-model";
    r.messages.push_back({chat_role::user, std::move(text), {}, {}, {}});
    r.tools = std::move(tools);
    r.max_tokens = 200;
    return r;
  }

  caf::expected<chat_response> chat(const provider_actor& p, chat_request req) {
    caf::expected<chat_response> out = make_error(errc::internal, "no reply");
    (*self)->request(p, wait_max, chat_atom::value, std::move(req))
      .receive([&](chat_response& r) { out = std::move(r); },
               [&](caf::error& e) { out = std::move(e); });
    return out;
  }

  caf::expected<chat_response> stream(const provider_actor& p, chat_request req,
                                      std::shared_ptr<chunk_log> log) {
    auto sink = sys->spawn(logging_sink, log);
    caf::expected<chat_response> out = make_error(errc::internal, "no reply");
    (*self)->request(p, wait_max, chat_stream_atom::value, std::move(req), sink)
      .receive([&](chat_response& r) { out = std::move(r); },
               [&](caf::error& e) { out = std::move(e); });
    return out;
  }

  caf::expected<embed_response> embed(const provider_actor& p, std::vector<std::string> inputs,
                                      std::string model = "embed-model", uint32_t dimensions = 0) {
    caf::expected<embed_response> out = make_error(errc::internal, "no reply");
    (*self)->request(p, wait_max, embed_atom::value,
                     embed_request{std::move(model), std::move(inputs), dimensions})
      .receive([&](embed_response& r) { out = std::move(r); },
               [&](caf::error& e) { out = std::move(e); });
    return out;
  }

  provider_stats stats(const provider_actor& p) {
    provider_stats out;
    (*self)->request(p, wait_max, stats_atom::value)
      .receive([&](provider_stats& s) { out = std::move(s); },
               [&](caf::error& e) { FAIL("stats: " << describe(e)); });
    return out;
  }

  // The mock's own count of requests it received (its /_mock/stats).
  uint64_t mock_requests() const { return mock->stats_json()["requests"].get<uint64_t>(); }
  uint64_t mock_count(const std::string& group, const std::string& key) const {
    auto s = mock->stats_json();
    return s[group].contains(key) ? s[group][key].get<uint64_t>() : 0;
  }
};

inline tool_definition calculator_tool() {
  return {"calculator", "Evaluates an arithmetic expression.",
          Value::from_json(R"({"type":"object","properties":{"expression":{"type":"string"}},)"
                           R"("required":["expression"]})")
            .value()};
}

}  // namespace http_provider_fixture

// The gateway over real loopback HTTP, shared by its test files: a Runtime
// built from config text (scripted provider, calculator, memory shard, the
// population "crowd") and a gateway on port 0, driven with
// httplib::Client. Every wait is bounded.
#pragma once

#include <doctest/doctest.h>

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>

#include <httplib.h>

#include "actors/host/node/gateway.hpp"
#include "actors/host/node_config.hpp"
#include "actors/host/runtime.hpp"
#include "actors/host/runtime_builder.hpp"
#include "runtime/error.hpp"
#include "runtime/value.hpp"

namespace gateway_http_test {

using namespace agentgraph;
using namespace std::chrono_literals;

// "slow" answers after a minute (it is always cancelled or refused first),
// "pause" after 300 ms, "broken" fails in the provider, "compute" calls the
// calculator, an agent whose system prompt says "mood=happy" answers
// "feeling happy", anything else echoes.
inline constexpr const char* rules_json = R"({
  "rules": [
    {"name": "slow", "when": {"user_contains": "slow"}, "delay_ms": 60000, "reply": "late"},
    {"name": "pause", "when": {"user_contains": "pause"}, "delay_ms": 300,
     "reply": "paused and then answered"},
    {"name": "broken", "when": {"user_contains": "broken"}, "error": "the model fell over"},
    {"name": "calc", "when": {"last_role": "user", "user_contains": "compute"},
     "tool_calls": [{"name": "calculator", "arguments": {"expression": "6*7"}}]},
    {"name": "report", "when": {"after_tool": "calculator", "tool_result_field": "value"},
     "reply": "value {{tool_output.value}}"},
    {"name": "mood", "when": {"agent": "mood=happy", "last_role": "user"},
     "reply": "feeling happy"},
    {"name": "echo", "when": {"last_role": "user"}, "reply": "one two three four five"}
  ]
})";

// A fresh directory per fixture, removed with it.
inline std::filesystem::path scratch_dir() {
  static int counter = 0;
  auto dir = std::filesystem::temp_directory_path()
             / ("agentgraph-gateway-test-" + std::to_string(::getpid()) + "-"
                + std::to_string(++counter));
  std::filesystem::create_directories(dir);
  return dir;
}

// The default gateway_config with `set` applied.
template <class Set>
gateway_config config(Set set) {
  gateway_config g;
  set(g);
  return g;
}

struct fixture {
  const std::filesystem::path dir = scratch_dir();
  std::unique_ptr<Runtime> rt;
  std::unique_ptr<gateway> gw;

  // `crowd_ini`: more keys of [population.crowd], the file's last section.
  explicit fixture(gateway_config g = {}, bool ready = true, const std::string& crowd_ini = "") {
    std::ofstream{dir / "rules.json"} << rules_json;
    auto path = (dir / "node.ini").string();
    std::ofstream{path} << "[provider.scripted]\nkind = scripted\nrules = rules.json\n"
                           "[tool.calculator]\nkind = calculator\n"
                           "[memory.notes]\nsimilarity_threshold = 0.05\n"
                           "[agent.solo]\nprovider = scripted\ntools = calculator\n"
                           "memory = notes\nrequest_timeout = 2m\n"
                           "[population.crowd]\ntools = calculator\nstore_path = crowd.sqlite\n"
                        << crowd_ini;
    auto cfg = load_node_config(path, {}, {});
    REQUIRE_MESSAGE(cfg, describe(cfg.error()));
    auto r = runtime_builder::from_config(*cfg);
    REQUIRE_MESSAGE(r, describe(r.error()));
    rt = std::move(*r);
    g.port = 0;
    auto started = gateway::start(*rt, g);
    REQUIRE_MESSAGE(started, describe(started.error()));
    gw = std::move(*started);
    gw->set_ready(ready);
  }
  ~fixture() {
    gw.reset();
    rt.reset();
    std::filesystem::remove_all(dir);
  }

  httplib::Client client() const {
    httplib::Client c{"127.0.0.1", gw->port()};
    c.set_read_timeout(30, 0);
    return c;
  }
  // Bounded poll until `pred` holds.
  template <class Pred>
  bool eventually(Pred pred) {
    for (int i = 0; i < 2000; ++i) {
      if (pred())
        return true;
      std::this_thread::sleep_for(5ms);
    }
    return false;
  }
};

inline Value json(const httplib::Result& r) {
  REQUIRE(r);
  auto v = Value::from_json(r->body);
  REQUIRE_MESSAGE(v, r->body);
  return *v;
}

inline std::string error_code(const httplib::Result& r) {
  auto v = json(r);
  return v["error"]["code"].as_string();
}

inline std::string error_message(const httplib::Result& r) {
  auto v = json(r);
  return v["error"]["message"].as_string();
}

inline httplib::Result post(httplib::Client& c, const std::string& body) {
  return c.Post("/v1/tasks", body, "application/json");
}
}  // namespace gateway_http_test

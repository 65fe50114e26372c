// The gateway over real loopback HTTP (the fixture: gateway_http_fixture.hpp).
// Every wait is bounded; no test asserts how long anything took. One case
// drives the same gateway without its server (start_core, submit_task).
#include <doctest/doctest.h>

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <regex>
#include <sstream>
#include <thread>

#include <httplib.h>

#include <caf/send.hpp>

#include "actors/host/node/agent_figures.hpp"
#include "actors/host/node/gateway.hpp"
#include "actors/host/node_config.hpp"
#include "actors/host/runtime.hpp"
#include "actors/host/runtime_builder.hpp"
#include "actors/host/runtime_client.hpp"
#include "runtime/error.hpp"
#include "runtime/metrics/registry.hpp"

#include "gateway_http_fixture.hpp"

using namespace agentgraph;
using namespace std::chrono_literals;

namespace gateway_http_test {

struct sse_frame {
  std::string event;
  std::string data;
};

// Reads a whole event stream (the gateway ends it after the final event).
std::vector<sse_frame> read_events(fixture& f, const std::string& task_id) {
  auto c = f.client();
  std::string raw;
  auto r = c.Get(("/v1/tasks/" + task_id + "/events").c_str(), [&](const char* d, size_t n) {
    raw.append(d, n);
    return true;
  });
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->get_header_value("Content-Type") == "text/event-stream");
  std::vector<sse_frame> out;
  std::istringstream in{raw};
  std::string line;
  sse_frame cur;
  while (std::getline(in, line)) {
    if (line.rfind("event: ", 0) == 0)
      cur.event = line.substr(7);
    else if (line.rfind("data: ", 0) == 0)
      cur.data = line.substr(6);
    else if (line.empty() && !cur.data.empty()) {
      out.push_back(cur);
      cur = {};
    }
  }
  return out;
}

std::vector<std::string> event_names(const std::vector<sse_frame>& frames) {
  std::vector<std::string> out;
  for (const auto& f : frames)
    out.push_back(f.event);
  return out;
}

// Redirects this process's stderr to a file while alive.
struct stderr_capture {
  std::string path;
  int saved = -1;
  stderr_capture() {
    path = (std::filesystem::temp_directory_path()
            / ("agentgraph-gateway-stderr-" + std::to_string(::getpid())))
             .string();
    std::fflush(stderr);
    saved = ::dup(2);
    FILE* f = std::fopen(path.c_str(), "w");
    ::dup2(::fileno(f), 2);
    std::fclose(f);
  }
  std::string text() {
    std::fflush(stderr);
    std::ifstream in{path};
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  ~stderr_capture() {
    std::fflush(stderr);
    ::dup2(saved, 2);
    ::close(saved);
    std::filesystem::remove(path);
  }
};

}  // namespace gateway_http_test

using namespace gateway_http_test;

TEST_CASE("gateway: a sync task answers with its result") {
  fixture f;
  auto c = f.client();
  auto r = post(c, R"({"agent":"solo","input":"please compute","task_id":"sync-1"})");
  REQUIRE(r);
  CHECK(r->status == 200);
  auto v = json(r);
  CHECK(v["task_id"].as_string() == "sync-1");
  CHECK(v["agent"].as_string() == "solo");
  CHECK(v["status"].as_string() == "completed");
  CHECK(v["output"].as_string() == "value 42");
  CHECK(v["model_calls"].as_int() == 2);
  CHECK(v["usage"]["prompt_tokens"].as_int() > 0);
  CHECK(v["usage"]["completion_tokens"].as_int() > 0);
  REQUIRE(v["tool_calls"].size() == 1);
  CHECK(v["tool_calls"].as_array()[0]["tool"].as_string() == "calculator");
  CHECK(v["tool_calls"].as_array()[0]["ok"].as_bool());
  CHECK(v["latency_ms"].is_number());
  // The finished task stays readable.
  auto g = c.Get("/v1/tasks/sync-1");
  REQUIRE(g);
  CHECK(g->status == 200);
  auto gv = json(g);
  CHECK(gv["status"].as_string() == "completed");
  CHECK(gv["result"]["output"].as_string() == "value 42");
}

TEST_CASE("gateway: /v1/agents/<agent>/tasks and population keys by name") {
  fixture f;
  auto c = f.client();
  auto key = c.Post("/v1/agents/crowd/alice/tasks", R"({"input":"please compute"})",
                    "application/json");
  REQUIRE(key);
  CHECK(key->status == 200);
  CHECK(json(key)["agent"].as_string() == "crowd/alice");
  CHECK(json(key)["output"].as_string() == "value 42");
  auto agent = c.Post("/v1/agents/solo/tasks", R"({"input":"please compute"})",
                      "application/json");
  REQUIRE(agent);
  CHECK(agent->status == 200);
  CHECK(json(agent)["agent"].as_string() == "solo");
  auto by_body = post(c, R"({"agent":"crowd/bob","input":"please compute"})");
  REQUIRE(by_body);
  CHECK(by_body->status == 200);
  CHECK(json(by_body)["agent"].as_string() == "crowd/bob");
  // The body may repeat the path's agent, not name another.
  auto other = c.Post("/v1/agents/crowd/alice/tasks",
                      R"({"agent":"solo","input":"please compute"})", "application/json");
  REQUIRE(other);
  CHECK(other->status == 400);
  CHECK(error_message(other).find("agent") != std::string::npos);
  auto bad_key = c.Post("/v1/agents/crowd/a%20b/tasks", R"({"input":"x"})", "application/json");
  REQUIRE(bad_key);
  CHECK(bad_key->status == 400);
  auto unknown = c.Post("/v1/agents/mob/alice/tasks", R"({"input":"x"})", "application/json");
  REQUIRE(unknown);
  CHECK(unknown->status == 404);
  auto metrics = c.Get("/metrics");
  REQUIRE(metrics);
  CHECK(metrics->body.find("agentgraph_population_active{population=\"crowd\"} 2")
        != std::string::npos);
}

TEST_CASE("gateway: a failing sync task gets the status of its error") {
  fixture f;
  auto c = f.client();
  auto r = post(c, R"({"agent":"solo","input":"broken please"})");
  REQUIRE(r);
  CHECK(r->status == 502);
  auto v = json(r);
  CHECK(v["status"].as_string() == "failed");
  CHECK(v["error"]["code"].as_string() == "provider_error");
  auto g = c.Get(("/v1/tasks/" + v["task_id"].as_string()).c_str());
  REQUIRE(g);
  CHECK(json(g)["status"].as_string() == "failed");
  CHECK(json(g)["error"]["code"].as_string() == "provider_error");
}

TEST_CASE("gateway: a background task answers 202 with Location, then GET shows it") {
  fixture f;
  auto c = f.client();
  auto r = post(c, R"({"agent":"solo","input":"pause here","mode":"background"})");
  REQUIRE(r);
  CHECK(r->status == 202);
  auto v = json(r);
  auto id = v["task_id"].as_string();
  CHECK(v["status"].as_string() == "running");
  CHECK(r->get_header_value("Location") == "/v1/tasks/" + id);
  REQUIRE(f.eventually([&] {
    auto g = c.Get(("/v1/tasks/" + id).c_str());
    return g && json(g)["status"].as_string() == "completed";
  }));
  auto g = c.Get(("/v1/tasks/" + id).c_str());
  CHECK(json(g)["result"]["output"].as_string() == "paused and then answered");
}

TEST_CASE("gateway: every bad request gets its status and a message naming the field") {
  fixture f{config([](gateway_config& g) { g.body_bytes_max = 1024; })};
  auto c = f.client();
  auto bad_json = post(c, "{oops");
  CHECK(bad_json->status == 400);
  CHECK(error_code(bad_json) == "invalid_argument");
  CHECK(error_message(bad_json).rfind("body: not valid JSON", 0) == 0);
  auto missing = post(c, R"({"input":"x"})");
  CHECK(missing->status == 400);
  CHECK(error_message(missing) == "agent: required");
  auto typed = post(c, R"({"agent":"solo","input":42})");
  CHECK(typed->status == 400);
  CHECK(error_message(typed) == "input: must be a non-empty string");
  auto mode = post(c, R"({"agent":"solo","input":"x","mode":"soon"})");
  CHECK(mode->status == 400);
  CHECK(error_message(mode).rfind("mode:", 0) == 0);
  auto unknown_agent = post(c, R"({"agent":"nobody","input":"x"})");
  CHECK(unknown_agent->status == 404);
  CHECK(error_code(unknown_agent) == "not_found");
  auto unknown_task = c.Get("/v1/tasks/no-such-task");
  CHECK(unknown_task->status == 404);
  CHECK(error_code(unknown_task) == "not_found");
  auto unknown_events = c.Get("/v1/tasks/no-such-task/events");
  CHECK(unknown_events->status == 404);
  auto no_route = c.Get("/v2/nothing");
  CHECK(no_route->status == 404);
  CHECK(error_code(no_route) == "not_found");
  auto big = post(c, R"({"agent":"solo","input":")" + std::string(2000, 'x') + R"("})");
  REQUIRE(big);
  CHECK(big->status == 413);
  CHECK(error_code(big) == "body_too_large");
  REQUIRE(post(c, R"({"agent":"solo","input":"x","task_id":"dup"})")->status == 200);
  auto dup = post(c, R"({"agent":"solo","input":"x","task_id":"dup"})");
  CHECK(dup->status == 409);
  CHECK(error_code(dup) == "conflict");
}

TEST_CASE("gateway: past tasks_in_flight_max a task gets 429 with Retry-After") {
  fixture f{config([](gateway_config& g) { g.tasks_in_flight_max = 1; })};
  auto c = f.client();
  auto first = post(c, R"({"agent":"solo","input":"slow one","mode":"background"})");
  REQUIRE(first->status == 202);
  auto second = post(c, R"({"agent":"solo","input":"another","mode":"background"})");
  REQUIRE(second);
  CHECK(second->status == 429);
  CHECK(error_code(second) == "overloaded");
  CHECK(second->get_header_value("Retry-After") == "1");
  CHECK(f.gw->tasks_in_flight() == 1);
  CHECK(f.gw->cancel_in_flight("test over") == 1);
  CHECK(post(c, R"({"agent":"solo","input":"now fits"})")->status == 200);
}

TEST_CASE("gateway: /ready follows set_ready and drain, /health is always alive") {
  fixture f{gateway_config{}, false};
  auto c = f.client();
  CHECK(c.Get("/health")->status == 200);
  CHECK(json(c.Get("/health"))["status"].as_string() == "alive");
  auto before = c.Get("/ready");
  CHECK(before->status == 503);
  CHECK_FALSE(json(before)["ready"].as_bool());
  f.gw->set_ready(true);
  auto ready = c.Get("/ready");
  CHECK(ready->status == 200);
  CHECK(json(ready)["ready"].as_bool());
  f.gw->begin_drain();
  auto draining = c.Get("/ready");
  CHECK(draining->status == 503);
  CHECK(json(draining)["reason"].as_string() == "draining");
  auto refused = post(c, R"({"agent":"solo","input":"x"})");
  CHECK(refused->status == 503);
  CHECK(error_code(refused) == "unavailable");
  CHECK(refused->get_header_value("Retry-After") == "5");
  CHECK(c.Get("/health")->status == 200);
}

TEST_CASE("gateway: /ready is 503 when a memory shard does not answer") {
  fixture f;
  auto c = f.client();
  CHECK(c.Get("/ready")->status == 200);
  // The shard's supervision group restarts a killed shard (restarts_max 5
  // within the window); killed once more than that, it is given up and
  // stays down.
  for (int kill = 0; kill <= 5; ++kill) {
    auto shard = f.rt->memory("notes");
    REQUIRE(shard);
    caf::anon_send_exit(*shard, caf::exit_reason::kill);
    REQUIRE(f.eventually([&] {
      auto now = f.rt->memory("notes");
      return !now || *now != *shard;
    }));
  }
  REQUIRE(f.eventually([&] { return c.Get("/ready")->status == 503; }));
  CHECK(json(c.Get("/ready"))["reason"].as_string().rfind("memory 'notes'", 0) == 0);
}

TEST_CASE("gateway: a streamed task's events are tokens, then completed") {
  fixture f;
  auto c = f.client();
  auto r = post(c, R"({"agent":"solo","input":"pause first","mode":"background","task_id":"s1"})");
  REQUIRE(r->status == 202);
  // Subscribed while the provider still waits: the tokens arrive live.
  auto frames = read_events(f, "s1");
  REQUIRE(frames.size() == 5);
  std::string text;
  for (size_t i = 0; i < 4; ++i) {
    CHECK(frames[i].event == "token");
    auto d = Value::from_json(frames[i].data);
    REQUIRE(d);
    CHECK((*d)["request_id"].as_string() == "s1-1");
    text += (*d)["text"].as_string();
  }
  CHECK(text == "paused and then answered");
  CHECK(frames[4].event == "completed");
  CHECK(Value::from_json(frames[4].data)->get_string("output") == "paused and then answered");
}

TEST_CASE("gateway: tool calls stream as tool_call events, a late subscriber gets the replay") {
  fixture f;
  auto c = f.client();
  REQUIRE(post(c, R"({"agent":"solo","input":"compute it","task_id":"tc"})")->status == 200);
  auto frames = read_events(f, "tc");
  CHECK(event_names(frames) == std::vector<std::string>{"tool_call", "token", "token", "completed"});
  auto call = Value::from_json(frames.at(0).data);
  REQUIRE(call);
  CHECK((*call)["tool"].as_string() == "calculator");
  CHECK((*call)["arguments"]["expression"].as_string() == "6*7");
  // A second late subscriber gets exactly the same.
  CHECK(event_names(read_events(f, "tc")) == event_names(frames));
}

TEST_CASE("gateway: a subscriber after the buffer overflowed is told what was dropped") {
  fixture f{config([](gateway_config& g) { g.task_events_max = 2; })};
  auto c = f.client();
  REQUIRE(post(c, R"({"agent":"solo","input":"hello","task_id":"ov"})")->status == 200);
  auto frames = read_events(f, "ov");
  CHECK(event_names(frames) == std::vector<std::string>{"truncated", "token", "token", "completed"});
  CHECK(Value::from_json(frames[0].data)->find("dropped")->as_int() == 3);
  CHECK(Value::from_json(frames[2].data)->get_string("text") == "five");
}

TEST_CASE("gateway: tasks_kept bounds the finished tasks GET can find") {
  fixture f{config([](gateway_config& g) { g.tasks_kept = 1; })};
  auto c = f.client();
  REQUIRE(post(c, R"({"agent":"solo","input":"a","task_id":"k1"})")->status == 200);
  REQUIRE(post(c, R"({"agent":"solo","input":"b","task_id":"k2"})")->status == 200);
  CHECK(c.Get("/v1/tasks/k1")->status == 404);
  CHECK(c.Get("/v1/tasks/k2")->status == 200);
}

TEST_CASE("gateway: cancel_in_flight gives the waiting caller and subscribers `cancelled`") {
  fixture f;
  auto sync = std::async(std::launch::async, [&] {
    auto c = f.client();
    return post(c, R"({"agent":"solo","input":"slow sync","task_id":"c1"})");
  });
  REQUIRE(f.eventually([&] { return f.gw->tasks_in_flight() == 1; }));
  auto sub = std::async(std::launch::async, [&] { return read_events(f, "c1"); });
  CHECK_FALSE(f.gw->wait_idle(1ms));
  CHECK(f.gw->cancel_in_flight("test says stop") == 1);
  CHECK(f.gw->wait_idle(0ms));
  auto r = sync.get();
  REQUIRE(r);
  CHECK(r->status == 409);
  auto v = json(r);
  CHECK(v["status"].as_string() == "cancelled");
  CHECK(v["error"]["code"].as_string() == "cancelled");
  CHECK(v["error"]["message"].as_string() == "test says stop");
  auto frames = sub.get();
  REQUIRE_FALSE(frames.empty());
  CHECK(frames.back().event == "failed");
  CHECK(Value::from_json(frames.back().data)->get_string("status") == "cancelled");
  auto c = f.client();
  CHECK(json(c.Get("/v1/tasks/c1"))["status"].as_string() == "cancelled");
  CHECK(f.gw->cancel_in_flight("again") == 0);
}

TEST_CASE("gateway: /v1/agents reports the agent's figures computed from its stats") {
  fixture f;
  auto c = f.client();
  REQUIRE(post(c, R"({"agent":"solo","input":"one"})")->status == 200);
  REQUIRE(post(c, R"({"agent":"solo","input":"two"})")->status == 200);
  REQUIRE(post(c, R"({"agent":"solo","input":"broken"})")->status == 502);
  auto r = c.Get("/v1/agents");
  REQUIRE(r->status == 200);
  auto v = json(r);
  REQUIRE(v["agents"].size() == 1);
  auto a = v["agents"].as_array()[0];
  auto st = runtime_client{*f.rt}.stats("solo");
  REQUIRE(st);
  CHECK(a["name"].as_string() == "solo");
  CHECK(a["role"].as_string() == "general");
  CHECK(a["status"].as_string() == "failed");  // its last task failed
  CHECK(a["tasks_completed"].as_int() == 2);
  CHECK(a["errors"].as_int() == 1);
  CHECK(a["tasks_in_flight"].as_int() == 0);
  CHECK(a["error_rate"].as_double() == doctest::Approx(1.0 / 3.0));
  CHECK(a["avg_response_ms"].as_double()
        == doctest::Approx(compute_agent_figures(*st).avg_response_ms));
  CHECK(a["requests_per_second"].as_double() > 0.0);
  CHECK(a["tokens_per_second"].as_double() > 0.0);
  CHECK(a["memory_bytes"].as_int() == static_cast<int64_t>(st->memory_bytes));
  CHECK(a["healthy"].as_bool());
  CHECK(a["ping_ms"].as_double() >= 0.0);
  auto m = json(c.Get("/v1/memory"));
  REQUIRE(m["shards"].size() == 1);
  CHECK(m["shards"].as_array()[0]["name"].as_string() == "notes");
  auto shard = m["shards"].as_array()[0];
  CHECK(shard["entries"].as_int()
        == static_cast<int64_t>(runtime_client{*f.rt}.stats_of_memory("notes")->entries));
  CHECK(shard["embedding_model"].as_string() == "hash-256");
  CHECK(shard["dimension"].as_int() == 256);
  for (const char* k : {"vectors_pending", "vectors_cached", "embedding_cache_hits",
                        "embedding_calls", "embedding_failures", "recalls_degraded", "reembedded"})
    CHECK_MESSAGE(shard[k].as_int() == 0, k);  // hash-256 embeds in the shard: no provider
  CHECK(shard["embedding_latency_p50_ms"].as_double() == 0.0);
}

TEST_CASE("gateway: /metrics is the registry's scrape, with the gateway's own counters") {
  fixture f;
  auto c = f.client();
  REQUIRE(c.Get("/health")->status == 200);
  auto r = c.Get("/metrics");
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->get_header_value("Content-Type") == metrics::exposition_content_type);
  CHECK(r->body.find("agentgraph_gateway_responses_total{route=\"health\",status=\"200\"} 1")
        != std::string::npos);
  // Every line is a comment or `name{labels} value`.
  const std::regex sample{R"(^[a-zA-Z_:][a-zA-Z0-9_:]*(\{.*\})? [-+0-9.eEInfNa]+$)"};
  std::istringstream in{r->body};
  std::string line;
  size_t samples = 0;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#')
      continue;
    CHECK_MESSAGE(std::regex_match(line, sample), line);
    ++samples;
  }
  CHECK(samples > 0);
}

TEST_CASE("gateway: a bearer token guards every route but /health and /ready") {
  const std::string token = "s3cret-token-value";
  gateway_config g;
  g.auth_token = token;
  stderr_capture captured;
  {
    fixture f{g};
    auto c = f.client();
    auto none = c.Get("/v1/agents");
    CHECK(none->status == 401);
    CHECK(error_code(none) == "unauthorized");
    CHECK(none->get_header_value("WWW-Authenticate").rfind("Bearer", 0) == 0);
    auto wrong = c.Get("/metrics", httplib::Headers{{"Authorization", "Bearer " + token + "x"}});
    CHECK(wrong->status == 401);
    CHECK(post(c, R"({"agent":"solo","input":"x"})")->status == 401);
    CHECK(c.Get("/v1/agents", httplib::Headers{{"Authorization", "Bearer " + token}})->status
          == 200);
    c.set_bearer_token_auth(token.c_str());
    CHECK(post(c, R"({"agent":"solo","input":"x"})")->status == 200);
    httplib::Client open{"127.0.0.1", f.gw->port()};
    CHECK(open.Get("/health")->status == 200);
    CHECK(open.Get("/ready")->status == 200);
  }
  auto logs = captured.text();
  CHECK(logs.find("request refused") != std::string::npos);
  CHECK(logs.find(token) == std::string::npos);
}

TEST_CASE("gateway: stop is idempotent and a later start gets a fresh port") {
  fixture f;
  auto c = f.client();
  REQUIRE(c.Get("/health")->status == 200);
  f.gw->stop();
  f.gw->stop();
  httplib::Client after{"127.0.0.1", f.gw->port()};
  CHECK_FALSE(after.Get("/health"));
}

TEST_CASE("gateway: start_core takes tasks through submit_task, without a socket") {
  fixture f;
  auto core = gateway::start_core(*f.rt, gateway_config{});
  REQUIRE_MESSAGE(core, describe(core.error()));
  auto& gw = **core;
  CHECK(gw.port() == 0);  // no server was started
  std::atomic<int> executed{0};
  gw.on_task_executed([&executed](const std::string& id) {
    if (id == "core-1")
      ++executed;
  });
  // The answer POST /v1/tasks would give, through the callback; bounded wait.
  auto submit = [&gw](const std::string& body, const std::string& agent) {
    auto answer = std::make_shared<std::promise<std::pair<int, std::string>>>();
    auto got = answer->get_future();
    gw.submit_task(body, agent, [answer](int status, const std::string& b) {
      answer->set_value({status, b});
    });
    REQUIRE(got.wait_for(30s) == std::future_status::ready);
    return got.get();
  };
  auto [status, body] = submit(R"({"input":"please compute","task_id":"core-1"})", "solo");
  CHECK(status == 200);
  auto v = Value::from_json(body);
  REQUIRE(v);
  CHECK((*v)["output"].as_string() == "value 42");
  CHECK((*v)["task_id"].as_string() == "core-1");
  CHECK(executed == 1);
  // The route's checks, the same statuses.
  auto bad = submit(R"({"input":"x","colour":"red"})", "solo");
  CHECK(bad.first == 400);
  CHECK(bad.second.find("colour") != std::string::npos);
  CHECK(submit(R"({"input":"x"})", "nobody").first == 404);
  auto failed = submit(R"({"input":"broken please"})", "solo");
  CHECK(failed.first == 502);
  CHECK(executed == 1);  // a failed run is no result

  // A cluster member's core refuses new tasks until its node has joined.
  gateway_config member;
  member.cluster_member = true;
  auto outside = gateway::start_core(*f.rt, member);
  REQUIRE(outside);
  auto answer = std::make_shared<std::promise<std::pair<int, std::string>>>();
  auto got = answer->get_future();
  (*outside)->submit_task(R"({"input":"x"})", "solo", [answer](int s, const std::string& b) {
    answer->set_value({s, b});
  });
  REQUIRE(got.wait_for(5s) == std::future_status::ready);
  auto refused = got.get();
  CHECK(refused.first == 503);
  CHECK(refused.second.find("not in the cluster") != std::string::npos);
}

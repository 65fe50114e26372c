// The gateway's pure parts: agent figures, request validation, the error
// to HTTP status table, the task table's bounds and event replay, SSE
// framing and token checks. No sockets, no actor system.
#include <doctest/doctest.h>

#include "actors/host/node/agent_figures.hpp"
#include "actors/host/node/gateway.hpp"
#include "actors/host/node/task_json.hpp"
#include "actors/host/node/task_table.hpp"
#include "net/http_server/http_server.hpp"
#include "runtime/error.hpp"

using namespace agentgraph;
using namespace std::chrono_literals;

namespace gateway_pure_test {

std::string rejection(std::string_view body) {
  auto r = parse_task_submission(body);
  REQUIRE_FALSE(r);
  CHECK(errc_of(r.error()) == errc::invalid_argument);
  return error_context(r.error());
}

Value token(const std::string& text) {
  Value v = Value::object();
  v["text"] = Value{text};
  return v;
}

std::vector<std::string> names(const net::sse_step& step) {
  std::vector<std::string> out;
  for (const auto& e : step.events)
    out.push_back(e.event);
  return out;
}

}  // namespace gateway_pure_test

using namespace gateway_pure_test;

TEST_CASE("gateway figures: rates over uptime, average in ms, error rate over ended tasks") {
  agent_stats s;
  s.tasks_completed = 30;
  s.errors = 10;
  s.total_tokens = 4500;
  s.response_time_avg_us = 12'500;
  s.uptime_ms = 15'000;
  auto f = compute_agent_figures(s);
  CHECK(f.requests_per_second == doctest::Approx(2.0));
  CHECK(f.tokens_per_second == doctest::Approx(300.0));
  CHECK(f.avg_response_ms == doctest::Approx(12.5));
  CHECK(f.error_rate == doctest::Approx(0.25));
}

TEST_CASE("gateway figures: no uptime and no tasks give zeros, not NaN") {
  auto f = compute_agent_figures(agent_stats{});
  CHECK(f.requests_per_second == 0.0);
  CHECK(f.tokens_per_second == 0.0);
  CHECK(f.avg_response_ms == 0.0);
  CHECK(f.error_rate == 0.0);
  agent_stats only_errors;
  only_errors.errors = 3;
  CHECK(compute_agent_figures(only_errors).error_rate == doctest::Approx(1.0));
}

TEST_CASE("gateway body: a valid submission with every field") {
  auto r = parse_task_submission(
    R"({"agent":"a","input":"hi","context":{"k":[1,2]},"mode":"background","task_id":"x-1.2:3_4"})");
  REQUIRE_MESSAGE(r, describe(r.error()));
  CHECK(r->agent == "a");
  CHECK(r->input == "hi");
  CHECK(r->context.to_json() == R"({"k":[1,2]})");
  CHECK(r->mode == task_mode::background);
  CHECK(r->task_id == "x-1.2:3_4");
  auto minimal = parse_task_submission(R"({"agent":"a","input":"hi"})");
  REQUIRE(minimal);
  CHECK(minimal->mode == task_mode::sync);
  CHECK(minimal->task_id.empty());
  CHECK(minimal->context.is_null());
}

TEST_CASE("gateway body: every rejection names the field") {
  CHECK(rejection("{not json").rfind("body: not valid JSON", 0) == 0);
  CHECK(rejection("[1,2]") == "body: must be a JSON object");
  CHECK(rejection(R"({"input":"hi"})") == "agent: required");
  CHECK(rejection(R"({"agent":7,"input":"hi"})") == "agent: must be a non-empty string");
  CHECK(rejection(R"({"agent":"","input":"hi"})") == "agent: must be a non-empty string");
  CHECK(rejection(R"({"agent":"a"})") == "input: required");
  CHECK(rejection(R"({"agent":"a","input":["x"]})") == "input: must be a non-empty string");
  CHECK(rejection(R"({"agent":"a","input":"x","mode":"later"})")
        == "mode: must be \"sync\" or \"background\"");
  CHECK(rejection(R"({"agent":"a","input":"x","task_id":"a b"})").rfind("task_id:", 0) == 0);
  CHECK(rejection(R"({"agent":"a","input":"x","task_id":5})").rfind("task_id:", 0) == 0);
  CHECK(rejection(R"({"agent":"a","input":"x","colour":"red"})").rfind("unknown field 'colour'", 0)
        == 0);
  CHECK(valid_task_id(std::string(task_id_bytes_max, 'a')));
  CHECK_FALSE(valid_task_id(std::string(task_id_bytes_max + 1, 'a')));
  CHECK_FALSE(valid_task_id("../etc"));
}

TEST_CASE("gateway errors: each code maps to its documented HTTP status") {
  const std::vector<std::pair<errc, int>> table = {
    {errc::invalid_argument, 400}, {errc::parse_error, 400},   {errc::not_found, 404},
    {errc::cancelled, 409},        {errc::conflict, 409},       {errc::limit_exceeded, 422},
    {errc::overloaded, 429},
    {errc::unsupported, 501},      {errc::provider_error, 502}, {errc::tool_error, 502},
    {errc::sandbox_violation, 502}, {errc::unavailable, 503},  {errc::timeout, 504},
    {errc::io_error, 500},         {errc::internal, 500},       {errc::unauthorized, 403},
  };
  for (auto [code, status] : table) {
    INFO(to_string(code));
    CHECK(http_status_of(make_error(code, "x")) == status);
  }
  CHECK(http_status_of(caf::make_error(caf::sec::runtime_error)) == 500);
  auto t = from_request_error(caf::make_error(caf::sec::request_timeout), "agent 'a'");
  CHECK(errc_of(t) == errc::timeout);
  auto d = from_request_error(caf::make_error(caf::sec::request_receiver_down), "agent 'a'");
  CHECK(errc_of(d) == errc::unavailable);
  auto body = failure_json("t1", "a", task_status::cancelled, make_error(errc::cancelled, "bye"));
  CHECK(body.to_json()
        == R"({"agent":"a","error":{"code":"cancelled","message":"bye"},"status":"cancelled","task_id":"t1"})");
}

TEST_CASE("gateway result: the JSON carries usage, tool calls and latency in ms") {
  task_result r;
  r.task_id = "t";
  r.agent = "a";
  r.output = "42";
  r.usage = {10, 5};
  r.model_calls = 2;
  r.latency_us = 1500;
  r.tool_calls.push_back({"calculator", Value{}, false, "tool_error: bad", true, 7});
  auto j = result_json(r);
  CHECK(j["status"].as_string() == "completed");
  CHECK(j["usage"]["prompt_tokens"].as_int() == 10);
  CHECK(j["usage"]["completion_tokens"].as_int() == 5);
  CHECK(j["model_calls"].as_int() == 2);
  CHECK(j["latency_ms"].as_double() == doctest::Approx(1.5));
  REQUIRE(j["tool_calls"].size() == 1);
  CHECK(j["tool_calls"].as_array()[0].to_json()
        == R"({"error":"tool_error: bad","from_cache":true,"ok":false,"tool":"calculator"})");
}

TEST_CASE("gateway tasks: the table refuses duplicates and more than in_flight_max") {
  task_table t{2, 1, 8};
  auto a = t.admit("a", "x");
  REQUIRE(a.outcome == task_table::admit_outcome::admitted);
  CHECK(t.admit("a", "x").outcome == task_table::admit_outcome::duplicate);
  auto b = t.admit("b", "x");
  REQUIRE(b.outcome == task_table::admit_outcome::admitted);
  CHECK(t.admit("c", "x").outcome == task_table::admit_outcome::full);
  CHECK(t.in_flight() == 2);
  CHECK_FALSE(t.wait_idle(std::chrono::steady_clock::now()));
  REQUIRE(a.entry->finish(task_status::completed, Value::object(), 200));
  CHECK_FALSE(a.entry->finish(task_status::cancelled, Value::object(), 409));  // first wins
  t.on_finished(a.entry);
  CHECK(t.admit("c", "x").outcome == task_table::admit_outcome::admitted);
  REQUIRE(b.entry->finish(task_status::failed, Value::object(), 502));
  t.on_finished(b.entry);
  // kept_max 1: the oldest finished task (a) is forgotten, b is kept.
  CHECK(t.find("a") == nullptr);
  CHECK(t.find("b") != nullptr);
  CHECK(t.find("b")->status() == task_status::failed);
  CHECK(t.running().size() == 1);
}

TEST_CASE("gateway tasks: forget drops a finished entry only, so its id is admitted again") {
  task_table t{2, 4, 8};
  auto a = t.admit("a", "x");
  REQUIRE(a.outcome == task_table::admit_outcome::admitted);
  t.forget("a");  // running: kept
  CHECK(t.admit("a", "x").outcome == task_table::admit_outcome::duplicate);
  REQUIRE(a.entry->finish(task_status::failed, Value::object(), 504));
  t.on_finished(a.entry);
  CHECK(t.admit("a", "x").outcome == task_table::admit_outcome::duplicate);
  t.forget("a");
  t.forget("never-seen");  // unknown: nothing happens
  CHECK(t.find("a") == nullptr);
  auto again = t.admit("a", "x");
  CHECK(again.outcome == task_table::admit_outcome::admitted);
  CHECK(t.in_flight() == 1);
}

TEST_CASE("gateway tasks: a late subscriber gets a truncated event, the kept events, the end") {
  task_entry e{"t", "a", 2};
  for (const char* w : {"one ", "two ", "three ", "four "})
    e.push_event("token", token(w));
  CHECK(e.events_dropped() == 2);
  task_entry::cursor c;
  auto first = e.read(c, 0ms);
  CHECK(names(first) == std::vector<std::string>{"truncated", "token", "token"});
  CHECK(first.events[0].data.find(R"("dropped":2)") != std::string::npos);
  CHECK(first.events[1].data == R"({"text":"three "})");
  CHECK_FALSE(first.finished);
  // Nothing new: an empty step after the wait.
  CHECK(e.read(c, 1ms).events.empty());
  e.push_event("token", token("five"));
  REQUIRE(e.finish(task_status::completed, Value{"done"}, 200));
  e.push_event("token", token("after the end"));  // ignored
  auto last = e.read(c, 0ms);
  CHECK(names(last) == std::vector<std::string>{"token", "completed"});
  CHECK(last.finished);
  CHECK(e.read(c, 0ms).finished);
  // A subscriber arriving after the end gets the replay and the final event.
  task_entry::cursor late;
  auto replay = e.read(late, 0ms);
  CHECK(names(replay) == std::vector<std::string>{"truncated", "token", "token", "completed"});
}

TEST_CASE("gateway tasks: a failed or cancelled task ends its stream with `failed`") {
  task_entry e{"t", "a", 4};
  REQUIRE(e.finish(task_status::cancelled, Value::object(), 409));
  task_entry::cursor c;
  auto step = e.read(c, 0ms);
  CHECK(names(step) == std::vector<std::string>{"failed"});
  CHECK(e.status_json()["status"].as_string() == "cancelled");
}

TEST_CASE("gateway config: the token comes from the named environment variable") {
  node_settings n;
  n.listen = "0.0.0.0";
  n.port = 9;
  n.http_threads = 3;
  n.tasks_in_flight_max = 4;
  n.tasks_kept = 5;
  n.task_events_max = 6;
  n.body_bytes_max = 7000;
  n.health_ping_timeout = 80ms;
  auto plain = gateway_config_from(n, {});
  REQUIRE(plain);
  CHECK(plain->host == "0.0.0.0");
  CHECK(plain->port == 9);
  CHECK(plain->http_threads == 3);
  CHECK(plain->tasks_in_flight_max == 4);
  CHECK(plain->tasks_kept == 5);
  CHECK(plain->task_events_max == 6);
  CHECK(plain->body_bytes_max == 7000);
  CHECK(plain->health_ping_timeout == 80ms);
  CHECK(plain->auth_token.empty());
  n.auth_token_env = "NODE_TOKEN";
  auto missing = gateway_config_from(n, {});
  REQUIRE_FALSE(missing);
  CHECK(error_context(missing.error()).find("NODE_TOKEN") != std::string::npos);
  CHECK_FALSE(gateway_config_from(n, {{"NODE_TOKEN", ""}}));
  auto with = gateway_config_from(n, {{"NODE_TOKEN", "s3cret"}});
  REQUIRE(with);
  CHECK(with->auth_token == "s3cret");
}

TEST_CASE("http text: SSE frames, error bodies, bearer tokens, constant-time compare") {
  CHECK(net::format_sse_event({"token", R"({"a":1})"}) == "event: token\ndata: {\"a\":1}\n\n");
  CHECK(net::format_sse_event({"", "two\nlines"}) == "data: two\ndata: lines\n\n");
  CHECK(net::format_sse_event({"x", "a\r\nb\rc"}) == "event: x\ndata: a\ndata: b\ndata: c\n\n");
  CHECK(net::json_error_body("not_found", "no \"x\"")
        == R"({"error":{"code":"not_found","message":"no \"x\""}})");
  CHECK(net::bearer_token("Bearer abc") == "abc");
  CHECK(net::bearer_token("bearer  abc ") == "abc");
  CHECK(net::bearer_token("Basic abc").empty());
  CHECK(net::bearer_token("Bearer").empty());
  CHECK(net::constant_time_equal("s3cret", "s3cret"));
  CHECK_FALSE(net::constant_time_equal("s3cret", "s3creT"));
  CHECK_FALSE(net::constant_time_equal("s3cret", "s3cre"));
  CHECK_FALSE(net::constant_time_equal("", "x"));
  CHECK(net::constant_time_equal("", ""));
}

TEST_CASE("gateway config: the HTTP server's bounds and deadlines come from [node]") {
  node_settings n;
  n.connections_max = 11;
  n.header_bytes_max = 2048;
  n.header_timeout = 12ms;
  n.body_timeout = 13ms;
  n.keep_alive_timeout = 14ms;
  n.send_timeout = 15ms;
  n.stream_buffer_bytes = 4096;
  n.bodies_bytes_max = 8192;
  auto g = gateway_config_from(n, {});
  REQUIRE(g);
  CHECK(g->connections_max == 11);
  CHECK(g->header_bytes_max == 2048);
  CHECK(g->header_timeout == 12ms);
  CHECK(g->body_timeout == 13ms);
  CHECK(g->keep_alive_timeout == 14ms);
  CHECK(g->send_timeout == 15ms);
  CHECK(g->stream_buffer_bytes == 4096);
  CHECK(g->bodies_bytes_max == 8192);
}

TEST_CASE("gateway body: a duplicate key is a 400 naming the key, not last-one-wins") {
  auto msg = rejection(R"({"agent":"a","input":"hi","agent":"b"})");
  CHECK(msg.find("duplicate key 'agent'") != std::string::npos);
  auto nested = rejection(R"({"agent":"a","input":"hi","context":{"k":1,"k":2}})");
  CHECK(nested.find("duplicate key 'k'") != std::string::npos);
}

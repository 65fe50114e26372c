// The gateway's population routes over real loopback HTTP (the fixture:
// gateway_http_fixture.hpp, population "crowd"): GET /v1/populations shows
// the figures real tasks made, PUT /v1/agents/<type>/<key>/vars and
// POST /v1/agents/<type>/broadcast refuse bad bodies with the field's
// message, a broadcast reaches each key once, and the broadcasts running
// at once are bounded.
#include <doctest/doctest.h>

#include <future>
#include <map>
#include <string>
#include <vector>

#include "actors/host/runtime_client.hpp"
#include "gateway_http_fixture.hpp"

using namespace agentgraph;
using namespace std::chrono_literals;

namespace gateway_population_test {

using namespace gateway_http_test;

httplib::Result put_vars(httplib::Client& c, const std::string& agent, const std::string& body) {
  return c.Put(("/v1/agents/" + agent + "/vars").c_str(), body, "application/json");
}

httplib::Result broadcast(httplib::Client& c, const std::string& type, const std::string& body) {
  return c.Post(("/v1/agents/" + type + "/broadcast").c_str(), body, "application/json");
}

// One key's task through the gateway; its answer.
std::string run_key(httplib::Client& c, const std::string& key, const std::string& input) {
  Value body = Value::object();
  body["input"] = Value{input};
  auto r = c.Post(("/v1/agents/crowd/" + key + "/tasks").c_str(), body.to_json(),
                  "application/json");
  REQUIRE(r);
  REQUIRE_MESSAGE(r->status == 200, r->body);
  return json(r)["output"].as_string();
}

// The "crowd" row of GET /v1/populations.
Value crowd_row(httplib::Client& c) {
  auto r = c.Get("/v1/populations");
  REQUIRE(r);
  REQUIRE_MESSAGE(r->status == 200, r->body);
  auto body = json(r);
  auto& list = body["populations"].as_array();
  REQUIRE(list.size() == 1);
  REQUIRE(list[0]["name"].as_string() == "crowd");
  return list[0];
}

uint64_t completed(runtime_client& client, const std::string& key) {
  auto s = client.stats("crowd/" + key);
  REQUIRE_MESSAGE(s, describe(s.error()));
  return s->tasks_completed;
}

}  // namespace gateway_population_test

using namespace gateway_population_test;

TEST_CASE("gateway populations: /v1/populations shows the figures real tasks made") {
  fixture f{{}, true, "active_max = 2\n"};
  auto c = f.client();
  auto empty = crowd_row(c);
  CHECK(empty["healthy"].as_bool());
  CHECK(empty["activations"].as_int() == 0);
  CHECK(empty["active_max"].as_int() == 2);
  for (const char* key : {"a", "b", "c"})
    run_key(c, key, "hello");
  // The third key evicted the least recently used one (active_max 2).
  Value row;
  CHECK(f.eventually([&] {
    row = crowd_row(c);
    return row["active"].as_int() == 2 && row["passivating"].as_int() == 0;
  }));
  CHECK(row["healthy"].as_bool());
  CHECK(row["activations"].as_int() == 3);
  CHECK(row["evictions"].as_int() == 1);
  CHECK(row["passivations"].as_int() == 1);
  CHECK(row["saved_keys"].as_int() == 3);
  CHECK(row["activating"].as_int() == 0);
  CHECK(row["waiting"].as_int() == 0);
  CHECK(row["tasks_in_flight"].as_int() == 0);
  CHECK(row["store_errors"].as_int() == 0);
  CHECK(row["active_max"].as_int() == 2);
  CHECK(row["passivated"].as_int() == 1);  // saved, not active
  CHECK(row["state_bytes"].as_int() > 0);  // the two active keys' states
  // The evicted key comes back: one more activation, another eviction.
  run_key(c, "a", "hello again");
  CHECK(f.eventually([&] {
    row = crowd_row(c);
    return row["activations"].as_int() == 4 && row["evictions"].as_int() == 2;
  }));
  CHECK(row["saved_keys"].as_int() == 3);
}

TEST_CASE("gateway populations: bad vars bodies are refused with the field's message") {
  fixture f{config([](gateway_config& g) { g.body_bytes_max = 4096; })};
  auto c = f.client();
  auto not_json = put_vars(c, "crowd/alice", "{mood");
  CHECK(not_json->status == 400);
  CHECK(error_code(not_json) == "invalid_argument");
  CHECK(error_message(not_json).rfind("body: not valid JSON", 0) == 0);
  auto array = put_vars(c, "crowd/alice", R"(["mood"])");
  CHECK(array->status == 400);
  CHECK(error_message(array) == "body: must be a JSON object");
  auto number = put_vars(c, "crowd/alice", R"({"mood": 3})");
  CHECK(number->status == 400);
  CHECK(error_message(number) == "vars: 'mood' must be a string");
  auto nested = put_vars(c, "crowd/alice", R"({"mood": {"a": "b"}})");
  CHECK(nested->status == 400);
  CHECK(error_message(nested) == "vars: 'mood' must be a string");
  // population_vars_problem's refusals: a reserved name, a bad name, too many.
  auto reserved = put_vars(c, "crowd/alice", R"({"key": "x"})");
  CHECK(reserved->status == 400);
  CHECK(error_message(reserved).rfind("vars: ", 0) == 0);
  auto bad_name = put_vars(c, "crowd/alice", R"({"my mood": "x"})");
  CHECK(bad_name->status == 400);
  CHECK(error_message(bad_name).rfind("vars: ", 0) == 0);
  Value many = Value::object();
  for (int i = 0; i < 65; ++i)
    many["v" + std::to_string(i)] = Value{"x"};
  auto too_many = put_vars(c, "crowd/alice", many.to_json());
  CHECK(too_many->status == 400);
  CHECK(error_message(too_many).rfind("vars: ", 0) == 0);
  // The path: an unknown population, a bad key.
  auto unknown = put_vars(c, "nobody/alice", R"({"mood": "x"})");
  CHECK(unknown->status == 404);
  CHECK(error_code(unknown) == "not_found");
  CHECK(error_message(unknown).find("nobody") != std::string::npos);
  auto bad_key = put_vars(c, "crowd/a%20b", R"({"mood": "x"})");
  CHECK(bad_key->status == 400);
  CHECK(error_code(bad_key) == "invalid_argument");
  // Bounded like every body: refused before it is read.
  auto huge = put_vars(c, "crowd/alice", R"({"mood": ")" + std::string(8192, 'x') + R"("})");
  CHECK(huge->status == 413);
  CHECK(error_code(huge) == "body_too_large");
  // The route is PUT only.
  auto post = c.Post("/v1/agents/crowd/alice/vars", R"({"mood": "x"})", "application/json");
  CHECK(post->status == 404);
  // A draining node takes no writes.
  f.gw->begin_drain();
  auto drained = put_vars(c, "crowd/alice", R"({"mood": "x"})");
  CHECK(drained->status == 503);
  CHECK(error_code(drained) == "unavailable");
}

// The full path: the population's pop_set_vars handler (main 662207b).
TEST_CASE("gateway populations: vars set over HTTP render in the key's next prompt") {
  fixture f{{}, true, "system_prompt = You are {{key}}, mood={{mood}}.\n"};
  auto c = f.client();
  // Before: "{{mood}}" stays as it is, so the mood rule does not match.
  CHECK(run_key(c, "alice", "how are you") == "one two three four five");
  auto set = put_vars(c, "crowd/alice", R"({"mood": "happy"})");
  REQUIRE(set);
  REQUIRE_MESSAGE(set->status == 200, set->body);
  auto body = json(set);
  CHECK(body["agent"].as_string() == "crowd/alice");
  CHECK(body["vars"]["mood"].as_string() == "happy");
  CHECK(run_key(c, "alice", "how are you") == "feeling happy");
  // Other keys keep their own variables (none).
  CHECK(run_key(c, "bob", "how are you") == "one two three four five");
  // New vars replace the old ones; a key never run before is activated for them.
  REQUIRE(put_vars(c, "crowd/alice", R"({"mood": "sad"})")->status == 200);
  CHECK(run_key(c, "alice", "how are you") == "one two three four five");
  REQUIRE(put_vars(c, "crowd/carol", R"({"mood": "happy"})")->status == 200);
  CHECK(run_key(c, "carol", "how are you") == "feeling happy");
}

TEST_CASE("gateway populations: a broadcast reaches each key once, bad bodies are refused") {
  fixture f;
  auto c = f.client();
  runtime_client client{*f.rt};
  const std::vector<std::string> keys{"k0", "k1", "k2", "k3", "k4"};
  for (const auto& k : keys)
    run_key(c, k, "hello");
  auto all = broadcast(c, "crowd", R"({"input": "news of the day", "concurrency": 2})");
  REQUIRE(all);
  REQUIRE_MESSAGE(all->status == 200, all->body);
  auto r = json(all);
  CHECK(r["population"].as_string() == "crowd");
  CHECK(r["keys"].as_int() == 5);
  CHECK(r["ok"].as_int() == 5);
  CHECK(r["failed"].as_int() == 0);
  CHECK(r["errors"].as_array().empty());
  for (const auto& k : keys)
    CHECK(completed(client, k) == 2);
  // A seeded sample: two keys, each once.
  auto sampled = broadcast(c, "crowd", R"({"input": "a rumour", "sample": 2, "seed": 7})");
  REQUIRE(sampled);
  REQUIRE_MESSAGE(sampled->status == 200, sampled->body);
  CHECK(json(sampled)["keys"].as_int() == 2);
  CHECK(json(sampled)["ok"].as_int() == 2);
  int reached = 0;
  for (const auto& k : keys) {
    auto n = completed(client, k);
    CHECK((n == 2 || n == 3));
    reached += n == 3 ? 1 : 0;
  }
  CHECK(reached == 2);
  // Bad bodies, each refused with its field's message, and nothing sent.
  const std::map<std::string, std::string> refused{
    {"", "body: not valid JSON"},
    {"[]", "body: must be a JSON object"},
    {"{}", "input: required"},
    {R"({"input": ""})", "input: must be a non-empty string"},
    {R"({"input": 5})", "input: must be a non-empty string"},
    {R"({"input": "x", "sample": -1})", "sample: must be an integer in 0..1000000"},
    {R"({"input": "x", "sample": 1000001})", "sample: must be an integer in 0..1000000"},
    {R"({"input": "x", "sample": 1e12})", "sample: must be an integer in 0..1000000"},
    {R"({"input": "x", "seed": 1.5})", "seed: must be an integer"},
    {R"({"input": "x", "seed": "7"})", "seed: must be an integer"},
    {R"({"input": "x", "concurrency": 0})", "concurrency: must be an integer in 1..1024"},
    {R"({"input": "x", "concurrency": "4"})", "concurrency: must be an integer in 1..1024"},
    {R"({"input": "x", "task_prefix": "a b"})", "broadcast: task_prefix"},
    {R"({"input": "x", "colour": "red"})", "unknown field 'colour'"},
  };
  for (const auto& [body, message] : refused) {
    CAPTURE(body);
    auto bad = broadcast(c, "crowd", body);
    REQUIRE(bad);
    CHECK(bad->status == 400);
    CHECK(error_code(bad) == "invalid_argument");
    CHECK(error_message(bad).rfind(message, 0) == 0);
  }
  auto unknown = broadcast(c, "nobody", R"({"input": "x"})");
  CHECK(unknown->status == 404);
  CHECK(error_code(unknown) == "not_found");
  for (const auto& k : keys)
    CHECK(completed(client, k) <= 3);
  CHECK(crowd_row(c)["tasks_in_flight"].as_int() == 0);
}

TEST_CASE("gateway populations: broadcasts running at once are bounded") {
  fixture f;
  auto c = f.client();
  const std::vector<std::string> keys{"p0", "p1", "p2", "p3"};
  for (const auto& k : keys)
    run_key(c, k, "hello");
  // Four broadcasts, each holding a "pause" (300 ms) task on each key.
  std::vector<std::future<int>> running;
  for (int i = 0; i < 4; ++i)
    running.push_back(std::async(std::launch::async, [&f, i] {
      auto own = f.client();
      auto r = broadcast(own, "crowd",
                         R"({"input": "pause", "concurrency": 4, "task_prefix": "b)"
                           + std::to_string(i) + R"("})");
      return r ? r->status : -1;
    }));
  // More than 12 tasks in flight: all four broadcasts are running.
  CHECK(f.eventually([&] { return crowd_row(c)["tasks_in_flight"].as_int() > 12; }));
  auto fifth = broadcast(c, "crowd", R"({"input": "x"})");
  CHECK(fifth->status == 429);
  CHECK(error_code(fifth) == "overloaded");
  CHECK(fifth->has_header("Retry-After"));
  for (auto& r : running)
    CHECK(r.get() == 200);
  // Their ends freed the slots.
  auto after = broadcast(c, "crowd", R"({"input": "x"})");
  CHECK(after->status == 200);
}

TEST_CASE("gateway populations: a broadcast wider than active_max waits instead of failing keys") {
  fixture f{{}, true, "active_max = 2\n"};
  auto c = f.client();
  const std::vector<std::string> keys{"w0", "w1", "w2", "w3", "w4"};
  for (const auto& k : keys)
    run_key(c, k, "hello");
  auto all = broadcast(c, "crowd", R"({"input": "news", "concurrency": 8})");
  REQUIRE(all);
  REQUIRE_MESSAGE(all->status == 200, all->body);
  auto r = json(all);
  CHECK(r["keys"].as_int() == 5);
  CHECK(r["ok"].as_int() == 5);
  CHECK(r["failed"].as_int() == 0);
}

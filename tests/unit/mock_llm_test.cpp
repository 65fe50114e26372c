// The mock LLM server in-process on a free loopback port, driven by
// cpp-httplib's client: every route plain and streamed (SSE parsed by hand
// here, deliberately simply), tool calls, vendor errors, each fault kind,
// the stats endpoint and determinism under a seed.
#include <doctest/doctest.h>
#include <httplib.h>

#include <chrono>
#include <memory>
#include <thread>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "faults.hpp"
#include "scenario.hpp"
#include "server.hpp"
#include "text.hpp"

namespace mock_llm_test {

using nlohmann::json;
namespace ml = agentgraph::mock_llm;

const char* const base_scenario = R"({
  "name": "unit", "seed": 1, "api_key": "k", "chunk_chars": 4, "embedding_dimensions": 8,
  "limits": {"threads": 4, "body_bytes_max": 65536},
  "rules": [
    {"name": "call", "match": {"contains": "weather", "tools": true, "tool_result": false},
     "reply": {"text": "Checking.", "tool_calls": [{"name": "get_weather", "arguments": {"city": "Oslo"}}]}},
    {"name": "answer", "match": {"tool_result": true, "tool_result_contains": "-3"}, "reply": {"text": "Cold: -3."}},
    {"name": "hello", "match": {"regex": "^hi\\b"}, "reply": {"text": "Hello, wörld!"},
     "usage": {"prompt_tokens": 5, "completion_tokens": 7}}
  ]})";

struct mock {
  std::unique_ptr<ml::server> srv;
  std::unique_ptr<httplib::Client> client;

  explicit mock(const std::string& scenario_text, std::optional<uint64_t> seed = {}) {
    auto loaded = ml::parse_scenario(scenario_text);
    REQUIRE_MESSAGE(loaded.value, loaded.error);
    std::string error;
    srv = ml::server::start({loaded.value, seed, 0}, &error);
    REQUIRE_MESSAGE(srv, error);
    client = std::make_unique<httplib::Client>("127.0.0.1", srv->port());
    client->set_read_timeout(10, 0);
  }

  httplib::Result post(const std::string& path, const json& body, httplib::Headers headers) {
    return client->Post(path.c_str(), headers, body.dump(), "application/json");
  }
  httplib::Result openai(const json& body, const std::string& root = "/v1") {
    return post(root + "/chat/completions", body, {{"Authorization", "Bearer k"}});
  }
  httplib::Result anthropic(const json& body) {
    return post("/v1/messages", body, {{"x-api-key", "k"}, {"anthropic-version", "2023-06-01"}});
  }
  httplib::Result gemini(const std::string& method, const json& body) {
    return post("/v1beta/models/gemini-x:" + method, body, {{"x-goog-api-key", "k"}});
  }
  json stats() { return json::parse(client->Get("/_mock/stats")->body); }
};

struct sse_event {
  std::string name;
  std::string data;
};

// Blocks separated by a blank line; "event:" and "data:" lines; ":" comments skipped.
std::vector<sse_event> parse_sse(std::string body) {
  for (size_t p; (p = body.find("\r\n")) != std::string::npos;) body.erase(p, 1);
  std::vector<sse_event> out;
  size_t start = 0;
  for (size_t end; (end = body.find("\n\n", start)) != std::string::npos; start = end + 2) {
    sse_event e;
    const std::string block = body.substr(start, end - start);
    size_t line_start = 0;
    while (line_start <= block.size()) {
      size_t nl = block.find('\n', line_start);
      if (nl == std::string::npos) nl = block.size();
      const std::string line = block.substr(line_start, nl - line_start);
      if (line.rfind("event: ", 0) == 0) e.name = line.substr(7);
      if (line.rfind("data: ", 0) == 0) e.data += line.substr(6);
      line_start = nl + 1;
    }
    if (!e.data.empty()) out.push_back(e);
  }
  return out;
}

json user(const std::string& text) { return {{"role", "user"}, {"content", text}}; }

const json openai_tools = json::array({{{"type", "function"}, {"function", {{"name", "get_weather"}}}}});

TEST_CASE("mock_llm: scenario errors name the field") {
  auto bad = [](const char* text) { return ml::parse_scenario(text).error; };
  CHECK(bad(R"({"bogus": 1})") == "scenario.bogus: unknown key");
  CHECK(bad(R"({"rules": [{"reply": {"text": 3}}]})") == "rules[0].reply.text: must be a string");
  CHECK(bad(R"({"faults": {"inject": [{"fault": "drop"}]}})") == "faults.inject[0]: needs rate or first");
  CHECK(bad(R"({"faults": {"latency_ms": {"uniform": [9, 1]}}})") == "faults.latency_ms.uniform: max_ms is below min_ms");
  CHECK(bad(R"({"rules": [{"match": {"regex": "("}}]})").rfind("rules[0].match.regex: does not compile", 0) == 0);
  CHECK(bad(R"({"chunk_chars": 1, "limits": {"stream_events_max": 16}, "default_reply": {"text": "0123456789abcdef"}})") ==
        "default_reply: streams more than limits.stream_events_max events; raise chunk_chars");
  CHECK(bad("not json") == "scenario: not valid JSON");
  CHECK(ml::parse_scenario(base_scenario).value);
}

TEST_CASE("mock_llm: rules match on substring, regex, tools and tool results") {
  auto s = ml::parse_scenario(base_scenario).value;
  ml::conversation c{"openai", "chat", "m", "what is the weather", "", true, false, 0};
  CHECK(ml::match_rule(*s, c) == 0);
  c.has_tools = false;
  CHECK(ml::match_rule(*s, c) == -1);
  c.last_is_tool_result = true;
  c.last_tool_result = "{\"t\": -3}";
  CHECK(ml::match_rule(*s, c) == 1);
  c = {"gemini", "chat", "m", "hi there", "", false, false, 0};
  CHECK(ml::match_rule(*s, c) == 2);
  c.last_user_text = "oh hi there";
  CHECK(ml::match_rule(*s, c) == -1);
  c.kind = "embeddings";
  c.last_user_text = "hi";
  CHECK(ml::match_rule(*s, c) == -1);
}

TEST_CASE("mock_llm: text helpers chunk UTF-8 safely and embed deterministically") {
  CHECK(ml::utf8_chunks("wörld✓", 2) == std::vector<std::string>{"wö", "rl", "d✓"});
  CHECK(ml::utf8_chunks("", 3).empty());
  const auto a = ml::embed_text("The red fox", 8);
  CHECK(a == ml::embed_text("the RED fox", 8));
  double norm = 0;
  for (float x : a) norm += x * x;
  CHECK(norm == doctest::Approx(1.0));
  CHECK(ml::base64_floats({1.0f}) == "AACAPw==");
}

TEST_CASE("mock_llm: openai chat plain reply and usage") {
  mock m{base_scenario};
  auto r = m.openai({{"model", "gpt-x"}, {"messages", {user("hi you")}}});
  REQUIRE(r);
  CHECK(r->status == 200);
  auto body = json::parse(r->body);
  CHECK(body["object"] == "chat.completion");
  CHECK(body["model"] == "gpt-x");
  CHECK(body["choices"][0]["message"]["content"] == "Hello, wörld!");
  CHECK(body["choices"][0]["finish_reason"] == "stop");
  CHECK(body["usage"] == json{{"prompt_tokens", 5}, {"completion_tokens", 7}, {"total_tokens", 12}});
  auto fallback = json::parse(m.openai({{"model", "m"}, {"messages", {user("something else")}}})->body);
  CHECK(fallback["choices"][0]["message"]["content"] == "I have no scripted answer for that.");
  CHECK(fallback["usage"]["prompt_tokens"] == 4);  // 14 characters, about four per token
}

TEST_CASE("mock_llm: compress_responses false ignores Accept-Encoding") {
  const json body = {{"model", "m"}, {"messages", {user("hi")}}};
  const httplib::Headers headers = {{"Authorization", "Bearer k"}, {"Accept-Encoding", "br, gzip"}};
  mock compressing{base_scenario};
  auto c = compressing.post("/v1/chat/completions", body, headers);
  REQUIRE(c);
  CHECK(c->status == 200);
  CHECK_FALSE(c->get_header_value("Content-Encoding").empty());
  auto plain_scenario = json::parse(base_scenario);
  plain_scenario["compress_responses"] = false;
  plain_scenario["limits"]["keep_alive_idle_s"] = 2;
  mock plain{plain_scenario.dump()};
  plain.client->set_keep_alive(true);  // else httplib's client asks to close, and no Keep-Alive comes back
  auto p = plain.post("/v1/chat/completions", body, headers);
  REQUIRE(p);
  CHECK(p->status == 200);
  CHECK(p->get_header_value("Content-Encoding").empty());
  CHECK(p->get_header_value("Keep-Alive") == "timeout=2, max=10000");
  CHECK(json::parse(p->body)["choices"][0]["message"]["content"] == "Hello, wörld!");
}

TEST_CASE("mock_llm: openai stream carries tool-call argument fragments, usage and [DONE]") {
  mock m{base_scenario};
  auto r = m.openai({{"model", "m"}, {"stream", true}, {"stream_options", {{"include_usage", true}}},
                     {"tools", openai_tools}, {"messages", {user("weather in Oslo?")}}});
  REQUIRE(r);
  CHECK(r->get_header_value("Content-Type").rfind("text/event-stream", 0) == 0);
  auto events = parse_sse(r->body);
  REQUIRE(events.size() > 5);
  CHECK(events.back().data == "[DONE]");
  std::string text, args, name, finish;
  for (size_t i = 0; i + 2 < events.size(); ++i) {
    auto c = json::parse(events[i].data);
    CHECK(c["usage"].is_null());
    const auto& delta = c["choices"][0]["delta"];
    if (delta.contains("content")) text += delta["content"].get<std::string>();
    if (delta.contains("tool_calls")) {
      const auto& fn = delta["tool_calls"][0]["function"];
      if (fn.contains("name")) name = fn["name"];
      args += fn["arguments"].get<std::string>();
    }
    if (!c["choices"][0]["finish_reason"].is_null()) finish = c["choices"][0]["finish_reason"];
  }
  CHECK(text == "Checking.");
  CHECK(name == "get_weather");
  CHECK(json::parse(args) == json{{"city", "Oslo"}});
  CHECK(finish == "tool_calls");
  auto usage_chunk = json::parse(events[events.size() - 2].data);
  CHECK(usage_chunk["choices"].empty());
  CHECK(usage_chunk["usage"]["completion_tokens"].get<int>() > 0);
}

TEST_CASE("mock_llm: openai tool result message reaches the answer rule") {
  mock m{base_scenario};
  json messages = {user("weather?"),
                   {{"role", "assistant"}, {"content", nullptr},
                    {"tool_calls", {{{"id", "c1"}, {"type", "function"},
                                     {"function", {{"name", "get_weather"}, {"arguments", "{}"}}}}}}},
                   {{"role", "tool"}, {"tool_call_id", "c1"}, {"content", "{\"t\": -3}"}}};
  auto body = json::parse(m.openai({{"model", "m"}, {"tools", openai_tools}, {"messages", messages}})->body);
  CHECK(body["choices"][0]["message"]["content"] == "Cold: -3.");
  auto plain = json::parse(m.openai({{"model", "m"}, {"tools", openai_tools}, {"messages", {user("weather?")}}})->body);
  CHECK(plain["choices"][0]["message"]["tool_calls"][0]["id"].get<std::string>().rfind("call_", 0) == 0);
}

TEST_CASE("mock_llm: openrouter accepts attribution headers and always streams usage") {
  mock m{base_scenario};
  auto r = m.post("/api/v1/chat/completions", {{"model", "m"}, {"stream", true}, {"messages", {user("hi")}}},
                  {{"Authorization", "Bearer k"}, {"HTTP-Referer", "https://x.invalid"}, {"X-Title", "t"}});
  REQUIRE(r);
  CHECK(r->body.rfind(": OPENROUTER PROCESSING", 0) == 0);
  auto events = parse_sse(r->body);
  CHECK(json::parse(events[events.size() - 2].data)["usage"]["total_tokens"] == 12);
  auto s = m.stats();
  CHECK(s["headers"]["HTTP-Referer"] == 1);
  CHECK(s["headers"]["X-Title"] == 1);
  CHECK(s["routes"]["openrouter.chat_completions"] == 1);
}

TEST_CASE("mock_llm: openai embeddings are deterministic and base64 matches float") {
  mock m{base_scenario};
  auto as_float = json::parse(m.post("/v1/embeddings", {{"model", "e"}, {"input", {"red fox", "dog"}}},
                                     {{"Authorization", "Bearer k"}})->body);
  auto as_b64 = json::parse(m.post("/v1/embeddings", {{"model", "e"}, {"input", {"red fox", "dog"}},
                                                      {"encoding_format", "base64"}},
                                   {{"Authorization", "Bearer k"}})->body);
  REQUIRE(as_float["data"].size() == 2);
  std::vector<float> v = as_float["data"][0]["embedding"].get<std::vector<float>>();
  CHECK(v == ml::embed_text("red fox", 8));
  CHECK(as_b64["data"][0]["embedding"] == ml::base64_floats(v));
  auto dims = json::parse(m.post("/v1/embeddings", {{"model", "e"}, {"input", "x"}, {"dimensions", 3}},
                                 {{"Authorization", "Bearer k"}})->body);
  CHECK(dims["data"][0]["embedding"].size() == 3);
}

TEST_CASE("mock_llm: anthropic messages plain and tool_use, headers checked") {
  mock m{base_scenario};
  json tools = {{{"name", "get_weather"}, {"input_schema", {{"type", "object"}}}}};
  auto body = json::parse(m.anthropic({{"model", "c"}, {"max_tokens", 50}, {"tools", tools},
                                       {"messages", {user("weather?")}}})->body);
  CHECK(body["type"] == "message");
  CHECK(body["stop_reason"] == "tool_use");
  CHECK(body["content"][0] == json{{"type", "text"}, {"text", "Checking."}});
  CHECK(body["content"][1]["type"] == "tool_use");
  CHECK(body["content"][1]["input"] == json{{"city", "Oslo"}});
  CHECK(body["content"][1]["id"].get<std::string>().rfind("toolu_", 0) == 0);
  auto no_version = m.post("/v1/messages", {{"model", "c"}}, {{"x-api-key", "k"}});
  CHECK(no_version->status == 400);
  CHECK(json::parse(no_version->body)["error"]["message"] == "anthropic-version: header is required");
  auto no_key = m.post("/v1/messages", {{"model", "c"}}, {{"anthropic-version", "2023-06-01"}});
  CHECK(no_key->status == 401);
  CHECK(json::parse(no_key->body)["error"]["type"] == "authentication_error");
}

TEST_CASE("mock_llm: anthropic stream is the documented event sequence") {
  mock m{base_scenario};
  json tools = {{{"name", "get_weather"}, {"input_schema", {{"type", "object"}}}}};
  auto r = m.anthropic({{"model", "c"}, {"max_tokens", 50}, {"stream", true}, {"tools", tools},
                        {"messages", {user("weather?")}}});
  auto events = parse_sse(r->body);
  std::vector<std::string> names;
  std::string text, partial;
  for (const auto& e : events) {
    auto d = json::parse(e.data);
    CHECK(d["type"] == e.name);  // the event name repeats the data's type
    if (names.empty() || names.back() != e.name) names.push_back(e.name);
    if (e.name == "content_block_delta" && d["delta"]["type"] == "text_delta") text += d["delta"]["text"];
    if (e.name == "content_block_delta" && d["delta"]["type"] == "input_json_delta") partial += d["delta"]["partial_json"];
    if (e.name == "message_delta") CHECK(d["delta"]["stop_reason"] == "tool_use");
  }
  CHECK(names == std::vector<std::string>{"message_start", "ping", "content_block_start", "content_block_delta",
                                          "content_block_stop", "content_block_start", "content_block_delta",
                                          "content_block_stop", "message_delta", "message_stop"});
  CHECK(text == "Checking.");
  CHECK(json::parse(partial) == json{{"city", "Oslo"}});
}

TEST_CASE("mock_llm: gemini generateContent and streamGenerateContent, sse and json array") {
  mock m{base_scenario};
  json tools = {{{"functionDeclarations", {{{"name", "get_weather"}}}}}};
  json ask = {{"contents", {{{"role", "user"}, {"parts", {{{"text", "weather?"}}}}}}}, {"tools", tools}};
  auto plain = json::parse(m.gemini("generateContent", ask)->body);
  const auto& parts = plain["candidates"][0]["content"]["parts"];
  CHECK(parts[0]["text"] == "Checking.");
  CHECK(parts[1]["functionCall"] == json{{"name", "get_weather"}, {"args", {{"city", "Oslo"}}}});
  CHECK(plain["candidates"][0]["finishReason"] == "STOP");
  CHECK(plain["usageMetadata"]["totalTokenCount"].get<int>() > 0);

  json hi = {{"contents", {{{"parts", {{{"text", "hi"}}}}}}}};
  auto sse = m.gemini("streamGenerateContent?alt=sse", hi);
  CHECK(sse->body.find("\r\n\r\n") != std::string::npos);
  std::string text;
  auto events = parse_sse(sse->body);
  for (const auto& e : events) text += json::parse(e.data)["candidates"][0]["content"]["parts"][0]["text"];
  CHECK(text == "Hello, wörld!");
  CHECK(json::parse(events.back().data)["usageMetadata"]["candidatesTokenCount"] == 7);
  auto array = json::parse(m.gemini("streamGenerateContent", hi)->body);  // no alt=sse: one JSON array
  REQUIRE(array.is_array());
  CHECK(array.size() == events.size());
}

TEST_CASE("mock_llm: gemini batchEmbedContents checks the model and embeds") {
  mock m{base_scenario};
  json req = {{"model", "models/gemini-x"}, {"content", {{"parts", {{{"text", "red fox"}}}}}}};
  auto body = json::parse(m.gemini("batchEmbedContents", {{"requests", {req, req}}})->body);
  REQUIRE(body["embeddings"].size() == 2);
  CHECK(body["embeddings"][0]["values"].get<std::vector<float>>() == ml::embed_text("red fox", 8));
  req["model"] = "models/other";
  auto wrong = m.gemini("batchEmbedContents", {{"requests", {req}}});
  CHECK(wrong->status == 400);
  CHECK(json::parse(wrong->body)["error"]["status"] == "INVALID_ARGUMENT");
}

TEST_CASE("mock_llm: bad requests get each vendor's 400 naming the field") {
  mock m{base_scenario};
  auto openai = m.openai({{"model", "m"}, {"messages", "nope"}});
  CHECK(openai->status == 400);
  CHECK(json::parse(openai->body)["error"]["param"] == "messages");
  CHECK(json::parse(openai->body)["error"]["type"] == "invalid_request_error");
  auto anthropic = m.anthropic({{"model", "c"}, {"messages", {user("x")}}});
  CHECK(anthropic->status == 400);
  CHECK(json::parse(anthropic->body) ==
        json{{"type", "error"}, {"error", {{"type", "invalid_request_error"}, {"message", "max_tokens: Field required"}}}});
  auto gemini = m.gemini("generateContent", json::object());
  CHECK(gemini->status == 400);
  CHECK(json::parse(gemini->body)["error"]["message"].get<std::string>().find("contents") != std::string::npos);
  auto not_json = m.client->Post("/v1/chat/completions", {{"Authorization", "Bearer k"}}, "{", "application/json");
  CHECK(not_json->status == 400);
  auto no_key = m.post("/v1/chat/completions", {{"model", "m"}}, {});
  CHECK(no_key->status == 401);
  auto huge = m.openai({{"model", "m"}, {"messages", {user(std::string(70000, 'x'))}}});
  CHECK(huge->status == 413);
}

std::string with_faults(const std::string& faults) {
  return R"({"name": "faults", "seed": 9, "api_key": "k", "chunk_chars": 2, "faults": )" + faults +
         R"(, "default_reply": {"text": "abcdefghijklmnop"}})";
}

const json hello = {{"model", "m"}, {"messages", {user("x")}}};
const json hello_stream = {{"model", "m"}, {"stream", true}, {"messages", {user("x")}}};

TEST_CASE("mock_llm: 429 carries Retry-After and retry-after-ms in each vendor's shape") {
  mock m{with_faults(R"({"inject": [{"fault": "rate_limit", "first": 3, "retry_after_s": 2, "retry_after_ms": 1500}]})")};
  auto openai = m.openai(hello);
  CHECK(openai->status == 429);
  CHECK(openai->get_header_value("Retry-After") == "2");
  CHECK(openai->get_header_value("retry-after-ms") == "1500");
  CHECK(json::parse(openai->body)["error"]["code"] == "rate_limit_exceeded");
  auto anthropic = m.anthropic({{"model", "c"}, {"max_tokens", 5}, {"messages", {user("x")}}});
  CHECK(anthropic->status == 429);
  CHECK(json::parse(anthropic->body)["error"]["type"] == "rate_limit_error");
  auto gemini = m.gemini("generateContent", {{"contents", {{{"parts", {{{"text", "x"}}}}}}}});
  CHECK(gemini->status == 429);
  CHECK(json::parse(gemini->body)["error"]["status"] == "RESOURCE_EXHAUSTED");
  CHECK(m.openai(hello)->status == 200);  // `first: 3` is spent
  CHECK(m.stats()["faults"]["rate_limit"] == 3);
}

TEST_CASE("mock_llm: 500 and 503 status faults, per rule override") {
  const std::string s = R"({"api_key": "k", "faults": {"inject": [{"fault": "status", "status": 503, "rate": 1}]},
    "rules": [{"name": "calm", "match": {"contains": "calm"}, "reply": {"text": "ok"}, "faults": {"inject": []}},
              {"name": "boom", "match": {"contains": "boom"}, "faults": {"inject": [{"fault": "status", "rate": 1}]}}]})";
  mock m{s};
  auto overloaded = m.openai(hello);
  CHECK(overloaded->status == 503);
  CHECK(json::parse(overloaded->body)["error"]["type"] == "server_error");
  CHECK(m.openai({{"model", "m"}, {"messages", {user("boom")}}})->status == 500);
  CHECK(m.openai({{"model", "m"}, {"messages", {user("calm")}}})->status == 200);
  auto st = m.stats();
  CHECK(st["faults"]["status_503"] == 1);
  CHECK(st["faults"]["status_500"] == 1);
  CHECK(st["statuses"]["200"] == 1);
}

TEST_CASE("mock_llm: a dropped connection truncates the stream after N events") {
  mock m{with_faults(R"({"inject": [{"fault": "drop", "rate": 1, "after_events": 3}]})")};
  std::string received;
  auto r = m.client->Post("/v1/chat/completions", {{"Authorization", "Bearer k"}}, hello_stream.dump(),
                          "application/json");
  // The client sees a transport error, not a complete response.
  CHECK_FALSE(r);
  httplib::Request req;
  req.method = "POST";
  req.path = "/v1/chat/completions";
  req.headers = {{"Authorization", "Bearer k"}};
  req.body = hello_stream.dump();
  req.set_header("Content-Type", "application/json");
  req.content_receiver = [&](const char* data, size_t n, uint64_t, uint64_t) {
    received.append(data, n);
    return true;
  };
  auto streamed = m.client->send(req);
  CHECK_FALSE(streamed);
  CHECK(parse_sse(received).size() == 3);
  CHECK(received.find("[DONE]") == std::string::npos);
  CHECK_FALSE(m.openai(hello));  // a plain body is cut in half
  CHECK(m.stats()["faults"]["drop"] == 3);
}

TEST_CASE("mock_llm: malformed JSON body and stream event") {
  mock m{with_faults(R"({"inject": [{"fault": "malformed", "rate": 1}]})")};
  auto plain = m.openai(hello);
  REQUIRE(plain);
  CHECK(plain->status == 200);
  CHECK(json::parse(plain->body, nullptr, false).is_discarded());
  auto stream = m.openai(hello_stream);
  auto events = parse_sse(stream->body);
  CHECK(json::parse(events[0].data, nullptr, false).is_discarded());
  CHECK(json::parse(events[1].data, nullptr, false).is_object());  // only the first is broken
  CHECK(events.back().data == "[DONE]");
  CHECK(m.stats()["faults"]["malformed"] == 2);
}

TEST_CASE("mock_llm: latency and drip delay the answer without busy waiting") {
  using clock = std::chrono::steady_clock;
  mock m{with_faults(R"({"latency_ms": {"fixed": 120}, "drip_ms": 15})")};
  auto t0 = clock::now();
  CHECK(m.openai(hello)->status == 200);
  const auto plain_ms = std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - t0).count();
  CHECK(plain_ms >= 120);
  t0 = clock::now();
  auto events = parse_sse(m.openai(hello_stream)->body);
  const auto stream_ms = std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - t0).count();
  CHECK(stream_ms >= 120 + 15 * static_cast<long>(events.size() - 1));
  CHECK(m.stats()["faults"]["drip"] == 1);
}

TEST_CASE("mock_llm: latency distributions stay in range") {
  ml::request_rng rng{5, 1};
  for (int i = 0; i < 1000; ++i) {
    const auto u = ml::sample_latency_ms({ml::latency_kind::uniform, 10, 20}, rng);
    CHECK((u >= 10 && u <= 20));
    CHECK(ml::sample_latency_ms({ml::latency_kind::normal, 50, 100}, rng) <= ml::latency_ms_max);
  }
  CHECK(ml::sample_latency_ms({ml::latency_kind::fixed, 7, 0}, rng) == 7);
}

// Waits for the event itself: the request is inside its 60 s latency wait
// before stop() runs, and stop() cuts that wait short (counted), so the
// caller gets no completion rather than the one a finished wait would give.
TEST_CASE("mock_llm: stop interrupts a long latency promptly") {
  mock m{with_faults(R"({"latency_ms": 60000})")};
  bool answered = false;  // written by the caller thread, read after join
  std::thread caller([&] {
    auto reply = m.openai(hello);
    answered = reply && json::parse(reply->body, nullptr, false).contains("choices");
  });
  // A bound for a broken server, not a timing assertion.
  REQUIRE(m.srv->wait_stat("waits", "started", 1, std::chrono::seconds(30)));
  m.srv->stop();
  caller.join();
  CHECK(m.srv->stats_json()["waits"]["interrupted"] == 1);
  CHECK_FALSE(answered);
}

TEST_CASE("mock_llm: faults and replies are deterministic under a seed") {
  const std::string s = with_faults(R"({"inject": [{"fault": "status", "status": 503, "rate": 0.5}]})");
  auto run = [&](uint64_t seed) {
    mock m{s, seed};
    std::string trace;
    for (int i = 0; i < 32; ++i) {
      auto r = m.openai(hello);
      trace += r->status == 200 ? json::parse(r->body)["id"].get<std::string>() + "\n" : "503\n";
    }
    return trace;
  };
  const std::string a = run(42);
  CHECK(a == run(42));
  CHECK(a != run(43));
  CHECK(a.find("503") != std::string::npos);
  CHECK(a.find("chatcmpl-") != std::string::npos);
}

TEST_CASE("mock_llm: stats count requests, connections, routes and rules and reset clears them") {
  mock m{base_scenario};
  (void)m.openai(hello);
  (void)m.anthropic({{"model", "c"}, {"max_tokens", 5}, {"messages", {user("hi")}}});
  (void)m.gemini("generateContent", {{"contents", {{{"parts", {{{"text", "hi"}}}}}}}});
  (void)m.client->Post("/nowhere", "{}", "application/json");
  auto st = m.stats();
  CHECK(st["requests"] == 3);
  CHECK(st["connections"].get<int>() >= 1);
  CHECK(st["routes"]["openai.chat_completions"] == 1);
  CHECK(st["routes"]["anthropic.messages"] == 1);
  CHECK(st["routes"]["gemini.generate_content"] == 1);
  CHECK(st["rules"]["hello"] == 2);
  CHECK(st["rules"]["(default)"] == 1);
  CHECK(st["statuses"]["404"] == 1);
  CHECK(m.srv->stats_json() == st);
  CHECK(m.client->Post("/_mock/reset", "", "text/plain")->status == 200);
  CHECK(m.stats()["requests"] == 0);
}

}  // namespace mock_llm_test

// The mock LLM server's embedding routes (OpenAI and OpenRouter
// /embeddings, Gemini batchEmbedContents and embedContent) get the faults
// chat gets: status codes, 429 with Retry-After, latency, malformed bodies,
// dropped connections; and the `dimensions` fault answers another length
// than asked, for clients' mismatch checks. Driven by cpp-httplib's client.
#include <doctest/doctest.h>
#include <httplib.h>

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "scenario.hpp"
#include "server.hpp"
#include "text.hpp"

namespace mock_llm_embed_test {

using nlohmann::json;
namespace ml = agentgraph::mock_llm;

// Each rule injects one fault into embedding requests whose (last) text
// contains its name.
const char* const scenario = R"({
  "name": "embed-faults", "seed": 4, "api_key": "k", "embedding_dimensions": 8,
  "limits": {"threads": 4},
  "rules": [
    {"name": "boom", "match": {"contains": "boom", "kind": "embeddings"},
     "faults": {"inject": [{"fault": "status", "status": 503, "rate": 1}]}},
    {"name": "limited", "match": {"contains": "limited", "kind": "embeddings"},
     "faults": {"inject": [{"fault": "rate_limit", "rate": 1, "retry_after_s": 3, "retry_after_ms": 2500}]}},
    {"name": "garbled", "match": {"contains": "garbled", "kind": "embeddings"},
     "faults": {"inject": [{"fault": "malformed", "rate": 1}]}},
    {"name": "dropped", "match": {"contains": "dropped", "kind": "embeddings"},
     "faults": {"inject": [{"fault": "drop", "rate": 1}]}},
    {"name": "slow", "match": {"contains": "slow", "kind": "embeddings"}, "faults": {"latency_ms": 5}},
    {"name": "short", "match": {"contains": "short", "kind": "embeddings"},
     "faults": {"inject": [{"fault": "dimensions", "dimensions": 3, "rate": 1}]}}
  ]})";

struct route {
  std::string name;  // the mock's stats key
  std::string path;
  httplib::Headers headers;
  // The request body for one text (and a length asked for, 0: none).
  json (*body)(const std::string& text, uint32_t dims);
  // The first vector of a 200 answer.
  std::vector<float> (*vector)(const json& answer);
};

json openai_body(const std::string& text, uint32_t dims) {
  json b = {{"model", "e"}, {"input", {text}}, {"encoding_format", "float"}};
  if (dims > 0) b["dimensions"] = dims;
  return b;
}

json gemini_content(const std::string& text, uint32_t dims) {
  json r = {{"model", "models/gemini-x"}, {"content", {{"parts", {{{"text", text}}}}}}};
  if (dims > 0) r["outputDimensionality"] = dims;
  return r;
}

json gemini_batch_body(const std::string& text, uint32_t dims) {
  return {{"requests", {gemini_content(text, dims)}}};
}

std::vector<float> openai_vector(const json& a) { return a["data"][0]["embedding"].get<std::vector<float>>(); }
std::vector<float> batch_vector(const json& a) { return a["embeddings"][0]["values"].get<std::vector<float>>(); }
std::vector<float> single_vector(const json& a) { return a["embedding"]["values"].get<std::vector<float>>(); }

std::vector<route> routes() {
  const httplib::Headers bearer = {{"Authorization", "Bearer k"}};
  const httplib::Headers google = {{"x-goog-api-key", "k"}};
  return {{"openai.embeddings", "/v1/embeddings", bearer, openai_body, openai_vector},
          {"openrouter.embeddings", "/api/v1/embeddings", bearer, openai_body, openai_vector},
          {"gemini.batch_embed_contents", "/v1beta/models/gemini-x:batchEmbedContents", google, gemini_batch_body,
           batch_vector},
          {"gemini.embed_content", "/v1beta/models/gemini-x:embedContent", google, gemini_content, single_vector}};
}

struct mock {
  std::unique_ptr<ml::server> srv;
  std::unique_ptr<httplib::Client> client;

  mock() {
    auto loaded = ml::parse_scenario(scenario);
    REQUIRE_MESSAGE(loaded.value, loaded.error);
    std::string error;
    srv = ml::server::start({loaded.value, std::nullopt, 0}, &error);
    REQUIRE_MESSAGE(srv, error);
    client = std::make_unique<httplib::Client>("127.0.0.1", srv->port());
    client->set_read_timeout(10, 0);
  }

  httplib::Result post(const route& r, const std::string& text, uint32_t dims = 0) {
    return client->Post(r.path.c_str(), r.headers, r.body(text, dims).dump(), "application/json");
  }
};


TEST_CASE("mock_llm embeddings: every route answers, honours the length asked and gets every fault") {
  for (const auto& r : routes()) {
    INFO(r.name);
    mock m;
    auto plain = m.post(r, "red fox");
    REQUIRE(plain);
    REQUIRE(plain->status == 200);
    CHECK(r.vector(json::parse(plain->body)) == ml::embed_text("red fox", 8));
    auto asked = m.post(r, "red fox", 4);
    REQUIRE(asked);
    CHECK(r.vector(json::parse(asked->body)) == ml::embed_text("red fox", 4));

    auto boom = m.post(r, "boom now");
    REQUIRE(boom);
    CHECK(boom->status == 503);
    CHECK(json::parse(boom->body).contains("error"));
    auto limited = m.post(r, "limited now");
    REQUIRE(limited);
    CHECK(limited->status == 429);
    CHECK(limited->get_header_value("Retry-After") == "3");
    CHECK(limited->get_header_value("retry-after-ms") == "2500");
    auto garbled = m.post(r, "garbled now");
    REQUIRE(garbled);
    CHECK(garbled->status == 200);
    CHECK(json::parse(garbled->body, nullptr, false).is_discarded());
    CHECK_FALSE(m.post(r, "dropped now"));  // the body is cut: a transport error
    auto slow = m.post(r, "slow now");
    REQUIRE(slow);
    CHECK(slow->status == 200);
    // Asked 4 (or nothing), the `dimensions` fault answers 3.
    for (uint32_t dims : {0u, 4u}) {
      auto shortened = m.post(r, "short now", dims);
      REQUIRE(shortened);
      CHECK(shortened->status == 200);
      CHECK(r.vector(json::parse(shortened->body)) == ml::embed_text("short now", 3));
    }

    auto stats = m.srv->stats_json();
    CHECK(stats["routes"][r.name] == 9);
    CHECK(stats["faults"]["status_503"] == 1);
    CHECK(stats["faults"]["rate_limit"] == 1);
    CHECK(stats["faults"]["malformed"] == 1);
    CHECK(stats["faults"]["drop"] == 1);
    CHECK(stats["faults"]["dimensions"] == 2);
    CHECK(stats["waits"]["started"] == 1);  // the latency of "slow"
  }
}

TEST_CASE("mock_llm embeddings: embedContent checks its request like the batch does") {
  mock m;
  const auto all = routes();
  const auto& single = all[3];
  json wrong_model = {{"model", "models/other"}, {"content", {{"parts", {{{"text", "x"}}}}}}};
  auto r = m.client->Post(single.path.c_str(), single.headers, wrong_model.dump(), "application/json");
  REQUIRE(r);
  CHECK(r->status == 400);
  CHECK(json::parse(r->body)["error"]["message"].get<std::string>().find("EmbedContentRequest.model") !=
        std::string::npos);
  // The URL names the model; the body may leave it out.
  json no_model = {{"content", {{"parts", {{{"text", "x"}}}}}}};
  auto ok = m.client->Post(single.path.c_str(), single.headers, no_model.dump(), "application/json");
  REQUIRE(ok);
  CHECK(ok->status == 200);
  json no_content = {{"model", "models/gemini-x"}};
  auto bad = m.client->Post(single.path.c_str(), single.headers, no_content.dump(), "application/json");
  REQUIRE(bad);
  CHECK(bad->status == 400);
  json huge = {{"content", {{"parts", {{{"text", "x"}}}}}}, {"outputDimensionality", 5000}};
  auto too_long = m.client->Post(single.path.c_str(), single.headers, huge.dump(), "application/json");
  REQUIRE(too_long);
  CHECK(too_long->status == 400);
  auto no_key = m.client->Post(single.path.c_str(), no_model.dump(), "application/json");
  REQUIRE(no_key);
  CHECK(no_key->status != 200);
}

TEST_CASE("mock_llm embeddings: the dimensions fault needs its length") {
  auto missing = ml::parse_scenario(
      R"({"faults": {"inject": [{"fault": "dimensions", "rate": 1}]}})");
  CHECK_FALSE(missing.value);
  CHECK(missing.error == "faults.inject[0].dimensions: is required for the dimensions fault");
  auto too_long = ml::parse_scenario(
      R"({"faults": {"inject": [{"fault": "dimensions", "dimensions": 5000, "rate": 1}]}})");
  CHECK_FALSE(too_long.value);
  CHECK(too_long.error.find("faults.inject[0].dimensions: must be in [1, 4096]") != std::string::npos);
  // A chat request that draws it is answered as usual.
  auto chat = ml::parse_scenario(
      R"({"api_key": "k", "faults": {"inject": [{"fault": "dimensions", "dimensions": 3, "rate": 1}]}})");
  REQUIRE(chat.value);
  std::string error;
  auto srv = ml::server::start({chat.value, std::nullopt, 0}, &error);
  REQUIRE_MESSAGE(srv, error);
  httplib::Client client{"127.0.0.1", srv->port()};
  json hello = {{"model", "m"}, {"messages", {{{"role", "user"}, {"content", "hi"}}}}};
  auto r = client.Post("/v1/chat/completions", {{"Authorization", "Bearer k"}}, hello.dump(), "application/json");
  REQUIRE(r);
  CHECK(r->status == 200);
  srv->stop();
}

}  // namespace mock_llm_embed_test

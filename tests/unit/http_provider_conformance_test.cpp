// Our providers pass the scenarios the vendors' official SDKs pass
// (tests/integration/mock_llm_conformance.sh runs tools/peers/conformance.mjs
// against the same scenario file): plain, streamed, tool call, tool result,
// a 429 with Retry-After that recovers, and embeddings — for the four hosted
// wire formats, with the expected texts read from the scenario itself.
#include "http_provider_fixture.hpp"

#include <fstream>
#include <sstream>

namespace http_provider_conformance_test {

using namespace http_provider_fixture;
using nlohmann::json;

std::string read_scenario() {
  std::ifstream in{AGENTGRAPH_SOURCE_DIR "/tests/data/mock_llm/conformance.json"};
  REQUIRE(in);
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

const json& rule(const json& scn, const std::string& name) {
  for (const auto& r : scn["rules"])
    if (r["name"] == name)
      return r;
  FAIL("no rule " << name);
  return scn;
}

tool_definition weather_tool() {
  return {"get_weather", "Current weather in a city",
          Value::from_json(R"({"type":"object","properties":{"city":{"type":"string"},)"
                           R"("unit":{"type":"string"}},"required":["city"]})")
            .value()};
}


TEST_CASE("http provider: the SDK conformance scenarios pass through our providers too") {
  const auto text = read_scenario();
  const auto scn = json::parse(text);
  const auto& greeting = rule(scn, "greeting");
  const auto& weather_call = rule(scn, "weather-call")["reply"]["tool_calls"][0];
  const std::string weather_answer = rule(scn, "weather-answer")["reply"]["text"];
  const std::string recovered = rule(scn, "flaky")["reply"]["text"];
  fixture f{text};
  for (const std::string kind : {"openai", "openrouter", "anthropic", "gemini"}) {
    INFO(kind);
    auto c = f.config(kind, kind);
    c.api_key = scn["api_key"];
    auto p = f.spawn(c);
    // plain
    auto plain = f.chat(p, fixture::ask(kind + "-plain", "Say hello, please."));
    REQUIRE_MESSAGE(plain, describe(plain.error()));
    CHECK(plain->message.content == greeting["reply"]["text"].get<std::string>());
    CHECK(plain->usage.prompt_tokens == greeting["usage"]["prompt_tokens"].get<int64_t>());
    CHECK(plain->usage.completion_tokens == greeting["usage"]["completion_tokens"].get<int64_t>());
    // streamed
    auto log = std::make_shared<chunk_log>();
    auto streamed = f.stream(p, fixture::ask(kind + "-stream", "Say hello, please."), log);
    REQUIRE_MESSAGE(streamed, describe(streamed.error()));
    CHECK(streamed->message.content == plain->message.content);
    REQUIRE(log->wait_for(f.stats(p).stream_chunks));
    CHECK(log->text() == plain->message.content);
    // tool call, then the tool's result back to the model
    auto ask = fixture::ask(kind + "-tool", "What is the weather in Paris?", {weather_tool()});
    auto call = f.chat(p, ask);
    REQUIRE_MESSAGE(call, describe(call.error()));
    REQUIRE(call->message.tool_calls.size() == 1);
    const auto& tc = call->message.tool_calls[0];
    CHECK(tc.name == weather_call["name"].get<std::string>());
    CHECK(json::parse(tc.arguments.to_json()) == weather_call["arguments"]);
    auto follow = ask;
    follow.request_id = kind + "-tool-result";
    chat_message assistant = call->message;
    assistant.role = chat_role::assistant;
    follow.messages.push_back(assistant);
    follow.messages.push_back({chat_role::tool, R"({"temperature": 22})", {}, tc.id, tc.name});
    auto answer = f.chat(p, follow);
    REQUIRE_MESSAGE(answer, describe(answer.error()));
    CHECK(answer->message.content == weather_answer);
    // 429 with Retry-After on the first request of the flaky rule: one retry
    auto before = f.stats(p).retries;
    auto flaky = f.chat(p, fixture::ask(kind + "-flaky", "this one is flaky"));
    if (kind == "openai") {  // the injection's `first` counter is shared: only the first api sees it
      REQUIRE_MESSAGE(flaky, describe(flaky.error()));
      CHECK(f.stats(p).retries == before + 1);
    }
    REQUIRE_MESSAGE(flaky, describe(flaky.error()));
    CHECK(flaky->message.content == recovered);
    // embeddings
    if (kind != "anthropic") {
      auto e = f.embed(p, {"a red apple", "a green pear"});
      REQUIRE_MESSAGE(e, describe(e.error()));
      REQUIRE(e->vectors.size() == 2);
      CHECK(e->vectors[0].size() == scn["embedding_dimensions"].get<size_t>());
    }
  }
}

}  // namespace http_provider_conformance_test

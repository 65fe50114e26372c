#include <doctest/doctest.h>

#include "net/llm/wire_codec.hpp"
#include "runtime/error.hpp"
#include "runtime/value.hpp"
#include "wire_test_fixture.hpp"

using agentgraph::chat_role;
using agentgraph::Value;
using agentgraph::wire_kind;

namespace wire_encode_test {

Value json(std::string_view text) {
  auto v = Value::from_json(text);
  REQUIRE(v);
  return *v;
}

// A conversation with every message kind: system prompt, a user question,
// an assistant turn with two parallel tool calls, both results (the second
// without a tool name, so Gemini must look it up), a text answer and a
// follow-up.
agentgraph::chat_request conversation(std::string model) {
  agentgraph::chat_request req;
  req.request_id = "req-1";
  req.model = std::move(model);
  req.temperature = 0.25;
  req.max_tokens = 256;
  req.messages.push_back({chat_role::system, "You are terse.", {}, {}, {}});
  req.messages.push_back({chat_role::user, "Weather in Paris and 6*7?", {}, {}, {}});
  agentgraph::chat_message calls{chat_role::assistant, "", {}, {}, {}};
  calls.tool_calls.push_back({"call_abc", "get_weather", json(R"({"location":"Paris"})")});
  calls.tool_calls.push_back({"call_def", "calculator", json(R"({"expression":"6*7"})")});
  req.messages.push_back(calls);
  req.messages.push_back({chat_role::tool, "18C", {}, "call_abc", "get_weather"});
  req.messages.push_back({chat_role::tool, "42", {}, "call_def", ""});
  req.messages.push_back({chat_role::assistant, "It is 18C; 6*7=42.", {}, {}, {}});
  req.messages.push_back({chat_role::user, "Thanks", {}, {}, {}});
  req.tools.push_back({"get_weather", "Current weather", json(R"({"type":"object",
    "properties":{"location":{"type":"string"}},"required":["location"]})")});
  req.tools.push_back({"calculator", "Evaluates arithmetic",
                       json(R"({"type":"object","properties":{"expression":{"type":"string"}}})")});
  return req;
}

constexpr std::string_view weather_schema =
  R"({"type":"object","properties":{"location":{"type":"string"}},"required":["location"]})";
constexpr std::string_view calc_schema =
  R"({"type":"object","properties":{"expression":{"type":"string"}}})";

std::string header(const agentgraph::http_request_spec& spec, std::string_view name) {
  std::string found = "<none>";
  int count = 0;
  for (const auto& [n, v] : spec.headers)
    if (n == name) {
      found = v;
      ++count;
    }
  REQUIRE(count <= 1);
  return found;
}

Value body_of(const agentgraph::http_request_spec& spec) {
  return json(spec.body);
}

std::string replace_all(std::string text, std::string_view from, std::string_view to) {
  for (auto pos = text.find(from); pos != std::string::npos; pos = text.find(from, pos + to.size()))
    text.replace(pos, from.size(), to);
  return text;
}

std::string openai_golden(std::string_view max_field) {
  std::string tmpl = R"({"model":"gpt-4o-mini","messages":[
    {"role":"system","content":"You are terse."},
    {"role":"user","content":"Weather in Paris and 6*7?"},
    {"role":"assistant","content":null,"tool_calls":[
      {"id":"call_abc","type":"function","function":{"name":"get_weather","arguments":"{\"location\":\"Paris\"}"}},
      {"id":"call_def","type":"function","function":{"name":"calculator","arguments":"{\"expression\":\"6*7\"}"}}]},
    {"role":"tool","tool_call_id":"call_abc","content":"18C"},
    {"role":"tool","tool_call_id":"call_def","content":"42"},
    {"role":"assistant","content":"It is 18C; 6*7=42."},
    {"role":"user","content":"Thanks"}],
   "tools":[{"type":"function","function":{"name":"get_weather","description":"Current weather","parameters":WEATHER}},
            {"type":"function","function":{"name":"calculator","description":"Evaluates arithmetic","parameters":CALC}}],
   "temperature":0.25,"MAXFIELD":256})";
  tmpl = replace_all(tmpl, "WEATHER", weather_schema);
  tmpl = replace_all(tmpl, "CALC", calc_schema);
  return replace_all(tmpl, "MAXFIELD", max_field);
}

}  // namespace wire_encode_test

using namespace wire_encode_test;

TEST_CASE("wire: kinds round-trip through their names, unknown names are invalid_argument") {
  for (auto k : {wire_kind::openai, wire_kind::anthropic, wire_kind::gemini, wire_kind::openrouter,
                 wire_kind::openai_compatible}) {
    auto back = agentgraph::wire_kind_from_string(agentgraph::to_string(k));
    REQUIRE(back);
    CHECK(*back == k);
  }
  auto bad = agentgraph::wire_kind_from_string("openia");
  REQUIRE_FALSE(bad);
  CHECK(agentgraph::errc_of(bad.error()) == agentgraph::errc::invalid_argument);
}

TEST_CASE("wire: settings get per-kind defaults, bad settings are rejected without the key") {
  struct row {
    wire_kind kind;
    const char* base_url;
  };
  for (auto [kind, url] : {row{wire_kind::openai, "https://api.openai.com/v1"},
                           row{wire_kind::anthropic, "https://api.anthropic.com/v1"},
                           row{wire_kind::gemini, "https://generativelanguage.googleapis.com/v1beta"},
                           row{wire_kind::openrouter, "https://openrouter.ai/api/v1"},
                           row{wire_kind::openai_compatible, "http://127.0.0.1:11434/v1"}}) {
    auto c = wire_test::codec(kind);
    REQUIRE(c);
    CHECK(c->settings().base_url == url);  // trailing slash of the compatible URL removed
  }
  CHECK(wire_test::codec(wire_kind::anthropic)->settings().anthropic_version == "2023-06-01");
  CHECK(wire_test::codec(wire_kind::openai)->settings().max_tokens_field == "max_completion_tokens");
  CHECK(wire_test::codec(wire_kind::openrouter)->settings().max_tokens_field == "max_tokens");

  auto s = wire_test::settings(wire_kind::openai_compatible);
  s.base_url.clear();
  std::vector<agentgraph::wire_settings> bad{s};
  s.base_url = "ftp://host/v1";
  bad.push_back(s);
  s.base_url = "https://host/v1?key=" + wire_test::test_key;
  bad.push_back(s);
  s = wire_test::settings(wire_kind::openai);
  s.api_key = wire_test::test_key + "\r\nX-Evil: 1";
  bad.push_back(s);
  s = wire_test::settings(wire_kind::openrouter);
  s.openrouter_title = "a\nb";
  bad.push_back(s);
  for (const auto& b : bad) {
    auto c = agentgraph::make_wire_codec(b);
    REQUIRE_FALSE(c);
    CHECK(agentgraph::errc_of(c.error()) == agentgraph::errc::invalid_argument);
    CHECK(agentgraph::describe(c.error()).find(wire_test::test_key) == std::string::npos);
  }
}

TEST_CASE("wire: openai encodes messages, tools, tool calls and stream options (golden)") {
  auto c = wire_test::codec(wire_kind::openai);
  auto spec = c->encode_chat(conversation("gpt-4o-mini"), false);
  REQUIRE(spec);
  CHECK(spec->method == "POST");
  CHECK(spec->url == "https://api.openai.com/v1/chat/completions");
  CHECK_FALSE(spec->stream);
  CHECK(header(*spec, "Authorization") == "Bearer " + wire_test::test_key);
  CHECK(header(*spec, "Content-Type") == "application/json");
  CHECK(header(*spec, "Accept") == "<none>");
  CHECK(body_of(*spec) == json(openai_golden("max_completion_tokens")));

  auto streamed = c->encode_chat(conversation("gpt-4o-mini"), true);
  REQUIRE(streamed);
  CHECK(streamed->stream);
  CHECK(header(*streamed, "Accept") == "text/event-stream");
  auto expected = json(openai_golden("max_completion_tokens"));
  expected["stream"] = true;
  expected["stream_options"]["include_usage"] = true;
  CHECK(body_of(*streamed) == expected);
}

TEST_CASE("wire: openrouter and openai_compatible reuse the OpenAI body with their own URL, "
          "headers and max-tokens field") {
  auto s = wire_test::settings(wire_kind::openrouter);
  s.openrouter_referer = "https://example.org/app";
  s.openrouter_title = "agentgraph";
  auto router = agentgraph::make_wire_codec(s);
  REQUIRE(router);
  auto spec = (*router)->encode_chat(conversation("gpt-4o-mini"), false);
  REQUIRE(spec);
  CHECK(spec->url == "https://openrouter.ai/api/v1/chat/completions");
  CHECK(header(*spec, "HTTP-Referer") == "https://example.org/app");
  CHECK(header(*spec, "X-Title") == "agentgraph");
  CHECK(header(*spec, "Authorization") == "Bearer " + wire_test::test_key);
  CHECK(body_of(*spec) == json(openai_golden("max_tokens")));

  // Attribution headers belong to OpenRouter only.
  auto o = wire_test::settings(wire_kind::openai);
  o.openrouter_title = "agentgraph";
  auto plain = (*agentgraph::make_wire_codec(o))->encode_chat(conversation("gpt-4o-mini"), false);
  CHECK(header(*plain, "X-Title") == "<none>");

  auto local = wire_test::settings(wire_kind::openai_compatible);
  local.api_key.clear();  // Ollama needs none: then no Authorization header at all
  local.max_tokens_field = "max_completion_tokens";
  auto compat = agentgraph::make_wire_codec(local);
  REQUIRE(compat);
  auto cspec = (*compat)->encode_chat(conversation("gpt-4o-mini"), false);
  REQUIRE(cspec);
  CHECK(cspec->url == "http://127.0.0.1:11434/v1/chat/completions");
  CHECK(header(*cspec, "Authorization") == "<none>");
  CHECK(body_of(*cspec) == json(openai_golden("max_completion_tokens")));
}

TEST_CASE("wire: anthropic encodes the system prompt, tool_use and merged tool_result turns "
          "(golden)") {
  auto c = wire_test::codec(wire_kind::anthropic);
  auto spec = c->encode_chat(conversation("claude-sonnet-4-20250514"), true);
  REQUIRE(spec);
  CHECK(spec->url == "https://api.anthropic.com/v1/messages");
  CHECK(header(*spec, "x-api-key") == wire_test::test_key);
  CHECK(header(*spec, "anthropic-version") == "2023-06-01");
  CHECK(header(*spec, "Authorization") == "<none>");
  std::string golden = R"({"model":"claude-sonnet-4-20250514","max_tokens":256,
    "system":"You are terse.","temperature":0.25,"stream":true,
    "messages":[
      {"role":"user","content":[{"type":"text","text":"Weather in Paris and 6*7?"}]},
      {"role":"assistant","content":[
        {"type":"tool_use","id":"call_abc","name":"get_weather","input":{"location":"Paris"}},
        {"type":"tool_use","id":"call_def","name":"calculator","input":{"expression":"6*7"}}]},
      {"role":"user","content":[
        {"type":"tool_result","tool_use_id":"call_abc","content":"18C"},
        {"type":"tool_result","tool_use_id":"call_def","content":"42"}]},
      {"role":"assistant","content":[{"type":"text","text":"It is 18C; 6*7=42."}]},
      {"role":"user","content":[{"type":"text","text":"Thanks"}]}],
    "tools":[{"name":"get_weather","description":"Current weather","input_schema":WEATHER},
             {"name":"calculator","description":"Evaluates arithmetic","input_schema":CALC}]})";
  golden = replace_all(replace_all(golden, "WEATHER", weather_schema), "CALC", calc_schema);
  CHECK(body_of(*spec) == json(golden));
}

TEST_CASE("wire: gemini encodes contents, systemInstruction, function parts and "
          "generationConfig (golden)") {
  auto c = wire_test::codec(wire_kind::gemini);
  auto spec = c->encode_chat(conversation("gemini-2.0-flash"), false);
  REQUIRE(spec);
  CHECK(spec->url
        == "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.0-flash:generateContent");
  CHECK(header(*spec, "x-goog-api-key") == wire_test::test_key);
  std::string golden = R"({"contents":[
      {"role":"user","parts":[{"text":"Weather in Paris and 6*7?"}]},
      {"role":"model","parts":[
        {"functionCall":{"name":"get_weather","args":{"location":"Paris"}}},
        {"functionCall":{"name":"calculator","args":{"expression":"6*7"}}}]},
      {"role":"user","parts":[
        {"functionResponse":{"name":"get_weather","response":{"result":"18C"}}},
        {"functionResponse":{"name":"calculator","response":{"result":42}}}]},
      {"role":"model","parts":[{"text":"It is 18C; 6*7=42."}]},
      {"role":"user","parts":[{"text":"Thanks"}]}],
    "systemInstruction":{"parts":[{"text":"You are terse."}]},
    "tools":[{"functionDeclarations":[
      {"name":"get_weather","description":"Current weather","parameters":WEATHER},
      {"name":"calculator","description":"Evaluates arithmetic","parameters":CALC}]}],
    "generationConfig":{"temperature":0.25,"maxOutputTokens":256}})";
  golden = replace_all(replace_all(golden, "WEATHER", weather_schema), "CALC", calc_schema);
  CHECK(body_of(*spec) == json(golden));

  auto streamed = c->encode_chat(conversation("models/gemini-2.0-flash"), true);
  REQUIRE(streamed);
  CHECK(streamed->url == "https://generativelanguage.googleapis.com/v1beta/models/"
                         "gemini-2.0-flash:streamGenerateContent?alt=sse");
  CHECK(body_of(*streamed) == json(golden));

  // A tool without parameters is declared without a schema (Gemini rejects
  // an OBJECT schema with no properties); a JSON-object tool result is sent
  // as the response object itself.
  auto req = conversation("gemini-2.0-flash");
  req.tools[1].parameters = Value{};
  req.messages[4].content = R"({"value":42})";
  auto spec2 = c->encode_chat(req, false);
  REQUIRE(spec2);
  auto body = body_of(*spec2);
  const auto& decl = body["tools"].as_array()[0].find("functionDeclarations")->as_array()[1];
  CHECK(decl.find("parameters") == nullptr);
  const auto& part = body["contents"].as_array()[2].find("parts")->as_array()[1];
  CHECK(*part.find("functionResponse")->find("response") == json(R"({"value":42})"));
}

TEST_CASE("wire: the api key is only in its header, never in the url or the body") {
  for (auto kind : {wire_kind::openai, wire_kind::anthropic, wire_kind::gemini,
                    wire_kind::openrouter, wire_kind::openai_compatible}) {
    CAPTURE(agentgraph::to_string(kind));
    auto c = wire_test::codec(kind);
    std::vector<agentgraph::http_request_spec> specs;
    for (bool stream : {false, true})
      specs.push_back(*c->encode_chat(conversation("some-model"), stream));
    if (auto e = c->encode_embed({"some-model", {"a", "b"}}))
      specs.push_back(*e);
    for (const auto& spec : specs) {
      CHECK(spec.url.find(wire_test::test_key) == std::string::npos);
      CHECK(spec.body.find(wire_test::test_key) == std::string::npos);
      int holders = 0;
      for (const auto& [name, value] : spec.headers)
        if (value.find(wire_test::test_key) != std::string::npos) {
          ++holders;
          CHECK(agentgraph::is_secret_header(name));
        }
      CHECK(holders == 1);
      CHECK(agentgraph::to_loggable(spec).find(wire_test::test_key) == std::string::npos);
    }
  }
}

TEST_CASE("wire: to_loggable redacts secret headers and keeps the rest") {
  agentgraph::http_request_spec spec{"POST", "https://h/v1/x",
                                     {{"authorization", "Bearer k1"}, {"X-API-KEY", "k2"},
                                      {"x-goog-api-key", "k3"}, {"X-Title", "app"}},
                                     "{\"secret\":1}", false};
  auto text = agentgraph::to_loggable(spec);
  CHECK(text == "POST https://h/v1/x\nauthorization: [redacted]\nX-API-KEY: [redacted]\n"
                "x-goog-api-key: [redacted]\nX-Title: app");
}

TEST_CASE("wire: invalid chat and embed requests are invalid_argument") {
  auto base = conversation("m");
  std::vector<agentgraph::chat_request> bad(5, base);
  bad[0].model.clear();
  bad[1].messages.clear();
  bad[2].max_tokens = 0;
  bad[3].messages[3].tool_call_id.clear();
  bad[4].tools[0].name.clear();
  for (auto kind : {wire_kind::openai, wire_kind::anthropic, wire_kind::gemini}) {
    auto c = wire_test::codec(kind);
    for (const auto& req : bad) {
      auto spec = c->encode_chat(req, false);
      REQUIRE_FALSE(spec);
      CHECK(agentgraph::errc_of(spec.error()) == agentgraph::errc::invalid_argument);
    }
    CHECK_FALSE(c->encode_embed({"m", {}}));
  }
  auto gem = wire_test::codec(wire_kind::gemini);
  for (const char* model : {"../admin", "gemini?key=x", "a b", "m:generateContent#"}) {
    auto spec = gem->encode_chat(conversation(model), false);
    REQUIRE_FALSE(spec);
    CHECK(agentgraph::errc_of(spec.error()) == agentgraph::errc::invalid_argument);
  }
  // Gemini answers calls by name: a result for an unknown call cannot be sent.
  auto orphan = conversation("gemini-2.0-flash");
  orphan.messages[4].tool_call_id = "call_zzz";
  CHECK_FALSE(gem->encode_chat(orphan, false));
}

TEST_CASE("wire: embeddings encode for openai and gemini, anthropic is unsupported") {
  agentgraph::embed_request req{"text-embedding-3-small", {"alpha", "beta"}};
  auto openai = wire_test::codec(wire_kind::openai)->encode_embed(req);
  REQUIRE(openai);
  CHECK(openai->url == "https://api.openai.com/v1/embeddings");
  CHECK(body_of(*openai)
        == json(R"({"model":"text-embedding-3-small","input":["alpha","beta"]})"));

  auto gemini = wire_test::codec(wire_kind::gemini)->encode_embed({"text-embedding-004", req.inputs});
  REQUIRE(gemini);
  CHECK(gemini->url == "https://generativelanguage.googleapis.com/v1beta/models/"
                       "text-embedding-004:batchEmbedContents");
  CHECK(body_of(*gemini) == json(R"({"requests":[
    {"model":"models/text-embedding-004","content":{"parts":[{"text":"alpha"}]}},
    {"model":"models/text-embedding-004","content":{"parts":[{"text":"beta"}]}}]})"));

  auto anthropic = wire_test::codec(wire_kind::anthropic);
  auto e = anthropic->encode_embed(req);
  REQUIRE_FALSE(e);
  CHECK(agentgraph::errc_of(e.error()) == agentgraph::errc::unsupported);
  auto d = anthropic->decode_embed(200, "{}");
  REQUIRE_FALSE(d);
  CHECK(agentgraph::errc_of(d.error()) == agentgraph::errc::unsupported);

  agentgraph::wire_limits small;
  small.embed_inputs_max = 1;
  auto limited = agentgraph::make_wire_codec(wire_test::settings(wire_kind::openai), small);
  CHECK_FALSE((*limited)->encode_embed(req));
}

TEST_CASE("wire: embedding dimensions go on the wire only when asked") {
  agentgraph::embed_request req{"text-embedding-3-small", {"alpha", "beta"}, 256};
  for (auto kind : {wire_kind::openai, wire_kind::openai_compatible, wire_kind::openrouter}) {
    auto openai = wire_test::codec(kind)->encode_embed(req);
    REQUIRE(openai);
    CHECK(body_of(*openai)
          == json(R"({"model":"text-embedding-3-small","input":["alpha","beta"],"dimensions":256})"));
  }
  auto gemini = wire_test::codec(wire_kind::gemini)->encode_embed({"text-embedding-004", req.inputs, 8});
  REQUIRE(gemini);
  // batchEmbedContents: one outputDimensionality per request, none batch-wide.
  CHECK(body_of(*gemini) == json(R"({"requests":[
    {"model":"models/text-embedding-004","content":{"parts":[{"text":"alpha"}]},"outputDimensionality":8},
    {"model":"models/text-embedding-004","content":{"parts":[{"text":"beta"}]},"outputDimensionality":8}]})"));
  // 0: the model's own length, and no field at all.
  auto plain = wire_test::codec(wire_kind::gemini)->encode_embed({"text-embedding-004", {"x"}, 0});
  REQUIRE(plain);
  CHECK(body_of(*plain)
        == json(R"({"requests":[{"model":"models/text-embedding-004","content":{"parts":[{"text":"x"}]}}]})"));
  // Above the decoder's own bound the answer could never be accepted.
  agentgraph::wire_limits small;
  small.embed_dimensions_max = 128;
  auto limited = agentgraph::make_wire_codec(wire_test::settings(wire_kind::openai), small);
  auto too_long = (*limited)->encode_embed(req);
  REQUIRE_FALSE(too_long);
  CHECK(agentgraph::errc_of(too_long.error()) == agentgraph::errc::invalid_argument);
  // Gemini's batch holds at most 100 requests.
  std::vector<std::string> many(101, "x");
  auto too_many = wire_test::codec(wire_kind::gemini)->encode_embed({"text-embedding-004", many});
  REQUIRE_FALSE(too_many);
  CHECK(agentgraph::describe(too_many.error()).find("at most 100 inputs") != std::string::npos);
  many.pop_back();
  CHECK(wire_test::codec(wire_kind::gemini)->encode_embed({"text-embedding-004", many}));
  auto anthropic = wire_test::codec(wire_kind::anthropic)->encode_embed(req);
  REQUIRE_FALSE(anthropic);
  CHECK(agentgraph::errc_of(anthropic.error()) == agentgraph::errc::unsupported);
}

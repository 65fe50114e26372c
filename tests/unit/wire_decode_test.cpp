#include <doctest/doctest.h>

#include "net/llm/wire_codec.hpp"
#include "runtime/error.hpp"
#include "runtime/value.hpp"
#include "wire_test_fixture.hpp"

using agentgraph::errc;
using agentgraph::finish_reason;
using agentgraph::wire_kind;

namespace wire_decode_test {

agentgraph::chat_response decoded(wire_kind kind, const char* sample) {
  auto r = wire_test::codec(kind)->decode_chat(200, wire_test::read_sample(sample));
  if (!r)
    FAIL(agentgraph::describe(r.error()));
  return *r;
}

std::string error_text(wire_kind kind, int status, std::string_view body) {
  auto r = wire_test::codec(kind)->decode_chat(status, body);
  REQUIRE_FALSE(r);
  CHECK(agentgraph::errc_of(r.error()) == errc::provider_error);
  return agentgraph::describe(r.error());
}

}  // namespace wire_decode_test

using namespace wire_decode_test;

TEST_CASE("wire: openai plain and tool-call responses decode") {
  auto plain = decoded(wire_kind::openai, "openai_chat.json");
  CHECK(plain.message.role == agentgraph::chat_role::assistant);
  CHECK(plain.message.content == "Hello there! \xF0\x9F\x99\x82");
  CHECK(plain.finish == finish_reason::stop);
  CHECK(plain.usage.prompt_tokens == 12);
  CHECK(plain.usage.completion_tokens == 4);
  CHECK(plain.model == "gpt-4o-mini-2024-07-18");

  auto tools = decoded(wire_kind::openai, "openai_tool_call.json");
  CHECK(tools.message.content.empty());
  CHECK(tools.finish == finish_reason::tool_calls);
  REQUIRE(tools.message.tool_calls.size() == 2);
  CHECK(wire_test::render(tools.message.tool_calls[0])
        == R"(call call_abc get_weather {"location":"Paris"})");
  CHECK(wire_test::render(tools.message.tool_calls[1])
        == R"(call call_def calculator {"expression":"6*7"})");
  CHECK(tools.usage.total() == 110);

  // The same bodies decode identically through OpenRouter and compatible codecs.
  CHECK(wire_test::render(decoded(wire_kind::openrouter, "openai_tool_call.json"))
        == wire_test::render(tools));
  CHECK(wire_test::render(decoded(wire_kind::openai_compatible, "openai_chat.json"))
        == wire_test::render(plain));
}

TEST_CASE("wire: compatible servers' object arguments and finish 'stop' decode as tool_calls") {
  auto r = decoded(wire_kind::openai_compatible, "compatible_tool_call.json");
  CHECK(r.finish == finish_reason::tool_calls);
  REQUIRE(r.message.tool_calls.size() == 1);
  CHECK(wire_test::render(r.message.tool_calls[0]) == R"(call call_x1 calculator {"expression":"2+2"})");
  CHECK(r.model == "llama3.1:8b");
}

TEST_CASE("wire: anthropic plain and tool-call responses decode") {
  auto plain = decoded(wire_kind::anthropic, "anthropic_chat.json");
  CHECK(plain.message.content == "Hello! How can I help?");
  CHECK(plain.finish == finish_reason::stop);
  CHECK(plain.usage.prompt_tokens == 25);
  CHECK(plain.usage.completion_tokens == 15);
  CHECK(plain.model == "claude-sonnet-4-20250514");

  auto tools = decoded(wire_kind::anthropic, "anthropic_tool_call.json");
  CHECK(tools.message.content == "Let me check the weather.");
  CHECK(tools.finish == finish_reason::tool_calls);
  REQUIRE(tools.message.tool_calls.size() == 1);
  CHECK(wire_test::render(tools.message.tool_calls[0])
        == R"(call toolu_01A get_weather {"location":"Paris","unit":"celsius"})");
  CHECK(tools.usage.total() == 460);

  // Cache reads and writes count as prompt tokens; max_tokens maps to length.
  auto cached = wire_test::codec(wire_kind::anthropic)
                  ->decode_chat(200, R"({"content":[{"type":"text","text":"x"}],
                     "stop_reason":"max_tokens","model":"m","usage":{"input_tokens":3,
                     "cache_creation_input_tokens":5,"cache_read_input_tokens":7,"output_tokens":2}})");
  REQUIRE(cached);
  CHECK(cached->usage.prompt_tokens == 15);
  CHECK(cached->finish == finish_reason::length);
}

TEST_CASE("wire: gemini plain and tool-call responses decode") {
  auto plain = decoded(wire_kind::gemini, "gemini_chat.json");
  CHECK(plain.message.content == "Hello world!");
  CHECK(plain.finish == finish_reason::stop);
  CHECK(plain.usage.prompt_tokens == 9);
  CHECK(plain.usage.completion_tokens == 3);
  CHECK(plain.model == "gemini-2.0-flash");

  auto tools = decoded(wire_kind::gemini, "gemini_tool_call.json");
  CHECK(tools.finish == finish_reason::tool_calls);
  REQUIRE(tools.message.tool_calls.size() == 1);
  // Gemini sent no call id: one is derived from the response id.
  CHECK(wire_test::render(tools.message.tool_calls[0])
        == R"(call resp-2_call_0 get_weather {"location":"Paris"})");

  auto c = wire_test::codec(wire_kind::gemini);
  auto thoughts = c->decode_chat(200, R"({"candidates":[{"content":{"parts":[
      {"text":"thinking...","thought":true},{"text":"answer"}]},"finishReason":"MAX_TOKENS"}],
      "usageMetadata":{"promptTokenCount":4,"candidatesTokenCount":1,"thoughtsTokenCount":6}})");
  REQUIRE(thoughts);
  CHECK(thoughts->message.content == "answer");
  CHECK(thoughts->finish == finish_reason::length);
  CHECK(thoughts->usage.completion_tokens == 7);

  auto blocked = c->decode_chat(200, R"({"promptFeedback":{"blockReason":"SAFETY"}})");
  REQUIRE_FALSE(blocked);
  CHECK(agentgraph::describe(blocked.error()) == "provider_error: gemini: prompt blocked (SAFETY)");
}

TEST_CASE("wire: vendor error bodies become provider_error with status, type and message") {
  CHECK(error_text(wire_kind::openai, 401, wire_test::read_sample("openai_error.json"))
        == "provider_error: openai: HTTP 401 invalid_request_error: Incorrect API key provided: "
           "sk-test-****cdef. You can find your API key at "
           "https://platform.openai.com/account/api-keys.");
  CHECK(error_text(wire_kind::anthropic, 529, wire_test::read_sample("anthropic_error.json"))
        == "provider_error: anthropic: HTTP 529 overloaded_error: Overloaded");
  CHECK(error_text(wire_kind::gemini, 400, wire_test::read_sample("gemini_error.json"))
        == "provider_error: gemini: HTTP 400 INVALID_ARGUMENT: API key not valid. Please pass a "
           "valid API key.");
  // Shapes used by OpenAI-compatible servers and OpenRouter.
  CHECK(error_text(wire_kind::openai_compatible, 400,
                   R"({"object":"error","message":"bad model","type":"BadRequestError","code":400})")
        == "provider_error: openai_compatible: HTTP 400 BadRequestError: bad model");
  CHECK(error_text(wire_kind::openai_compatible, 404, R"({"error":"model 'x' not found"})")
        == "provider_error: openai_compatible: HTTP 404: model 'x' not found");
  CHECK(error_text(wire_kind::openrouter, 200,
                   R"({"error":{"code":502,"message":"upstream failed"}})")
        .find("upstream failed") != std::string::npos);
  CHECK(error_text(wire_kind::openai, 502, "<html><body>Bad Gateway</body></html>")
        == "provider_error: openai: HTTP 502 (body is not JSON: <html><body>Bad "
           "Gateway</body></html>)");
  CHECK(error_text(wire_kind::anthropic, 500, "")
        == "provider_error: anthropic: HTTP 500 (body is not JSON: )");
  // decode_error is the same path, for non-2xx answers to streaming requests.
  auto err = wire_test::codec(wire_kind::anthropic)
               ->decode_error(529, wire_test::read_sample("anthropic_error.json"));
  CHECK(agentgraph::describe(err) == "provider_error: anthropic: HTTP 529 overloaded_error: Overloaded");
}

TEST_CASE("wire: malformed bodies give a clear provider_error, never a crash") {
  struct row {
    wire_kind kind;
    const char* body;
    const char* expect;  // a substring of the error
  };
  for (auto [kind, body, expect] : {
         row{wire_kind::openai, "", "response: not valid JSON"},
         row{wire_kind::openai, "{\"choices\":", "response: not valid JSON"},
         row{wire_kind::openai, "[]", "response: not a JSON object"},
         row{wire_kind::openai, "{}", "response: no choices"},
         row{wire_kind::openai, R"({"choices":[{"index":0}]})", "choice without a message"},
         row{wire_kind::openai, R"({"choices":[{"message":{"tool_calls":[{"id":"1"}]}}]})",
             "tool call without a function"},
         row{wire_kind::openai,
             R"({"choices":[{"message":{"tool_calls":[{"id":"1","function":{"name":"f","arguments":"{\"a\":"}}]}}]})",
             "tool call 'f': arguments are not valid JSON"},
         row{wire_kind::openai,
             R"({"choices":[{"message":{"tool_calls":[{"id":"1","function":{"arguments":"{}"}}]}}]})",
             "tool call without a name"},
         row{wire_kind::anthropic, "{}", "response: no content array"},
         row{wire_kind::anthropic, R"({"content":[{"type":"tool_use","id":"t"}]})",
             "tool call without a name"},
         row{wire_kind::gemini, "{}", "response: no candidates"},
         row{wire_kind::gemini, "nul", "response: not valid JSON"},
         row{wire_kind::gemini,
             R"({"candidates":[{"content":{"parts":[]},"finishReason":"MALFORMED_FUNCTION_CALL"}]})",
             "malformed function call"}}) {
    CAPTURE(body);
    auto r = wire_test::codec(kind)->decode_chat(200, body);
    REQUIRE_FALSE(r);
    CHECK(agentgraph::errc_of(r.error()) == errc::provider_error);
    CHECK(agentgraph::describe(r.error()).find(expect) != std::string::npos);
  }
  // A parse error does not echo the body back (it could quote anything).
  auto r = wire_test::codec(wire_kind::openai)->decode_chat(200, "{\"choices\": [xyzzy-body-text");
  REQUIRE_FALSE(r);
  CHECK(agentgraph::describe(r.error()).find("xyzzy") == std::string::npos);
}

TEST_CASE("wire: no api key in any error text") {
  const auto& key = wire_test::test_key;
  std::vector<std::string> bodies{
    R"({"error":{"message":"Incorrect API key provided: )" + key + R"(","type":")" + key + "\"}}",
    R"({"error":")" + key + "\"}",
    "<html>" + std::string(390, 'x') + key + "</html>",  // key straddles the quote limit
    "{\"choices\": [" + key,
    "not json " + key,
  };
  for (auto kind : {wire_kind::openai, wire_kind::anthropic, wire_kind::gemini,
                    wire_kind::openrouter, wire_kind::openai_compatible}) {
    auto c = wire_test::codec(kind);
    for (const auto& body : bodies)
      for (int status : {200, 401, 500}) {
        CAPTURE(body);
        std::vector<caf::error> errors;
        if (auto r = c->decode_chat(status, body); !r)
          errors.push_back(r.error());
        if (auto r = c->decode_embed(status, body); !r)
          errors.push_back(r.error());
        errors.push_back(c->decode_error(status, body));
        auto d = c->make_stream_decoder("r");
        if (auto r = d->on_event({"error", body, ""}); !r)
          errors.push_back(r.error());
        for (const auto& err : errors) {
          auto text = agentgraph::describe(err);
          CHECK(text.find(key) == std::string::npos);
          // Not even the part of the key before a cut.
          CHECK(text.find(key.substr(0, 12)) == std::string::npos);
        }
      }
  }
}

TEST_CASE("wire: bounds on body, content, tool calls and arguments are errors") {
  agentgraph::wire_limits l;
  l.body_bytes_max = 4096;
  l.content_bytes_max = 8;
  l.tool_calls_max = 1;
  l.tool_arguments_bytes_max = 10;
  auto c = std::move(*agentgraph::make_wire_codec(wire_test::settings(wire_kind::openai), l));
  auto describe_error = [&](std::string_view body) {
    auto r = c->decode_chat(200, body);
    REQUIRE_FALSE(r);
    return agentgraph::describe(r.error());
  };
  CHECK(describe_error(std::string(5000, ' ')).find("larger than 4096 bytes") != std::string::npos);
  CHECK(describe_error(R"({"choices":[{"message":{"content":"123456789"}}]})")
          .find("content longer than 8 bytes") != std::string::npos);
  CHECK(describe_error(R"({"choices":[{"message":{"tool_calls":[
          {"id":"1","function":{"name":"f","arguments":"{}"}},
          {"id":"2","function":{"name":"g","arguments":"{}"}}]}}]})")
          .find("more than 1 tool calls") != std::string::npos);
  CHECK(describe_error(R"({"choices":[{"message":{"tool_calls":[
          {"id":"1","function":{"name":"f","arguments":"{\"a\":\"0123456789\"}"}}]}}]})")
          .find("arguments longer than 10 bytes") != std::string::npos);
  auto ok = c->decode_chat(200, R"({"choices":[{"message":{"content":"12345678"}}]})");
  CHECK(ok);

  // Deeply nested JSON is rejected by Value's depth limit, not the stack.
  std::string deep = "{\"choices\":" + std::string(10000, '[') + std::string(10000, ']') + "}";
  auto r = wire_test::codec(wire_kind::openai)->decode_chat(200, deep);
  REQUIRE_FALSE(r);
  CHECK(agentgraph::describe(r.error()).find("nesting") != std::string::npos);
}

TEST_CASE("wire: embeddings decode for openai (by index) and gemini") {
  auto openai = wire_test::codec(wire_kind::openai)
                  ->decode_embed(200, wire_test::read_sample("openai_embeddings.json"));
  REQUIRE(openai);
  REQUIRE(openai->vectors.size() == 2);
  CHECK(openai->vectors[0] == std::vector<float>{0.125f, 0.0f, -1.5f});
  CHECK(openai->vectors[1] == std::vector<float>{0.5f, -0.25f, 1.0f});
  CHECK(openai->usage.prompt_tokens == 7);

  auto gemini = wire_test::codec(wire_kind::gemini)
                  ->decode_embed(200, wire_test::read_sample("gemini_embeddings.json"));
  REQUIRE(gemini);
  REQUIRE(gemini->vectors.size() == 2);
  CHECK(gemini->vectors[1] == std::vector<float>{1.0f, 0.75f});

  auto c = wire_test::codec(wire_kind::openai);
  for (const char* bad : {R"({"data":[]})", R"({"data":[{"index":1,"embedding":[1]}]})",
                          R"({"data":[{"index":0,"embedding":[1]},{"index":0,"embedding":[2]}]})",
                          R"({"data":[{"index":0,"embedding":["x"]}]})"}) {
    auto r = c->decode_embed(200, bad);
    REQUIRE_FALSE(r);
    CHECK(agentgraph::errc_of(r.error()) == errc::provider_error);
  }
  auto err = c->decode_embed(429, R"({"error":{"message":"Rate limit reached","type":"requests"}})");
  REQUIRE_FALSE(err);
  CHECK(agentgraph::describe(err.error()) == "provider_error: openai: HTTP 429 requests: Rate limit reached");
}

TEST_CASE("wire: an embedding answer must have one length, the one asked for") {
  const std::string two = R"({"data":[{"index":0,"embedding":[1,0]},{"index":1,"embedding":[0,1]}]})";
  const std::string ragged = R"({"data":[{"index":0,"embedding":[1,0]},{"index":1,"embedding":[0,1,0]}]})";
  const std::string gemini_two = R"({"embeddings":[{"values":[1,0]},{"values":[0,1]}]})";
  for (auto kind : {wire_kind::openai, wire_kind::openai_compatible, wire_kind::gemini}) {
    INFO(agentgraph::to_string(kind));
    auto c = wire_test::codec(kind);
    const auto& body = kind == wire_kind::gemini ? gemini_two : two;
    CHECK(c->decode_embed(200, body));
    CHECK(c->decode_embed(200, body, 2));
    auto wrong = c->decode_embed(200, body, 3);
    REQUIRE_FALSE(wrong);
    CHECK(agentgraph::errc_of(wrong.error()) == errc::provider_error);
    CHECK(agentgraph::describe(wrong.error())
          == "provider_error: " + std::string{agentgraph::to_string(kind)}
               + ": dimension mismatch: asked 3, got 2");
  }
  // Vectors of two lengths in one answer: wrong even when nothing was asked.
  auto c = wire_test::codec(wire_kind::openai);
  auto r = c->decode_embed(200, ragged);
  REQUIRE_FALSE(r);
  CHECK(agentgraph::describe(r.error()).find("dimension mismatch: vectors of 2 and 3 floats")
        != std::string::npos);
  auto gemini = wire_test::codec(wire_kind::gemini)
                  ->decode_embed(200, R"({"embeddings":[{"values":[1,0]},{"values":[]}]})");
  CHECK_FALSE(gemini);
  auto empty = c->decode_embed(200, R"({"data":[{"index":0,"embedding":[]}]})");
  REQUIRE_FALSE(empty);
  CHECK(agentgraph::describe(empty.error()).find("dimension mismatch") != std::string::npos);
}

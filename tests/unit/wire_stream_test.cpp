#include <doctest/doctest.h>

#include "net/llm/wire_codec.hpp"
#include "runtime/error.hpp"
#include "wire_test_fixture.hpp"

using agentgraph::errc;
using agentgraph::finish_reason;
using agentgraph::wire_kind;

namespace wire_stream_test {

struct sample {
  wire_kind kind;
  const char* stream;
  const char* body;  // the same answer, not streamed
};

// Each streamed sample carries the same answer as a non-streamed one, so
// the two decoding paths check each other.
const std::vector<sample>& samples() {
  static const std::vector<sample> all{
    {wire_kind::openai, "openai_stream.sse", "openai_chat.json"},
    {wire_kind::openai, "openai_stream_tool_call.sse", "openai_tool_call.json"},
    {wire_kind::anthropic, "anthropic_stream.sse", "anthropic_chat.json"},
    {wire_kind::anthropic, "anthropic_stream_tool_call.sse", "anthropic_tool_call.json"},
    {wire_kind::gemini, "gemini_stream.sse", "gemini_chat.json"},
    {wire_kind::gemini, "gemini_stream_tool_call.sse", "gemini_tool_call.json"},
  };
  return all;
}

wire_test::stream_outcome stream_of(wire_kind kind, std::string_view bytes) {
  return wire_test::run_stream(*wire_test::codec(kind), bytes);
}

}  // namespace wire_stream_test

using namespace wire_stream_test;

TEST_CASE("wire: streamed samples decode to the same answer as their non-streamed twins") {
  for (const auto& s : samples()) {
    CAPTURE(s.stream);
    auto c = wire_test::codec(s.kind);
    auto out = wire_test::run_stream(*c, wire_test::read_sample(s.stream));
    REQUIRE_MESSAGE(!out.error, out.describe());
    auto whole = c->decode_chat(200, wire_test::read_sample(s.body));
    REQUIRE(whole);
    CHECK(wire_test::render(*out.response) == wire_test::render(*whole));
    // The chunks carry exactly the final text and calls, tagged with the request.
    CHECK(wire_test::merged(out.chunks)
          == wire_test::merged({{"req-1", whole->message.content, whole->message.tool_calls}}));
    for (const auto& ch : out.chunks)
      CHECK(ch.request_id == "req-1");
  }
}

TEST_CASE("wire: openai stream text arrives delta by delta, tool calls once complete") {
  auto text = stream_of(wire_kind::openai, wire_test::read_sample("openai_stream.sse"));
  REQUIRE(!text.error);
  CHECK(wire_test::render(text.chunks)
        == "[req-1|Hello][req-1| there][req-1|! \xF0\x9F\x99\x82]");
  auto tools = stream_of(wire_kind::openai, wire_test::read_sample("openai_stream_tool_call.sse"));
  REQUIRE(!tools.error);
  // Fragments of both calls are assembled and delivered together at finish_reason.
  CHECK(wire_test::render(tools.chunks)
        == R"([req-1||call call_abc get_weather {"location":"Paris"}|call call_def calculator {"expression":"6*7"}])");
  CHECK(tools.response->finish == finish_reason::tool_calls);
  CHECK(tools.response->usage.prompt_tokens == 80);

  // OpenRouter: same codec, keep-alive comments and CRLF line ends.
  auto router = stream_of(wire_kind::openrouter, wire_test::read_sample("openrouter_stream.sse"));
  REQUIRE_MESSAGE(!router.error, router.describe());
  CHECK(router.response->message.content == "Hi from OpenRouter");
  CHECK(router.response->usage.total() == 9);
}

TEST_CASE("wire: anthropic stream emits text deltas and each tool call at its block stop") {
  auto tools = stream_of(wire_kind::anthropic,
                         wire_test::read_sample("anthropic_stream_tool_call.sse"));
  REQUIRE_MESSAGE(!tools.error, tools.describe());
  CHECK(wire_test::render(tools.chunks)
        == R"([req-1|Let me check][req-1| the weather.][req-1||call toolu_01A get_weather {"location":"Paris","unit":"celsius"}])");
  CHECK(tools.response->usage.prompt_tokens == 400);
  CHECK(tools.response->usage.completion_tokens == 60);
}

TEST_CASE("wire: streams split at every byte offset give the same chunks and final answer") {
  std::vector<sample> all = samples();
  all.push_back({wire_kind::openrouter, "openrouter_stream.sse", nullptr});
  for (const auto& s : all) {
    CAPTURE(s.stream);
    auto c = wire_test::codec(s.kind);
    auto bytes = wire_test::read_sample(s.stream);
    auto expected = wire_test::run_stream(*c, bytes).describe();
    REQUIRE(expected.find("error") != 0);
    for (size_t cut = 0; cut <= bytes.size(); ++cut)
      REQUIRE(wire_test::run_stream(*c, bytes, {cut}).describe() == expected);
    std::vector<size_t> every_byte;
    for (size_t i = 1; i < bytes.size(); ++i)
      every_byte.push_back(i);
    CHECK(wire_test::run_stream(*c, bytes, every_byte).describe() == expected);
  }
}

TEST_CASE("wire: a stream cut before its end marker is an error, not a short answer") {
  for (const auto& s : samples()) {
    CAPTURE(s.stream);
    auto c = wire_test::codec(s.kind);
    auto bytes = wire_test::read_sample(s.stream);
    // Cut at every event boundary before the last: the events that arrived
    // parse cleanly, and still the answer must be refused.
    size_t complete_cuts = 0;
    for (auto pos = bytes.find("\n\n"); pos != std::string::npos; pos = bytes.find("\n\n", pos + 1)) {
      if (pos + 2 >= bytes.size())
        break;
      auto out = wire_test::run_stream(*c, std::string_view{bytes}.substr(0, pos + 2));
      if (s.kind == wire_kind::openai && bytes.substr(pos + 2) == "data: [DONE]\n\n")
        continue;  // usage already arrived: only the end marker is missing, which is fine
      CHECK_MESSAGE(out.error, out.describe());
      ++complete_cuts;
    }
    // Gemini's CRLF samples have no "\n\n"; cut them at "\r\n\r\n" instead.
    for (auto pos = bytes.find("\r\n\r\n"); pos != std::string::npos;
         pos = bytes.find("\r\n\r\n", pos + 1)) {
      if (pos + 4 >= bytes.size())
        break;
      auto out = wire_test::run_stream(*c, std::string_view{bytes}.substr(0, pos + 4));
      CHECK_MESSAGE(out.error, out.describe());
      ++complete_cuts;
    }
    CHECK(complete_cuts > 0);
    // A cut inside the last event is reported by the SSE parser. (Three
    // bytes: with CRLF, "\r\n\r" still ends the event, as SSE says.)
    auto out = wire_test::run_stream(*c, std::string_view{bytes}.substr(0, bytes.size() - 3));
    CHECK(out.error);
  }
}

TEST_CASE("wire: stream error events become provider_error with the vendor's message") {
  auto anthropic = stream_of(wire_kind::anthropic,
                             wire_test::read_sample("anthropic_stream_error.sse"));
  REQUIRE(anthropic.error);
  CHECK(agentgraph::describe(anthropic.error)
        == "provider_error: anthropic: stream error overloaded_error: Overloaded");
  CHECK(wire_test::render(anthropic.chunks) == "[req-1|Par]");  // what arrived before

  auto openai = stream_of(wire_kind::openai,
                          "data: {\"error\":{\"message\":\"server overloaded\",\"type\":\"server_error\"}}\n\n");
  CHECK(agentgraph::describe(openai.error)
        == "provider_error: openai: stream error server_error: server overloaded");

  auto gemini = stream_of(wire_kind::gemini,
                          "data: {\"error\":{\"code\":503,\"message\":\"The model is overloaded.\","
                          "\"status\":\"UNAVAILABLE\"}}\r\n\r\n");
  CHECK(agentgraph::describe(gemini.error)
        == "provider_error: gemini: stream error UNAVAILABLE: The model is overloaded.");
}

TEST_CASE("wire: malformed stream events are clear errors") {
  struct row {
    wire_kind kind;
    const char* bytes;
    const char* expect;
  };
  for (auto [kind, bytes, expect] : {
         row{wire_kind::openai, "data: {not json\n\n", "stream event: not valid JSON"},
         row{wire_kind::openai, "data: [1]\n\n", "stream event: not a JSON object"},
         row{wire_kind::openai, "data: [DONE]\n\ndata: {}\n\n", "event after [DONE]"},
         row{wire_kind::openai,
             "data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"c\","
             "\"function\":{\"name\":\"f\",\"arguments\":\"{oops\"}}]},\"finish_reason\":\"tool_calls\"}]}\n\n",
             "tool call 'f': arguments are not valid JSON"},
         row{wire_kind::openai,
             "data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":-1}]}}]}\n\n",
             "negative index"},
         row{wire_kind::openai, "data: {\"choices\":[]}\n\ndata: [DONE]\n\n",
             "ended before finish_reason"},
         row{wire_kind::anthropic, "event: message_start\ndata: {\"type\":\"message_start\"}\n\n",
             "message_start without a message"},
         row{wire_kind::anthropic,
             "data: {\"type\":\"content_block_delta\",\"index\":3,\"delta\":{\"type\":"
             "\"input_json_delta\",\"partial_json\":\"{\"}}\n\n",
             "arguments for a tool call that is not open"},
         row{wire_kind::anthropic, "data: {\"type\":\"message_stop\"}\n\ndata: {\"type\":\"ping\"}\n\n",
             "event after message_stop"},
         row{wire_kind::anthropic, "event: ping\ndata: {\"type\":\"ping\"}\n\n",
             "ended before message_stop"},
         row{wire_kind::gemini, "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"x\"}]}}]}\n\n",
             "ended before finishReason"}}) {
    CAPTURE(bytes);
    auto out = stream_of(kind, bytes);
    REQUIRE(out.error);
    CHECK(agentgraph::errc_of(out.error) == errc::provider_error);
    CHECK(agentgraph::describe(out.error).find(expect) != std::string::npos);
  }
}

TEST_CASE("wire: stream bounds on content, tool calls and arguments are errors") {
  agentgraph::wire_limits l;
  l.content_bytes_max = 10;
  l.tool_calls_max = 1;
  l.tool_arguments_bytes_max = 12;
  auto openai = std::move(*agentgraph::make_wire_codec(wire_test::settings(wire_kind::openai), l));
  auto text = wire_test::run_stream(*openai, wire_test::read_sample("openai_stream.sse"));
  CHECK(agentgraph::describe(text.error).find("content longer than 10 bytes") != std::string::npos);
  auto calls = wire_test::run_stream(*openai, wire_test::read_sample("openai_stream_tool_call.sse"));
  CHECK(agentgraph::describe(calls.error).find("arguments longer than 12 bytes") != std::string::npos);
  l.tool_arguments_bytes_max = 100;
  auto two = std::move(*agentgraph::make_wire_codec(wire_test::settings(wire_kind::openai), l));
  auto many = wire_test::run_stream(*two, wire_test::read_sample("openai_stream_tool_call.sse"));
  CHECK(agentgraph::describe(many.error).find("more than 1 tool calls") != std::string::npos);
  auto anthropic = std::move(*agentgraph::make_wire_codec(wire_test::settings(wire_kind::anthropic), l));
  auto a = wire_test::run_stream(*anthropic, wire_test::read_sample("anthropic_stream.sse"));
  CHECK(agentgraph::describe(a.error).find("content longer than 10 bytes") != std::string::npos);
}

TEST_CASE("wire: a stream decoder is spent after its first error") {
  for (auto kind : {wire_kind::openai, wire_kind::anthropic, wire_kind::gemini}) {
    auto decoder = wire_test::codec(kind)->make_stream_decoder("r");
    auto first = decoder->on_event({"message", "{broken", ""});
    REQUIRE_FALSE(first);
    auto again = decoder->on_event({"message", R"({"type":"ping"})", ""});
    REQUIRE_FALSE(again);
    CHECK(again.error() == first.error());
    auto end = decoder->finish();
    REQUIRE_FALSE(end);
    CHECK(end.error() == first.error());
  }
}

#include <doctest/doctest.h>

#include "net/sse/sse_parser.hpp"
#include "runtime/error.hpp"
#include "wire_test_fixture.hpp"

using agentgraph::sse_event;
using agentgraph::sse_parser;

namespace sse_test {

std::vector<sse_event> parse_all(std::string_view bytes, size_t piece_bytes = 0) {
  sse_parser p;
  std::vector<sse_event> out;
  if (piece_bytes == 0) {
    REQUIRE_FALSE(p.feed(bytes, out));
  } else {
    for (size_t i = 0; i < bytes.size(); i += piece_bytes)
      REQUIRE_FALSE(p.feed(bytes.substr(i, piece_bytes), out));
  }
  REQUIRE_FALSE(p.finish());
  return out;
}

sse_event ev(std::string type, std::string data, std::string id = {}) {
  return sse_event{std::move(type), std::move(data), std::move(id)};
}

std::string render(const std::vector<sse_event>& events) {
  std::string out;
  for (const auto& e : events)
    out += "<" + e.type + "|" + e.data + "|" + e.id + ">";
  return out;
}

}  // namespace sse_test

TEST_CASE("sse: data lines join with newline and a blank line dispatches") {
  auto events = sse_test::parse_all("data: first\ndata:second\ndata:  third\n\ndata: next\n\n");
  REQUIRE(events.size() == 2);
  CHECK(events[0] == sse_test::ev("message", "first\nsecond\n third"));
  CHECK(events[1] == sse_test::ev("message", "next"));
}

TEST_CASE("sse: CR, LF and CRLF line endings are equivalent, also split between CR and LF") {
  std::string lf = "event: a\ndata: 1\n\ndata: 2\ndata: 3\n\n";
  std::string cr = "event: a\rdata: 1\r\rdata: 2\rdata: 3\r\r";
  std::string crlf = "event: a\r\ndata: 1\r\n\r\ndata: 2\r\ndata: 3\r\n\r\n";
  std::string mixed = "event: a\r\ndata: 1\r\n\ndata: 2\rdata: 3\n\r\n";
  auto expected = sse_test::render(sse_test::parse_all(lf));
  CHECK(expected == "<a|1|><message|2\n3|>");
  for (const auto* text : {&cr, &crlf, &mixed}) {
    CHECK(sse_test::render(sse_test::parse_all(*text)) == expected);
    CHECK(sse_test::render(sse_test::parse_all(*text, 1)) == expected);
    for (size_t cut = 0; cut <= text->size(); ++cut) {
      sse_parser p;
      std::vector<sse_event> out;
      REQUIRE_FALSE(p.feed(std::string_view{*text}.substr(0, cut), out));
      REQUIRE_FALSE(p.feed(std::string_view{*text}.substr(cut), out));
      CHECK(sse_test::render(out) == expected);
    }
  }
}

TEST_CASE("sse: comments, unknown fields, a field without colon and one leading space") {
  auto events = sse_test::parse_all(": keep-alive\n"
                                    ":another comment\n"
                                    "foo: bar\n"
                                    "data\n"           // field without colon: empty data line
                                    "data:  two spaces\n"
                                    "data:no space\n"
                                    "\n");
  REQUIRE(events.size() == 1);
  CHECK(events[0].data == "\n two spaces\nno space");
}

TEST_CASE("sse: an event with empty data dispatches, one without data does not") {
  auto events = sse_test::parse_all("event: only-type\n\ndata:\n\nevent: x\ndata\n\n");
  REQUIRE(events.size() == 2);
  CHECK(events[0] == sse_test::ev("message", ""));  // the earlier type was forgotten
  CHECK(events[1] == sse_test::ev("x", ""));
}

TEST_CASE("sse: id persists across events, id with NUL is ignored, retry takes digits only") {
  sse_parser p;
  std::vector<sse_event> out;
  std::string text = "id: 7\ndata: a\n\ndata: b\n\nid: 8Zx\ndata: c\n\nid\ndata: d\n\n"
                     "retry: 2500\n\nretry: 12x\n\n";
  text[text.find("8Z") + 1] = '\0';
  REQUIRE_FALSE(p.feed(text, out));
  REQUIRE(out.size() == 4);
  CHECK(out[0].id == "7");
  CHECK(out[1].id == "7");
  CHECK(out[2].id == "7");  // "8\0x" was ignored
  CHECK(out[3].id == "");   // a bare `id` resets it
  CHECK(p.last_event_id().empty());
  REQUIRE(p.retry_ms());
  CHECK(*p.retry_ms() == 2500);
}

TEST_CASE("sse: a BOM at the start is stripped even when split, anywhere else it is data") {
  std::string text = "\xEF\xBB\xBF" "data: x\n\n";
  for (size_t piece = 1; piece <= 4; ++piece)
    CHECK(sse_test::render(sse_test::parse_all(text, piece)) == "<message|x|>");
  // Only one BOM is stripped: a second one makes the field name "\xEF\xBB\xBFdata".
  CHECK(sse_test::parse_all("\xEF\xBB\xBF\xEF\xBB\xBF" "data: x\n\n").empty());
  // A partial BOM followed by other bytes is ordinary input.
  auto events = sse_test::parse_all("\xEF\xBB" "data: x\n\n", 1);
  CHECK(events.empty());
  CHECK(sse_test::render(sse_test::parse_all("data: \xEF\xBB\xBFy\n\n")) ==
        "<message|\xEF\xBB\xBFy|>");
}

TEST_CASE("sse: the [DONE] sentinel is recognised by the helper only") {
  auto events = sse_test::parse_all("data: [DONE]\n\ndata: [DONE] \n\n");
  REQUIRE(events.size() == 2);
  CHECK(agentgraph::is_done_sentinel(events[0]));
  CHECK_FALSE(agentgraph::is_done_sentinel(events[1]));
}

TEST_CASE("sse: finish reports an event cut off before its blank line") {
  for (std::string_view text : {"data: x\n", "data: x", "event: y\n", "da", "\xEF\xBB"}) {
    sse_parser p;
    std::vector<sse_event> out;
    REQUIRE_FALSE(p.feed(text, out));
    CHECK(out.empty());
    auto err = p.finish();
    CHECK(agentgraph::errc_of(err) == agentgraph::errc::parse_error);
  }
  sse_parser p;
  std::vector<sse_event> out;
  REQUIRE_FALSE(p.feed(": comment only\n\ndata: ok\n\n", out));
  CHECK_FALSE(p.finish());
}

TEST_CASE("sse: line and event bounds are errors, not truncation, and the error sticks") {
  agentgraph::sse_limits limits;
  limits.line_bytes_max = 16;
  limits.event_data_bytes_max = 20;  // each "0123456789" line adds 11 bytes
  {
    sse_parser p{limits};
    std::vector<sse_event> out;
    REQUIRE_FALSE(p.feed("data: 0123456789", out));  // exactly 16 bytes: fine
    auto err = p.feed("A", out);
    CHECK(agentgraph::errc_of(err) == agentgraph::errc::limit_exceeded);
    CHECK(agentgraph::errc_of(p.feed("\n\n", out)) == agentgraph::errc::limit_exceeded);
    CHECK(agentgraph::errc_of(p.finish()) == agentgraph::errc::limit_exceeded);
    CHECK(out.empty());
  }
  {
    sse_parser p{limits};
    std::vector<sse_event> out;
    auto err = p.feed("data: 0123456789\ndata: 0123456789\n\n", out);
    CHECK(agentgraph::errc_of(err) == agentgraph::errc::limit_exceeded);
    CHECK(out.empty());
  }
}

TEST_CASE("sse: every recorded stream gives the same events at every split and byte by byte") {
  for (const char* name : {"openai_stream.sse", "openai_stream_tool_call.sse",
                           "openrouter_stream.sse", "anthropic_stream.sse",
                           "anthropic_stream_tool_call.sse", "anthropic_stream_error.sse",
                           "gemini_stream.sse", "gemini_stream_tool_call.sse"}) {
    CAPTURE(name);
    auto bytes = wire_test::read_sample(name);
    REQUIRE(!bytes.empty());
    auto expected = sse_test::render(sse_test::parse_all(bytes));
    CHECK(sse_test::render(sse_test::parse_all(bytes, 1)) == expected);
    CHECK(sse_test::render(sse_test::parse_all(bytes, 7)) == expected);
    for (size_t cut = 0; cut <= bytes.size(); ++cut) {
      sse_parser p;
      std::vector<sse_event> out;
      REQUIRE_FALSE(p.feed(std::string_view{bytes}.substr(0, cut), out));
      REQUIRE_FALSE(p.feed(std::string_view{bytes}.substr(cut), out));
      REQUIRE_FALSE(p.finish());
      REQUIRE(sse_test::render(out) == expected);
    }
  }
}

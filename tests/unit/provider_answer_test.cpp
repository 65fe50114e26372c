// The scripted provider's pure answering logic: rule order, each condition,
// templates, tool call ids, token counts, memory extraction and stream
// splitting, all without an actor system.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "actors/provider/scripted_answer.hpp"
#include "actors/provider/scripted_rules.hpp"
#include "actors/provider/token_count.hpp"
#include "runtime/error.hpp"

using namespace agentgraph;

namespace provider_answer_test {

chat_message sys(std::string text) {
  return {chat_role::system, std::move(text), {}, {}, {}};
}

chat_message user(std::string text) {
  return {chat_role::user, std::move(text), {}, {}, {}};
}

chat_message calls(std::vector<tool_call> tool_calls) {
  return {chat_role::assistant, {}, std::move(tool_calls), {}, {}};
}

chat_message tool(std::string name, std::string id, std::string content) {
  return {chat_role::tool, std::move(content), {}, std::move(id), std::move(name)};
}

chat_request request(std::vector<chat_message> messages, std::string id = "r1") {
  chat_request req;
  req.request_id = std::move(id);
  req.model = "scripted-1";
  req.messages = std::move(messages);
  return req;
}

scripted_rules rules(const std::string& json) {
  auto r = parse_scripted_rules(json, "test.json");
  REQUIRE_MESSAGE(r, describe(r.error()));
  return std::move(*r);
}

// The rule that answers `req`, or "error: <describe>".
std::string answering_rule(const scripted_rules& rs, const chat_request& req) {
  auto out = answer_scripted(rs, req);
  return out ? out->rule : "error: " + describe(out.error());
}

std::string reply_text(const scripted_rules& rs, const chat_request& req) {
  auto out = answer_scripted(rs, req);
  REQUIRE_MESSAGE(out, describe(out.error()));
  REQUIRE_FALSE(out->error);
  return out->response.message.content;
}

}  // namespace provider_answer_test

TEST_CASE("provider: the first matching rule wins, then default") {
  using namespace provider_answer_test;
  auto rs = rules(R"J({"rules": [
    {"name": "specific", "when": {"user_contains": "apple"}, "reply": "one"},
    {"name": "general", "when": {"user_contains": ["apple", "pear"]}, "reply": "two"},
    {"name": "also apple", "when": {"user_contains": "apple"}, "reply": "three"}],
    "default": "fallback"})J");
  CHECK(answering_rule(rs, request({user("an Apple")})) == "specific");
  CHECK(answering_rule(rs, request({user("a pear")})) == "general");
  CHECK(answering_rule(rs, request({user("a plum")})) == "default");
  CHECK(reply_text(rs, request({user("a plum")})) == "fallback");
}

TEST_CASE("provider: no match without default is provider_error quoting the user message") {
  using namespace provider_answer_test;
  auto rs = rules(R"J({"rules": [{"name": "a", "when": {"user_contains": "zzz"}, "reply": "x"}]})J");
  auto long_text = "Please count the widgets " + std::string(200, 'w');
  auto out = answer_scripted(rs, request({user(long_text)}));
  REQUIRE_FALSE(out);
  CHECK(errc_of(out.error()) == errc::provider_error);
  auto msg = error_context(out.error());
  CHECK(msg.find("no rule matched in test.json") != std::string::npos);
  CHECK(msg.find("\"Please count the widgets www") != std::string::npos);
  CHECK(msg.find(std::string(100, 'w')) == std::string::npos);  // quote is bounded
  auto no_user = answer_scripted(rs, request({sys("only a system prompt")}));
  REQUIRE_FALSE(no_user);
  CHECK(error_context(no_user.error()).find("no user message") != std::string::npos);
}

TEST_CASE("provider: each condition holds and fails on its own") {
  using namespace provider_answer_test;
  auto rs = rules(R"J({"rules": [
    {"name": "agent", "when": {"agent": "[planner]"}, "reply": "x"},
    {"name": "regex", "when": {"user_regex": "^add (\\d+)$"}, "reply": "x"},
    {"name": "last user", "when": {"last_role": "user", "user_contains": "start"}, "reply": "x"},
    {"name": "after calc", "when": {"after_tool": "calc"}, "reply": "x"},
    {"name": "tool says ok", "when": {"tool_result_contains": "ALL OK"}, "reply": "x"},
    {"name": "has field", "when": {"tool_result_field": "answer"}, "reply": "x"},
    {"name": "field regex", "when": {"tool_result_field": "text", "tool_result_regex": "n=(\\d)"},
     "reply": "x"},
    {"name": "context", "when": {"context_contains": "secret memory"}, "reply": "x"},
    {"name": "last tool", "when": {"last_role": "tool"}, "reply": "x"}],
    "default": "none"})J");
  auto call = [](std::string name) { return calls({{"c1", std::move(name), Value::object()}}); };
  CHECK(answering_rule(rs, request({sys("I am [planner]."), user("hi")})) == "agent");
  CHECK(answering_rule(rs, request({sys("I am [researcher]."), user("hi")})) == "default");
  CHECK(answering_rule(rs, request({user("add 12")})) == "regex");
  CHECK(answering_rule(rs, request({user("add 12 and more")})) == "default");
  CHECK(answering_rule(rs, request({user("START now")})) == "last user");
  CHECK(answering_rule(rs, request({user("start"), call("calc"), tool("calc", "c1", "{}")}))
        == "after calc");
  // The tool's name comes from the call it answers when `name` is empty.
  CHECK(answering_rule(rs, request({user("q"), call("calc"), tool("", "c1", "{}")}))
        == "after calc");
  CHECK(answering_rule(rs, request({user("q"), call("x"), tool("x", "c1", "all ok")}))
        == "tool says ok");
  CHECK(answering_rule(rs, request({user("q"), call("x"), tool("x", "c1", R"({"answer":1})")}))
        == "has field");
  CHECK(answering_rule(rs, request({user("q"), call("x"), tool("x", "c1", R"({"text":"n=4"})")}))
        == "field regex");
  // The regex looks at the field, not the whole content.
  CHECK(answering_rule(rs, request({user("q"), call("x"),
                                    tool("x", "c1", R"({"text":"none","n":"n=4"})")}))
        == "last tool");
  CHECK(answering_rule(rs, request({sys("Relevant memory:\nSecret Memory here"), user("q")}))
        == "context");
  CHECK(answering_rule(rs, request({user("q"), call("x"), tool("x", "c1", "plain")}))
        == "last tool");
}

TEST_CASE("provider: templates render user, captures, tool outputs and memory") {
  using namespace provider_answer_test;
  auto rs = rules(R"J({"rules": [
    {"name": "capture", "when": {"user_regex": "(\\w+) has (\\d+)( apples)?"},
     "reply": "[{{match.0}}|{{match.1}}|{{match.2}}|{{match.3}}] {{user}}"},
    {"name": "tool fields", "when": {"after_tool": "calc", "tool_result_regex": "\"v\":(\\d+)"},
     "reply": "{{tool_output.v}} {{tool_output.list.1}} {{tool_output.obj}} {{tool_match.1}} {{tool.read.content}} / {{tool_output}}"},
    {"name": "memory", "when": {"user_contains": "remember"}, "reply": "mem<{{memory}}>"},
    {"name": "missing", "when": {"user_contains": "missing"}, "reply": "{{tool_output.nope}}"}]})J");
  CHECK(reply_text(rs, request({user("Ann has 3")})) == "[Ann has 3|Ann|3|] Ann has 3");
  auto conversation = request({user("go"), calls({{"c1", "read", Value::object()}}),
                               tool("read", "c1", R"({"content":"old"})"),
                               calls({{"c2", "read", Value::object()}}),
                               tool("read", "c2", R"({"content":"new"})"),
                               calls({{"c3", "calc", Value::object()}}),
                               tool("calc", "c3", R"({"v":7,"list":[1,2.5],"obj":{"a":true}})")});
  CHECK(reply_text(rs, conversation)
        == R"(7 2.5 {"a":true} 7 new / {"v":7,"list":[1,2.5],"obj":{"a":true}})");
  CHECK(reply_text(rs, request({sys("You are [a].\nRelevant memory:\n- one\n- two\n\nBe brief."),
                                user("remember?")}))
        == "mem<- one\n- two>");
  CHECK(reply_text(rs, request({sys("You are [a]."), user("remember?")})) == "mem<>");
  auto out = answer_scripted(rs, request({user("missing"), calls({{"c1", "x", Value::object()}}),
                                          tool("x", "c1", R"({"value":1})")}));
  REQUIRE_FALSE(out);
  CHECK(errc_of(out.error()) == errc::provider_error);
  CHECK(error_context(out.error())
        == "rule 'missing': {{tool_output.nope}}: the tool output has no field 'nope'");
  auto no_tool = answer_scripted(rs, request({user("missing")}));
  REQUIRE_FALSE(no_tool);
  CHECK(error_context(no_tool.error()).find("the conversation has no tool message")
        != std::string::npos);
}

TEST_CASE("provider: render_value prints numbers the way people read them") {
  CHECK(render_value(Value{1000.0}) == "1000");
  CHECK(render_value(Value{-3.0}) == "-3");
  CHECK(render_value(Value{2.5}) == "2.5");
  CHECK(render_value(Value{1e300}) != "");
  CHECK(render_value(Value{42}) == "42");
  CHECK(render_value(Value{"text"}) == "text");
  CHECK(render_value(Value{true}) == "true");
  CHECK(render_value(Value{}) == "null");
}

TEST_CASE("provider: tool calls get deterministic ids, rendered arguments and finish") {
  using namespace provider_answer_test;
  auto rs = rules(R"J({"rules": [
    {"name": "two calls", "when": {"user_regex": "read (\\S+)"},
     "tool_calls": [{"name": "file_read", "arguments": {"path": "{{match.1}}", "n": 2,
                                                        "nested": {"q": ["{{user}}"]}}},
                    {"name": "calculator", "arguments": {"expression": "1+1"}}]},
    {"name": "forced finish", "when": {"user_contains": "cut"}, "reply": "partial",
     "finish": "length"}]})J");
  auto out = answer_scripted(rs, request({user("read a.txt")}, "req-7"));
  REQUIRE_MESSAGE(out, describe(out.error()));
  const auto& msg = out->response.message;
  CHECK(msg.role == chat_role::assistant);
  REQUIRE(msg.tool_calls.size() == 2);
  CHECK(msg.tool_calls[0].id == "call_req-7_1");
  CHECK(msg.tool_calls[1].id == "call_req-7_2");
  CHECK(msg.tool_calls[0].name == "file_read");
  CHECK(msg.tool_calls[0].arguments.to_json()
        == R"({"n":2,"nested":{"q":["read a.txt"]},"path":"a.txt"})");
  CHECK(out->response.finish == finish_reason::tool_calls);
  CHECK(out->response.model == "scripted-1");
  auto cut = answer_scripted(rs, request({user("cut here")}));
  REQUIRE(cut);
  CHECK(cut->response.finish == finish_reason::length);
  CHECK(cut->response.message.tool_calls.empty());
}

TEST_CASE("provider: error injection and delays come back in the outcome") {
  using namespace provider_answer_test;
  auto rs = rules(R"J({"rules": [
    {"name": "quota", "when": {"user_regex": "fail (\\w+)"}, "error": "quota {{match.1}} exceeded",
     "delay_ms": 25}]})J");
  auto out = answer_scripted(rs, request({user("fail hard")}));
  REQUIRE(out);
  CHECK(out->delay == std::chrono::milliseconds{25});
  REQUIRE(out->error);
  CHECK(errc_of(out->error) == errc::provider_error);
  CHECK(error_context(out->error) == "rule 'quota': quota hard exceeded");
}

TEST_CASE("provider: requests are validated") {
  using namespace provider_answer_test;
  auto rs = rules(R"J({"rules": [], "default": "x"})J");
  auto empty = answer_scripted(rs, request({}));
  REQUIRE_FALSE(empty);
  CHECK(errc_of(empty.error()) == errc::invalid_argument);
  CHECK(error_context(empty.error()) == "chat request has no messages");
  auto no_id = answer_scripted(rs, request({user("x")}, ""));
  REQUIRE_FALSE(no_id);
  CHECK(errc_of(no_id.error()) == errc::invalid_argument);
  std::vector<chat_message> many(scripted_request_messages_max + 1, user("x"));
  CHECK(errc_of(validate_chat_request(request(many))) == errc::invalid_argument);
  CHECK_FALSE(validate_chat_request(request({user("x")})));
}

TEST_CASE("provider: token counts are exact for a fixed input") {
  using namespace provider_answer_test;
  CHECK(count_text_tokens("") == 0);
  CHECK(count_text_tokens("   \n\t") == 0);
  CHECK(count_text_tokens("Hello, world!") == 6);  // Hel|lo , wor|ld !
  CHECK(count_text_tokens("abcd efgh") == 2);
  CHECK(count_text_tokens("abcde") == 2);
  CHECK(count_text_tokens("a_b1") == 1);
  CHECK(count_text_tokens("h\xc3\xa9llo") == 2);  // 6 UTF-8 bytes in one word
  CHECK(count_text_tokens("(120*80*60)") == 7);  // ( 120 * 80 * 60 )

  auto req = request({sys("You are [a]."), user("Hello, world!")});
  // system: You are [ a ] . = 6, user: 6, plus 4 overhead each.
  CHECK(count_prompt_tokens(req) == 20);
  req.tools.push_back({"calc", "adds", Value::from_json(R"({"type":"object"})").value()});
  // calc 1 + adds 1 + {"type":"object"}: { " type " : " obj|ect " } = 10.
  CHECK(count_prompt_tokens(req) == 32);
  chat_message reply{chat_role::assistant, "ok", {}, {}, {}};
  reply.tool_calls.push_back({"id", "calc", Value::from_json(R"({"x":"1"})").value()});
  // ok 1 + calc 1 + {"x":"1"}: { " x " : " 1 " } = 9.
  CHECK(count_completion_tokens(reply) == 11);

  auto rs = rules(R"J({"rules": [{"name": "ok", "reply": "ok"},
                                {"name": "never", "reply": "x"}]})J");
  auto out = answer_scripted(rs, request({sys("You are [a]."), user("Hello, world!")}));
  REQUIRE(out);
  CHECK(out->response.usage.prompt_tokens == 20);
  CHECK(out->response.usage.completion_tokens == 1);
}

TEST_CASE("provider: token counts grow with length and usage can be overridden") {
  using namespace provider_answer_test;
  int64_t previous = 0;
  for (size_t n = 0; n < 200; ++n) {
    auto text = std::string(n, 'a') + std::string(n % 7, '!');
    auto tokens = count_text_tokens(std::string(n, 'a'));
    CHECK(tokens >= previous);
    CHECK(count_text_tokens(text) >= tokens);
    previous = tokens;
  }
  auto short_req = request({user("one")});
  auto long_req = request({user("one"), user("two three four")});
  CHECK(count_prompt_tokens(long_req) > count_prompt_tokens(short_req));
  auto rs = rules(R"J({"rules": [{"name": "fixed", "reply": "x",
                                 "usage": {"completion_tokens": 1234}}]})J");
  auto out = answer_scripted(rs, short_req);
  REQUIRE(out);
  CHECK(out->response.usage.completion_tokens == 1234);
  CHECK(out->response.usage.prompt_tokens == count_prompt_tokens(short_req));
}

TEST_CASE("provider: memory is the block after 'Relevant memory:' up to a blank line") {
  CHECK(extract_memory("You are [r].\nRelevant memory:\n- a\n- b\n\nUse tools.") == "- a\n- b");
  CHECK(extract_memory("Relevant memory:  \r\nonly line\r\n") == "only line");
  CHECK(extract_memory("Relevant memory:\n- last") == "- last");
  CHECK(extract_memory("Relevant memory:\n\n- after blank") == "");
  CHECK(extract_memory("No memory here.\nRelevant memory: inline is not the marker") == "");
  CHECK(extract_memory("") == "");
}

TEST_CASE("provider: stream pieces are words that reassemble to the text") {
  auto pieces = split_stream_pieces("Hello big  world\n", scripted_stream_chunks_max);
  CHECK(pieces == std::vector<std::string>{"Hello ", "big  ", "world\n"});
  CHECK(split_stream_pieces("  lead", 10) == std::vector<std::string>{"  lead"});
  CHECK(split_stream_pieces("a b c d", 2) == std::vector<std::string>{"a ", "b c d"});
  CHECK(split_stream_pieces("", 10).empty());
  std::string text = "The crate holds 1000 widgets (computed from specs/crate.txt).";
  std::string joined;
  for (const auto& p : split_stream_pieces(text, scripted_stream_chunks_max))
    joined += p;
  CHECK(joined == text);
}

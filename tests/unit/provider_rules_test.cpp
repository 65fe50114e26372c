// Loading the scripted provider's rules file: every malformed field is
// rejected with a message naming the rule (rules[<index>] and name) and the
// field, and templates are checked when the file loads.
#include <doctest/doctest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "actors/provider/scripted_rules.hpp"
#include "actors/provider/scripted_template.hpp"
#include "runtime/error.hpp"

using namespace agentgraph;

namespace provider_rules_test {

// Parses `json` expecting failure; returns "code: context".
std::string load_error(std::string_view json) {
  auto r = parse_scripted_rules(json, "t.json");
  REQUIRE_FALSE(r);
  return describe(r.error());
}

// A file whose rules[2] is `bad_rule`, so messages must name index 2.
std::string third_rule(const std::string& bad_rule) {
  return R"({"rules": [{"name": "a", "reply": "x"}, {"name": "b", "reply": "y"}, )" + bad_rule
         + "]}";
}

struct bad_case {
  const char* rule;
  const char* expected;  // substring of the error, after the rule location
};

}  // namespace provider_rules_test

TEST_CASE("provider: rules file errors name the rule index, name and field") {
  using provider_rules_test::bad_case;
  const bad_case cases[] = {
    {R"("not an object")", R"(rules[2]: rule: must be an object)"},
    {R"({"reply": "x"})", R"(rules[2]: name: is required)"},
    {R"({"name": 7, "reply": "x"})", R"(rules[2]: name: must be a non-empty string)"},
    {R"({"name": "c", "repyl": "x"})", R"(rules[2] ("c"): repyl: unknown field)"},
    {R"({"name": "c", "when": 3, "reply": "x"})", R"(rules[2] ("c"): when: must be an object)"},
    {R"({"name": "c", "when": {"user_contain": "x"}, "reply": "x"})",
     R"(rules[2] ("c"): when.user_contain: unknown field)"},
    {R"({"name": "c", "when": {"agent": ""}, "reply": "x"})",
     R"(rules[2] ("c"): when.agent: must be a non-empty string)"},
    {R"({"name": "c", "when": {"user_contains": 5}, "reply": "x"})",
     R"(rules[2] ("c"): when.user_contains: must be a string or an array)"},
    {R"({"name": "c", "when": {"user_contains": []}, "reply": "x"})",
     R"(rules[2] ("c"): when.user_contains: must be a string or an array)"},
    {R"({"name": "c", "when": {"user_contains": ["a", 1]}, "reply": "x"})",
     R"(rules[2] ("c"): when.user_contains: every alternative)"},
    {R"({"name": "c", "when": {"user_regex": "(unclosed"}, "reply": "x"})",
     R"(rules[2] ("c"): when.user_regex: invalid ECMAScript regex)"},
    {R"({"name": "c", "when": {"last_role": "bot"}, "reply": "x"})",
     R"(rules[2] ("c"): when.last_role: must be "user" or "tool", got "bot")"},
    {R"({"name": "c", "when": {"after_tool": 1}, "reply": "x"})",
     R"(rules[2] ("c"): when.after_tool: must be a non-empty string)"},
    {R"({"name": "c", "when": {"tool_result_field": "a..b"}, "reply": "x"})",
     R"(rules[2] ("c"): when.tool_result_field: must be field names)"},
    {R"({"name": "c", "when": {"tool_result_contains": [""]}, "reply": "x"})",
     R"(rules[2] ("c"): when.tool_result_contains: every alternative)"},
    {R"({"name": "c", "when": {"tool_result_regex": "[z-a]"}, "reply": "x"})",
     R"(rules[2] ("c"): when.tool_result_regex: invalid ECMAScript regex)"},
    {R"({"name": "c", "when": {"context_contains": {}}, "reply": "x"})",
     R"(rules[2] ("c"): when.context_contains: must be a string or an array)"},
    {R"({"name": "c"})", R"(rules[2] ("c"): reply: a rule needs "reply", "tool_calls" or "error")"},
    {R"({"name": "c", "reply": 5})", R"(rules[2] ("c"): reply: must be a string)"},
    {R"({"name": "c", "reply": "x", "error": "boom"})",
     R"(rules[2] ("c"): error: an error rule cannot also have)"},
    {R"({"name": "c", "error": "boom", "finish": "stop"})",
     R"(rules[2] ("c"): error: an error rule cannot also have)"},
    {R"({"name": "c", "reply": "hi {{usr}}"})",
     R"(rules[2] ("c"): reply: placeholder {{usr}}: unknown name)"},
    {R"({"name": "c", "reply": "hi {{user"})", R"(rules[2] ("c"): reply: unterminated '{{')"},
    {R"({"name": "c", "reply": "{{match.10}}", "when": {"user_regex": "(a)x"}})",
     R"(rules[2] ("c"): reply: placeholder {{match.10}}: expects a capture number 0..9)"},
    {R"({"name": "c", "reply": "{{match.1}}"})",
     R"(rules[2] ("c"): reply: uses {{match.1}} but the rule has no when.user_regex)"},
    {R"({"name": "c", "reply": "{{match.2}}", "when": {"user_regex": "(a)b"}})",
     R"(rules[2] ("c"): reply: uses {{match.2}} but when.user_regex has 1 capture groups)"},
    {R"({"name": "c", "error": "{{tool_match.1}}"})",
     R"(rules[2] ("c"): error: uses {{tool_match.1}} but the rule has no when.tool_result_regex)"},
    {R"({"name": "c", "tool_calls": [{"name": "t", "arguments": {"x": ["{{tool_match.1}}"]}}]})",
     R"(rules[2] ("c"): tool_calls[0].arguments.x[0]: uses {{tool_match.1}})"},
    {R"({"name": "c", "tool_calls": [{"name": "t", "arguments": {"x": "{{nope}}"}}]})",
     R"(rules[2] ("c"): tool_calls[0].arguments.x: placeholder {{nope}}: unknown name)"},
    {R"({"name": "c", "tool_calls": []})", R"(rules[2] ("c"): tool_calls: must be an array of 1..16)"},
    {R"({"name": "c", "tool_calls": {"name": "t"}})", R"(rules[2] ("c"): tool_calls: must be an array)"},
    {R"({"name": "c", "tool_calls": [{"arguments": {}}]})",
     R"(rules[2] ("c"): tool_calls[0].name: is required)"},
    {R"({"name": "c", "tool_calls": [{"name": "t", "arguments": "x"}]})",
     R"(rules[2] ("c"): tool_calls[0].arguments: must be a JSON object)"},
    {R"({"name": "c", "tool_calls": [{"name": "t", "args": {}}]})",
     R"(rules[2] ("c"): tool_calls[0].args: unknown field)"},
    {R"({"name": "c", "reply": "x", "finish": "done"})",
     R"(rules[2] ("c"): finish: must be "stop", "tool_calls" or "length", got "done")"},
    {R"({"name": "c", "reply": "x", "delay_ms": 60001})",
     R"(rules[2] ("c"): delay_ms: must be an integer in 0..60000)"},
    {R"({"name": "c", "reply": "x", "delay_ms": -1})", R"(rules[2] ("c"): delay_ms: must be an integer)"},
    {R"({"name": "c", "reply": "x", "delay_ms": "5"})", R"(rules[2] ("c"): delay_ms: must be an integer)"},
    {R"({"name": "c", "reply": "x", "usage": 5})", R"(rules[2] ("c"): usage: must be an object)"},
    {R"({"name": "c", "reply": "x", "usage": {"prompt": 1}})",
     R"(rules[2] ("c"): usage.prompt: unknown field)"},
    {R"({"name": "c", "reply": "x", "usage": {"completion_tokens": -3}})",
     R"(rules[2] ("c"): usage.completion_tokens: must be an integer)"},
    {R"({"name": "a", "reply": "dup"})", R"(rules[2].name: duplicate rule name "a")"},
  };
  for (const auto& c : cases) {
    std::string rule = c.rule;
    CAPTURE(rule);
    auto r = parse_scripted_rules(provider_rules_test::third_rule(c.rule), "t.json");
    REQUIRE_FALSE(r);
    CHECK(errc_of(r.error()) == errc::invalid_argument);
    auto msg = error_context(r.error());
    CHECK_MESSAGE(msg.rfind("t.json: ", 0) == 0, msg);
    CHECK_MESSAGE(msg.find(c.expected) != std::string::npos, msg);
  }
}

TEST_CASE("provider: rules file structure errors") {
  using provider_rules_test::load_error;
  auto not_json = parse_scripted_rules("{\"rules\": [", "t.json");
  REQUIRE_FALSE(not_json);
  CHECK(errc_of(not_json.error()) == errc::parse_error);
  CHECK(error_context(not_json.error()).rfind("t.json: ", 0) == 0);
  CHECK(load_error("[]").find("t.json: document: must be a JSON object") != std::string::npos);
  CHECK(load_error("{}").find("rules: is required") != std::string::npos);
  CHECK(load_error(R"({"rules": {}})").find("rules: is required and must be an array")
        != std::string::npos);
  CHECK(load_error(R"({"rules": [], "defaults": "x"})").find("defaults: unknown field")
        != std::string::npos);
  CHECK(load_error(R"({"rules": [], "default": 3})").find("t.json: default: must be a reply string")
        != std::string::npos);
  CHECK(load_error(R"({"rules": [], "default": {"reply": "{{match.1}}"}})")
          .find("t.json: default: reply: uses {{match.1}} but the rule has no when.user_regex")
        != std::string::npos);
  std::string many = R"({"rules": [)";
  for (size_t i = 0; i <= scripted_rules_max; ++i)
    many += (i == 0 ? "" : ",") + std::string{R"({"name": "r)"} + std::to_string(i)
            + R"(", "reply": "x"})";
  many += "]}";
  CHECK(load_error(many).find("has 1001 rules; at most 1000") != std::string::npos);
}

TEST_CASE("provider: a valid rules file loads every field") {
  auto r = parse_scripted_rules(R"({
    "comment": "top-level comments are allowed",
    "rules": [{
      "name": "full", "comment": "so are rule comments",
      "when": {"agent": "[a]", "user_contains": ["Hello", "HI"], "user_regex": "(\\d+) apples",
               "last_role": "tool", "after_tool": "calc", "tool_result_field": "out.value",
               "tool_result_contains": "Ok", "tool_result_regex": "(x)(y)z",
               "context_contains": "Memory"},
      "reply": "n={{match.1}} {{tool_match.2}}",
      "tool_calls": [{"name": "calc", "arguments": {"e": "{{user}}", "n": 3}}],
      "finish": "length", "delay_ms": 60000,
      "usage": {"prompt_tokens": 7, "completion_tokens": 9}
    }],
    "default": "fallback {{user}}"
  })",
                                  "ok.json");
  REQUIRE_MESSAGE(r, describe(r.error()));
  REQUIRE(r->rules.size() == 1);
  const auto& rule = r->rules[0];
  CHECK(rule.name == "full");
  CHECK(rule.when.agent == "[a]");
  CHECK(rule.when.user_contains == std::vector<std::string>{"hello", "hi"});
  REQUIRE(rule.when.user_regex);
  CHECK(rule.when.user_regex->groups == 1);
  CHECK(rule.when.last_role == scripted_last_role::tool);
  CHECK(rule.when.after_tool == "calc");
  CHECK(rule.when.tool_result_field == std::vector<std::string>{"out", "value"});
  CHECK(rule.when.tool_result_contains == std::vector<std::string>{"ok"});
  REQUIRE(rule.when.tool_result_regex);
  CHECK(rule.when.tool_result_regex->groups == 2);
  CHECK(rule.when.context_contains == std::vector<std::string>{"memory"});
  REQUIRE(rule.reply.text);
  CHECK(rule.reply.text->source() == "n={{match.1}} {{tool_match.2}}");
  REQUIRE(rule.reply.tool_calls.size() == 1);
  CHECK(rule.reply.tool_calls[0].arguments.find("n")->as_int() == 3);
  CHECK(rule.reply.finish == finish_reason::length);
  CHECK(rule.reply.delay == std::chrono::milliseconds{60000});
  CHECK(rule.reply.prompt_tokens == 7);
  CHECK(rule.reply.completion_tokens == 9);
  REQUIRE(r->fallback);
  CHECK(r->fallback->text->source() == "fallback {{user}}");
  CHECK(r->origin == "ok.json");
}

TEST_CASE("provider: templates parse every placeholder and reject unknown ones") {
  auto t = scripted_template::parse(
    "a {{user}} b {{ match.3 }} {{tool_match.0}} {{tool_output}} {{tool_output.x.0}} "
    "{{tool.calc}} {{tool.calc.value}} {{memory}} }} end");
  REQUIRE_MESSAGE(t, describe(t.error()));
  CHECK(t->match_index_max() == 3);
  CHECK(t->tool_match_index_max() == 0);
  int placeholders = 0;
  for (const auto& seg : t->segments())
    placeholders += seg.slot != scripted_slot::literal;
  CHECK(placeholders == 8);
  CHECK(t->segments().back().text == " }} end");
  for (const char* bad : {"{{}}", "{{user.x}}", "{{match}}", "{{match.x}}", "{{tool}}",
                          "{{tool_output.}}", "{{memory.a}}", "{{tool_output.a.b.c.d.e.f.g.h.i}}",
                          "{{ {{user}}"}) {
    std::string text = bad;
    CAPTURE(text);
    auto r = scripted_template::parse(text);
    REQUIRE_FALSE(r);
    CHECK(errc_of(r.error()) == errc::invalid_argument);
  }
  CHECK_FALSE(scripted_template::parse(std::string(scripted_template_bytes_max + 1, 'x')));
}

TEST_CASE("provider: load_scripted_rules reports unreadable and oversized files") {
  auto missing = load_scripted_rules("/nonexistent/dir/rules.json");
  REQUIRE_FALSE(missing);
  CHECK(errc_of(missing.error()) == errc::io_error);
  CHECK(error_context(missing.error()).find("/nonexistent/dir/rules.json") != std::string::npos);

  auto path = std::filesystem::temp_directory_path() / "agentgraph_provider_rules_big.json";
  {
    std::ofstream out{path, std::ios::binary};
    out << std::string(scripted_rules_file_bytes_max + 1, ' ');
  }
  auto big = load_scripted_rules(path.string());
  std::filesystem::remove(path);
  REQUIRE_FALSE(big);
  CHECK(errc_of(big.error()) == errc::invalid_argument);
  CHECK(error_context(big.error()).find("larger than") != std::string::npos);
}

TEST_CASE("provider: the example research rules file loads") {
  auto r = load_scripted_rules(AGENTGRAPH_SOURCE_DIR "/configs/examples/research.rules.json");
  REQUIRE_MESSAGE(r, describe(r.error()));
  CHECK(r->rules.size() == 9);
  CHECK(r->fallback);
}

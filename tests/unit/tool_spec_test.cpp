// to_definition and validate_arguments, without an actor system.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "actors/tool/tool_interface.hpp"
#include "runtime/error.hpp"

namespace tool_spec_test {

agentgraph::tool_spec sample_spec() {
  agentgraph::tool_spec spec;
  spec.name = "sample";
  spec.description = "a tool for tests";
  spec.params = {
    {"text", "string", "some text", true},
    {"count", "integer", "", true},
    {"ratio", "number", "", false},
    {"flag", "boolean", "", false},
    {"items", "array", "", false},
    {"opts", "object", "", false},
  };
  return spec;
}

agentgraph::Value args_of(const char* json) {
  auto v = agentgraph::Value::from_json(json);
  return v ? *v : agentgraph::Value{};
}

struct bad_case {
  const char* json;
  const char* context;
};


TEST_CASE("tool: to_definition builds a closed JSON Schema object") {
  auto def = agentgraph::to_definition(sample_spec());
  CHECK(def.name == "sample");
  CHECK(def.description == "a tool for tests");
  CHECK(def.parameters.to_json()
        == R"({"additionalProperties":false,"properties":{"count":{"type":"integer"},)"
           R"("flag":{"type":"boolean"},"items":{"type":"array"},"opts":{"type":"object"},)"
           R"("ratio":{"type":"number"},"text":{"description":"some text","type":"string"}},)"
           R"("required":["text","count"],"type":"object"})");
  agentgraph::tool_spec empty;
  empty.name = "none";
  CHECK(agentgraph::to_definition(empty).parameters.to_json()
        == R"({"additionalProperties":false,"properties":{},"required":[],"type":"object"})");
}

TEST_CASE("tool: validate_arguments accepts matching arguments") {
  auto spec = sample_spec();
  for (const char* json : {
         R"({"text":"a","count":1})",
         R"({"text":"a","count":-3,"ratio":1})",
         R"({"text":"a","count":1,"ratio":0.5,"flag":true,"items":[1],"opts":{}})",
       }) {
    CAPTURE(json);
    CHECK_FALSE(agentgraph::validate_arguments(spec, args_of(json)));
  }
}

TEST_CASE("tool: validate_arguments names the parameter at fault") {
  auto spec = sample_spec();
  const std::vector<bad_case> cases{
    {R"([1,2])", "tool 'sample': arguments must be an object, got array"},
    {R"(null)", "tool 'sample': arguments must be an object, got null"},
    {R"({"count":1})", "tool 'sample': missing required parameter 'text'"},
    {R"({"text":"a"})", "tool 'sample': missing required parameter 'count'"},
    {R"({"text":"a","count":1.5})", "tool 'sample': parameter 'count' must be integer, got number"},
    {R"({"text":7,"count":1})", "tool 'sample': parameter 'text' must be string, got integer"},
    {R"({"text":"a","count":1,"ratio":"x"})",
     "tool 'sample': parameter 'ratio' must be number, got string"},
    {R"({"text":"a","count":1,"flag":1})",
     "tool 'sample': parameter 'flag' must be boolean, got integer"},
    {R"({"text":"a","count":1,"extra":1})", "tool 'sample': unknown parameter 'extra'"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.json);
    auto err = agentgraph::validate_arguments(spec, args_of(c.json));
    CHECK(agentgraph::errc_of(err) == agentgraph::errc::invalid_argument);
    CHECK(agentgraph::error_context(err) == c.context);
  }
  auto odd = sample_spec();
  odd.params.push_back({"when", "date", "", false});
  auto err = agentgraph::validate_arguments(odd, args_of(R"({"text":"a","count":1,"when":"x"})"));
  CHECK(agentgraph::error_context(err)
        == "tool 'sample': parameter 'when' declares unknown type 'date'");
}

}  // namespace tool_spec_test

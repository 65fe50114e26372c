#include <doctest/doctest.h>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>
#include <caf/deep_to_string.hpp>

#include "runtime/error.hpp"
#include "runtime/value.hpp"

using agentgraph::Value;

namespace value_test {

Value sample() {
  Value v = Value::object();
  v["name"] = "researcher";
  v["count"] = 42;
  v["ratio"] = 0.25;
  v["ok"] = true;
  v["none"] = nullptr;
  v["big"] = int64_t{9007199254740993};
  v["neg"] = -7;
  v["list"] = Value::Array{1, "two", 3.5, Value::Array{}, Value::object()};
  v["nested"]["deeper"]["text"] = std::string(100, 'x');
  v["unicode"] = "h\xc3\xa9llo \xe2\x82\xac";
  return v;
}

}  // namespace value_test

TEST_CASE("Value JSON round trip keeps every kind") {
  auto v = value_test::sample();
  auto text = v.to_json();
  auto back = Value::from_json(text);
  REQUIRE(back);
  CHECK(*back == v);
  CHECK(back->find("big")->as_int() == int64_t{9007199254740993});
  CHECK(back->find("ratio")->is_double());
  CHECK(back->find("count")->is_int());
}

TEST_CASE("Value JSON is canonical: sorted keys, compact") {
  auto a = Value::from_json(R"({"b":1,"a":[true,null]})");
  REQUIRE(a);
  CHECK(a->to_json() == R"({"a":[true,null],"b":1})");
}

TEST_CASE("Value msgpack round trip keeps every kind") {
  auto v = value_test::sample();
  auto bytes = v.to_msgpack();
  auto back = Value::from_msgpack(bytes);
  REQUIRE(back);
  CHECK(*back == v);
}

TEST_CASE("Value decoders reject bad input with parse_error") {
  for (const char* bad : {"{", "[1,2", "{\"a\":}", "tru", "", "1 2", "{\"a\" 1}"}) {
    auto r = Value::from_json(bad);
    REQUIRE_FALSE(r);
    CHECK(agentgraph::errc_of(r.error()) == agentgraph::errc::parse_error);
  }
  auto bytes = value_test::sample().to_msgpack();
  for (size_t cut = 0; cut < bytes.size(); ++cut) {
    auto r = Value::from_msgpack(std::string_view{bytes}.substr(0, cut));
    CHECK_FALSE(r);
  }
  auto trailing = Value::from_msgpack(bytes + "x");
  CHECK_FALSE(trailing);
}

TEST_CASE("Value::from_json refuses duplicate object keys, naming the key, at any depth") {
  for (const char* dup : {R"({"a":1,"a":2})", R"({"a":1,"b":{"k":1,"k":1}})",
                          R"([{"x":null},{"k":[],"k":{}}])"}) {
    CAPTURE(dup);
    auto r = Value::from_json(dup);
    REQUIRE_FALSE(r);
    CHECK(agentgraph::errc_of(r.error()) == agentgraph::errc::parse_error);
    CHECK(agentgraph::describe(r.error()).find("duplicate key '") != std::string::npos);
  }
  // The same key in sibling or nested objects is no duplicate.
  auto ok = Value::from_json(R"({"a":{"a":1},"b":[{"a":1},{"a":2}]})");
  REQUIRE(ok);
  CHECK(ok->to_json() == R"({"a":{"a":1},"b":[{"a":1},{"a":2}]})");
  // A long key is named but cut, so an error never carries a whole body.
  auto long_key = std::string(1000, 'k');
  auto r = Value::from_json("{\"" + long_key + "\":1,\"" + long_key + "\":2}");
  REQUIRE_FALSE(r);
  CHECK(agentgraph::describe(r.error()).size() < 200);
}

TEST_CASE("Value decoders enforce the depth limit") {
  std::string deep_ok(Value::depth_max - 1, '[');
  deep_ok += std::string(Value::depth_max - 1, ']');
  CHECK(Value::from_json(deep_ok));
  std::string too_deep(Value::depth_max + 1, '[');
  too_deep += std::string(Value::depth_max + 1, ']');
  auto r = Value::from_json(too_deep);
  REQUIRE_FALSE(r);
  CHECK(agentgraph::describe(r.error()).find("deeper") != std::string::npos);
  Value nested;
  Value* cur = &nested;
  for (int i = 0; i < Value::depth_max + 2; ++i) {
    (*cur)["x"] = Value::object();
    cur = &(*cur)["x"];
  }
  CHECK_FALSE(Value::from_msgpack(nested.to_msgpack()));
}

TEST_CASE("Value crosses CAF's binary serializer and prints as JSON") {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  auto v = value_test::sample();
  std::vector<char> buf;
  caf::binary_serializer sink{sys, buf};
  REQUIRE_FALSE(inspect(sink, v));
  Value back;
  caf::binary_deserializer source{sys, buf};
  REQUIRE_FALSE(inspect(source, back));
  CHECK(back == v);
  CHECK(caf::deep_to_string(Value{Value::Array{1, "a"}}).find("[1,") != std::string::npos);
}

TEST_CASE("Value heap_bytes grows with content") {
  Value small = "short";
  CHECK(small.heap_bytes() == 0);
  Value big = std::string(1000, 'y');
  CHECK(big.heap_bytes() >= 1000);
  auto obj = value_test::sample();
  CHECK(obj.heap_bytes() > 100);
}

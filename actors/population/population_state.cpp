#include "actors/population/population_state.hpp"

#include <string_view>

#include "runtime/error.hpp"
#include "runtime/value.hpp"

namespace agentgraph {

namespace {

// Bump when the layout changes; a state of a newer version is refused, not
// guessed at.
constexpr int64_t state_version = 1;

caf::error bad(const std::string& what) {
  return make_error(errc::parse_error, "population state: " + what);
}

// A figure that must be a non-negative integer.
caf::error read_count(const Value& v, const char* field, int64_t& out) {
  const auto* x = v.find(field);
  if (x == nullptr)
    return caf::none;  // absent: zero
  if (!x->is_int() || x->as_int() < 0)
    return bad(std::string{"field '"} + field + "' is not a non-negative integer");
  out = x->as_int();
  return caf::none;
}

}  // namespace

std::vector<uint8_t> encode_population_state(const population_key_state& s) {
  Value v = Value::object();
  v["v"] = Value{static_cast<long long>(state_version)};
  Value history = Value::array();
  for (const auto& text : s.agent.history)
    history.as_array().push_back(Value{text});
  v["h"] = std::move(history);
  v["tc"] = Value{static_cast<long long>(s.agent.tasks_completed)};
  v["er"] = Value{static_cast<long long>(s.agent.errors)};
  v["pt"] = Value{static_cast<long long>(s.agent.prompt_tokens)};
  v["ct"] = Value{static_cast<long long>(s.agent.completion_tokens)};
  v["rt"] = Value{static_cast<long long>(s.agent.response_time_total_us)};
  if (!s.vars.empty()) {
    Value vars = Value::object();
    for (const auto& [name, value] : s.vars)
      vars[name] = Value{value};
    v["vars"] = std::move(vars);
  }
  auto bytes = v.to_msgpack();
  return std::vector<uint8_t>(bytes.begin(), bytes.end());
}

caf::expected<population_key_state> decode_population_state(const std::vector<uint8_t>& bytes) {
  auto v = Value::from_msgpack(
    std::string_view{reinterpret_cast<const char*>(bytes.data()), bytes.size()});
  if (!v)
    return bad("not msgpack (" + describe(v.error()) + ")");
  if (!v->is_object())
    return bad("not a map");
  int64_t version = 0;
  if (auto err = read_count(*v, "v", version))
    return err;
  if (version != state_version)
    return bad("version " + std::to_string(version) + " (this build reads "
               + std::to_string(state_version) + ")");
  population_key_state s;
  if (const auto* h = v->find("h")) {
    if (!h->is_array())
      return bad("field 'h' is not a list");
    if (h->as_array().size() % 2 != 0)
      return bad("the history has an odd number of entries");
    for (const auto& text : h->as_array()) {
      if (!text.is_string())
        return bad("a history entry is not text");
      s.agent.history.push_back(text.as_string());
    }
  }
  int64_t tasks = 0, errors = 0;
  if (auto err = read_count(*v, "tc", tasks))
    return err;
  if (auto err = read_count(*v, "er", errors))
    return err;
  s.agent.tasks_completed = static_cast<uint64_t>(tasks);
  s.agent.errors = static_cast<uint64_t>(errors);
  for (auto [field, out] : {std::pair{"pt", &s.agent.prompt_tokens},
                            std::pair{"ct", &s.agent.completion_tokens},
                            std::pair{"rt", &s.agent.response_time_total_us}})
    if (auto err = read_count(*v, field, *out))
      return err;
  if (const auto* vars = v->find("vars")) {
    if (!vars->is_object())
      return bad("field 'vars' is not a map");
    for (const auto& [name, value] : vars->as_object()) {
      if (!value.is_string())
        return bad("variable '" + name + "' is not text");
      s.vars.emplace(name, value.as_string());
    }
  }
  return s;
}

}  // namespace agentgraph

#include "actors/host/node/task_json_population.hpp"

#include <limits>

#include "actors/host/node/task_json.hpp"
#include "actors/population/population_config.hpp"

namespace agentgraph {

namespace task_json_population_detail {

Value pop_json_count(uint64_t n) {
  return Value{static_cast<long long>(n)};
}

// The integer at `field`, if present, within [min, max].
caf::error read_bounded_integer(const Value& body, const std::string& field, int64_t min,
                                int64_t max, int64_t& out) {
  const Value* v = body.find(field);
  if (v == nullptr)
    return {};
  if (!v->is_int() || v->as_int() < min || v->as_int() > max)
    return task_json_detail::field_error(field, "must be an integer in " + std::to_string(min)
                                                  + ".." + std::to_string(max));
  out = v->as_int();
  return {};
}

}  // namespace task_json_population_detail

using task_json_population_detail::pop_json_count;
using task_json_population_detail::read_bounded_integer;

caf::expected<std::map<std::string, std::string>> parse_key_vars(std::string_view body) {
  auto parsed = task_json_detail::object_body(body);
  if (!parsed)
    return std::move(parsed.error());
  std::map<std::string, std::string> vars;
  for (const auto& [name, value] : parsed->as_object()) {
    if (!value.is_string())
      return task_json_detail::field_error("vars", "'" + name + "' must be a string");
    vars.emplace(name, value.as_string());
  }
  if (auto problem = population_vars_problem(vars); !problem.empty())
    return task_json_detail::field_error("vars", problem);
  return vars;
}

caf::expected<population_broadcast> parse_broadcast(std::string_view body) {
  using namespace task_json_detail;
  auto parsed = object_body(body);
  if (!parsed)
    return std::move(parsed.error());
  for (const auto& [key, value] : parsed->as_object())
    if (key != "input" && key != "sample" && key != "seed" && key != "concurrency"
        && key != "context" && key != "task_prefix")
      return make_error(errc::invalid_argument,
                        "unknown field '" + key
                          + "' (known: input, sample, seed, concurrency, context, task_prefix)");
  population_broadcast b;
  auto input = required_string(*parsed, "input");
  if (!input)
    return std::move(input.error());
  b.input = std::move(*input);
  int64_t sample = 0;
  int64_t seed = 0;
  int64_t concurrency = b.concurrency;
  constexpr auto seed_max = std::numeric_limits<int64_t>::max();
  if (auto err = read_bounded_integer(*parsed, "sample", 0, broadcast_sample_max, sample))
    return err;
  if (auto err = read_bounded_integer(*parsed, "seed", 0, seed_max, seed))
    return err;
  if (auto err = read_bounded_integer(*parsed, "concurrency", 1, broadcast_concurrency_max,
                                      concurrency))
    return err;
  b.sample = static_cast<uint64_t>(sample);
  b.seed = static_cast<uint64_t>(seed);
  b.concurrency = static_cast<uint32_t>(concurrency);
  if (const Value* ctx = parsed->find("context"))
    b.context = *ctx;
  if (const Value* prefix = parsed->find("task_prefix")) {
    if (!prefix->is_string())
      return field_error("task_prefix", "must be a string");
    b.task_prefix = prefix->as_string();
  }
  // The rest of the bounds (the prefix's characters), in the broadcast's own words.
  if (auto problem = broadcast_problem(b); !problem.empty())
    return field_error("broadcast", problem);
  return b;
}

Value key_vars_json(const std::string& agent, const std::map<std::string, std::string>& vars) {
  Value v = Value::object();
  for (const auto& [name, value] : vars)
    v[name] = Value{value};
  Value body = Value::object();
  body["agent"] = Value{agent};
  body["vars"] = std::move(v);
  return body;
}

Value broadcast_result_json(const std::string& type, const population_broadcast_result& r) {
  Value errors = Value::array();
  for (const auto& e : r.errors)
    errors.push_back(Value{e});
  Value body = Value::object();
  body["population"] = Value{type};
  body["keys"] = pop_json_count(r.keys);
  body["ok"] = pop_json_count(r.ok);
  body["failed"] = pop_json_count(r.failed);
  body["errors"] = std::move(errors);
  return body;
}

Value population_stats_json(const population_stats& s) {
  Value p = Value::object();
  p["name"] = Value{s.name};
  p["active"] = pop_json_count(s.active);
  p["activating"] = pop_json_count(s.activating);
  p["passivating"] = pop_json_count(s.passivating);
  p["saved_keys"] = pop_json_count(s.saved_keys);
  p["waiting"] = pop_json_count(s.waiting);
  p["tasks_in_flight"] = pop_json_count(s.tasks_in_flight);
  p["activations"] = pop_json_count(s.activations);
  p["passivations"] = pop_json_count(s.passivations);
  p["evictions"] = pop_json_count(s.evictions);
  p["fenced"] = pop_json_count(s.fenced);
  p["state_errors"] = pop_json_count(s.state_errors);
  p["store_errors"] = pop_json_count(s.store_errors);
  p["active_max"] = pop_json_count(s.active_max);
  p["passivated"] = pop_json_count(s.passivated);
  p["state_bytes"] = pop_json_count(s.state_bytes);
  return p;
}

}  // namespace agentgraph

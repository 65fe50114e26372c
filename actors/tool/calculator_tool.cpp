#include "actors/tool/calculator_tool.hpp"

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/tool/expression.hpp"
#include "actors/tool/tool_common.hpp"
#include "runtime/metrics/series_ref.hpp"
#include "runtime/assert.hpp"
#include "runtime/error.hpp"

namespace agentgraph {

namespace calculator_tool_detail {

struct calculator_state {
  static inline const char* name = "agentgraph.calculator";
  tool_spec spec;
  tool_counters counters;
  tool_metrics metrics;
};

using self_ptr = tool_actor::stateful_pointer<calculator_state>;

tool_actor::behavior_type calculator(self_ptr self, tool_spec spec, tool_metrics metrics) {
  self->state.spec = std::move(spec);
  self->state.metrics = std::move(metrics);
  // Calls run inside the handler: none is ever in flight between messages.
  metrics::set(self->state.metrics.calls_in_flight, 0);
  return {
    [self](invoke_atom, tool_invocation& inv) -> caf::result<tool_result> {
      auto& st = self->state;
      const auto started = std::chrono::steady_clock::now();
      ++st.counters.calls;
      auto out = run_calculator(st.spec, inv.arguments);
      if (!out) {
        ++st.counters.errors;
        st.metrics.calls.record_since(out.error(), started);
        return std::move(out.error());
      }
      st.metrics.calls.record_since(caf::none, started);
      AG_ASSERT(st.counters.errors < st.counters.calls);  // this call succeeded
      return tool_result{std::move(inv.call_id), std::move(*out), false};
    },
    [self](describe_atom) { return self->state.spec; },
    [self](stats_atom) { return make_tool_stats(self->state.spec.name, self->state.counters); },
    [](ping_atom) { return pong_atom::value; },
  };
}

}  // namespace calculator_tool_detail

tool_spec calculator_spec(const std::string& name) {
  tool_spec spec;
  spec.name = name;
  spec.description =
    "Evaluates an arithmetic expression exactly as written and returns its value. "
    "Operators: + - * / % ^ (power), parentheses, unary minus. Constants: pi, e. "
    "Functions: sqrt abs ln log10 exp sin cos tan (radians) floor ceil round pow min max.";
  spec.params = {{"expression", "string", "for example \"2 * (3 + 4) ^ 2\"", true}};
  spec.deterministic = true;
  return spec;
}

caf::expected<Value> run_calculator(const tool_spec& spec, const Value& args) {
  if (auto err = validate_arguments(spec, args))
    return err;
  const auto& text = args.find("expression")->as_string();
  auto value = evaluate_expression(text);
  if (!value)
    return make_error(errc::invalid_argument,
                      "tool '" + spec.name + "': " + error_context(value.error()));
  Value out = Value::object();
  out["expression"] = text;
  out["value"] = *value;
  return out;
}

tool_actor spawn_calculator_tool(caf::actor_system& sys, const std::string& name,
                                 tool_metrics metrics) {
  return sys.spawn(calculator_tool_detail::calculator, calculator_spec(name), std::move(metrics));
}

}  // namespace agentgraph

#include "actors/tool/publish_tool.hpp"

#include <algorithm>

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/tool/tool_common.hpp"
#include "runtime/error.hpp"
#include "runtime/metrics/series_ref.hpp"

namespace agentgraph {

namespace publish_tool_detail {

struct publish_state {
  static inline const char* name = "agentgraph.publish";
  tool_spec spec;
  tool_config cfg;
  topic_actor topics;
  tool_counters counters;
  tool_metrics metrics;
  uint32_t in_flight = 0;  // <= tool_inflight_max
};

using self_ptr = tool_actor::stateful_pointer<publish_state>;

caf::result<tool_result> invoke(self_ptr self, tool_invocation& inv) {
  auto& st = self->state;
  const auto started = std::chrono::steady_clock::now();
  ++st.counters.calls;
  auto fail = [&](caf::error err) -> caf::result<tool_result> {
    ++st.counters.errors;
    st.metrics.calls.record_since(err, started);
    return err;
  };
  if (st.in_flight >= tool_inflight_max)
    return fail(make_error(errc::overloaded, "tool '" + st.spec.name + "': " +
                                                 std::to_string(tool_inflight_max) +
                                                 " calls in flight"));
  auto args = publish_arguments(st.spec, st.cfg.topics, inv.arguments);
  if (!args)
    return fail(std::move(args.error()));
  ++st.in_flight;
  metrics::set(st.metrics.calls_in_flight, st.in_flight);
  auto rp = self->make_response_promise<tool_result>();
  auto settle = [self, started](caf::error err) {
    auto& st = self->state;
    --st.in_flight;
    metrics::set(st.metrics.calls_in_flight, st.in_flight);
    if (err)
      ++st.counters.errors;
    st.metrics.calls.record_since(err, started);
  };
  self->request(st.topics, st.cfg.timeout, topic_publish_atom::value, std::move(args->first),
                std::move(args->second))
      .then(
          [rp, settle, id = std::move(inv.call_id)](publish_receipt& r) mutable {
            settle(caf::none);
            rp.deliver(tool_result{std::move(id), publish_receipt_json(r), false});
          },
          [self, rp, settle](caf::error& err) mutable {
            auto e = from_request_error(std::move(err), "tool '" + self->state.spec.name + "'",
                                        self->state.cfg.timeout);
            settle(e);
            rp.deliver(std::move(e));
          });
  return rp;
}

}  // namespace publish_tool_detail

tool_spec publish_spec(const std::string& name, const std::vector<std::string>& topics) {
  std::string list;
  for (const auto& t : topics)
    list += (list.empty() ? "" : ", ") + t;
  tool_spec spec;
  spec.name = name;
  spec.description =
      "Publishes a message to a topic: every agent subscribed to it, on every node of the "
      "cluster, gets the message as a task. Returns how many local subscribers and other "
      "nodes it went to. Topics you may use: " + list + ".";
  spec.params = {{"topic", "string", "one of: " + list, true},
                 {"message", "string", "the text every subscriber receives", true}};
  spec.deterministic = false;
  return spec;
}

caf::expected<std::pair<std::string, Value>> publish_arguments(
    const tool_spec& spec, const std::vector<std::string>& topics, const Value& args) {
  if (auto err = validate_arguments(spec, args))
    return err;
  const auto& topic = args.find("topic")->as_string();
  if (std::find(topics.begin(), topics.end(), topic) == topics.end())
    return make_error(errc::invalid_argument,
                      "tool '" + spec.name + "': topic '" + topic.substr(0, 64) +
                          "' is not one this tool may publish to");
  return std::make_pair(topic, *args.find("message"));
}

tool_actor spawn_publish_tool(caf::actor_system& sys, const tool_config& cfg, topic_actor topics,
                              tool_metrics metrics) {
  return sys.spawn([cfg, topics, metrics = std::move(metrics)](
                       publish_tool_detail::self_ptr self) mutable -> tool_actor::behavior_type {
    auto& st = self->state;
    st.spec = publish_spec(cfg.name, cfg.topics);
    st.cfg = std::move(cfg);
    st.topics = std::move(topics);
    st.metrics = std::move(metrics);
    metrics::set(st.metrics.calls_in_flight, 0);
    return {
        [self](invoke_atom, tool_invocation& inv) { return publish_tool_detail::invoke(self, inv); },
        [self](describe_atom) { return self->state.spec; },
        [self](stats_atom) { return make_tool_stats(self->state.spec.name, self->state.counters); },
        [](ping_atom) { return pong_atom::value; },
    };
  });
}

}  // namespace agentgraph

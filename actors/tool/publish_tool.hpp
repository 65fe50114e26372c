// The publish built-in (kind publish): {"topic": string, "message": string}
// in, the publish receipt out ({"topic","id","subscribers_local","nodes",
// "nodes_overloaded"}). The model may publish only to the topics its
// config allows (`topics`), so a prompt cannot spray messages over the
// cluster. It hands the message to the node's topic actor
// (actors/topic/topic_interface.hpp), which fans it out; the tool does not
// wait for the subscribers.
#pragma once

#include <string>
#include <vector>

#include <caf/actor_system.hpp>

#include "actors/tool/tool_config.hpp"
#include "actors/tool/tool_interface.hpp"
#include "actors/tool/tool_metrics.hpp"
#include "actors/topic/topic_interface.hpp"

namespace agentgraph {

[[nodiscard]] tool_spec publish_spec(const std::string& name,
                                     const std::vector<std::string>& topics);

// Checks `args` against `spec` and the allowed topics; the topic and the
// message to publish. Errors: invalid_argument (bad arguments, a topic not
// allowed).
[[nodiscard]] caf::expected<std::pair<std::string, Value>> publish_arguments(
    const tool_spec& spec, const std::vector<std::string>& topics, const Value& args);

// `cfg`: kind publish, `topics` non-empty (validate_tool_config), `timeout`
// the deadline of the topic actor's answer.
[[nodiscard]] tool_actor spawn_publish_tool(caf::actor_system& sys, const tool_config& cfg,
                                            topic_actor topics, tool_metrics metrics = {});

}  // namespace agentgraph

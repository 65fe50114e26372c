#include "actors/host/register_types.hpp"

#include <map>
#include <string>

#include "actors/population/broadcast.hpp"
#include "actors/population/population_interface.hpp"

#include "actors/agent/agent_interface.hpp"
#include "actors/memory/memory_interface.hpp"
#include "actors/memory/memory_replica_interface.hpp"
#include "actors/provider/provider_interface.hpp"
#include "actors/workflow/workflow_types.hpp"
#include "actors/tool/tool_interface.hpp"
#include "actors/topic/topic_interface.hpp"
#include "net/cluster/cluster_types.hpp"
#include "runtime/register_types.hpp"
#include "runtime/supervisor.hpp"

namespace agentgraph {

namespace register_types_detail {

void register_provider_types(caf::actor_system_config& cfg) {
  cfg.add_message_type<tool_call>("agentgraph::tool_call");
  cfg.add_message_type<chat_message>("agentgraph::chat_message");
  cfg.add_message_type<tool_definition>("agentgraph::tool_definition");
  cfg.add_message_type<token_usage>("agentgraph::token_usage");
  cfg.add_message_type<chat_request>("agentgraph::chat_request");
  cfg.add_message_type<chat_response>("agentgraph::chat_response");
  cfg.add_message_type<stream_chunk>("agentgraph::stream_chunk");
  cfg.add_message_type<embed_request>("agentgraph::embed_request");
  cfg.add_message_type<embed_response>("agentgraph::embed_response");
  cfg.add_message_type<std::vector<float>>("std::vector<float>");
  cfg.add_message_type<std::vector<std::vector<float>>>("std::vector<std::vector<float>>");
  cfg.add_message_type<stream_sink_actor>("agentgraph::stream_sink_actor");
  cfg.add_message_type<provider_stats>("agentgraph::provider_stats");
  cfg.add_message_type<provider_actor>("agentgraph::provider_actor");
}

void register_tool_types(caf::actor_system_config& cfg) {
  cfg.add_message_type<tool_param>("agentgraph::tool_param");
  cfg.add_message_type<tool_spec>("agentgraph::tool_spec");
  cfg.add_message_type<tool_invocation>("agentgraph::tool_invocation");
  cfg.add_message_type<tool_result>("agentgraph::tool_result");
  cfg.add_message_type<tool_stats>("agentgraph::tool_stats");
  cfg.add_message_type<tool_actor>("agentgraph::tool_actor");
}

void register_memory_types(caf::actor_system_config& cfg) {
  cfg.add_message_type<memory_entry>("agentgraph::memory_entry");
  cfg.add_message_type<memory_hit>("agentgraph::memory_hit");
  cfg.add_message_type<memory_stats>("agentgraph::memory_stats");
  cfg.add_message_type<memory_actor>("agentgraph::memory_actor");
  cfg.add_message_type<memory_page>("agentgraph::memory_page");
  cfg.add_message_type<memory_replica_actor>("agentgraph::memory_replica_actor");
}

void register_supervision_types(caf::actor_system_config& cfg) {
  cfg.add_message_type<supervision_stats>("agentgraph::supervision_stats");
  cfg.add_message_type<supervisor_control_actor>("agentgraph::supervisor_control_actor");
}

void register_topic_types(caf::actor_system_config& cfg) {
  cfg.add_message_type<topic_message>("agentgraph::topic_message");
  cfg.add_message_type<publish_receipt>("agentgraph::publish_receipt");
  cfg.add_message_type<topic_route>("agentgraph::topic_route");
  cfg.add_message_type<topic_stats>("agentgraph::topic_stats");
  cfg.add_message_type<topic_actor>("agentgraph::topic_actor");
}

void register_agent_types(caf::actor_system_config& cfg) {
  cfg.add_message_type<task_request>("agentgraph::task_request");
  cfg.add_message_type<tool_call_record>("agentgraph::tool_call_record");
  cfg.add_message_type<task_result>("agentgraph::task_result");
  cfg.add_message_type<agent_stats>("agentgraph::agent_stats");
  cfg.add_message_type<agent_actor>("agentgraph::agent_actor");
  cfg.add_message_type<agent_snapshot>("agentgraph::agent_snapshot");
  cfg.add_message_type<keyed_agent_actor>("agentgraph::keyed_agent_actor");
  cfg.add_message_type<population_stats>("agentgraph::population_stats");
  // A key's prompt variables (pop_set_vars), sent to the key's owner node.
  cfg.add_message_type<std::map<std::string, std::string>>("agentgraph::string_map");
  cfg.add_message_type<population_actor>("agentgraph::population_actor");
  cfg.add_message_type<population_broadcast>("agentgraph::population_broadcast");
  cfg.add_message_type<population_broadcast_result>("agentgraph::population_broadcast_result");
}

void register_workflow_types(caf::actor_system_config& cfg) {
  cfg.add_message_type<workflow_event>("agentgraph::workflow_event");
  cfg.add_message_type<workflow_result>("agentgraph::workflow_result");
  cfg.add_message_type<interrupt_request>("agentgraph::interrupt_request");
  cfg.add_message_type<workflow_pending>("agentgraph::workflow_pending");
  cfg.add_message_type<workflow_event_sink>("agentgraph::workflow_event_sink");
  cfg.add_message_type<workflow_run_actor>("agentgraph::workflow_run_actor");
}

}  // namespace register_types_detail

void register_all_types(caf::actor_system_config& cfg) {
  register_runtime_types(cfg);
  register_types_detail::register_provider_types(cfg);
  register_types_detail::register_tool_types(cfg);
  register_types_detail::register_memory_types(cfg);
  register_types_detail::register_agent_types(cfg);
  register_types_detail::register_topic_types(cfg);
  register_types_detail::register_supervision_types(cfg);
  register_types_detail::register_workflow_types(cfg);
  cluster::register_cluster_types(cfg);
}

}  // namespace agentgraph

// The public embedding header: everything an application needs to build a
// Runtime, spawn agents, tools, memory shards and providers, and call agents
// from ordinary code. Link agentgraph::agentgraph (find_package(agentgraph)).
#pragma once

#include "actors/agent/agent_config.hpp"
#include "actors/agent/agent_interface.hpp"
#include "actors/host/node/gateway.hpp"
#include "actors/host/node_config.hpp"
#include "actors/host/runtime.hpp"
#include "actors/host/runtime_builder.hpp"
#include "actors/host/runtime_client.hpp"
#include "actors/memory/memory_config.hpp"
#include "actors/memory/memory_interface.hpp"
#include "actors/provider/provider_config.hpp"
#include "actors/provider/provider_interface.hpp"
#include "actors/tool/tool_config.hpp"
#include "actors/tool/tool_interface.hpp"
#include "runtime/error.hpp"
#include "runtime/supervision_config.hpp"
#include "runtime/value.hpp"

// The address of one key of a population as an agent_actor: what
// Runtime::agent("<type>/<key>") returns, so every caller that reaches
// agents by name (runtime_client, the gateway and its journal, workflows,
// agent tools) reaches a population's keys unchanged. A small actor that
// holds (type, key) and sends each task to the population actor of the
// node that owns the key now (population_nodes: rendezvous hashing over
// the nodes that run the type; this node's own outside a cluster), and
// relays its answer. Owner is chosen per message, so a key whose node went
// down is sent to its next owner.
//
// A task in flight to another node when that node goes (kill -9: CAF ends
// its proxies; a node the cluster downed: the node_down group of
// call_watch.hpp) is sent again to the key's next owner, which claims the
// key from the shared store (the old node's saves are fenced). CAF 0.17
// never fails a request in flight when its peer dies (toolchain.md §3.6),
// so a delegated task would wait for the caller's deadline: the address
// monitors the owners it sent tasks to instead. No timer per task (CAF's
// clock would keep the address alive until it fired): a silent owner is
// bounded by the caller's own deadline. The task may have run on the dead
// node; the task journal keeps one answer per id, as for a group's
// re-dispatch (agent_group.cpp). A task an owner answers with `conflict`
// ran on a stale instance (another node had claimed the key, so its save
// was fenced and nothing of it was stored): it is sent again the same way.
//
// It exists while a caller holds it (CAF destroys an actor nobody
// references), so a million keys addressed once cost nothing after.
#pragma once

#include <chrono>
#include <string>

#include <caf/actor_system.hpp>

#include "actors/agent/agent_interface.hpp"
#include "actors/population/population_nodes.hpp"

namespace agentgraph {

// Tasks one address has in flight; one more is `overloaded`. Callers
// hold an address per task or per conversation.
constexpr size_t key_address_tasks_max = 1024;
// Owners a task may be sent to after the one before went down.
constexpr uint32_t key_address_moves_max = 8;
// Owners a task may be sent to again after one answered `conflict` (its
// instance of the key was stale: another node had claimed it). One is the
// usual case (the stale node, then the owner); more only while two nodes
// disagree on the owner. Beyond: `conflict` naming the count.
constexpr uint32_t key_address_fenced_max = 3;
// How often a task whose owner went down asks population_nodes for the
// next one, until the cluster directory has dropped the dead node.
constexpr auto key_address_owner_poll = std::chrono::milliseconds{50};

// `key` must be valid (population_key_problem). Tasks to a population that
// no node runs now (or whose owner is down) get `unavailable`, as does a
// task whose owner went down when no other node takes the key within
// `task_deadline` (the population's own). A task whose owner answered
// `conflict` (a stale instance: its save was fenced) goes to the key's owner
// again, at most key_address_fenced_max times and not past `task_deadline`
// (then `conflict` or `timeout`).
[[nodiscard]] agent_actor spawn_key_address(caf::actor_system& sys,
                                            std::shared_ptr<const population_nodes> nodes,
                                            std::string type, std::string key,
                                            std::chrono::milliseconds task_deadline);

}  // namespace agentgraph

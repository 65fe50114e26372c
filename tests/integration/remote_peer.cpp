// Two-process proof that every message type crosses CAF's middleman: `serve`
// builds a runtime from a config and publishes an agent, a tool, a memory
// shard and a provider on 127.0.0.1; `drive` connects from another process
// and exercises each interface. Used by tests/integration/remote_agent.sh.
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <pthread.h>
#include <string>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>

#include "actors/host/node_config.hpp"
#include "actors/host/register_types.hpp"
#include "actors/host/runtime.hpp"
#include "actors/host/runtime_builder.hpp"
#include "runtime/error.hpp"

using namespace agentgraph;
using namespace std::chrono_literals;

namespace remote_peer {

int fail(const std::string& what) {
  std::cerr << "remote_peer: FAIL " << what << "\n";
  return 1;
}

int serve(const std::string& config_path, const std::string& port_file,
          const std::vector<std::string>& overrides) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);  // before any CAF thread starts
  auto cfg = load_node_config(config_path, {}, overrides);
  if (!cfg)
    return fail(describe(cfg.error()));
  auto rt = runtime_builder::from_config(*cfg, true);
  if (!rt)
    return fail(describe(rt.error()));
  std::map<std::string, caf::expected<uint16_t>> ports;
  ports.emplace("agent", (*rt)->publish_agent("researcher", 0));
  ports.emplace("tool", (*rt)->publish_tool("calculator", 0));
  ports.emplace("memory", (*rt)->publish_memory("notes", 0));
  ports.emplace("provider", (*rt)->publish_provider("scripted", 0));
  std::ofstream out{port_file + ".tmp"};
  for (auto& [kind, port] : ports) {
    if (!port)
      return fail("publish " + kind + ": " + describe(port.error()));
    out << kind << " " << *port << "\n";
  }
  out.close();
  std::rename((port_file + ".tmp").c_str(), port_file.c_str());
  std::cout << "remote_peer: serving" << std::endl;
  int sig = 0;
  sigwait(&set, &sig);
  auto err = (*rt)->shutdown();
  std::cout << "remote_peer: stopped by signal " << sig << std::endl;
  return err ? fail(describe(err)) : 0;
}

template <class Handle>
caf::expected<Handle> connect(caf::actor_system& sys, uint16_t port) {
  return sys.middleman().remote_actor<Handle>("127.0.0.1", port);
}

int drive(const std::string& port_file) {
  std::map<std::string, uint16_t> ports;
  std::ifstream in{port_file};
  std::string kind;
  uint16_t port = 0;
  while (in >> kind >> port)
    ports[kind] = port;
  caf::actor_system_config cfg;
  register_all_types(cfg);
  cfg.set("scheduler.max-threads", 2);
  cfg.load<caf::io::middleman>();
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  auto agent = connect<agent_actor>(sys, ports["agent"]);
  auto tool = connect<tool_actor>(sys, ports["tool"]);
  auto memory = connect<memory_actor>(sys, ports["memory"]);
  auto provider = connect<provider_actor>(sys, ports["provider"]);
  if (!agent || !tool || !memory || !provider)
    return fail("connect: typed interface check failed");
  int failures = 0;
  auto check = [&](bool ok, const std::string& what) {
    std::cout << (ok ? "ok   " : "FAIL ") << what << "\n";
    failures += ok ? 0 : 1;
  };
  auto on_error = [&](const std::string& what) {
    return [&, what](caf::error& e) { check(false, what + ": " + describe(e)); };
  };
  self->request(*agent, 30s, execute_atom::value,
                task_request{"remote-1", "Read specs/crate.txt and compute how many widgets fit.",
                             Value{}})
    .receive(
      [&](task_result& r) {
        check(r.output.find("1000") != std::string::npos, "agent execute: " + r.output);
        check(r.tool_calls.size() >= 2, "agent used its tools across the process boundary");
      },
      on_error("agent execute"));
  self->request(*agent, 5s, stats_atom::value)
    .receive([&](agent_stats& s) { check(s.tasks_completed >= 1, "agent stats"); },
             on_error("agent stats"));
  self->request(*tool, 5s, describe_atom::value)
    .receive([&](tool_spec& s) { check(!s.params.empty(), "tool describe: " + s.name); },
             on_error("tool describe"));
  Value args = Value::object();
  args["expression"] = "6*7";
  self->request(*tool, 5s, invoke_atom::value, tool_invocation{"c1", args})
    .receive(
      [&](tool_result& r) {
        const Value* v = r.output.find("value");
        check(v != nullptr && v->is_number() && v->as_double() == 42.0, "tool invoke 6*7");
      },
      on_error("tool invoke"));
  self->request(*tool, 5s, invoke_atom::value, tool_invocation{"c2", Value::object()})
    .receive([&](tool_result&) { check(false, "tool error crosses as error"); },
             [&](caf::error& e) {
               check(errc_of(e) == errc::invalid_argument, "tool error crosses: " + describe(e));
             });
  memory_entry entry;
  entry.text = "remote peers remember the crate holds one thousand widgets";
  entry.kind = "fact";
  entry.importance = 0.9;
  entry.metadata["source"] = "remote_peer";
  self->request(*memory, 5s, store_atom::value, entry)
    .receive([&](uint64_t id) { check(id > 0, "memory store"); }, on_error("memory store"));
  self->request(*memory, 5s, recall_atom::value, std::string{"crate widgets"}, uint32_t{3})
    .receive([&](std::vector<memory_hit>& hits) { check(!hits.empty(), "memory recall"); },
             on_error("memory recall"));
  self->request(*memory, 5s, stats_atom::value)
    .receive([&](memory_stats& s) { check(s.entries >= 1, "memory stats"); },
             on_error("memory stats"));
  chat_request req;
  req.request_id = "remote-chat";
  req.model = "scripted-1";
  req.messages.push_back({chat_role::system, "[researcher]", {}, {}, {}});
  req.messages.push_back({chat_role::user, "Read specs/crate.txt please", {}, {}, {}});
  self->request(*provider, 5s, chat_atom::value, req)
    .receive([&](chat_response& r) { check(r.usage.prompt_tokens > 0, "provider chat"); },
             on_error("provider chat"));
  self->request(*provider, 5s, ping_atom::value)
    .receive([&](pong_atom) { check(true, "heartbeat"); }, on_error("heartbeat"));
  return failures == 0 ? 0 : 1;
}

}  // namespace remote_peer

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() >= 3 && args[0] == "serve")
    return remote_peer::serve(args[1], args[2], {args.begin() + 3, args.end()});
  if (args.size() == 2 && args[0] == "drive")
    return remote_peer::drive(args[1]);
  std::cerr << "usage: remote_peer serve CONFIG PORT_FILE [section.key=value...]\n"
               "       remote_peer drive PORT_FILE\n";
  return 2;
}

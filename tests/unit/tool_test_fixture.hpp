// Shared by the tool_*_test.cpp files: an actor system configured the way
// every agentgraph process configures it, a scoped actor destroyed before
// the system, and blocking helpers that turn a tool's reply into
// caf::expected so tests can assert the errc of a failure.
#pragma once

#include <chrono>
#include <optional>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/actor_cast.hpp>
#include <caf/exit_reason.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include "actors/host/register_types.hpp"
#include "actors/tool/tool_interface.hpp"
#include "runtime/error.hpp"

namespace tool_test {

// Generous: only a hung actor reaches it, and no test asserts wall time.
constexpr auto reply_timeout = std::chrono::seconds(20);

inline caf::actor_system_config& prepared(caf::actor_system_config& cfg) {
  agentgraph::register_all_types(cfg);
  cfg.set("scheduler.max-threads", 2);
  return cfg;
}

struct fixture {
  caf::actor_system_config cfg;
  caf::actor_system sys{prepared(cfg)};
  std::optional<caf::scoped_actor> self;
  // Actors the test spawned, ended explicitly at the end: in CAF 0.17 a
  // request's pending timeout keeps its requester alive until it fires, so
  // a tool left to reference counting would hold the system's destructor
  // for up to its request timeout. (Product code ends tools the same way:
  // their supervisor sends exit.)
  std::vector<caf::actor> owned;

  fixture() { self.emplace(sys); }
  ~fixture() {
    for (auto& a : owned)
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    owned.clear();
    self.reset();
  }

  template <class Handle>
  Handle keep(Handle h) {
    if (h)
      owned.push_back(caf::actor_cast<caf::actor>(h));
    return h;
  }

  caf::expected<agentgraph::tool_result> invoke(const agentgraph::tool_actor& tool,
                                                std::string call_id, agentgraph::Value args) {
    caf::expected<agentgraph::tool_result> out{
      agentgraph::make_error(agentgraph::errc::internal, "no reply")};
    (*self)
      ->request(tool, reply_timeout, agentgraph::invoke_atom::value,
                agentgraph::tool_invocation{std::move(call_id), std::move(args)})
      .receive([&](agentgraph::tool_result& r) { out = std::move(r); },
               [&](caf::error& e) { out = std::move(e); });
    return out;
  }

  agentgraph::tool_stats stats(const agentgraph::tool_actor& tool) {
    agentgraph::tool_stats out;
    (*self)
      ->request(tool, reply_timeout, agentgraph::stats_atom::value)
      .receive([&](agentgraph::tool_stats& s) { out = std::move(s); },
               [&](caf::error& e) { out.name = "error: " + agentgraph::describe(e); });
    return out;
  }

  agentgraph::tool_spec describe(const agentgraph::tool_actor& tool) {
    agentgraph::tool_spec out;
    (*self)
      ->request(tool, reply_timeout, agentgraph::describe_atom::value)
      .receive([&](agentgraph::tool_spec& s) { out = std::move(s); },
               [&](caf::error& e) { out.name = "error: " + agentgraph::describe(e); });
    return out;
  }

  bool pongs(const agentgraph::tool_actor& tool) {
    bool ok = false;
    (*self)
      ->request(tool, reply_timeout, agentgraph::ping_atom::value)
      .receive([&](agentgraph::pong_atom) { ok = true; }, [&](caf::error&) { ok = false; });
    return ok;
  }
};

inline agentgraph::Value args_of(const char* json) {
  auto v = agentgraph::Value::from_json(json);
  return v ? *v : agentgraph::Value{};
}

inline std::optional<agentgraph::errc> code_of(const caf::error& err) {
  return agentgraph::errc_of(err);
}

}  // namespace tool_test

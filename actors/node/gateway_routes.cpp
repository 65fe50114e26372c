// The gateway's read-only routes: /ready, /v1/agents, /v1/memory. They ask
// the runtime's actors from the HTTP worker thread with a blocking
// scoped_actor request bounded by health_ping_timeout: an HTTP worker may
// block, a CAF scheduler thread never does.
#include <caf/scoped_actor.hpp>
#include <caf/sec.hpp>

#include "actors/node/agent_figures.hpp"
#include "actors/node/gateway_impl.hpp"
#include "runtime/error.hpp"

namespace agentgraph {

namespace gateway_routes_detail {

template <class Reply>
struct probe {
  caf::expected<Reply> reply = make_error(errc::internal, "no reply");
  double round_trip_ms = 0;
};

// One request with a deadline, timed from send to answer.
template <class Reply, class Handle, class Atom>
probe<Reply> ask(caf::actor_system& sys, const Handle& h, std::chrono::milliseconds timeout,
                 Atom atom) {
  probe<Reply> out;
  caf::scoped_actor self{sys};
  auto t0 = std::chrono::steady_clock::now();
  self->request(h, timeout, atom)
    .receive([&](Reply& r) { out.reply = std::move(r); },
             [&](caf::error& err) {
               if (err == caf::sec::request_timeout)
                 err = make_error(errc::timeout, "no answer within "
                                                   + std::to_string(timeout.count()) + "ms");
               out.reply = std::move(err);
             });
  out.round_trip_ms = std::chrono::duration<double, std::milli>(
                        std::chrono::steady_clock::now() - t0)
                        .count();
  return out;
}

Value num(uint64_t n) {
  return Value{static_cast<long long>(n)};
}

Value agent_json(const std::string& name, const probe<agent_stats>& p) {
  Value a = Value::object();
  a["name"] = Value{name};
  a["healthy"] = Value{static_cast<bool>(p.reply)};
  a["ping_ms"] = Value{p.round_trip_ms};
  agent_stats s;
  if (p.reply)
    s = *p.reply;
  agent_figures f = compute_agent_figures(s);
  a["role"] = Value{s.role};
  a["status"] = Value{p.reply ? to_string(s.status) : "unreachable"};
  a["tasks_completed"] = num(s.tasks_completed);
  a["errors"] = num(s.errors);
  a["tasks_in_flight"] = num(s.tasks_in_flight);
  a["requests_per_second"] = Value{f.requests_per_second};
  a["avg_response_ms"] = Value{f.avg_response_ms};
  a["tokens_per_second"] = Value{f.tokens_per_second};
  a["error_rate"] = Value{f.error_rate};
  a["memory_bytes"] = num(s.memory_bytes);
  if (!p.reply)
    a["error"] = error_object(p.reply.error());
  return a;
}

}  // namespace gateway_routes_detail

net::server_response gateway::impl::readiness() {
  using namespace gateway_routes_detail;
  auto answer = [](bool ok, const std::string& reason) {
    Value v = Value::object();
    v["ready"] = Value{ok};
    v["reason"] = Value{reason};
    return net::json_response(ok ? 200 : 503, v.to_json());
  };
  if (draining.load())
    return answer(false, "draining");
  if (!ready.load())
    return answer(false, "starting");
  // A supervisor answers pings itself, so a pong says nothing about the
  // child behind it; a stats request is forwarded to the child and proves
  // it serves.
  for (const auto& name : rt.provider_names()) {
    auto h = rt.provider(name);
    if (!h)
      return answer(false, "provider '" + name + "': " + describe(h.error()));
    auto p = ask<provider_stats>(rt.system(), *h, cfg.health_ping_timeout,
                                 provider_stats_atom::value);
    if (!p.reply)
      return answer(false, "provider '" + name + "': " + describe(p.reply.error()));
  }
  for (const auto& name : rt.memory_names()) {
    auto h = rt.memory(name);
    if (!h)
      return answer(false, "memory '" + name + "': " + describe(h.error()));
    auto p = ask<memory_stats>(rt.system(), *h, cfg.health_ping_timeout, stats_atom::value);
    if (!p.reply)
      return answer(false, "memory '" + name + "': " + describe(p.reply.error()));
  }
  return answer(true, "ok");
}

net::server_response gateway::impl::agents() {
  using namespace gateway_routes_detail;
  Value list = Value::array();
  for (const auto& name : rt.agent_names()) {
    probe<agent_stats> p;
    if (auto h = rt.agent(name))
      p = ask<agent_stats>(rt.system(), *h, cfg.health_ping_timeout, stats_atom::value);
    else
      p.reply = std::move(h.error());
    list.push_back(agent_json(name, p));
  }
  Value body = Value::object();
  body["agents"] = std::move(list);
  return net::json_response(200, body.to_json());
}

net::server_response gateway::impl::memory() {
  using namespace gateway_routes_detail;
  Value list = Value::array();
  for (const auto& name : rt.memory_names()) {
    Value m = Value::object();
    m["name"] = Value{name};
    probe<memory_stats> p;
    if (auto h = rt.memory(name))
      p = ask<memory_stats>(rt.system(), *h, cfg.health_ping_timeout, stats_atom::value);
    else
      p.reply = std::move(h.error());
    m["healthy"] = Value{static_cast<bool>(p.reply)};
    if (p.reply) {
      m["entries"] = num(p.reply->entries);
      m["bytes"] = num(p.reply->bytes);
      m["evictions"] = num(p.reply->evictions);
      m["snapshots_written"] = num(p.reply->snapshots_written);
    } else {
      m["error"] = error_object(p.reply.error());
    }
    list.push_back(std::move(m));
  }
  Value body = Value::object();
  body["shards"] = std::move(list);
  return net::json_response(200, body.to_json());
}

}  // namespace agentgraph

// The gateway's read-only routes: /ready, /v1/agents, /v1/memory,
// /v1/populations, /v1/cluster, and POST /v1/topics/<topic> (a publish). Each asks
// the runtime's actors through one short-lived prober actor that sends
// every request at once (each bounded by health_ping_timeout) and answers
// the HTTP request when the last reply or timeout is in: no thread waits.
#include <cmath>

#include <caf/event_based_actor.hpp>

#include "actors/host/node/agent_figures.hpp"
#include "actors/host/node/gateway_impl.hpp"
#include "actors/host/node/task_json_population.hpp"
#include "actors/topic/topic_interface.hpp"
#include "runtime/error.hpp"

namespace agentgraph {

namespace gateway_routes_detail {

template <class Reply>
struct probe {
  caf::expected<Reply> reply = make_error(errc::internal, "no reply");
  double round_trip_ms = 0;
};

// Asks every target `atom` at once and calls `done` with one probe per
// target, in the targets' order, when all have answered or timed out. A
// target whose handle could not be found keeps its lookup error.
template <class Reply, class Handle, class Atom>
void probe_all(caf::actor_system& sys, std::vector<caf::expected<Handle>> targets,
               std::chrono::milliseconds timeout, Atom atom,
               std::function<void(std::vector<probe<Reply>>)> done) {
  struct state {
    std::vector<probe<Reply>> probes;
    size_t waiting = 0;
  };
  auto st = std::make_shared<state>();
  st->probes.resize(targets.size());
  for (size_t i = 0; i < targets.size(); ++i) {
    if (targets[i])
      ++st->waiting;
    else
      st->probes[i].reply = std::move(targets[i].error());
  }
  if (st->waiting == 0) {
    done(std::move(st->probes));
    return;
  }
  sys.spawn([st, targets = std::move(targets), timeout, atom,
             done = std::move(done)](caf::event_based_actor* self) {
    const auto t0 = std::chrono::steady_clock::now();
    for (size_t i = 0; i < targets.size(); ++i) {
      if (!targets[i])
        continue;
      auto settle = [self, st, i, t0, done](caf::expected<Reply> r) {
        st->probes[i].reply = std::move(r);
        st->probes[i].round_trip_ms = std::chrono::duration<double, std::milli>(
                                        std::chrono::steady_clock::now() - t0)
                                        .count();
        if (--st->waiting == 0) {
          done(std::move(st->probes));
          self->quit();
        }
      };
      self->request(*targets[i], timeout, atom)
        .then([settle](Reply& r) { settle(std::move(r)); },
              [settle, timeout](caf::error& err) {
                settle(from_request_error(std::move(err), "the actor", timeout));
              });
    }
  });
}

// Answers `reply` with {"<list>": [...]}: one `row(name, probe)` per
// target, asked `stats_atom` all at once (probe_all).
template <class Reply, class Handle, class Row>
void answer_stats_list(caf::actor_system& sys, std::vector<std::string> names,
                       std::vector<caf::expected<Handle>> targets,
                       std::chrono::milliseconds timeout, const char* list, route_reply reply,
                       Row row) {
  probe_all<Reply>(sys, std::move(targets), timeout, stats_atom::value,
                   [reply = std::move(reply), names = std::move(names), list,
                    row = std::move(row)](std::vector<probe<Reply>> ps) {
                     Value items = Value::array();
                     for (size_t i = 0; i < ps.size(); ++i)
                       items.push_back(row(names[i], ps[i]));
                     Value body = Value::object();
                     body[list] = std::move(items);
                     reply(net::json_response(200, body.to_json()));
                   });
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

// A member as `agentgraph cluster status --json` prints it. "suspect" is
// the word for an up member some live member cannot hear (design §5.1).
Value member_json(const cluster::cluster_member_status& m, const cluster::member_id& self) {
  const auto& r = m.record;
  Value v = Value::object();
  v["id"] = Value{r.id.name};
  v["uid"] = Value{std::to_string(r.id.uid)};  // 64 bits: a string, not a JSON number
  v["host"] = Value{r.id.host};
  v["port"] = num(r.id.port);
  const bool suspect = !m.reachable && cluster::is_live(r.state);
  v["state"] = Value{suspect ? "suspect" : cluster::to_string(r.state)};
  v["reachable"] = Value{m.reachable};
  v["url"] = Value{r.url};
  v["pid"] = Value{static_cast<long long>(r.pid)};
  v["phi"] = std::isfinite(m.phi) ? Value{m.phi} : Value{nullptr};
  v["load"] = num(m.load);
  v["agents"] = num(m.agents);
  v["tools"] = num(m.tools);
  v["shards"] = num(m.shards);
  v["self"] = Value{r.id == self};
  return v;
}

}  // namespace gateway_routes_detail

void gateway::impl::readiness(const route_reply& reply) {
  using namespace gateway_routes_detail;
  auto answer = [reply](bool ok, const std::string& reason) {
    Value v = Value::object();
    v["ready"] = Value{ok};
    v["reason"] = Value{reason};
    reply(net::json_response(ok ? 200 : 503, v.to_json()));
  };
  if (draining.load())
    return answer(false, "draining");
  if (!ready.load())
    return answer(false, "starting");
  cluster::node_actor node;
  {
    std::lock_guard lock{cluster_mutex};
    node = cluster_node;
  }
  if (node) {
    // A cluster node serves only while it is in the cluster: not before it
    // joined, nor after it downed itself (minority side) until it rejoins.
    std::vector<caf::expected<cluster::node_actor>> targets{node};
    auto& sys = rt.system();
    // By value: the probe may answer after the gateway is gone; the
    // Runtime outlives it (gateway.hpp).
    auto rest = [&runtime = rt, timeout = cfg.health_ping_timeout, answer] {
      ready_components(runtime, timeout, answer);
    };
    probe_all<cluster::cluster_status>(
      sys, std::move(targets), cfg.health_ping_timeout, cluster::cluster_status_atom::value,
      [answer, rest](std::vector<probe<cluster::cluster_status>> ps) {
        auto& p = ps.front();
        if (!p.reply)
          return answer(false, "cluster: " + describe(p.reply.error()));
        if (!p.reply->joined)
          return answer(false, "not in the cluster (joining)");
        rest();
      });
    return;
  }
  ready_components(rt, cfg.health_ping_timeout, answer);
}

void ready_components(Runtime& rt, std::chrono::milliseconds timeout,
                      const std::function<void(bool, const std::string&)>& answer) {
  using namespace gateway_routes_detail;
  // A supervisor answers pings itself, so a pong says nothing about the
  // child behind it; a stats request is forwarded to the child and proves
  // it serves. Providers first, then memory shards; the first that fails
  // (in that order) is the reason.
  auto providers = rt.provider_names();
  std::vector<caf::expected<provider_actor>> p_targets;
  for (const auto& name : providers)
    p_targets.push_back(rt.provider(name));
  // Only this node's own shards: one placed on another node is that
  // node's readiness, not ours.
  auto shards = rt.memory_names();
  std::erase_if(shards, [&rt](const std::string& name) { return rt.remote("memory", name); });
  std::vector<caf::expected<memory_actor>> m_targets;
  for (const auto& name : shards)
    m_targets.push_back(rt.memory(name));
  auto& sys = rt.system();
  probe_all<provider_stats>(
    sys, std::move(p_targets), timeout, stats_atom::value,
    [answer, providers, shards, m_targets = std::move(m_targets), &sys,
     timeout](std::vector<probe<provider_stats>> ps) mutable {
      for (size_t i = 0; i < ps.size(); ++i)
        if (!ps[i].reply)
          return answer(false, "provider '" + providers[i] + "': " + describe(ps[i].reply.error()));
      probe_all<memory_stats>(sys, std::move(m_targets), timeout, stats_atom::value,
                              [answer, shards](std::vector<probe<memory_stats>> ms) {
                                for (size_t i = 0; i < ms.size(); ++i)
                                  if (!ms[i].reply)
                                    return answer(false, "memory '" + shards[i]
                                                           + "': " + describe(ms[i].reply.error()));
                                answer(true, "ok");
                              });
    });
}

void gateway::impl::agents(const route_reply& reply) {
  using namespace gateway_routes_detail;
  auto names = rt.agent_names();
  std::vector<caf::expected<agent_actor>> targets;
  for (const auto& name : names)
    targets.push_back(rt.agent(name));
  answer_stats_list<agent_stats>(rt.system(), std::move(names), std::move(targets),
                                 cfg.health_ping_timeout, "agents", reply, agent_json);
}

void gateway::impl::memory(const route_reply& reply) {
  using namespace gateway_routes_detail;
  auto names = rt.memory_names();
  std::vector<caf::expected<memory_actor>> targets;
  for (const auto& name : names)
    targets.push_back(rt.memory(name));
  answer_stats_list<memory_stats>(
    rt.system(), std::move(names), std::move(targets), cfg.health_ping_timeout, "shards", reply,
    [](const std::string& name, const probe<memory_stats>& p) {
      Value m = Value::object();
      m["name"] = Value{name};
      m["healthy"] = Value{static_cast<bool>(p.reply)};
      if (p.reply) {
        m["entries"] = num(p.reply->entries);
        m["bytes"] = num(p.reply->bytes);
        m["evictions"] = num(p.reply->evictions);
        m["snapshots_written"] = num(p.reply->snapshots_written);
        // Embeddings (a provider's model; for hash-<dim> only the model and
        // dimension are not zero).
        m["embedding_model"] = Value{p.reply->embedding_model};
        m["dimension"] = num(p.reply->dimension);
        m["vectors_pending"] = num(p.reply->vectors_pending);
        m["vectors_cached"] = num(p.reply->vectors_cached);
        m["embedding_cache_hits"] = num(p.reply->cache_hits);
        m["embedding_calls"] = num(p.reply->embed_calls);
        m["embedding_failures"] = num(p.reply->embed_failures);
        m["embedding_latency_p50_ms"] = Value{p.reply->embed_latency_p50_ms};
        m["embedding_latency_p99_ms"] = Value{p.reply->embed_latency_p99_ms};
        m["recalls_degraded"] = num(p.reply->recalls_degraded);
        m["reembedded"] = num(p.reply->reembedded);
      } else {
        m["error"] = error_object(p.reply.error());
      }
      return m;
    });
}

void gateway::impl::populations(const route_reply& reply) {
  using namespace gateway_routes_detail;
  // This node's populations; one that runs on other nodes only is theirs.
  auto names = rt.population_names();
  std::vector<caf::expected<population_actor>> targets;
  for (const auto& name : names)
    targets.push_back(rt.population(name));
  answer_stats_list<population_stats>(
    rt.system(), std::move(names), std::move(targets), cfg.health_ping_timeout, "populations",
    reply, [](const std::string& name, const probe<population_stats>& p) {
      Value row = p.reply ? population_stats_json(*p.reply) : Value::object();
      row["name"] = Value{name};
      row["healthy"] = Value{static_cast<bool>(p.reply)};
      if (!p.reply)
        row["error"] = error_object(p.reply.error());
      return row;
    });
}

cluster::node_actor gateway::impl::cluster_or_404(const route_reply& reply) {
  cluster::node_actor node;
  {
    std::lock_guard lock{cluster_mutex};
    node = cluster_node;
  }
  if (!node)
    reply(net::json_error(404, "not_found", "this node is not in a cluster (no [cluster] section)"));
  return node;
}

void gateway::impl::cluster_directory(const route_reply& reply) {
  using namespace gateway_routes_detail;
  auto node = cluster_or_404(reply);
  if (!node)
    return;
  std::vector<caf::expected<cluster::node_actor>> targets{node};
  probe_all<std::vector<cluster::dir_listing>>(
    rt.system(), std::move(targets), cfg.health_ping_timeout, cluster::dir_list_atom::value,
    [reply](std::vector<probe<std::vector<cluster::dir_listing>>> ps) {
      auto& p = ps.front();
      if (!p.reply)
        return reply(net::json_error(503, "unavailable", describe(p.reply.error())));
      Value list = Value::array();
      for (const auto& x : *p.reply) {
        Value e = Value::object();
        e["kind"] = Value{x.entry.kind};
        e["name"] = Value{x.entry.name};
        e["node"] = Value{x.owner.name};
        e["uid"] = Value{std::to_string(x.owner.uid)};
        list.push_back(std::move(e));
      }
      Value body = Value::object();
      body["entries"] = std::move(list);
      reply(net::json_response(200, body.to_json()));
    });
}

void gateway::impl::publish_topic(const net::server_request& req, const route_reply& reply) {
  if (draining.load())
    return reply(net::json_error(503, "unavailable", "the node is draining; publish elsewhere"));
  auto body = Value::from_json(req.body);
  const Value* message = body && body->is_object() ? body->find("message") : nullptr;
  if (!message)
    return reply(net::json_error(400, "invalid_argument",
                                 R"(body must be {"message": <any JSON value>})"));
  auto topics = rt.topics();
  rt.system().spawn([topics, topic = req.params.at(0), message = *message, reply,
                     timeout = cfg.health_ping_timeout](caf::event_based_actor* self) {
    self->request(topics, timeout, topic_publish_atom::value, topic, message)
        .then(
            [reply](publish_receipt& r) {
              reply(net::json_response(202, publish_receipt_json(r).to_json()));
            },
            [reply, timeout](caf::error& err) {
              auto e = from_request_error(std::move(err), "the node's topic actor", timeout);
              // A message too large is the body's fault: 413, as for any body.
              const int status =
                  errc_of(e) == errc::limit_exceeded ? 413 : http_status_of(e);
              Value b = Value::object();
              b["error"] = error_object(e);
              reply(net::json_response(status, b.to_json()));
            });
  });
}

void gateway::impl::cluster(const route_reply& reply) {
  using namespace gateway_routes_detail;
  auto node = cluster_or_404(reply);
  if (!node)
    return;
  std::vector<caf::expected<cluster::node_actor>> targets{node};
  probe_all<cluster::cluster_status>(
    rt.system(), std::move(targets), cfg.health_ping_timeout, cluster::cluster_status_atom::value,
    [reply](std::vector<probe<cluster::cluster_status>> ps) {
      auto& p = ps.front();
      if (!p.reply)
        return reply(net::json_error(503, "unavailable", describe(p.reply.error())));
      const auto& st = *p.reply;
      Value list = Value::array();
      for (const auto& m : st.members)
        list.push_back(member_json(m, st.self));
      Value body = Value::object();
      body["cluster"] = Value{st.cluster};
      body["self"] = Value{st.self.name};
      body["joined"] = Value{st.joined};
      body["members"] = std::move(list);
      Value c = Value::object();
      c["admitted"] = num(st.counters.admitted);
      c["refused"] = num(st.counters.refused);
      c["dropped"] = num(st.counters.dropped);
      c["heartbeats_sent"] = num(st.counters.heartbeats_sent);
      c["heartbeats_heard"] = num(st.counters.heartbeats_heard);
      c["downs"] = num(st.counters.downs);
      c["incarnations"] = num(st.counters.incarnations);
      c["agents_refused"] = num(st.counters.agents_refused);
      body["counters"] = std::move(c);
      // The collaboration settings this node runs with: the forming node's
      // once joined (net/cluster DESIGN.md §8.5).
      auto ms = [](caf::timespan t) {
        return num(static_cast<uint64_t>(
            std::chrono::duration_cast<std::chrono::milliseconds>(t).count()));
      };
      Value collab = Value::object();
      collab["origin"] = Value{st.collab.origin.name};
      collab["max_agents"] = num(st.collab.max_agents);
      collab["message_timeout_ms"] = ms(st.collab.message_timeout);
      collab["heartbeat_interval_ms"] = ms(st.collab.heartbeat_interval);
      body["collab"] = std::move(collab);
      reply(net::json_response(200, body.to_json()));
    });
}

}  // namespace agentgraph

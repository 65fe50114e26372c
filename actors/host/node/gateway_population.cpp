// The gateway's population writes: PUT /v1/agents/<type>/<key>/vars and
// POST /v1/agents/<type>/broadcast. Both go through runtime_client's
// non-blocking forms (the key's owner for vars, Runtime::spawn_broadcast
// for broadcasts), which answer on a CAF thread: no thread waits here.
#include "actors/host/node/gateway_impl.hpp"
#include "actors/host/node/task_json.hpp"
#include "actors/host/node/task_json_population.hpp"
#include "runtime/log.hpp"

namespace agentgraph {

void gateway::impl::put_key_vars(const net::server_request& req, const route_reply& reply) {
  using gateway_detail::task_error;
  if (auto refused = refuse_write("set the vars"))
    return reply(std::move(*refused));
  const std::string agent = req.params.at(0) + "/" + req.params.at(1);
  auto vars = parse_key_vars(req.body);
  if (!vars)
    return reply(task_error(400, vars.error()));
  auto answer = key_vars_json(agent, *vars);
  runtime_client{rt}.set_key_vars(
    agent, std::move(*vars), [reply, answer = std::move(answer)](caf::error err) {
      if (err)
        return reply(task_error(http_status_of(err), err));
      reply(net::json_response(200, answer.to_json()));
    });
}

void gateway::impl::post_broadcast(const net::server_request& req, const route_reply& reply) {
  using gateway_detail::task_error;
  if (auto refused = refuse_write("start the broadcast"))
    return reply(std::move(*refused));
  const std::string type = req.params.at(0);
  auto b = parse_broadcast(req.body);
  if (!b)
    return reply(task_error(400, b.error()));
  if (broadcasts_in_flight->fetch_add(1) >= gateway_broadcasts_max) {
    broadcasts_in_flight->fetch_sub(1);
    return reply(gateway_detail::with_retry_after(
      net::json_error(429, "overloaded",
                      std::to_string(gateway_broadcasts_max) + " broadcasts running; retry later"),
      gateway_retry_after_full_s));
  }
  runtime_client{rt}.broadcast(
    type, std::move(*b), gateway_broadcast_deadline,
    [reply, type, counter = broadcasts_in_flight](
      caf::expected<population_broadcast_result> r) {
      counter->fetch_sub(1);
      if (!r)
        return reply(task_error(http_status_of(r.error()), r.error()));
      log(log_severity::info, gateway_log_component, "broadcast ended",
          {{"population", type}, {"keys", std::to_string(r->keys)},
           {"ok", std::to_string(r->ok)}, {"failed", std::to_string(r->failed)}});
      reply(net::json_response(200, broadcast_result_json(type, *r).to_json()));
    });
}

}  // namespace agentgraph

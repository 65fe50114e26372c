// The responder's side of admission (design §7): any process may say
// hello, only one that proves the shared secret is admitted, and only a
// node that is itself in a cluster admits anyone (so two nodes that both
// wait for the first seed never form an island of their own).
#include <caf/actor_cast.hpp>

#include "net/cluster/node_state.hpp"
#include "runtime/error.hpp"
#include "runtime/log.hpp"

namespace agentgraph::cluster {

namespace node_admission_detail {

// Bounds on a member id that arrives from the network.
caf::error check_identity(const member_id& m) {
  if (m.name.empty() || m.name.size() > identity_bytes_max / 4 || m.host.empty() ||
      m.host.size() > identity_bytes_max / 4 || m.port == 0 || m.uid == 0)
    return make_error(errc::invalid_argument, "cluster: malformed member id");
  return {};
}

constexpr size_t url_bytes_max = 2048;

}  // namespace node_admission_detail

caf::result<join_challenge> on_hello(node_self self, join_hello& h) {
  auto& st = self->state;
  const auto& sender = self->current_sender();
  if (!st.published)
    return make_error(errc::unavailable, "cluster: node not published yet");
  if (!sender || sender->node() == self->node())
    return make_error(errc::invalid_argument, "cluster: a hello comes from a remote node actor");
  if (auto err = node_admission_detail::check_identity(h.joiner))
    return err;
  if (h.nonce.size() != nonce_bytes)
    return make_error(errc::invalid_argument, "cluster: a hello's nonce has 32 bytes");
  if (h.cluster != st.args->cfg.name) {
    ++st.counters.refused;
    log(log_severity::warn, "cluster", "hello for another cluster refused",
        {{"from", to_string(h.joiner)}});
    return make_error(errc::unauthorized, "cluster: not a member of that cluster");
  }
  if (!st.pending.contains(h.joiner) && st.pending.size() >= st.args->cfg.handshakes_max)
    return make_error(errc::overloaded, "cluster: too many handshakes in progress");
  auto mine = make_nonce();
  if (!mine)
    return mine.error();
  const handshake_view hv{st.args->cfg.name, to_string(st.self_id), to_string(h.joiner), *mine,
                          h.nonce};
  join_challenge c{st.self_id, *mine, make_proof(st.args->secret, proof_direction::seed_to_joiner, hv)};
  st.pending[h.joiner] = pending_handshake{std::move(*mine), std::move(h.nonce), sender->node(),
                                           self->clock().now() + st.args->cfg.join_timeout};
  return c;
}

caf::result<gossip_msg> on_prove(node_self self, join_proof& p) {
  auto& st = self->state;
  const auto& sender = self->current_sender();
  auto it = st.pending.find(p.joiner);
  if (!sender || it == st.pending.end() || it->second.node != sender->node() ||
      it->second.expires <= self->clock().now())
    return make_error(errc::unauthorized, "cluster: no handshake in progress for this node");
  const handshake_view hv{st.args->cfg.name, to_string(st.self_id), to_string(p.joiner),
                          it->second.my_nonce, it->second.their_nonce};
  st.pending.erase(it);
  if (!check_proof(st.args->secret, proof_direction::joiner_to_seed, hv, p.proof)) {
    ++st.counters.refused;
    log(log_severity::warn, "cluster", "node refused: it does not know the cluster secret",
        {{"node", to_string(p.joiner)}});
    return make_error(errc::unauthorized, "cluster: admission refused");
  }
  if (!st.joined)
    return make_error(errc::unavailable, "cluster: this node has not joined a cluster yet");
  if (p.url.size() > node_admission_detail::url_bytes_max)
    return make_error(errc::invalid_argument, "cluster: url too long");
  const auto before = *st.view;
  if (const auto* rec = st.view->find(p.joiner)) {
    if (!is_live(rec->state))
      return make_error(errc::conflict, "cluster: " + to_string(p.joiner) + " is " +
                                            to_string(rec->state) +
                                            "; rejoin as a new incarnation");
  } else {
    member_record r;
    r.id = p.joiner;
    r.pid = p.pid;
    r.url = p.url;
    if (auto err = st.view->add_joining(r))
      return err;
  }
  const endpoint ep{p.joiner.host, p.joiner.port};
  auto [l, fresh] = st.links.try_emplace(ep);
  if (fresh)
    l->second.retry_at = self->clock().now();
  admit(self, l->second, p.joiner, sender->node(), caf::actor_cast<node_actor>(sender));
  if (!st.view->same_content(before))
    after_view_change(self, before, "joining");
  return make_gossip(self);
}

void expire_handshakes(node_self self, time_point now) {
  std::erase_if(self->state.pending, [now](const auto& kv) { return kv.second.expires <= now; });
}

}  // namespace agentgraph::cluster

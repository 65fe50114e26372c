#include "actors/host/cluster/cluster_host.hpp"

#include <functional>

#include <caf/io/basp_broker.hpp>
#include <caf/io/middleman.hpp>
#include <caf/io/middleman_actor.hpp>
#include <caf/openssl/manager.hpp>
#include <caf/openssl/middleman_actor.hpp>

#include "net/cluster/cluster_tls.hpp"
#include "net/cluster/openssl_error_queue.hpp"
#include "net/cluster/node_actor.hpp"
#include "runtime/blocking_ask.hpp"
#include "runtime/cluster/member.hpp"
#include "runtime/error.hpp"
#include "runtime/log.hpp"

namespace agentgraph {

void apply_cluster_transport(const cluster::cluster_config& cfg,
                             caf::actor_system_config& sys_cfg) {
  sys_cfg.set("middleman.workers", size_t{0});
  sys_cfg.set("middleman.heartbeat-interval", caf::timespan{cfg.transport_heartbeat});
  sys_cfg.set("middleman.connection-timeout", caf::timespan{cfg.transport_timeout});
  if (!cluster::tls_enabled(cfg))
    return;
  // The openssl manager reads these when each connection's TLS context is
  // made (design §7 maps the keys). An empty openssl.passphrase is "none".
  sys_cfg.load<caf::openssl::manager>();
  sys_cfg.set("openssl.certificate", cfg.tls_certificate);
  sys_cfg.set("openssl.key", cfg.tls_key);
  sys_cfg.set("openssl.passphrase", cluster::tls_passphrase(cfg));
  sys_cfg.set("openssl.cafile", cfg.tls_cafile);
}

namespace {

// Where the node actor is published and how it dials peers: through
// caf-openssl's middleman actor when TLS is on (every connection of the
// node is TLS, in and out), else the plain middleman's. Connectors share
// the middleman's BASP broker either way (design §2.6).
struct cluster_transport {
  caf::io::middleman_actor publisher;
  std::function<caf::io::middleman_actor()> make_connector;
};

caf::expected<cluster_transport> transport_of(caf::actor_system& sys,
                                              const cluster::cluster_config& cfg) {
  if (!sys.has_middleman())
    return make_error(errc::internal, "cluster: the actor system has no middleman");
  auto& mm = sys.middleman();
  auto basp = mm.named_broker<caf::io::basp_broker>(caf::atom("BASP"));
  if (!basp)
    return make_error(errc::internal, "cluster: the middleman has no BASP broker");
  if (!cluster::tls_enabled(cfg))
    return cluster_transport{mm.actor_handle(),
                             [&sys, basp] { return caf::io::make_middleman_actor(sys, basp); }};
  if (!sys.has_openssl_manager())
    return make_error(errc::internal, "cluster: TLS is configured but the actor system has no "
                                      "openssl manager (apply_cluster_transport was not applied)");
  // Without it one failed handshake makes caf-openssl drop healthy sessions.
  if (!cluster::openssl_error_queue_fixed())
    return make_error(errc::internal, "cluster: TLS needs net/cluster/openssl_error_queue.cpp "
                                      "linked into the executable (SSL_read is not ours)");
  return cluster_transport{sys.openssl_manager().actor_handle(),
                           [&sys, basp] { return caf::openssl::make_middleman_actor(sys, basp); }};
}

}  // namespace

caf::expected<cluster::node_actor> start_cluster_node(caf::actor_system& sys, cluster_start start) {
  if (auto err = cluster::validate(start.cfg))
    return err;
  auto secret = cluster::cluster_secret::make(std::move(start.secret), start.cfg.secret_env);
  if (!secret)
    return secret.error();
  auto transport = transport_of(sys, start.cfg);
  if (!transport)
    return transport.error();
  const bool tls = cluster::tls_enabled(start.cfg);
  cluster::node_args args{start.cfg,
                          std::move(*secret),
                          cluster::next_uid(0, start.start_ms, start.random_bits),
                          start.start_ms,
                          start.pid,
                          start.url,
                          std::move(transport->publisher),
                          std::move(transport->make_connector),
                          start.figures,
                          start.load_probe};
  const auto wait = start.cfg.connect_timeout;
  auto node = cluster::spawn_node(sys, std::move(args));
  auto status = blocking_ask<cluster::cluster_status>(sys, node, caf::timespan{wait},
                                                      "the cluster node actor",
                                                      cluster::cluster_status_atom::value);
  if (!status) {
    caf::anon_send_exit(node, caf::exit_reason::user_shutdown);
    return status.error();
  }
  log(log_severity::info, "cluster", "node actor listening",
      {{"member", cluster::to_string(status->self)},
       {"seeds", std::to_string(start.cfg.seeds.size())},
       {"transport", tls ? "tls" : "tcp"}});
  return node;
}

caf::expected<cluster::member_state> leave_cluster(caf::actor_system& sys,
                                                   const cluster::node_actor& node,
                                                   std::chrono::milliseconds deadline) {
  auto out = blocking_ask<cluster::member_state>(sys, node, caf::timespan{deadline},
                                                 "the cluster node actor",
                                                 cluster::leave_atom::value);
  caf::anon_send_exit(node, caf::exit_reason::user_shutdown);
  return out;
}

}  // namespace agentgraph

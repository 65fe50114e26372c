// The gateway's view of its node's membership (gateway::set_cluster): a
// node outside the cluster takes no cluster work (net/cluster/DESIGN.md
// §5.3). While the node is joining, or after it downed itself on the
// minority side of a partition until it rejoins as a new incarnation, new
// tasks and workflow runs get 503 with Retry-After, so a client moves to a
// node of the majority, and two halves never both accept the same work.
// Tasks already accepted keep running; their answers are stored as usual.
//
// A small actor keeps gateway::impl::in_cluster: it asks the node's status
// on every member event and on a tick (a missed event costs at most one
// tick), one request at a time.
#include <caf/event_based_actor.hpp>

#include "actors/host/node/gateway_impl.hpp"
#include "runtime/log.hpp"

namespace agentgraph {

namespace gateway_membership_detail {

using membership_tick_atom = caf::atom_constant<caf::atom("ag_gwmtick")>;
constexpr auto tick = std::chrono::milliseconds{500};
constexpr auto status_timeout = std::chrono::seconds{5};

struct watch_state {
  bool asking = false;
  bool again = false;
};

}  // namespace gateway_membership_detail

void gateway::set_cluster(caf::actor node) {
  using namespace gateway_membership_detail;
  auto typed = caf::actor_cast<cluster::node_actor>(node);
  auto* p = impl_.get();
  auto in_cluster = p->in_cluster;  // the watcher holds it, not the impl
  auto book = p->book;
  caf::actor watch;
  if (typed) {
    *in_cluster = false;  // until the node says it joined
    watch = p->rt.system().spawn([in_cluster, book, typed](caf::event_based_actor* self) -> caf::behavior {
      auto st = std::make_shared<watch_state>();
      auto ask = std::make_shared<std::function<void()>>();
      *ask = [self, in_cluster, book, typed, st, ask] {
        if (st->asking) {
          st->again = true;
          return;
        }
        st->asking = true;
        self->request(typed, status_timeout, cluster::cluster_status_atom::value)
          .then(
            [in_cluster, book, st, ask](cluster::cluster_status& status) {
              // A new incarnation journals its tasks under its new uid
              // before it takes any (the adopter moves the old ones).
              if (status.joined)
                follow_incarnation(*book, status.self.uid);
              if (in_cluster->exchange(status.joined) != status.joined)
                log(status.joined ? log_severity::info : log_severity::warn,
                    gateway_log_component,
                    status.joined ? "in the cluster: accepting tasks"
                                  : "not in the cluster: refusing new tasks",
                    {{"self", cluster::to_string(status.self)}});
              st->asking = false;
              if (std::exchange(st->again, false))
                (*ask)();
            },
            [st](caf::error&) { st->asking = false; });  // the next tick asks again
      };
      self->send(typed, cluster::member_sub_atom::value,
                 caf::actor_cast<cluster::member_event_sink>(self));
      self->send(self, membership_tick_atom::value);
      return {
        [ask](cluster::member_event_atom, const cluster::member_event&) { (*ask)(); },
        [self, ask](membership_tick_atom) {
          (*ask)();
          self->delayed_send(self, tick, membership_tick_atom::value);
        },
      };
    });
  }
  std::lock_guard lock{p->cluster_mutex};
  p->cluster_node = typed;
  if (p->membership_watch)
    caf::anon_send_exit(p->membership_watch, caf::exit_reason::user_shutdown);
  p->membership_watch = std::move(watch);
  if (!typed)
    *in_cluster = true;
}

}  // namespace agentgraph

// The adopter of a gateway whose journal the cluster shares
// (gateway::adopt_orphans; net/cluster/DESIGN.md §9.3): when the accepting
// node of a task dies, its tasks are not lost with it. The leader of the
// surviving side moves every open task of a down or removed member to
// itself with one fenced journal statement (adopt(from, from's uid, self,
// self's uid)) and runs them. Two nodes that both believe they lead move
// each task at most once between them (the statement matches the dead
// incarnation's uid), and a task that runs twice is still answered once
// (complete keeps the first answer).
//
// The sweep's state lives in a shared struct the handlers capture, not in
// a caf::stateful_actor: CAF 0.17 constructs a state from the self pointer
// when it can, and an aggregate whose first member is a bool takes it
// (`sweeping` began true, so no sweep ever ran).
//
// One sweep at a time: ask the node's status, adopt member by member, then
// page this node's open tasks and run those its table does not have. A
// member event that arrives during a sweep asks for one more after it.
#include <deque>
#include <set>

#include <caf/event_based_actor.hpp>

#include "actors/host/node/gateway_impl.hpp"
#include "runtime/error.hpp"
#include "runtime/log.hpp"

namespace agentgraph {

namespace journal_adopter_detail {

// The periodic sweep (re-arms itself) and a sweep asked for meanwhile
// (does not: one timer chain only).
using adopt_sweep_atom = caf::atom_constant<caf::atom("ag_jadopt")>;
using adopt_now_atom = caf::atom_constant<caf::atom("ag_jadoptn")>;

// Dead incarnations already adopted, so a sweep asks the journal only about
// new ones. Forgetting one costs one statement that moves nothing.
constexpr size_t adopted_remembered_max = 1024;
// Open tasks paged per journal call while running adopted ones, and pages
// per sweep (open_max bounds an owner's open tasks anyway).
constexpr uint32_t run_page = 100;
constexpr size_t run_pages_max = 10'000;
constexpr auto status_timeout = std::chrono::seconds{5};

struct adopter_state {
  bool sweeping = false;
  bool again = false;
  // A pass over this node's open tasks ended early (the gateway full, a
  // journal error, an agent not offered yet): the next sweeps run one
  // again, adopted or not, until a pass completes.
  bool run_pending = false;
  uint64_t epoch = 0;  // the incarnation this node's open tasks were moved to last
  std::set<std::string> adopted;  // cluster::to_string of dead member ids
  std::deque<std::string> adopted_order;
};

bool dead(cluster::member_state s) {
  return s == cluster::member_state::down || s == cluster::member_state::removed;
}

}  // namespace journal_adopter_detail

caf::actor spawn_journal_adopter(Runtime& rt, std::shared_ptr<task_book> book,
                                 cluster::node_actor node, std::chrono::milliseconds sweep) {
  using namespace journal_adopter_detail;
  AG_ASSERT(node && sweep.count() > 0);
  return rt.system().spawn([&rt, book, node, sweep](caf::event_based_actor* self) -> caf::behavior {
    auto state = std::make_shared<adopter_state>();
    if (auto j = book->journaling())
      state->epoch = j->epoch;
    // Runs every open task of this node that its table does not run: the
    // adopted ones, and any a client re-sent while their owner was dead.
    auto run_open = std::make_shared<std::function<void(std::string, size_t)>>();
    auto done = [self, state] {
      state->sweeping = false;
      if (std::exchange(state->again, false))
        self->send(self, adopt_now_atom::value);
    };
    *run_open = [self, &rt, state, book, run_open, done](std::string after, size_t pages) {
      auto j = book->journaling();
      if (!j || pages >= run_pages_max || !book->accepting) {
        state->run_pending = true;
        done();
        return;
      }
      self->request(j->journal, j->call_timeout, journal_open_of_atom::value, j->owner, run_page,
                    after)
        .then(
          [self, &rt, state, book, run_open, done, pages](std::vector<journal_record>& page) {
            if (page.empty()) {
              done();
              return;
            }
            for (const auto& r : page) {
              if (!book->accepting) {  // draining or stopping: the next leader adopts
                done();
                return;
              }
              switch (run_journaled(rt, book, r, journaled_unknown::keep_open)) {
                case journaled_run::full:
                  // The rest waits for the next sweep, when slots are free.
                  log(log_severity::warn, gateway_log_component,
                      "adopted tasks wait: the gateway is full", {{"task_id", r.task_id}});
                  state->run_pending = true;
                  done();
                  return;
                case journaled_run::not_offered:
                  state->run_pending = true;  // tried again next sweep
                  break;
                default: break;
              }
            }
            (*run_open)(page.back().task_id, pages + 1);
          },
          [state, done](caf::error& err) {
            log(log_severity::warn, gateway_log_component, "adopted tasks not listed",
                {{"error", describe(err)}});
            state->run_pending = true;
            done();
          });
    };
    // Adopts the dead members in `todo` one by one, then runs what moved.
    auto adopt_next = std::make_shared<
      std::function<void(std::vector<cluster::member_id>, size_t, uint64_t)>>();
    *adopt_next = [self, state, book, adopt_next, run_open, done](std::vector<cluster::member_id> todo,
                                                          size_t i, uint64_t moved) {
      auto j = book->journaling();
      if (!j || !book->accepting) {
        done();
        return;
      }
      if (i == todo.size()) {
        if (moved > 0 || std::exchange(state->run_pending, false))
          (*run_open)("", 0);
        else
          done();
        return;
      }
      const auto dead_id = todo[i];
      self->request(j->journal, j->call_timeout, journal_adopt_atom::value, dead_id.name,
                    dead_id.uid, j->owner, j->epoch)
        .then(
          [state, adopt_next, todo, i, moved, dead_id](uint64_t n) {
            auto& st = *state;
            const auto key = cluster::to_string(dead_id);
            if (st.adopted.insert(key).second)
              st.adopted_order.push_back(key);
            while (st.adopted_order.size() > adopted_remembered_max) {
              st.adopted.erase(st.adopted_order.front());
              st.adopted_order.pop_front();
            }
            if (n > 0)
              log(log_severity::info, gateway_log_component, "adopted a dead member's tasks",
                  {{"member", key}, {"tasks", std::to_string(n)}});
            (*adopt_next)(todo, i + 1, moved + n);
          },
          [adopt_next, todo, i, moved, dead_id](caf::error& err) {
            log(log_severity::warn, gateway_log_component, "adoption failed; next sweep retries",
                {{"member", cluster::to_string(dead_id)}, {"error", describe(err)}});
            (*adopt_next)(todo, i + 1, moved);
          });
    };
    // Own incarnation changed (downed while frozen, rejoined with a new
    // uid): this node's open tasks of the old uid move to the new one, so
    // nobody adopts them as a dead incarnation's. The gateway's membership
    // watch switched the epoch new tasks get already, before the node took
    // tasks again (follow_incarnation).
    auto follow_self = [self, state, book, adopt_next](const cluster::cluster_status& st,
                                                       std::vector<cluster::member_id> todo) {
      auto j = book->journaling();
      if (!j || st.self.uid == state->epoch || st.self.uid == 0) {
        (*adopt_next)(std::move(todo), 0, 0);
        return;
      }
      const auto from = std::exchange(state->epoch, st.self.uid);
      follow_incarnation(*book, st.self.uid);
      log(log_severity::info, gateway_log_component, "task journal follows a new incarnation",
          {{"from", std::to_string(from)}, {"to", std::to_string(st.self.uid)}});
      self->request(j->journal, j->call_timeout, journal_adopt_atom::value, j->owner, from,
                    j->owner, st.self.uid)
        .then([adopt_next, todo](uint64_t) { (*adopt_next)(todo, 0, 0); },
              [adopt_next, todo](caf::error& err) {
                log(log_severity::warn, gateway_log_component,
                    "own tasks not moved to the new incarnation", {{"error", describe(err)}});
                (*adopt_next)(todo, 0, 0);
              });
    };
    auto start_sweep = [self, state, node, follow_self, done] {
      auto& st = *state;
      if (st.sweeping) {
        st.again = true;
        return;
      }
      st.sweeping = true;
      self->request(node, status_timeout, cluster::cluster_status_atom::value)
        .then(
          [state, follow_self](cluster::cluster_status& status) {
            std::vector<cluster::member_id> todo;
            if (status.joined && status.leader == status.self)
              for (const auto& m : status.members)
                if (dead(m.record.state) && m.record.id != status.self
                    && !state->adopted.contains(cluster::to_string(m.record.id)))
                  todo.push_back(m.record.id);
            follow_self(status, std::move(todo));
          },
          [done](caf::error& err) {  // the next sweep asks again
            log(log_severity::debug, gateway_log_component, "adoption sweep: no cluster status",
                {{"error", describe(err)}});
            done();
          });
    };
    self->send(caf::actor_cast<cluster::node_actor>(node), cluster::member_sub_atom::value,
               caf::actor_cast<cluster::member_event_sink>(self));
    self->send(self, adopt_sweep_atom::value);
    return {
      [start_sweep, book](cluster::member_event_atom, const cluster::member_event& ev) {
        auto j = book->journaling();
        if (dead(ev.record.state) || (j && ev.record.id.name == j->owner))
          start_sweep();
      },
      [start_sweep](adopt_now_atom) { start_sweep(); },
      [self, start_sweep, sweep](adopt_sweep_atom) {
        start_sweep();
        self->delayed_send(self, sweep, adopt_sweep_atom::value);
      },
    };
  });
}

void gateway::impl::stop_adopter() {
  std::lock_guard lock{cluster_mutex};
  if (adopter)
    caf::anon_send_exit(adopter, caf::exit_reason::user_shutdown);
  adopter = caf::actor{};
}

caf::error gateway::adopt_orphans(caf::actor node, std::chrono::milliseconds sweep) {
  if (!impl_->book->journaling())
    return make_error(errc::invalid_argument, "gateway: adopt_orphans needs a task journal");
  if (!node || sweep.count() <= 0)
    return make_error(errc::invalid_argument, "gateway: adopt_orphans needs a node and sweep > 0");
  auto adopter = spawn_journal_adopter(impl_->rt, impl_->book,
                                       caf::actor_cast<cluster::node_actor>(node), sweep);
  std::lock_guard lock{impl_->cluster_mutex};
  if (impl_->adopter)
    caf::anon_send_exit(impl_->adopter, caf::exit_reason::user_shutdown);
  impl_->adopter = std::move(adopter);
  return {};
}

}  // namespace agentgraph

#include "runtime/virtual_time.hpp"
#include "runtime/journal/journal_actor.hpp"

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "runtime/assert.hpp"
#include "runtime/error.hpp"
#include "runtime/worker_front.hpp"

namespace agentgraph {

namespace journal_actor_detail {

using worker_actor = task_journal_signatures;

struct worker_state {
  std::shared_ptr<task_journal> journal;  // only this actor's thread touches it
  static inline const char* name = "journal_worker";
};

struct front_state : worker_front_state<worker_actor, journal_actor_config> {
  static inline const char* name = "journal";
};

// Runs on its own thread (spawned detached): blocking is allowed here.
worker_actor::behavior_type worker(worker_actor::stateful_pointer<worker_state> self,
                                   std::shared_ptr<task_journal> journal) {
  AG_ASSERT(journal != nullptr);
  self->state.journal = std::move(journal);
  auto* st = &self->state;
  return {
    [st](journal_accept_atom, const journal_record& r) {
      return to_result(st->journal->accept(r));
    },
    [st](journal_assign_atom a, const std::string& id, const std::string& member,
         const std::string& owner, uint64_t epoch) -> caf::result<journal_assign_atom> {
      if (auto err = st->journal->assign(id, member, owner, epoch))
        return err;
      return a;
    },
    [st](journal_complete_atom, const std::string& id, task_state s,
         const std::vector<uint8_t>& result) {
      return to_result(st->journal->complete(id, s, result));
    },
    [st](journal_open_of_atom, const std::string& owner, uint32_t limit,
         const std::string& after) { return to_result(st->journal->open_of(owner, limit, after)); },
    [st](journal_adopt_atom, const std::string& from, uint64_t from_epoch, const std::string& to,
         uint64_t to_epoch) { return to_result(st->journal->adopt(from, from_epoch, to, to_epoch)); },
    [st](journal_get_atom, const std::string& id) -> caf::result<journal_record> {
      auto found = st->journal->get(id);
      if (!found)
        return std::move(found.error());
      if (!*found)
        return make_error(errc::not_found, "task journal " + st->journal->backend()
                                             + ": no task '" + id + "'");
      return std::move(**found);
    },
  };
}

using front_ptr = journal_actor::stateful_pointer<front_state>;

// Relays to the worker; the worker's failures (a timeout, its death) in
// our vocabulary, the journal's own errors as they are.
template <class T, class... Ts>
caf::result<T> relay(front_ptr self, Ts... xs) {
  auto timeout = self->state.cfg.call_timeout;
  return relay_to_worker<T>(
    self, "task journal",
    [timeout](caf::error err) {
      return from_worker_error(err, "task journal", timeout, errc::io_error);
    },
    std::move(xs)...);
}

journal_actor::behavior_type front(front_ptr self, std::shared_ptr<task_journal> journal,
                                   journal_actor_config cfg) {
  self->state.cfg = cfg;
  self->state.worker = spawn_blocking_worker<caf::linked>(self, worker, std::move(journal));
  return {
    [self](journal_accept_atom a, journal_record& r) {
      return relay<accept_outcome>(self, a, std::move(r));
    },
    [self](journal_assign_atom a, std::string& id, std::string& member, std::string& owner,
           uint64_t epoch) {
      return relay<journal_assign_atom>(self, a, std::move(id), std::move(member),
                                        std::move(owner), epoch);
    },
    [self](journal_complete_atom a, std::string& id, task_state s, std::vector<uint8_t>& result) {
      return relay<journal_record>(self, a, std::move(id), s, std::move(result));
    },
    [self](journal_open_of_atom a, std::string& owner, uint32_t limit, std::string& after) {
      return relay<std::vector<journal_record>>(self, a, std::move(owner), limit,
                                                std::move(after));
    },
    [self](journal_adopt_atom a, std::string& from, uint64_t from_epoch, std::string& to,
           uint64_t to_epoch) {
      return relay<uint64_t>(self, a, std::move(from), from_epoch, std::move(to), to_epoch);
    },
    [self](journal_get_atom a, std::string& id) {
      return relay<journal_record>(self, a, std::move(id));
    },
    [](ping_atom) { return pong_atom::value; },
  };
}

}  // namespace journal_actor_detail

journal_actor spawn_journal_actor(caf::actor_system& sys, std::unique_ptr<task_journal> journal,
                                  journal_actor_config cfg) {
  AG_ASSERT(journal != nullptr);
  AG_ASSERT(cfg.pending_max >= 1);
  return sys.spawn(journal_actor_detail::front,
                   std::shared_ptr<task_journal>{std::move(journal)}, cfg);
}

}  // namespace agentgraph

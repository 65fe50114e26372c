// The requests an actor has in flight to other actors, each with a deadline
// and a monitor on its callee, so a caller gets an error and never a hang
// without putting a CAF request timeout on every hop.
//
// Why not CAF's request timeouts: CAF 0.17 keeps a request's timeout entry
// in its clock until it fires, even after the reply came (toolchain.md §9
// item 21): with a 60 s deadline on every hop, about 577 B per task stayed
// allocated for up to minutes, and the clock thread took a quarter of a
// core. Here a deadline is a set entry erased with the reply, and an actor
// has about one timer message outstanding, armed for its earliest deadline.
//
// How a watched call fails: the watch puts an error response with the
// request's response id into the caller's own mailbox (what CAF itself does
// for a request to an invalid handle). The request's error handler then runs
// as for any failed request, with caf::sec::request_timeout (the deadline
// passed) or caf::sec::request_receiver_down (the callee died), so existing
// error naming (runtime/error.hpp from_request_error) applies unchanged. A
// late reply finds no handler and CAF drops it.
//
// Usage inside an event-based actor whose state holds a call_watch `watch`:
//   watched_request(self, self->state.watch, callee, deadline, on_reply, on_error, msg...);
//   and once, when the behaviour is made: route_to_watch(self, &state::watch)
//   (down messages and the timer tick; the tick is sent untyped, so a typed
//   interface need not list it).
// Bounded by the caller's own bound on work in flight (AG_ASSERT against
// `capacity`). Its tables are allocated on the first call watched: an actor
// that never calls out (an idle agent among a million) pays 32 bytes.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <unordered_map>
#include <type_traits>
#include <utility>

#include <caf/actor.hpp>
#include <caf/actor_clock.hpp>
#include <caf/actor_addr.hpp>
#include <caf/actor_cast.hpp>
#include <caf/atom.hpp>
#include <caf/detail/type_traits.hpp>
#include <caf/duration.hpp>
#include <caf/group.hpp>
#include <caf/group_manager.hpp>

#include <caf/message_id.hpp>
#include <caf/node_id.hpp>
#include <caf/scheduled_actor.hpp>
#include <caf/sec.hpp>
#include <caf/send.hpp>
#include <caf/system_messages.hpp>

#include "runtime/actor_timer.hpp"
#include "runtime/assert.hpp"

namespace agentgraph {

// The timer message of a call_watch (sent to the watching actor itself).
using watch_tick_atom = caf::atom_constant<caf::atom("ag_wtick")>;

// (watch_node_down_atom, caf::node_id), sent to the local group
// `node_down_group` when the cluster downs a member whose connection may
// still be up (actors/host/cluster/cluster_directory.hpp): CAF then keeps
// that node's proxies, and calls to it would wait for their deadlines. An
// actor joins the group on its first watched call to another node, and
// route_to_watch hands the message to call_watch::fail_node.
using watch_node_down_atom = caf::atom_constant<caf::atom("ag_wndown")>;
inline constexpr const char* node_down_group = "agentgraph.cluster.node_down";

class call_watch {
 public:
  // CAF's actor clock counts in it (caf::actor_clock::clock_type); deadlines
  // are in it too, taken from self->clock().now() inside actors.
  using clock = std::chrono::steady_clock;
  static_assert(std::is_same_v<clock, caf::actor_clock::clock_type>);

  explicit call_watch(size_t capacity) : capacity_(capacity) {}
  call_watch(call_watch&&) noexcept = default;
  call_watch& operator=(call_watch&&) noexcept = default;

  // Watches the request `response_id` (the id of the handle request()
  // returned) sent to `callee`. Precondition: callee is valid.
  template <class Self, class Handle>
  void add(Self* self, const Handle& callee, caf::message_id response_id, clock::time_point deadline) {
    AG_ASSERT(static_cast<bool>(callee), "never watch an invalid handle: CAF 0.17 segfaults");
    if (!t_)
      t_ = std::make_unique<tables>();
    if (!t_->hears_node_downs && callee.node() != self->node()) {
      t_->hears_node_downs = true;
      join_node_down_group(self);
    }
    auto& calls_ = t_->calls;
    auto& deadlines_ = t_->deadlines;
    auto& monitors_ = t_->monitors;
    AG_ASSERT(calls_.size() < capacity_, "calls in flight past the caller's own bound");
    const auto key = response_id.integer_value();
    auto addr = callee.address();
    auto& w = monitors_[addr];
    if (w.calls++ == 0 && !w.pinned)
      self->monitor(callee);
    const bool fresh = calls_.emplace(key, call{addr, deadline}).second;
    AG_ASSERT(fresh, "a request id is watched once");
    deadlines_.emplace(deadline, key);
    arm(self, deadline);
  }

  // Keeps `callee` monitored until unpin, whatever its calls: a caller
  // that must hear of a callee's death even between calls (a population
  // and its key instances) pins it instead of monitoring it itself,
  // because CAF's demonitor removes every monitor one observer has on an
  // actor, and the watch's release after a call would end the caller's own.
  // A pinned callee's down message fails its calls and then reaches the
  // caller's own down handling (on_down returns false). Precondition:
  // callee is valid and not pinned yet.
  template <class Self, class Handle>
  void pin(Self* self, const Handle& callee) {
    AG_ASSERT(static_cast<bool>(callee), "never watch an invalid handle: CAF 0.17 segfaults");
    if (!t_)
      t_ = std::make_unique<tables>();
    auto& w = t_->monitors[callee.address()];
    AG_ASSERT(!w.pinned, "a callee is pinned once");
    if (w.calls == 0)
      self->monitor(callee);
    w.pinned = true;
  }

  // Ends a pin: the monitor ends with the callee's last call. Idempotent
  // (a callee that went down is forgotten already).
  template <class Self>
  void unpin(Self* self, const caf::actor_addr& callee) {
    if (!t_)
      return;
    auto mon = t_->monitors.find(callee);
    if (mon == t_->monitors.end() || !mon->second.pinned)
      return;
    mon->second.pinned = false;
    if (mon->second.calls == 0) {
      self->demonitor(callee);
      t_->monitors.erase(mon);
    }
  }

  // The call's reply or error arrived: forget it. Idempotent.
  template <class Self>
  void done(Self* self, caf::message_id response_id) {
    if (!t_)
      return;
    auto& calls_ = t_->calls;
    auto& deadlines_ = t_->deadlines;
    auto it = calls_.find(response_id.integer_value());
    if (it == calls_.end())
      return;
    deadlines_.erase({it->second.deadline, it->first});
    release(self, it->second.callee);
    calls_.erase(it);
    AG_ASSERT(deadlines_.size() == calls_.size());
  }

  // A monitored callee went down: every call to it fails as
  // request_receiver_down. Returns false when `dm` is about no callee of
  // ours, or about a pinned one (the caller's own down handling applies).
  template <class Self>
  bool on_down(Self* self, const caf::down_msg& dm) {
    if (!t_)
      return false;
    auto& calls_ = t_->calls;
    auto& deadlines_ = t_->deadlines;
    auto& monitors_ = t_->monitors;
    auto mon = monitors_.find(dm.source);
    if (mon == monitors_.end())
      return false;
    const bool pinned = mon->second.pinned;
    monitors_.erase(mon);  // CAF ends the monitor with the down message
    for (auto it = calls_.begin(); it != calls_.end();) {
      if (it->second.callee != dm.source) {
        ++it;
        continue;
      }
      fail(self, it->first, caf::sec::request_receiver_down);
      deadlines_.erase({it->second.deadline, it->first});
      it = calls_.erase(it);
    }
    AG_ASSERT(deadlines_.size() == calls_.size());
    return !pinned;
  }

  // The cluster downed the node `node` while its connection may still be up
  // (a member the majority downed, an asymmetric partition), so CAF will not
  // kill its proxies: every call to an actor on that node fails now as
  // request_receiver_down, as if the callee had died. Returns how many.
  template <class Self>
  size_t fail_node(Self* self, const caf::node_id& node) {
    if (!t_ || node == self->node())
      return 0;
    auto& calls_ = t_->calls;
    auto& deadlines_ = t_->deadlines;
    size_t failed = 0;
    for (auto it = calls_.begin(); it != calls_.end();) {
      if (it->second.callee.node() != node) {
        ++it;
        continue;
      }
      fail(self, it->first, caf::sec::request_receiver_down);
      deadlines_.erase({it->second.deadline, it->first});
      release(self, it->second.callee);
      it = calls_.erase(it);
      ++failed;
    }
    AG_ASSERT(deadlines_.size() == calls_.size());
    return failed;
  }

  // The timer fired: fail every call past its deadline, re-arm for the next.
  template <class Self>
  void on_tick(Self* self) {
    // The actor's clock, not the system's: under CAF's test_coordinator
    // (the simulation) time is virtual. In production it is steady_clock.
    const auto now = self->clock().now();
    if (armed_ && *armed_ <= now)
      armed_.reset();
    if (!t_)
      return;
    auto& calls_ = t_->calls;
    auto& deadlines_ = t_->deadlines;
    while (!deadlines_.empty() && deadlines_.begin()->first <= now) {
      const auto key = deadlines_.begin()->second;
      deadlines_.erase(deadlines_.begin());
      auto it = calls_.find(key);
      AG_ASSERT(it != calls_.end());
      fail(self, key, caf::sec::request_timeout);
      release(self, it->second.callee);
      calls_.erase(it);
    }
    AG_ASSERT(deadlines_.size() == calls_.size());
    if (!deadlines_.empty())
      arm(self, deadlines_.begin()->first);
  }

  [[nodiscard]] size_t size() const { return t_ ? t_->calls.size() : 0; }
  [[nodiscard]] size_t monitored() const { return t_ ? t_->monitors.size() : 0; }

 private:
  struct call {
    caf::actor_addr callee;
    clock::time_point deadline;
  };

  template <class Self>
  void fail(Self* self, uint64_t key, caf::sec why) {
    // The same path CAF takes for a request to an invalid handle: an error
    // response with the request's id, from nobody, into our own mailbox.
    self->eq_impl(caf::message_id{key}, nullptr, self->context(),
                  caf::make_error(why));
  }

  template <class Self>
  void release(Self* self, const caf::actor_addr& callee) {
    auto& monitors_ = t_->monitors;
    auto mon = monitors_.find(callee);
    if (mon == monitors_.end())
      return;  // already down
    AG_ASSERT(mon->second.calls > 0);
    if (--mon->second.calls == 0 && !mon->second.pinned) {
      self->demonitor(callee);
      monitors_.erase(mon);
    }
  }

  // The tick is a run_at timer (actor_timer.hpp), not a delayed message,
  // which kept a finished workflow run (about 1.8 KB) alive for up to its
  // node timeout. It posts the tick (route_to_watch) to the actor itself. A
  // superseded tick still fires and finds nothing due.
  template <class Self>
  void arm(Self* self, clock::time_point when) {
    if (armed_ && *armed_ <= when)
      return;  // an earlier tick is outstanding; it re-arms for this one
    armed_ = when;
    run_at(self, when + std::chrono::microseconds{1}, [self] {
      caf::anon_send(caf::actor_cast<caf::actor>(self), watch_tick_atom::value);
    });
  }

  template <class Self>
  static void join_node_down_group(Self* self) {
    // Typed actors have no join(); subscribe directly, and leave when the
    // actor ends (the group holds a strong reference until then).
    auto grp = self->system().groups().get_local(node_down_group);
    if (grp->subscribe(caf::actor_cast<caf::strong_actor_ptr>(self))) {
      auto* me = self->ctrl();
      self->attach_functor([grp, me] { grp->unsubscribe(me); });
    }
  }

  struct tables {
    bool hears_node_downs = false;  // joined node_down_group
    std::unordered_map<uint64_t, call> calls;  // by response id
    std::set<std::pair<clock::time_point, uint64_t>> deadlines;
    struct watched {
      uint32_t calls = 0;   // watched calls to the callee
      bool pinned = false;  // monitored between calls too (pin)
    };
    std::unordered_map<caf::actor_addr, watched> monitors;  // by callee
  };

  size_t capacity_;
  std::unique_ptr<tables> t_;  // null until the first call
  std::optional<clock::time_point> armed_;  // earliest tick outstanding
};

// Whether a message the behaviour did not match is a call_watch tick.
// For set_default_handler.
[[nodiscard]] inline bool is_watch_tick(const caf::type_erased_tuple& xs) {
  return xs.size() == 1 && xs.match_element<caf::atom_value>(0)
         && xs.get_as<caf::atom_value>(0) == watch_tick_atom::value;
}

// The node a (watch_node_down_atom, node_id) message names; null for any
// other message.
[[nodiscard]] inline const caf::node_id* watch_node_down(const caf::type_erased_tuple& xs) {
  if (xs.size() != 2 || !xs.match_element<caf::atom_value>(0)
      || xs.get_as<caf::atom_value>(0) != watch_node_down_atom::value
      || !xs.match_element<caf::node_id>(1))
    return nullptr;
  return &xs.get_as<caf::node_id>(1);
}

namespace call_watch_detail {

// Wraps a reply handler so the watch forgets the call before it runs.
template <class F, class Args = typename caf::detail::get_callable_trait<F>::arg_types>
struct forget_first;

template <class F, class... Rs>
struct forget_first<F, caf::detail::type_list<Rs...>> {
  template <class Forget>
  static auto wrap(F f, Forget forget) {
    return [f = std::move(f), forget](Rs... ys) mutable {
      forget();
      f(std::forward<Rs>(ys)...);
    };
  }
};

}  // namespace call_watch_detail

// Requests `xs...` from `callee` with no CAF timeout, watched by `watch`
// until `deadline`; exactly one of on_reply / on_error runs. An invalid
// callee fails at once (on_error with request_receiver_down: nobody runs
// under that name now).
template <class Self, class Handle, class OnReply, class OnError, class... Ts>
void watched_request(Self* self, call_watch& watch, const Handle& callee,
                     call_watch::clock::time_point deadline, OnReply on_reply, OnError on_error,
                     Ts&&... xs) {
  if (!callee) {
    caf::error err = caf::make_error(caf::sec::request_receiver_down);
    on_error(err);
    return;
  }
  auto handle = self->request(callee, caf::infinite, std::forward<Ts>(xs)...);
  const auto id = handle.id();
  watch.add(self, callee, id, deadline);
  auto forget = [self, &watch, id] { watch.done(self, id); };
  handle.then(call_watch_detail::forget_first<OnReply>::wrap(std::move(on_reply), forget),
              [on_error = std::move(on_error), forget](caf::error& err) mutable {
                forget();
                on_error(err);
              });
}

// Routes `self`'s down messages, call_watch ticks and node downs to the watch at
// `member` of its state. An actor that needs down messages of its own
// handles them in `other_down`, called for the ones no watched call knows.
template <class Self, class State, class OtherDown = void (*)(caf::down_msg&)>
void route_to_watch(Self* self, call_watch State::*member,
                    OtherDown other_down = [](caf::down_msg&) {}) {
  self->set_down_handler([self, member, other_down](caf::down_msg& dm) {
    if (!(self->state.*member).on_down(self, dm))
      other_down(dm);
  });
  self->set_default_handler([self, member](caf::scheduled_actor* ptr,
                                           caf::message_view& x) -> caf::result<caf::message> {
    if (is_watch_tick(x.content())) {
      (self->state.*member).on_tick(self);
      return caf::message{};
    }
    if (const auto* node = watch_node_down(x.content())) {
      (self->state.*member).fail_node(self, *node);
      return caf::message{};
    }
    return caf::print_and_drop(ptr, x);
  });
}

}  // namespace agentgraph

// The one way ordinary (non-actor) code waits for actors: a request whose
// reply blocks the calling thread, and a receive loop for requests that
// stream items before their reply (a streaming task, a workflow run).
// Both block: call them from setup code, a CLI or a detached actor, never
// from an event-based actor on a scheduler thread. Under virtual time
// (runtime/virtual_time.hpp) blocking_ask and stop_and_wait run the world
// until their answer comes instead: the waiting thread is the only one that
// can produce it.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/after.hpp>
#include <caf/system_messages.hpp>
#include <caf/exit_reason.hpp>
#include <caf/scoped_actor.hpp>

#include <memory>

#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>

#include "runtime/error.hpp"
#include "runtime/virtual_time.hpp"

namespace agentgraph {

// Asks `target` and waits at most `timeout` for a `Reply`. CAF's request
// errors come back in our vocabulary naming `subject` (from_request_error);
// the target's own errors pass through.
template <class Reply, class Handle, class... Ts>
[[nodiscard]] caf::expected<Reply> blocking_ask(caf::actor_system& sys, const Handle& target,
                                                caf::timespan timeout, std::string_view subject,
                                                Ts&&... xs) {
  if (runs_virtual_time(sys)) {
    // The request's timeout is virtual: driving the world ends it.
    auto out = std::make_shared<std::optional<caf::expected<Reply>>>();
    sys.spawn([=, subj = std::string{subject}](caf::event_based_actor* self) {
      self->request(target, timeout, xs...)
        .then([out](Reply& r) { out->emplace(std::move(r)); },
              [out, subj](caf::error& err) { out->emplace(from_request_error(std::move(err), subj)); });
    });
    drive_until(sys, [&] { return out->has_value(); });
    if (!out->has_value())
      return make_error(errc::internal, std::string{subject} + " gave no reply (the simulated world went quiet)");
    return std::move(**out);
  }
  caf::scoped_actor self{sys};
  caf::expected<Reply> out = make_error(errc::internal, std::string{subject} + " gave no reply");
  self->request(target, timeout, std::forward<Ts>(xs)...)
    .receive([&](Reply& r) { out = std::move(r); },
             [&](caf::error& err) { out = from_request_error(std::move(err), subject); });
  return out;
}

// Items a stream may still have queued after its reply; a bound on the
// drain loop, far above any configured event buffer.
constexpr size_t stream_drain_max = 100'000;

// Receives on `self` until a `Reply` or an error arrives, handing each
// `Item` to `on_item` on this thread in the order it was sent. Items sent
// before the reply but received after it are still handed over (at most
// stream_drain_max). Nothing (no value) when `deadline` passed first: the
// caller names the timeout, since only it knows what it waited for.
template <class Item, class Reply, class OnItem>
[[nodiscard]] std::optional<caf::expected<Reply>> receive_until_reply(
  caf::scoped_actor& self, std::chrono::steady_clock::time_point deadline, OnItem&& on_item) {
  std::optional<caf::expected<Reply>> out;
  // Bounded by `deadline`: each pass waits at most the time left.
  while (!out) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0)
      return std::nullopt;
    self->receive([&](Item& item) { on_item(item); },
                  [&](Reply& r) { out.emplace(std::move(r)); },
                  [&](caf::error& err) { out.emplace(std::move(err)); },
                  caf::after(left) >> [] {});
  }
  for (size_t i = 0; i < stream_drain_max; ++i) {
    bool more = false;
    self->receive(
      [&](Item& item) {
        on_item(item);
        more = true;
      },
      caf::after(std::chrono::milliseconds{0}) >> [] {});
    if (!more)
      break;
  }
  return out;
}

// Stops every valid actor in `handles` (exit reason user_shutdown) and
// waits until each is gone, giving up once one down message takes longer
// than `per_actor` (its actor is stuck; the caller moves on). Shutdown code
// waits so the stopped actors' resources are released before it goes on.
template <class Handle>
void stop_and_wait(caf::actor_system& sys, const std::vector<Handle>& handles,
                   caf::timespan per_actor) {
  if (runs_virtual_time(sys)) {
    auto left = std::make_shared<size_t>(0);
    for (const auto& h : handles)
      if (h)
        ++*left;
    // Held until the wait ends: nothing else refers to the helper, and an
    // unreferenced actor is ended as unreachable before its downs arrive.
    auto helper = sys.spawn([=](caf::event_based_actor* self) {
      self->set_down_handler([left](caf::down_msg&) { --*left; });
      for (const auto& h : handles) {
        if (!h)
          continue;
        self->monitor(h);
        self->send_exit(h, caf::exit_reason::user_shutdown);
      }
      return caf::behavior{[](caf::unit_t) {}};
    });
    // Bounded like the blocking path: all downs within per_actor each.
    auto waiting = static_cast<int64_t>(*left);
    auto* sched = virtual_scheduler(sys);
    const auto until = sched->clock().now() + per_actor * waiting;
    drive_until(sys, [&] { return *left == 0 || sched->clock().now() > until; });
    caf::anon_send_exit(helper, caf::exit_reason::user_shutdown);
    return;
  }
  caf::scoped_actor self{sys};
  size_t waiting = 0;
  for (const auto& h : handles) {
    if (!h)
      continue;
    self->monitor(h);
    self->send_exit(h, caf::exit_reason::user_shutdown);
    ++waiting;
  }
  // Bounded: one down message per actor, each within `per_actor`.
  for (size_t i = 0; i < waiting; ++i) {
    bool got = false;
    self->receive([&](caf::down_msg&) { got = true; }, caf::after(per_actor) >> [] {});
    if (!got)
      break;
  }
}

}  // namespace agentgraph

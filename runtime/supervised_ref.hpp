// Where callers find the current incarnation of a supervised component.
//
// Supervisors are not proxies (ARCHITECTURE §6, as in Erlang/OTP and Akka):
// a caller holds the component's own handle and talks to it directly; its
// supervision group restarts it and stores the new handle here. A caller
// that holds a ref resolves it per call (a mutex and a reference count:
// tens of nanoseconds), so after a restart its next call reaches the new
// incarnation. A call in flight when the component died is failed by the
// caller's own monitor (runtime/call_watch.hpp), never by a timeout alone.
//
// dep<Handle> is what a component keeps for each dependency: a ref (the
// Runtime's components) or a fixed handle (tests, embedders that spawn
// their own actors).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include <caf/actor.hpp>
#include <caf/actor_cast.hpp>

namespace agentgraph {

// What a supervision group writes to, whatever the component's interface.
class supervised_ref_base {
 public:
  // Told every new incarnation (a valid handle) and every fall (an invalid
  // one and why). Runs under the ref's lock, so two calls never cross and
  // the order of calls is the order of changes: keep it short and
  // non-blocking (a send).
  using observer = std::function<void(const caf::actor& current, const std::string& why)>;

  virtual ~supervised_ref_base() = default;
  virtual void set_actor(const caf::actor& h) = 0;
  virtual void set_down(std::string why) = 0;
  [[nodiscard]] virtual const std::string& name() const = 0;
  // Installs `fn` (one per ref; a later call replaces it) and calls it
  // once with the current state. The cluster directory offers a node's
  // components this way, and follows their restarts.
  virtual void observe(observer fn) = 0;
};

template <class Handle>
class supervised_ref final : public supervised_ref_base {
 public:
  explicit supervised_ref(std::string name) : name_(std::move(name)) {}

  // The current incarnation; invalid while none runs (not started, or its
  // supervisor gave up: why_down() says which).
  [[nodiscard]] Handle get() const {
    std::lock_guard<std::mutex> guard{mu_};
    return current_;
  }
  // Empty while an incarnation runs.
  [[nodiscard]] std::string why_down() const {
    std::lock_guard<std::mutex> guard{mu_};
    return why_down_;
  }
  [[nodiscard]] uint64_t incarnation() const {
    std::lock_guard<std::mutex> guard{mu_};
    return incarnation_;
  }
  [[nodiscard]] const std::string& name() const override { return name_; }

  // Only the supervision group (and whoever spawned the first incarnation)
  // writes.
  void set_actor(const caf::actor& h) override { set(caf::actor_cast<Handle>(h)); }
  void set(Handle h) {
    std::lock_guard<std::mutex> guard{mu_};
    current_ = std::move(h);
    why_down_.clear();
    ++incarnation_;
    tell_observer();
  }
  void set_down(std::string why) override {
    std::lock_guard<std::mutex> guard{mu_};
    current_ = Handle{};
    why_down_ = std::move(why);
    tell_observer();
  }
  void observe(observer fn) override {
    std::lock_guard<std::mutex> guard{mu_};
    observer_ = std::move(fn);
    tell_observer();
  }

 private:
  void tell_observer() {  // mu_ held
    if (observer_)
      observer_(caf::actor_cast<caf::actor>(current_), why_down_);
  }

  const std::string name_;
  mutable std::mutex mu_;
  Handle current_;
  std::string why_down_;
  uint64_t incarnation_ = 0;
  observer observer_;
};

template <class Handle>
using supervised_ref_ptr = std::shared_ptr<supervised_ref<Handle>>;

// A dependency: either a supervised ref (resolved per call) or a fixed handle.
template <class Handle>
class dep {
 public:
  dep() = default;
  dep(Handle fixed) : fixed_(std::move(fixed)) {}  // NOLINT: implicit on purpose
  dep(supervised_ref_ptr<Handle> ref) : ref_(std::move(ref)) {}  // NOLINT

  [[nodiscard]] Handle get() const { return ref_ ? ref_->get() : fixed_; }
  // The ref, when this dependency is one; else null.
  [[nodiscard]] const supervised_ref_ptr<Handle>& ref() const { return ref_; }
  // True when a component is named (a ref) or a valid fixed handle is held;
  // a ref whose component is down right now still counts.
  explicit operator bool() const { return ref_ != nullptr || static_cast<bool>(fixed_); }

 private:
  supervised_ref_ptr<Handle> ref_;
  Handle fixed_;
};

}  // namespace agentgraph

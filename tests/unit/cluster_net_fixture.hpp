// cluster_net: several CAF nodes ("planets") in one process, on virtual time
// and a simulated network, for the cluster tests of issue 12
// (net/cluster/DESIGN.md §2.4-2.6, §10.1).
//
// Each planet is its own caf::actor_system with the testing scheduler
// (test_coordinator: nothing runs unless this fixture steps it) and the
// testing network backend (test_multiplexer: "sockets" are byte buffers that
// this fixture wires together). Publishing and connecting go through the
// middleman actors exactly as in production (publish_atom, connect_atom), so
// the code under test needs no test hooks. Follows exec_all_fixtures of
// caf/test/io_dsl.hpp, which needs CAF's own unit-test engine and is not
// included; what differs from it, and why, is said where it happens.
//
// What the simulated network does (verified by cluster_net_fixture_test.cpp):
// - ensure_paths() (run before every step) keeps one prepared connection per
//   ordered pair client -> server while neither is killed and the server's
//   port is open (a publish_atom went through). A connect_atom to (server
//   host, server port) takes it. Without one, test_multiplexer's
//   new_tcp_scribe answers sec::cannot_connect_to_node at once: that is what
//   a connect to a killed planet returns, as a refused TCP connect does.
// - A partition is a black hole, not a refusal: paths across it are still
//   prepared, but no byte crosses, so a connect across it ends with the
//   connecting side's BASP connection timeout (system_error
//   connection_timeout), as a connect whose SYNs are dropped would. The
//   cluster treats a refused connect as proof of death and a timed-out one
//   as mere unreachability (net/cluster/DESIGN.md §5.3), so the difference
//   matters.
// - A frozen planet still gets prepared paths (a SIGSTOPped process's kernel
//   still completes TCP handshakes), but never accepts or answers them: a
//   connect to it ends with the connecting side's BASP connection timeout.
// - The server end of a prepared path is accepted by its doorman before any
//   client uses it (test_multiplexer's prepare_connection queues the accept).
//   BASP starts no timer for it, so an idle prepared path never expires.
// - A close on one end is not seen by the other end (no FIN): each side
//   notices through its own heartbeat timeout, or through kill().
// Every loop here is bounded: step_all() fails the test past steps_max, and
// advance() past the fixture's virtual time budget. Nothing reads a clock.
#pragma once

#include <doctest/doctest.h>

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <caf/io/basp_broker.hpp>
#include <caf/io/network/test_multiplexer.hpp>
#include <caf/scheduler/test_coordinator.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace agentgraph::test::cluster_net {

using namespace std::chrono_literals;

// Registers message and actor types on a planet's config before its system
// starts (both sides of a connection need the same names, toolchain §3.1).
using config_hook = std::function<void(caf::actor_system_config&)>;

struct planet_options {
  std::string host;                             // the name peers connect to
  uint16_t port = 4242;                         // its acceptor's port
  caf::timespan heartbeat = 250ms;              // virtual, DESIGN.md §2.2
  caf::timespan connection_timeout = 1500ms;    // virtual
  config_hook configure;                        // may be empty
};

// One CAF node. Owned by cluster_net; the references it hands out live as
// long as the fixture.
class planet {
 public:
  planet(size_t id, planet_options opts, caf::io::accept_handle acceptor)
      : id_(id), opts_(std::move(opts)), acceptor_(acceptor) {
    cfg_.set("scheduler.policy", caf::atom("testing"));
    cfg_.set("middleman.network-backend", caf::atom("testing"));
    cfg_.set("middleman.manual-multiplexing", true);
    cfg_.set("middleman.workers", size_t{0});
    cfg_.set("middleman.heartbeat-interval", opts_.heartbeat);
    cfg_.set("middleman.connection-timeout", opts_.connection_timeout);
    cfg_.load<caf::io::middleman>();
    if (opts_.configure)
      opts_.configure(cfg_);
    sys_ = std::make_unique<caf::actor_system>(cfg_);
    sched_ = &dynamic_cast<caf::scheduler::test_coordinator&>(sys_->scheduler());
    mpx_ = &dynamic_cast<caf::io::network::test_multiplexer&>(sys_->middleman().backend());
    // Only a port with a provided acceptor can be opened by publish_atom.
    mpx_->provide_acceptor(opts_.port, acceptor_);
  }

  size_t id() const { return id_; }
  const std::string& host() const { return opts_.host; }
  uint16_t port() const { return opts_.port; }
  caf::io::accept_handle acceptor() const { return acceptor_; }
  caf::actor_system& sys() { return *sys_; }
  caf::scheduler::test_coordinator& sched() { return *sched_; }
  caf::io::network::test_multiplexer& mpx() { return *mpx_; }

  // The middleman's own BASP broker: every connector shares it (§2.6).
  caf::actor basp() {
    return sys_->middleman().named_broker<caf::io::basp_broker>(caf::atom("BASP"));
  }
  // The default middleman actor (one connect at a time per endpoint).
  caf::io::middleman_actor middleman_actor() { return sys_->middleman().actor_handle(); }
  // A fresh connector over the same BASP broker, as the node actor makes one
  // per peer (§6 item 4). Under the testing backend CAF spawns it as a
  // scheduled hidden actor (middleman.attach-utility-actors is forced on),
  // so it runs only when stepped.
  caf::io::middleman_actor make_connector() { return caf::io::make_middleman_actor(*sys_, basp()); }

  // True once publish_atom opened this planet's port and until it closes.
  bool acceptor_open() {
    auto& ptr = mpx_->impl_ptr(acceptor_);
    return ptr != nullptr && ptr->parent() != nullptr;
  }

  // Keeps a root actor to stop at teardown (see cluster_net::~cluster_net).
  template <class Handle>
  Handle track(Handle h) {
    tracked_.push_back(caf::actor_cast<caf::strong_actor_ptr>(h));
    return h;
  }

  void stop_tracked() {
    for (auto& p : tracked_)
      caf::anon_send_exit(p, caf::exit_reason::user_shutdown);
    tracked_.clear();
  }

 private:
  size_t id_;
  planet_options opts_;
  caf::io::accept_handle acceptor_;
  caf::actor_system_config cfg_;  // the system keeps a reference: declared first
  std::unique_ptr<caf::actor_system> sys_;
  caf::scheduler::test_coordinator* sched_ = nullptr;
  caf::io::network::test_multiplexer* mpx_ = nullptr;
  std::vector<caf::strong_actor_ptr> tracked_;
};

// One prepared connection: the server end on `server`, the client end on
// `client`. The fixture creates every connection_handle, so it knows which
// peer each handle of each planet leads to.
struct wire {
  size_t server;
  size_t client;
  caf::io::connection_handle server_hdl;
  caf::io::connection_handle client_hdl;
  bool retracted = false;  // taken back before a client used it
};

class cluster_net {
 public:
  static constexpr size_t steps_max_default = 200'000;
  static constexpr caf::timespan virtual_max_default = 60s;

  cluster_net() = default;
  cluster_net(const cluster_net&) = delete;
  cluster_net& operator=(const cluster_net&) = delete;

  ~cluster_net() { teardown(); }

  // Per step_all() call; past it the test fails (a livelock, not a hang).
  size_t steps_max = steps_max_default;
  // Total virtual time advance() may add; past it the test fails.
  caf::timespan virtual_max = virtual_max_default;

  planet& add_planet(planet_options opts) {
    auto acc = caf::io::accept_handle::from_int(next_handle_id());
    planets_.push_back(std::make_unique<planet>(planets_.size(), std::move(opts), acc));
    state_.push_back({});
    return *planets_.back();
  }

  planet& operator[](size_t i) { return *planets_.at(i); }
  size_t size() const { return planets_.size(); }

  bool frozen(const planet& p) const { return state_.at(p.id()).frozen; }
  bool killed(const planet& p) const { return state_.at(p.id()).killed; }
  // Whether traffic flows between a and b (no partition cuts the pair).
  bool joined(size_t a, size_t b) const { return cuts_.count(ordered(a, b)) == 0; }
  caf::timespan elapsed() const { return elapsed_; }
  const std::vector<wire>& wires() const { return wires_; }

  // -- event log: what the test's actors saw, stamped with virtual time ------

  void note(const std::string& what) {
    events_.push_back("+" + std::to_string(ms(elapsed_)) + "ms " + what);
  }
  const std::vector<std::string>& events() const { return events_; }
  bool saw(const std::string& fragment) const {
    return std::any_of(events_.begin(), events_.end(), [&](const std::string& e) {
      return e.find(fragment) != std::string::npos;
    });
  }

  // -- the network -----------------------------------------------------------

  // Keeps one prepared path per ordered pair (client -> server) that may
  // connect, and takes back unused paths of pairs that may not.
  void ensure_paths() {
    for (auto& s : planets_)
      for (auto& c : planets_) {
        if (s == c)
          continue;
        if (!may_connect(*c, *s)) {
          retract(*c, *s);
          continue;
        }
        if (!s->acceptor_open() || c->mpx().has_pending_scribe(s->host(), s->port()))
          continue;
        wire w{s->id(), c->id(), caf::io::connection_handle::from_int(next_handle_id()),
               caf::io::connection_handle::from_int(next_handle_id())};
        s->mpx().prepare_connection(s->acceptor(), w.server_hdl, c->mpx(), s->host(),
                                    s->port(), w.client_hdl);
        wires_.push_back(w);
      }
  }

  // Round-robin over the planets that are not frozen, one step each, until
  // none advances. Returns the number of steps taken.
  size_t step_all() {
    size_t steps = 0;
    for (bool progress = true; progress;) {
      progress = false;
      for (auto& p : planets_) {
        if (state_[p->id()].frozen)
          continue;
        ensure_paths();
        if (step(*p)) {
          progress = true;
          if (++steps > steps_max) {
            FAIL("cluster_net: step_all passed steps_max = " << steps_max
                 << " steps without going idle (a livelock in the code under test?)");
          }
        }
      }
    }
    return steps;
  }

  // Advances every planet that is not frozen by dt of virtual time, then
  // runs them until idle.
  size_t advance(caf::timespan dt) {
    elapsed_ += dt;
    if (elapsed_ > virtual_max)
      FAIL("cluster_net: advance passed virtual_max = " << ms(virtual_max) << " ms");
    for (auto& p : planets_)
      if (!state_[p->id()].frozen)
        p->sched().advance_time(dt);
    return step_all();
  }

  // step_all, then advance in ticks until pred() holds or max_virtual has
  // passed. Returns pred().
  bool advance_until(const std::function<bool()>& pred, caf::timespan max_virtual,
                     caf::timespan tick = 250ms) {
    step_all();
    for (caf::timespan waited{0}; !pred() && waited < max_virtual; waited += tick)
      advance(tick);
    return pred();
  }

  // -- faults ----------------------------------------------------------------

  // p is never stepped or advanced again (a SIGSTOPped process). Its unused
  // paths are replaced: their server ends were already accepted, with p's
  // BASP handshake waiting in the buffer, and a client taking one would
  // "connect" to the frozen planet. The fresh ones are never accepted.
  void freeze(planet& p) {
    state_.at(p.id()).frozen = true;
    for (auto& c : planets_)
      if (c.get() != &p)
        retract(*c, p);
    ensure_paths();
  }

  // freeze, no path to p any more, and every peer's BASP broker gets the
  // connection_closed_msg its socket to p would raise after a kill -9, so
  // peers see down_msg at once (DESIGN.md §2.5, E4d).
  void kill(planet& p) {
    auto& st = state_.at(p.id());
    st.frozen = st.killed = true;
    ensure_paths();  // takes back unused paths to p
    for (auto& w : wires_) {
      if (w.retracted || (w.server != p.id() && w.client != p.id()))
        continue;
      bool p_is_server = w.server == p.id();
      auto& peer = *planets_[p_is_server ? w.client : w.server];
      auto peer_hdl = p_is_server ? w.client_hdl : w.server_hdl;
      if (!state_[peer.id()].killed && owned(peer, peer_hdl))
        caf::anon_send(peer.basp(), caf::io::connection_closed_msg{peer_hdl});
    }
  }

  // No bytes cross between a planet of side_a and one of side_b; a connect
  // across times out (see the opening comment). Bytes written meanwhile wait
  // in the virtual buffers until heal().
  void partition(const std::vector<planet*>& side_a, const std::vector<planet*>& side_b) {
    for (auto* a : side_a)
      for (auto* b : side_b)
        if (a != b)
          cuts_.insert(ordered(a->id(), b->id()));
    ensure_paths();
  }

  void heal() { cuts_.clear(); }

  // -- helpers for tests -----------------------------------------------------

  // Publishes `whom` on p's port through p's middleman actor (publish_atom,
  // as production does) and runs until the reply. Returns the port or the
  // error; an unanswered request fails the test.
  template <class Handle>
  caf::expected<uint16_t> publish(planet& p, const Handle& whom) {
    auto result = std::make_shared<caf::expected<uint16_t>>(caf::sec::request_timeout);
    auto answered = std::make_shared<bool>(false);
    auto ptr = caf::actor_cast<caf::strong_actor_ptr>(whom);
    auto ifs = p.sys().message_types(whom);
    auto mm = p.middleman_actor();
    uint16_t port = p.port();
    p.sys().spawn([=](caf::event_based_actor* self) {
      self->request(mm, 10s, caf::publish_atom::value, port, ptr, ifs, std::string{}, true)
          .then([=](uint16_t actual) { *result = actual; *answered = true; },
                [=](caf::error& e) { *result = std::move(e); *answered = true; });
    });
    step_all();
    REQUIRE_MESSAGE(*answered, "cluster_net: publish on " << p.host() << " got no reply");
    return *result;
  }

 private:
  struct planet_state {
    bool frozen = false;
    bool killed = false;
  };

  static long long ms(caf::timespan t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t).count();
  }
  static std::pair<size_t, size_t> ordered(size_t a, size_t b) {
    return {std::min(a, b), std::max(a, b)};
  }
  int64_t next_handle_id() { return ++handle_ids_; }

  bool may_connect(const planet& client, const planet& server) const {
    return !state_[server.id()].killed && !state_[client.id()].killed;
  }

  // Whether p's BASP broker currently holds the connection hdl.
  static bool owned(planet& p, caf::io::connection_handle hdl) {
    auto& ptr = p.mpx().impl_ptr(hdl);
    return ptr != nullptr && ptr->parent() != nullptr;
  }

  // Takes back the unused prepared path client -> server, if any: the
  // client's pending scribe is consumed and dropped, the server's pending
  // accept erased. (A server end its doorman already accepted stays with the
  // server's broker, idle and without a BASP context: one per retraction.)
  void retract(planet& client, planet& server) {
    if (!client.mpx().has_pending_scribe(server.host(), server.port()))
      return;
    for (auto& w : wires_) {
      if (w.retracted || w.server != server.id() || w.client != client.id()
          || client.mpx().impl_ptr(w.client_hdl) != nullptr)
        continue;
      auto taken = client.mpx().new_tcp_scribe(server.host(), server.port());
      REQUIRE_MESSAGE(taken, "cluster_net: a pending path vanished");
      REQUIRE((*taken)->hdl() == w.client_hdl);
      client.mpx().impl_ptr(w.client_hdl) = nullptr;
      auto& pending = server.mpx().pending_connects();
      for (auto i = pending.begin(); i != pending.end(); ++i)
        if (i->first == server.acceptor() && i->second == w.server_hdl) {
          pending.erase(i);
          break;
        }
      w.retracted = true;
      return;
    }
    // A restarted node is a new planet on the same host and port; the
    // pending path is then the new planet's, not this one's.
    const bool restarted = std::any_of(planets_.begin(), planets_.end(), [&](const auto& q) {
      return q.get() != &server && q->host() == server.host() && q->port() == server.port();
    });
    if (!restarted)
      FAIL("cluster_net: a pending path that the fixture did not prepare");
  }

  // One step of one planet. The order is DESIGN.md §2.5's: try_exec_runnable
  // before read_data, because read_data() flushes the multiplexer's runnables
  // itself and still returns false when no bytes were read, so with
  // io_dsl.hpp's order a broker message sent from outside (the kill path's
  // connection_closed_msg) ran without counting as progress (E4d).
  bool step(planet& p) {
    return p.sched().try_run_once() || p.mpx().try_exec_runnable() || read(p)
           || p.mpx().try_accept_connection();
  }

  // read_data() on every handle, or, while a partition cuts p off from some
  // peer, read_data(hdl) on the handles that do not cross it.
  bool read(planet& p) {
    bool cut = std::any_of(cuts_.begin(), cuts_.end(), [&](const std::pair<size_t, size_t>& c) {
      return c.first == p.id() || c.second == p.id();
    });
    if (!cut)
      return p.mpx().read_data();
    bool hit = false;
    for (auto& w : wires_) {
      if (w.retracted || !joined(w.server, w.client))
        continue;
      if (w.server == p.id())
        hit = p.mpx().read_data(w.server_hdl) || hit;
      else if (w.client == p.id())
        hit = p.mpx().read_data(w.client_hdl) || hit;
    }
    return hit;
  }

  // Stops every tracked actor, runs the planets that are not frozen until
  // idle, then destroys the systems in reverse order. A system only awaits
  // its actors if none is left running; otherwise ~actor_system would wait
  // forever on a test_coordinator that nobody steps any more (frozen planets,
  // or an untracked actor: the latter fails the test here instead).
  void teardown() {
    for (auto& p : planets_)
      p->stop_tracked();
    size_t steps = 0;
    for (bool progress = true; progress && steps < steps_max;) {
      progress = false;
      for (auto& p : planets_)
        if (!state_[p->id()].frozen && step(*p)) {
          progress = true;
          ++steps;
        }
    }
    for (auto i = planets_.rbegin(); i != planets_.rend(); ++i) {
      auto& p = **i;
      auto running = p.sys().registry().running();
      if (!state_[p.id()].frozen)
        CHECK_MESSAGE(running == 0, "cluster_net: " << running << " actors still running on "
                                                    << p.host() << " at teardown (track them)");
      p.sys().await_actors_before_shutdown(running == 0);
      // middleman::stop() polls the multiplexer after its brokers quit; a
      // connect still pending on a doorman would then be accepted by a
      // broker that is gone (a crash, seen with frozen planets).
      p.mpx().pending_connects().clear();
      i->reset();
    }
    planets_.clear();
  }

  std::vector<std::unique_ptr<planet>> planets_;
  std::vector<planet_state> state_;
  std::vector<wire> wires_;
  std::set<std::pair<size_t, size_t>> cuts_;
  std::vector<std::string> events_;
  caf::timespan elapsed_{0};
  int64_t handle_ids_ = 0;
};

}  // namespace agentgraph::test::cluster_net

#include "actors/sim/sim_network.hpp"

#include <caf/all.hpp>
#include <caf/detail/test_actor_clock.hpp>
#include <caf/io/all.hpp>
#include <caf/io/basp_broker.hpp>

#include <algorithm>

namespace agentgraph::sim {

namespace sim_network_detail {

long long ms_of(caf::timespan t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t).count();
}

}  // namespace sim_network_detail

void configure_virtual_node(caf::actor_system_config& cfg, caf::timespan heartbeat,
                            caf::timespan connection_timeout) {
  cfg.set("scheduler.policy", caf::atom("testing"));
  cfg.set("middleman.network-backend", caf::atom("testing"));
  cfg.set("middleman.manual-multiplexing", true);
  cfg.set("middleman.workers", size_t{0});
  cfg.set("middleman.heartbeat-interval", heartbeat);
  cfg.set("middleman.connection-timeout", connection_timeout);
}

caf::timespan world_time_of(caf::actor_system& sys) {
  return sys.clock().now().time_since_epoch() - clock_origin;
}

// -- planet -------------------------------------------------------------------

planet::planet(size_t id, planet_options opts, caf::io::accept_handle acceptor)
  : id_(id), opts_(std::move(opts)), acceptor_(acceptor),
    cfg_(std::make_unique<caf::actor_system_config>()) {
  cfg_->load<caf::io::middleman>();
  configure_virtual_node(*cfg_, opts_.heartbeat, opts_.connection_timeout);
  if (opts_.configure)
    opts_.configure(*cfg_);
  owned_ = std::make_unique<caf::actor_system>(*cfg_);
  sys_ = owned_.get();
  attach();
}

planet::planet(size_t id, planet_options opts, caf::io::accept_handle acceptor,
               caf::actor_system& external)
  : id_(id), opts_(std::move(opts)), acceptor_(acceptor), sys_(&external) {
  attach();
}

planet::~planet() = default;

void planet::attach() {
  sched_ = dynamic_cast<caf::scheduler::test_coordinator*>(&sys_->scheduler());
  if (sched_ == nullptr)
    throw sim_failure("planet " + opts_.host + ": its actor system does not run the testing scheduler");
  if (!sys_->has_middleman())
    throw sim_failure("planet " + opts_.host + ": its actor system has no middleman");
  mpx_ = dynamic_cast<caf::io::network::test_multiplexer*>(&sys_->middleman().backend());
  if (mpx_ == nullptr)
    throw sim_failure("planet " + opts_.host + ": its middleman does not run the testing network");
  // Only a port with a provided acceptor can be opened by publish_atom.
  mpx_->provide_acceptor(opts_.port, acceptor_);
}

caf::actor planet::basp() {
  return sys_->middleman().named_broker<caf::io::basp_broker>(caf::atom("BASP"));
}

caf::io::middleman_actor planet::middleman_actor() {
  return sys_->middleman().actor_handle();
}

caf::io::middleman_actor planet::make_connector() {
  return caf::io::make_middleman_actor(*sys_, basp());
}

bool planet::acceptor_open() {
  auto& ptr = mpx_->impl_ptr(acceptor_);
  return ptr != nullptr && ptr->parent() != nullptr;
}

void planet::stop_tracked() {
  for (auto& p : tracked_)
    caf::anon_send_exit(p, caf::exit_reason::user_shutdown);
  tracked_.clear();
}

// The order is DESIGN.md §2.5's: try_exec_runnable before reading, because
// read_data() flushes the runnables itself and still returns false when no
// bytes were read, so a broker message sent from outside (the kill path's
// connection_closed_msg) would run without counting as progress (E4d).
bool planet::step(const std::function<bool()>& read) {
  return sched_->try_run_once() || mpx_->try_exec_runnable() || read()
         || (!mpx_->pending_connects().empty() && mpx_->try_accept_connection());
}

void planet::release() {
  // An owned system ends here; one that still runs actors would wait for
  // them forever on a scheduler nobody steps. A wrapped system is its
  // owner's to end (sim_runner ends each Runtime after this).
  if (owned_)
    sys_->await_actors_before_shutdown(sys_->registry().running() == 0);
  // middleman::stop() polls the multiplexer after its brokers quit; a
  // connect still pending on a doorman would then be accepted by a broker
  // that is gone (a crash, seen with frozen planets).
  mpx_->pending_connects().clear();
  owned_.reset();
}

// -- sim_network --------------------------------------------------------------

sim_network::~sim_network() {
  teardown();
}

planet& sim_network::add_planet(planet_options opts) {
  auto acc = caf::io::accept_handle::from_int(next_handle_id());
  planets_.push_back(std::make_unique<planet>(planets_.size(), std::move(opts), acc));
  added();
  return *planets_.back();
}

planet& sim_network::add_planet(planet_options opts, caf::actor_system& sys) {
  auto acc = caf::io::accept_handle::from_int(next_handle_id());
  planets_.push_back(std::make_unique<planet>(planets_.size(), std::move(opts), acc, sys));
  added();
  return *planets_.back();
}

void sim_network::added() {
  state_.push_back({});
  nets_.emplace_back();
  for (auto& n : nets_)
    n.path_to.resize(planets_.size(), no_wire);
  resolve_rules();
  advance_planet(*planets_.back(), elapsed_);
}

void sim_network::advance_planet(planet& p, caf::timespan to) {
  auto& clock = p.sched().clock();
  const auto at = clock.now().time_since_epoch() - clock_origin;
  // Also with nothing to add: advance_time(0) fires what is due now.
  if (to >= at)
    p.sched().advance_time(to - at);
}

void sim_network::note(const std::string& what) {
  events_.push_back("+" + std::to_string(sim_network_detail::ms_of(elapsed_)) + "ms " + what);
}

bool sim_network::saw(const std::string& fragment) const {
  return std::any_of(events_.begin(), events_.end(), [&](const std::string& e) {
    return e.find(fragment) != std::string::npos;
  });
}

void sim_network::ensure_paths() {
  for (auto& c : planets_)
    ensure_paths_from(*c);
}

// Only c's own steps consume its pending paths (a connect_atom taken by
// one of its connectors), so a step of c needs c's paths and no others.
// An unused path is a pointer test; only a taken one costs a lookup.
void sim_network::ensure_paths_from(planet& c) {
  if (state_[c.id()].detached)
    return;
  auto& net = nets_[c.id()];
  for (auto& s : planets_) {
    const size_t sid = s->id();
    if (sid == c.id() || state_[sid].detached)
      continue;
    auto& path = net.path_to[sid];
    if (!may_connect(c, *s)) {
      retract(c, *s);
      continue;
    }
    if (path != no_wire) {
      if (*wires_[path].client_scribe == nullptr)
        continue;  // still unused
      // A connect took it: it is a connection now.
      const size_t taken = path;
      path = no_wire;
      greet(taken);
    }
    if (s->acceptor_open())
      prepare(c, *s);
  }
}

// A path with unshared buffers (see the opening comment of the header):
// what test_multiplexer::prepare_connection does, minus the entangling.
void sim_network::prepare(planet& c, planet& s) {
  if (c.mpx().has_pending_scribe(s.host(), s.port()))
    throw sim_failure("two pending paths from " + c.host() + " to " + s.host() + ":"
                      + std::to_string(s.port()));
  const size_t idx = wires_.size();
  wire w{s.id(), c.id(), caf::io::connection_handle::from_int(next_handle_id()),
         caf::io::connection_handle::from_int(next_handle_id())};
  // Each call makes the handle's entry with its own fresh buffers.
  w.server_out = &s.mpx().output_buffer(w.server_hdl);
  w.server_in = &s.mpx().virtual_network_buffer(w.server_hdl);
  w.client_out = &c.mpx().output_buffer(w.client_hdl);
  w.client_in = &c.mpx().virtual_network_buffer(w.client_hdl);
  w.client_scribe = &c.mpx().impl_ptr(w.client_hdl);
  // The multiplexer never erases a handle's entry: both slots stay valid
  // while the planets' systems live (notice_closes reads them without a
  // lookup; they are hot).
  w.server_scribe = &s.mpx().impl_ptr(w.server_hdl);
  if (w.server_in == w.client_out || w.client_in == w.server_out)
    throw sim_failure("a path's two ends share a buffer");
  s.mpx().add_pending_connect(s.acceptor(), w.server_hdl);
  c.mpx().provide_scribe(s.host(), s.port(), w.client_hdl);
  wires_.push_back(std::move(w));
  open_wires_.insert(idx);
  nets_[s.id()].ends.push_back(idx);
  nets_[c.id()].ends.push_back(idx);
  nets_[c.id()].path_to[s.id()] = idx;
}

bool sim_network::step_planet(planet& p) {
  ensure_paths_from(p);
  stepping_ = &p;
  const bool stepped = p.step([&] { return poll(p); });
  stepping_ = nullptr;
  if (!stepped)
    return false;
  ++planet_steps_;
  // Its own step can make bytes already delivered readable (an accept, a
  // new receive policy), and what it wrote goes on the wires.
  nets_[p.id()].dirty = true;
  carry(p);
  return true;
}

size_t sim_network::step_all() {
  size_t steps = 0;
  for (bool progress = true; progress;) {
    // Each visit runs a planet until it is idle: polling an idle planet's
    // network (read_data scans every connection) was most of a run's time
    // when planets took one step per round. Nothing moves the clock here,
    // so the order within one instant is the only thing that changes, and
    // it is the same on every run.
    progress = deliver_due();
    for (auto& p : planets_) {
      if (state_[p->id()].frozen)
        continue;
      for (;;) {
        if (!step_planet(*p))
          break;
        progress = true;
        if (++steps > steps_max)
          throw sim_failure("step_all passed steps_max = " + std::to_string(steps_max)
                            + " steps without going idle (a livelock in the simulated code?)");
      }
    }
    if (!progress)
      progress = notice_closes();
  }
  return steps;
}

size_t sim_network::advance(caf::timespan dt) {
  ++instants_;
  elapsed_ += dt;
  if (elapsed_ > virtual_max)
    throw sim_failure("advance passed virtual_max = "
                      + std::to_string(sim_network_detail::ms_of(virtual_max)) + " ms");
  for (auto& p : planets_)
    if (!state_[p->id()].frozen)
      advance_planet(*p, elapsed_);
  return step_all();
}

bool sim_network::advance_until(const std::function<bool()>& pred, caf::timespan max_virtual,
                                caf::timespan tick) {
  step_all();
  for (caf::timespan waited{0}; !pred() && waited < max_virtual; waited += tick)
    advance(tick);
  return pred();
}

std::optional<caf::timespan> sim_network::next_due() {
  std::optional<caf::timespan> out;
  for (auto& p : planets_) {
    if (state_[p->id()].frozen)
      continue;
    const auto& schedule = p->sched().clock().schedule();
    if (schedule.empty())
      continue;
    const auto due = schedule.begin()->first.time_since_epoch() - clock_origin;
    if (!out || due < *out)
      out = due;
  }
  if (auto seg = next_segment_due(); seg && (!out || *seg < *out))
    out = seg;
  return out;
}

void sim_network::run_until(caf::timespan t) {
  step_all();
  // Each pass fires at least one timer (advance fires every timer due at
  // or before the new time); a timer chain that re-arms at the same instant
  // forever is a livelock, caught by the bound.
  for (size_t passes = 0;; ++passes) {
    if (passes > steps_max)
      throw sim_failure("run_until passed steps_max timer passes at one instant (a timer loop?)");
    auto due = next_due();
    if (!due || *due > t)
      break;
    advance(*due > elapsed_ ? *due - elapsed_ : caf::timespan{0});
  }
  if (t > elapsed_)
    advance(t - elapsed_);
}

bool sim_network::step_world() {
  if (deliver_due())
    return true;
  for (auto& p : planets_)
    if (!state_[p->id()].frozen && step_planet(*p))
      return true;
  if (notice_closes())
    return true;
  auto due = next_due();
  if (!due)
    return false;
  advance(*due > elapsed_ ? *due - elapsed_ : caf::timespan{0});
  return true;
}

void sim_network::freeze(planet& p) {
  state_.at(p.id()).frozen = true;
  // Its unused paths were already accepted, with p's BASP handshake
  // waiting in the buffer: a client taking one would "connect" to the
  // frozen planet. Fresh ones are never accepted.
  for (auto& c : planets_)
    if (c.get() != &p)
      retract(*c, p);
  ensure_paths();
}

void sim_network::thaw(planet& p) {
  auto& st = state_.at(p.id());
  if (!st.frozen || st.killed)
    return;
  st.frozen = false;
  advance_planet(p, elapsed_);
  nets_[p.id()].dirty = true;
}

void sim_network::kill(planet& p) {
  auto& st = state_.at(p.id());
  st.frozen = st.killed = true;
  ensure_paths();  // takes back unused paths to p
  for (auto& w : wires_) {
    if (w.retracted || (w.server != p.id() && w.client != p.id()))
      continue;
    const bool p_is_server = w.server == p.id();
    auto& peer = *planets_[p_is_server ? w.client : w.server];
    auto peer_hdl = p_is_server ? w.client_hdl : w.server_hdl;
    if (!state_[peer.id()].killed && !state_[peer.id()].detached && owned(peer, peer_hdl))
      caf::anon_send(peer.basp(), caf::io::connection_closed_msg{peer_hdl});
  }
  bury(p.id());
}

void sim_network::bury(size_t id) {
  auto& net = nets_[id];
  for (size_t idx : net.ends) {
    auto& w = wires_[idx];
    w.dead = true;
    w.to_server.clear();
    w.to_client.clear();
    in_flight_.erase(idx);
    auto& other = nets_[w.server == id ? w.client : w.server].ends;
    other.erase(std::remove(other.begin(), other.end(), idx), other.end());
  }
  net.ends.clear();
  net.inbox.clear();
  std::fill(net.path_to.begin(), net.path_to.end(), no_wire);
}

void sim_network::detach(planet& p) {
  kill(p);
  // Its pending paths as a client live in its own multiplexer, which goes
  // with it; the servers' pending accepts for them are taken back here.
  for (auto& w : wires_) {
    if (w.retracted || (w.client != p.id() && w.server != p.id()))
      continue;
    auto& other = *planets_[w.client == p.id() ? w.server : w.client];
    if (state_[other.id()].detached)
      continue;
    auto& pending = other.mpx().pending_connects();
    for (auto i = pending.begin(); i != pending.end(); ++i)
      if (i->second == w.server_hdl) {
        pending.erase(i);
        break;
      }
    w.retracted = true;
  }
  state_.at(p.id()).detached = true;
}

void sim_network::partition(const std::vector<planet*>& side_a,
                            const std::vector<planet*>& side_b) {
  for (auto* a : side_a)
    for (auto* b : side_b)
      if (a != b)
        cuts_.insert(ordered(a->id(), b->id()));
  ensure_paths();
}

void sim_network::heal() {
  cuts_.clear();
  // What waited on the cut links is due now: the next step hands it over.
}

caf::expected<uint16_t> sim_network::publish(planet& p, const caf::strong_actor_ptr& whom,
                                             std::set<std::string> ifs) {
  auto result = std::make_shared<caf::expected<uint16_t>>(caf::sec::request_timeout);
  auto answered = std::make_shared<bool>(false);
  auto mm = p.middleman_actor();
  uint16_t port = p.port();
  p.sys().spawn([=](caf::event_based_actor* self) {
    self->request(mm, std::chrono::seconds{10}, caf::publish_atom::value, port, whom, ifs,
                  std::string{}, true)
      .then([=](uint16_t actual) { *result = actual; *answered = true; },
            [=](caf::error& e) { *result = std::move(e); *answered = true; });
  });
  step_all();
  if (!*answered)
    throw sim_failure("publish on " + p.host() + " got no reply");
  return *result;
}

bool sim_network::may_connect(const planet& client, const planet& server) const {
  return !state_[server.id()].killed && !state_[client.id()].killed;
}

bool sim_network::owned(planet& p, caf::io::connection_handle hdl) {
  auto& ptr = p.mpx().impl_ptr(hdl);
  return ptr != nullptr && ptr->parent() != nullptr;
}

// Takes back the unused prepared path client -> server, if any: the
// client's pending scribe is consumed and dropped, the server's pending
// accept erased. (A server end its doorman already accepted stays with the
// server's broker, idle and without a BASP context: one per retraction.)
void sim_network::retract(planet& client, planet& server) {
  auto& path = nets_[client.id()].path_to[server.id()];
  if (path == no_wire)
    return;
  const size_t idx = path;
  path = no_wire;
  auto& w = wires_[idx];
  if (*w.client_scribe != nullptr) {
    greet(idx);  // a connect took it: a connection, not a path
    return;
  }
  auto taken = client.mpx().new_tcp_scribe(server.host(), server.port());
  if (!taken || (*taken)->hdl() != w.client_hdl)
    throw sim_failure("a pending path vanished");
  *w.client_scribe = nullptr;
  auto& pending = server.mpx().pending_connects();
  for (auto i = pending.begin(); i != pending.end(); ++i)
    if (i->first == server.acceptor() && i->second == w.server_hdl) {
      pending.erase(i);
      break;
    }
  w.retracted = true;
  for (size_t end : {w.server, w.client}) {
    auto& ends = nets_[end].ends;
    ends.erase(std::remove(ends.begin(), ends.end(), idx), ends.end());
  }
}

void sim_network::teardown(const std::function<void(const planet&, size_t running)>& running_left) {
  if (torn_down_)
    return;
  torn_down_ = true;
  for (auto& p : planets_)
    p->stop_tracked();
  size_t steps = 0;
  for (bool progress = true; progress && steps < steps_max;) {
    progress = false;
    for (auto& p : planets_)
      if (!state_[p->id()].frozen && step_planet(*p)) {
        progress = true;
        ++steps;
      }
  }
  for (auto i = planets_.rbegin(); i != planets_.rend(); ++i) {
    auto& p = **i;
    if (state_[p.id()].detached)
      continue;
    if (running_left && !state_[p.id()].frozen)
      running_left(p, p.sys().registry().running());
    p.release();
  }
  planets_.clear();
}

}  // namespace agentgraph::sim

// The simulated world's machines and wires: several CAF nodes ("planets")
// in one process, each an actor_system on CAF's test_coordinator (nothing
// runs unless stepped; the clock is virtual) and test_multiplexer
// ("sockets" are byte buffers this class wires together). Publishing and
// connecting go through the middleman actors exactly as on real nodes, so
// the cluster code under simulation has no test hooks
// (net/cluster/DESIGN.md §2.4-2.6 has the experiments behind each rule).
//
// `agentgraph sim` (sim_runner.hpp) and the cluster unit tests
// (tests/unit/cluster_net_fixture.hpp) both run on it.
//
// The network's rules:
// - ensure_paths() (before every step) keeps one prepared connection per
//   ordered pair client -> server while neither is killed and the server's
//   port is open. A connect_atom takes it; without one, test_multiplexer
//   answers sec::cannot_connect_to_node at once, as a refused TCP connect
//   to a dead process does.
// - The two ends of a connection do not share buffers (test_multiplexer's
//   prepare_connection would entangle them): after each step of a planet,
//   carry() moves what it wrote to the peer's input, at once or, on a link
//   with a link_rule, at the virtual time the rule gives. Order per
//   direction is kept, as TCP keeps it. Knowing which handle got bytes
//   also lets a planet read just those handles instead of scanning all.
// - A partition is a black hole, not a refusal: no byte crosses it (bytes
//   in flight wait until the heal), so a connect across it ends with the
//   BASP connection timeout, as a connect whose SYNs are dropped would.
//   The cluster treats a refusal as proof of death and a timeout as
//   unreachability (DESIGN.md §5.3).
// - A lossy link loses segments the way TCP sees it: a lost segment is
//   sent again after the retransmission timeout (200 ms, doubling, at most
//   120 s per try, at most 15 tries: Linux's defaults), and everything
//   behind it on that connection waits (head-of-line blocking). TCP never
//   hands the application a gap, so neither does this network.
// - A frozen planet (SIGSTOP) still gets prepared paths, but never accepts
//   or answers them. On thaw its clock jumps to the world's, as a resumed
//   process's steady clock does.
// - A killed planet (kill -9) is frozen for good, and every peer's BASP
//   broker gets the connection_closed_msg its socket would raise, so peers
//   see down_msg at once (E4d).
// - A close on one end (its broker closed the connection: a heartbeat
//   timeout, a second connection to the same node, a failed handshake) is
//   seen by the other, as TCP's FIN: once what the closing end wrote has
//   reached the peer, the link is joined and the peer is not frozen, the
//   peer's BASP broker gets connection_closed_msg; bytes that reach a
//   closed end make it answer with a reset (RST), which tells the peer at
//   once, past anything still in flight to it. Without them the peer
//   went on writing into a closed end until its own heartbeat timeout, and
//   each request it sent meanwhile was lost with no down_msg (a remote call
//   that hung until its deadline: chaos seeds 48 and 84 of the first sweeps).
//
// Time: every live planet's clock shows the world's time. run_until(t)
// jumps from one due timer to the next, so idle stretches cost nothing.
// Every loop is bounded (steps_max per step_all); a breach throws
// sim_failure, which the runner reports as the run's error.
#pragma once

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/expected.hpp>
#include <caf/io/accept_handle.hpp>
#include <caf/io/connection_handle.hpp>
#include <caf/io/middleman_actor.hpp>
#include <caf/io/network/test_multiplexer.hpp>
#include <caf/scheduler/test_coordinator.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace agentgraph::sim {

using namespace std::chrono_literals;

// A breach of the world's own bounds or rules: a livelock in the code under
// simulation, or a bug here. Never a fault of the simulated cluster.
struct sim_failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Sets on a CAF config what a planet needs: the testing scheduler and
// network backend, manual multiplexing, no middleman workers, the BASP
// heartbeat and timeout (virtual). The middleman must be loaded.
void configure_virtual_node(caf::actor_system_config& cfg, caf::timespan heartbeat,
                            caf::timespan connection_timeout);

// A fresh test clock starts at 1 ns; every live planet's clock shows
// clock_origin + the world's time.
constexpr caf::timespan clock_origin{1};

// The world's time as a planet's own clock shows it (from inside its actors).
[[nodiscard]] caf::timespan world_time_of(caf::actor_system& sys);

struct planet_options {
  std::string host;  // the name peers connect to
  uint16_t port = 4242;
  caf::timespan heartbeat = 250ms;           // used when the planet makes its own system
  caf::timespan connection_timeout = 1500ms;
  std::function<void(caf::actor_system_config&)> configure;  // may be empty
};

// One CAF node. Either it makes and owns its actor system, or it wraps one
// made elsewhere with configure_virtual_node (a Runtime's).
class planet {
 public:
  planet(size_t id, planet_options opts, caf::io::accept_handle acceptor);
  planet(size_t id, planet_options opts, caf::io::accept_handle acceptor,
         caf::actor_system& external);
  ~planet();
  planet(const planet&) = delete;
  planet& operator=(const planet&) = delete;

  size_t id() const { return id_; }
  const std::string& host() const { return opts_.host; }
  uint16_t port() const { return opts_.port; }
  caf::io::accept_handle acceptor() const { return acceptor_; }
  caf::actor_system& sys() { return *sys_; }
  caf::scheduler::test_coordinator& sched() { return *sched_; }
  caf::io::network::test_multiplexer& mpx() { return *mpx_; }
  bool owns_system() const { return owned_ != nullptr; }

  caf::actor basp();
  caf::io::middleman_actor middleman_actor();
  // A fresh connector over the same BASP broker, as the node actor makes
  // one per peer (DESIGN.md §6 item 4).
  caf::io::middleman_actor make_connector();
  // True once publish_atom opened this planet's port and until it closes.
  bool acceptor_open();

  // A root actor stopped at teardown.
  template <class Handle>
  Handle track(Handle h) {
    tracked_.push_back(caf::actor_cast<caf::strong_actor_ptr>(h));
    return h;
  }
  void stop_tracked();

  // One step: a job, else a multiplexer runnable, else data on some
  // readable handle (`read` decides which), else a pending accept.
  bool step(const std::function<bool()>& read);
  // Ends the planet's system without waiting for actors still running
  // (frozen ones would never end). Owned systems only; a wrapped one is
  // destroyed by its owner after release().
  void release();

 private:
  void attach();

  size_t id_;
  planet_options opts_;
  caf::io::accept_handle acceptor_;
  std::unique_ptr<caf::actor_system_config> cfg_;  // the system keeps a reference
  std::unique_ptr<caf::actor_system> owned_;
  caf::actor_system* sys_ = nullptr;
  caf::scheduler::test_coordinator* sched_ = nullptr;
  caf::io::network::test_multiplexer* mpx_ = nullptr;
  std::vector<caf::strong_actor_ptr> tracked_;
};

// How a link misbehaves. Several faults on one link add up: delays add,
// the largest jitter counts, drop rates combine as independent losses.
struct link_rule {
  caf::timespan delay{0};   // one way, per segment
  caf::timespan jitter{0};  // each segment's delay varies by +-jitter
  double drop = 0;          // share of segments lost (and sent again)
  [[nodiscard]] bool idle() const { return delay.count() == 0 && jitter.count() == 0 && drop == 0; }
};

// A link fault in force: `rule` on every link with an end on one of
// `hosts` (every link when empty).
struct link_fault {
  std::vector<std::string> hosts;
  link_rule rule;
};

// TCP's retransmission timeouts (Linux defaults: tcp_rto_min, TCP_RTO_MAX,
// tcp_retries2): the drop model's bounds.
constexpr caf::timespan rto_min = std::chrono::milliseconds{200};
constexpr caf::timespan rto_max = std::chrono::seconds{120};
constexpr uint32_t retries_max = 15;

// Bytes on their way: readable by the receiving end at `due`.
struct segment {
  caf::timespan due;
  std::vector<char> bytes;
};

// One prepared connection: the server end on `server`, the client end on
// `client`. This class makes every connection_handle, so it knows where
// each handle of each planet leads. The buffer pointers point into the
// planets' test_multiplexers (entries there are never erased); they are
// used only while the wire is live.
struct wire {
  size_t server;
  size_t client;
  caf::io::connection_handle server_hdl;
  caf::io::connection_handle client_hdl;
  bool retracted = false;  // taken back before a client used it
  bool dead = false;       // an end was killed: nothing is carried any more
  std::vector<char>* server_out = nullptr;  // what the server end writes
  std::vector<char>* server_in = nullptr;   // what the server end reads
  std::vector<char>* client_out = nullptr;
  std::vector<char>* client_in = nullptr;
  caf::io::scribe_ptr* client_scribe = nullptr;  // set once a connect took the path
  caf::io::scribe_ptr* server_scribe = nullptr;  // its slot; filled when the doorman accepts
  // In flight on a link with a rule, per direction; dues never decrease.
  std::deque<segment> to_server;
  std::deque<segment> to_client;
  // An end its broker closed, and whether its peer was told (its FIN).
  // An end that got bytes after it closed answers with a reset at once
  // (*_reset), before whatever it still had on its way to the peer.
  bool server_closed = false;
  bool client_closed = false;
  bool server_reset = false;
  bool client_reset = false;
  bool client_told = false;  // of the server end's close
  bool server_told = false;  // of the client end's close
};

class sim_network {
 public:
  static constexpr size_t steps_max_default = 2'000'000;

  sim_network() = default;
  sim_network(const sim_network&) = delete;
  sim_network& operator=(const sim_network&) = delete;
  ~sim_network();

  // Per step_all() call; past it: sim_failure (a livelock, not a hang).
  size_t steps_max = steps_max_default;
  // Total virtual time advance() may add; past it: sim_failure.
  caf::timespan virtual_max = std::chrono::hours{24 * 365};

  planet& add_planet(planet_options opts);
  // A planet over `sys`, which configure_virtual_node prepared. Its clock is
  // moved to the world's time.
  planet& add_planet(planet_options opts, caf::actor_system& sys);

  planet& operator[](size_t i) { return *planets_.at(i); }
  size_t size() const { return planets_.size(); }

  bool frozen(const planet& p) const { return state_.at(p.id()).frozen; }
  bool killed(const planet& p) const { return state_.at(p.id()).killed; }
  bool joined(size_t a, size_t b) const { return cuts_.count(ordered(a, b)) == 0; }
  // Virtual time since the world began.
  caf::timespan elapsed() const { return elapsed_; }
  const std::vector<wire>& wires() const { return wires_; }
  // The planet whose step runs now (nullptr between steps).
  const planet* stepping() const { return stepping_; }

  // -- a log of what observers saw, stamped with virtual time -----------------
  void note(const std::string& what);
  const std::vector<std::string>& events() const { return events_; }
  bool saw(const std::string& fragment) const;

  // -- running ---------------------------------------------------------------
  void ensure_paths();
  // Round-robin over the live planets, one step each, until none advances.
  size_t step_all();
  // Advances every live planet by dt, then runs until idle.
  size_t advance(caf::timespan dt);
  // step_all, then advance in ticks until pred() or max_virtual passed.
  bool advance_until(const std::function<bool()>& pred, caf::timespan max_virtual,
                     caf::timespan tick = 250ms);
  // The earliest timer due on a live planet, as world time; none if idle.
  std::optional<caf::timespan> next_due();
  // Runs everything due up to world time t (>= elapsed()), jumping from
  // timer to timer, and leaves the world at t.
  void run_until(caf::timespan t);
  // One step of the world for waiting setup code (runtime/virtual_time.hpp):
  // a step of some planet, else a jump to the next due timer.
  bool step_world();

  // -- faults ----------------------------------------------------------------
  void freeze(planet& p);
  // Undoes freeze(): p steps again and its clock jumps to the world's.
  void thaw(planet& p);
  void kill(planet& p);
  // kill(p), and p's actor system is about to go: nothing here touches it
  // again (a node whose start failed after it joined the world).
  void detach(planet& p);
  void partition(const std::vector<planet*>& side_a, const std::vector<planet*>& side_b);
  void heal();
  // The link faults in force from now on (replacing the earlier set).
  // Segments already in flight keep their times. Delays, jitter and drops
  // draw from the generator seeded here, and only when a rule applies.
  void set_link_faults(std::vector<link_fault> faults);
  void seed_links(uint64_t seed) { link_rng_.seed(seed); }
  // Segments delayed or sent again so far (a rule applied), and how many
  // segments a drop hit.
  uint64_t segments_delayed() const { return segments_delayed_; }
  uint64_t segments_dropped() const { return segments_dropped_; }
  // The work the world did: planet steps (one message, multiplexer job,
  // read or accept each) and timer instants jumped to.
  uint64_t planet_steps() const { return planet_steps_; }
  uint64_t instants() const { return instants_; }

  // Publishes `whom` on p's port through p's middleman actor and runs until
  // the reply.
  caf::expected<uint16_t> publish(planet& p, const caf::strong_actor_ptr& whom,
                                  std::set<std::string> ifs);

  // Stops tracked actors, runs the live planets until idle, then destroys
  // the owned systems in reverse order. Wrapped systems are left to their
  // owners (after release()). `running_left` gets, per planet that was
  // live, the actors still running at the end (should be 0).
  void teardown(const std::function<void(const planet&, size_t running)>& running_left = {});

 private:
  struct planet_state {
    bool frozen = false;
    bool killed = false;
    bool detached = false;  // its system is gone
  };

  // Per planet: the wires it has an end on, its unused path per server,
  // and the handles bytes were delivered to since it last read them.
  struct planet_net {
    std::vector<size_t> ends;
    std::vector<size_t> path_to;  // per server id; no_wire when none
    std::vector<caf::io::connection_handle> inbox;
    bool dirty = true;  // something may be readable: read the inbox
  };
  static constexpr size_t no_wire = static_cast<size_t>(-1);

  static std::pair<size_t, size_t> ordered(size_t a, size_t b) {
    return {std::min(a, b), std::max(a, b)};
  }
  int64_t next_handle_id() { return ++handle_ids_; }
  bool may_connect(const planet& client, const planet& server) const;
  static bool owned(planet& p, caf::io::connection_handle hdl);
  void retract(planet& client, planet& server);
  void prepare(planet& client, planet& server);
  bool poll(planet& p);
  // Moves what p wrote onto the wires (after each step of p).
  void carry(planet& p);
  void carry_one(wire& w, size_t wire_idx, bool from_server);
  void deliver(wire& w, bool to_server, std::vector<char>& bytes);
  // Hands over every segment due by now on a joined link; true if any.
  bool deliver_due();
  // Tells the peer of each end its broker closed (see the opening
  // comment); true if any was told. Runs when no planet has work.
  bool notice_closes();
  // Bytes reached p's end `hdl` after it closed: it answers with a reset.
  void reset_from(planet& p, caf::io::connection_handle hdl);
  std::optional<caf::timespan> next_segment_due() const;
  const link_rule* rule_between(size_t a, size_t b);
  caf::timespan draw_delay(const link_rule& r);
  void ensure_paths_from(planet& c);
  void greet(size_t wire_idx);  // a connect took the path
  void bury(size_t planet_id);  // its wires die; its buffers are not touched again
  void added();  // bookkeeping for the planet just added
  void resolve_rules();
  bool step_planet(planet& p);
  planet* stepping_ = nullptr;
  void advance_planet(planet& p, caf::timespan to);

  std::vector<std::unique_ptr<planet>> planets_;
  std::vector<planet_state> state_;
  std::vector<planet_net> nets_;
  std::vector<wire> wires_;
  std::set<size_t> in_flight_;  // wires with segments on their way
  std::set<size_t> open_wires_;  // wires with an end that may close untold
  std::set<std::pair<size_t, size_t>> cuts_;
  std::vector<link_fault> link_faults_;
  // rule per ordered planet pair, resolved from link_faults_ on change.
  std::map<std::pair<size_t, size_t>, link_rule> rules_;
  std::mt19937_64 link_rng_{1};
  uint64_t segments_delayed_ = 0;
  uint64_t segments_dropped_ = 0;
  uint64_t planet_steps_ = 0;
  uint64_t instants_ = 0;
  std::vector<std::string> events_;
  caf::timespan elapsed_{0};
  int64_t handle_ids_ = 0;
  bool torn_down_ = false;
};

// While alive, log records show the world's time and the planet that
// wrote them ("time=w12.345s@n2") instead of the wall clock, so a run's
// log lines up with its trace. One at a time.
class virtual_log_stamps {
 public:
  explicit virtual_log_stamps(const sim_network& net);
  ~virtual_log_stamps();
  virtual_log_stamps(const virtual_log_stamps&) = delete;
  virtual_log_stamps& operator=(const virtual_log_stamps&) = delete;
};

}  // namespace agentgraph::sim

// The node actor's state and the steps of its behaviour, split by concern:
//   node_actor.cpp       handlers, publishing, status, leave, events
//   node_links.cpp       links to peer endpoints: connect, handshake as the
//                        joiner, reconnect and backoff, proxies going down
//   node_admission.cpp   the responder's side of the handshake
//   node_membership.cpp  the tick: heartbeats, phi, reachability, downing,
//                        leader actions, gossip, incarnations
//   node_directory.cpp   the directory: local entries, peers' tables,
//                        subscribers (design §8.1), max_agents
//   node_collab.cpp      the cluster's collaboration settings (§8.5)
// Internal to net/cluster; nothing outside includes it.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <caf/actor_clock.hpp>
#include <caf/node_id.hpp>
#include <caf/response_promise.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include "net/cluster/directory_table.hpp"
#include "net/cluster/node_actor.hpp"
#include "runtime/cluster/downing.hpp"
#include "runtime/cluster/membership_view.hpp"
#include "runtime/cluster/phi_accrual.hpp"

namespace agentgraph::cluster {

class node_state;
using node_self = node_actor::stateful_pointer<node_state>;
using time_point = caf::actor_clock::time_point;


// One peer endpoint this node wants to talk to: a seed while joining, then
// every live member but itself.
struct link {
  enum class phase : uint8_t { idle, connecting, hello, prove, admitted };
  phase ph = phase::idle;
  caf::io::middleman_actor connector;
  bool connector_busy = false;  // its last connect has not answered yet
  uint64_t attempt = 0;         // replies of older attempts are ignored
  uint32_t failures = 0;        // in a row, for the backoff
  time_point retry_at{};
  node_actor peer;              // the proxy (from hello on)
  caf::node_id node;            // the peer's CAF node
  std::optional<member_id> member;  // who proved itself at this endpoint
  bool lost = false;  // the connection `member` was admitted over went down since
  std::vector<uint8_t> my_nonce;
  std::vector<uint8_t> their_nonce;
  bool self_endpoint = false;   // it was us: never dialled again
  bool refused = false;         // the last connect was refused: nothing listens
  bool timed_out = false;       // the last connect or handshake timed out
  // Connections to `member` this node lost (CAF killed every proxy of its
  // node, so this node's answers to its calls in flight went nowhere), and
  // how many more notices of that count go to it once admitted again
  // (node_links.cpp: send_link_notice). Reset for a new incarnation.
  uint64_t links_lost = 0;
  uint32_t notices_left = 0;
};

// What the node knows about a member from its heartbeats.
struct peer_health {
  phi_accrual detector;
  uint64_t last_seq = 0;
  uint32_t load = 0;  // last read of args->load_probe
};

// A handshake this node answered and waits to finish (responder side).
struct pending_handshake {
  std::vector<uint8_t> my_nonce;
  std::vector<uint8_t> their_nonce;
  caf::node_id node;
  time_point expires{};
};

class node_state {
 public:
  static inline const char* name = "cluster_node";

  // --- set once ---
  std::optional<node_args> args;  // set when the behaviour starts
  view_settings vsettings;
  phi_settings psettings;
  downing_settings dsettings;
  std::vector<endpoint> seeds;
  std::string listen_host;

  // --- identity and view ---
  member_id self_id;
  bool published = false;
  bool joined = false;            // in a cluster (welcomed, or formed it alone)
  bool may_start_alone = false;   // first seed at first start
  time_point join_started{};
  // When on_tick last ran: a much later tick means this node was paused.
  time_point last_tick{};
  std::optional<membership_view> view;
  std::optional<stability> stab;
  std::set<member_id> proven_dead;
  uint32_t load = 0;  // last read of args->load_probe
  uint64_t hb_seq = 0;
  time_point next_tick{};
  time_point next_gossip_repair{};
  // After this node was paused: until then it records no peer unreachable
  // and downs nobody else (see on_tick).
  time_point quiet_until{};

  // --- peers ---
  std::map<endpoint, link> links;
  std::map<member_id, peer_health> health;
  std::map<caf::node_id, member_id> admitted;     // CAF node -> member proven there
  std::map<member_id, pending_handshake> pending;  // responder side, by joiner
  // Senders told that they speak for a dead incarnation, and when (one
  // reminder per gossip_interval; cleared past members_max entries).
  std::map<caf::node_id, time_point> told_dead;
  // Admissions revoked because their member is no longer live (sync_links):
  // the only senders a dead incarnation's reminder goes to. Cleared past
  // members_max entries.
  std::map<caf::node_id, member_id> revoked;
  // Per down (or removed) record: the members whose gossip showed it so.
  // A down still news to some counted member counts on the other side of
  // keep-majority (runtime/cluster/downing.hpp); pruned with the view.
  std::map<member_id, std::set<member_id>> down_known_by;
  // Per exiting record: the members whose gossip showed it exiting (or
  // later). An exit still news to some counted member counts on the other
  // side of keep-majority, as a down does: over there the member may still
  // be leaving, and counted (node_membership.cpp, run_downing, which also
  // prunes it).
  std::map<member_id, std::set<member_id>> exit_known_by;

  // --- directory ---
  std::optional<directory_table> dir;
  std::map<member_id, time_point> dir_pulled;  // last dir_pull per member (rate limit)
  bool dir_withdrawn = false;   // leaving: the table offered is empty
  uint64_t withdrawn_bump = 0;  // 1 once withdrawn, so peers see a newer version
  std::vector<directory_sink> dir_subscribers;
  // max_agents (§8.5): this node's agents it offers now, and a bump of the
  // offered version each time that set changes.
  std::vector<std::string> agents_offered;
  bool agents_all_offered = true;  // no limit: every local agent
  uint64_t offer_bump = 0;
  std::map<member_id, size_t> agents_withheld;  // per peer, for the log
  std::set<std::string> agents_local_withheld;  // this node's, for the log and the count

  // --- collaboration settings (§8.5) ---
  collab_settings collab;  // the cluster's once joined; this node's own before

  // --- local clients ---
  std::vector<member_event_sink> subscribers;
  std::vector<caf::typed_response_promise<cluster_status>> status_waiting;
  std::vector<caf::typed_response_promise<member_state>> leave_waiting;
  node_counters counters;

  // Bounds of what local clients may hold.
  static constexpr size_t subscribers_max = 64;
  static constexpr size_t waiting_max = 64;

  // --- connections peers lost to this node (node_links.cpp) ---
  // Per admitted member: the highest count of lost connections to this
  // incarnation it told (heartbeat_msg::links_lost), and how many losses of
  // the connection to it this node had seen itself by then (its link's
  // links_lost). Pruned with the view, cleared while not joined.
  struct lost_counts {
    uint64_t heard = 0;
    uint64_t own = 0;
  };
  std::map<member_id, lost_counts> lost_heard;
  // A notice whose count rises by more than this since the last one is not
  // believed: every loss takes a reconnect, so a genuine count never jumps
  // so far, and a forged huge one would mute the member's real notices.
  static constexpr uint64_t lost_rise_max = 1024;
};

// --- node_actor.cpp ---
void node_published(node_self self, uint16_t port);
cluster_status make_status(node_self self);
void answer_waiting(node_self self);
[[nodiscard]] bool from_local(node_self self);

// --- node_links.cpp ---
void sync_links(node_self self);                // wanted endpoints <-> links
void drive_links(node_self self, time_point now);  // start connects that are due
void on_peer_down(node_self self, const caf::down_msg& dm);
[[nodiscard]] link* link_of_member(node_self self, const member_id& m);
void forget_link(node_self self, link& l);
void admit(node_self self, link& l, const member_id& who, const caf::node_id& node,
           const node_actor& peer);
// A heartbeat that carries links_lost (a notice): when the sender lost its
// connection to this node more often than it told before, every local call
// in flight to the sender's node fails now (call_watch's node_down_group),
// since the sender's answers to them went nowhere. Call before on_heartbeat.
void on_link_notice(node_self self, const heartbeat_msg& hb);

// --- node_admission.cpp ---
caf::result<join_challenge> on_hello(node_self self, join_hello& h);
caf::result<gossip_msg> on_prove(node_self self, join_proof& p);
void expire_handshakes(node_self self, time_point now);

// --- node_directory.cpp ---
void on_dir_put(node_self self, dir_entry& e);
void on_dir_drop(node_self self, const std::string& kind, const std::string& name);
std::vector<dir_listing> on_dir_list(node_self self);
void on_dir_sub(node_self self, directory_sink& sink);
void on_dir_sync(node_self self, dir_sync& sync);
void on_dir_pull(node_self self, const member_id& asker);
// The version of the table this node offers (heartbeats carry it).
[[nodiscard]] uint64_t dir_offered_version(node_self self);
// A heartbeat said `m`'s table is at `version`: ask for it when ours is older.
void dir_heard_version(node_self self, const member_id& m, uint64_t version);
// `m` was admitted again over a new connection: its table (whose handles
// are proxies of the old connection) is dropped, subscribers are told,
// and the next heartbeat's version pulls it afresh.
void dir_reconnected(node_self self, const member_id& m);
// Drops the tables of members that are no longer live in the view (all of
// them when this node is not joined), telling subscribers why.
void dir_reconcile(node_self self, const std::string& why);

// Offers this node's agents up to the cluster's max_agents, counting those
// of members senior to it (lower uid: started earlier), and believes each
// peer's agents under the same rule; pushes the table when its offered part
// changed.
void dir_recount(node_self self);

// --- node_collab.cpp ---
// This node's own settings ([cluster] keys), origin itself.
[[nodiscard]] collab_settings own_collab(node_self self);
// The first problem of settings a peer sent; empty when usable.
[[nodiscard]] caf::error check_collab(const collab_settings& c);
// A welcome's settings (g.collab): adopted whatever their origin (the
// cluster's win), if that origin is a member of the welcome's view. Call
// before admit(): its detector expects the adopted heartbeat_interval.
void adopt_welcome_collab(node_self self, const gossip_msg& g);
// A gossip's settings: adopted when their (origin, values) sort before ours
// and their origin is a member of the sender's view.
void merge_gossip_collab(node_self self, const gossip_msg& g);
// Tells `only` (every subscriber when null) the settings in use, as a
// member_event about this node's own record; nothing before the start.
void tell_collab(node_self self, const member_event_sink* only, const std::string& why);

// --- node_membership.cpp ---
void on_tick(node_self self);
void schedule_tick(node_self self, time_point when);
void on_gossip(node_self self, gossip_msg& g);
void on_heartbeat(node_self self, heartbeat_msg& hb);
// The view changed: events, leader moves, own fate, gossip to every peer.
void after_view_change(node_self self, const membership_view& before, const std::string& why);
[[nodiscard]] gossip_msg make_gossip(node_self self);
// Merges a view a peer sent; false (and a log line) when it is unusable.
bool merge_remote_view(node_self self, gossip_msg& g, const char* what);
// This incarnation is over (downed, superseded): start a new one and join again.
void new_incarnation(node_self self, const std::string& why);
void set_member_down(node_self self, const member_id& m, const std::string& why);

}  // namespace agentgraph::cluster

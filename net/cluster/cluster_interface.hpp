// The node actor's typed interface and the messages nodes exchange
// (design §4): admission handshake, gossip, heartbeats, and the local
// requests of the host (status, membership events, load, graceful leave).
//
// Every struct has a free `inspect` and is registered in
// register_cluster_types (cluster_types.hpp), so it crosses BASP. Anything a
// peer sends is untrusted: the node actor checks sizes and identities before
// it believes a field (node_actor.cpp).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <type_traits>
#include <vector>

#include <caf/atom.hpp>
#include <caf/binary_deserializer.hpp>
#include <caf/deserializer.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/node_id.hpp>
#include <caf/replies_to.hpp>
#include <caf/timespan.hpp>
#include <caf/typed_actor.hpp>

#include "runtime/cluster/member.hpp"
#include "runtime/cluster/membership_view.hpp"
#include "runtime/heartbeat.hpp"

namespace agentgraph::cluster {

using join_hello_atom = caf::atom_constant<caf::atom("ag_chello")>;
using join_prove_atom = caf::atom_constant<caf::atom("ag_cprove")>;
using gossip_atom = caf::atom_constant<caf::atom("ag_gossip")>;
using cluster_hb_atom = caf::atom_constant<caf::atom("ag_chb")>;
using leave_atom = caf::atom_constant<caf::atom("ag_cleave")>;
using cluster_status_atom = caf::atom_constant<caf::atom("ag_cstatus")>;
using member_sub_atom = caf::atom_constant<caf::atom("ag_csub")>;
using member_event_atom = caf::atom_constant<caf::atom("ag_cevent")>;
using dir_put_atom = caf::atom_constant<caf::atom("ag_dput")>;
using dir_drop_atom = caf::atom_constant<caf::atom("ag_ddrop")>;
using dir_sync_atom = caf::atom_constant<caf::atom("ag_dsync")>;
using dir_pull_atom = caf::atom_constant<caf::atom("ag_dpull")>;
using dir_list_atom = caf::atom_constant<caf::atom("ag_dlist")>;
using dir_sub_atom = caf::atom_constant<caf::atom("ag_dsub")>;
using dir_event_atom = caf::atom_constant<caf::atom("ag_devent")>;

// Admission, step 1 (joiner -> responder): who I am, my nonce.
struct join_hello {
  std::string cluster;
  member_id joiner;
  std::vector<uint8_t> nonce;
};

// Step 2 (responder -> joiner): who I am, my nonce, my proof for yours.
struct join_challenge {
  member_id responder;
  std::vector<uint8_t> nonce;
  std::vector<uint8_t> proof;
};

// Step 3 (joiner -> responder): my proof for your nonce. Answered with the
// responder's view (gossip_msg), or an error: unauthorized (wrong proof),
// conflict (this incarnation was downed or superseded: rejoin with a new
// uid), limit_exceeded (cluster full).
struct join_proof {
  member_id joiner;
  std::vector<uint8_t> proof;
  int32_t pid = 0;   // for the joiner's record, believed once the proof holds
  std::string url;   // its HTTP gateway
};

// The collaboration settings the whole cluster runs with (design §8.5):
// those of `origin`, the node that formed the cluster. A joiner adopts the
// ones its welcome carries; gossip carries them too, and of two that differ
// every node keeps the one with the lower origin, so the cluster converges
// on one even after an odd merge. Checked by check_collab before use.
struct collab_settings {
  member_id origin;
  uint32_t max_agents = 0;            // 0: no limit
  caf::timespan message_timeout{};    // > 0
  caf::timespan heartbeat_interval{};  // > 0
  friend bool operator==(const collab_settings&, const collab_settings&) = default;
};

// One node's view, pushed to admitted peers (design §5.1). The fields are
// membership_view::parts(); membership_view::assemble checks them.
struct gossip_msg {
  std::string cluster;
  member_id from;
  std::vector<member_record> members;
  std::vector<reachability_obs> reach;
  std::vector<member_id> seen;
  std::map<std::string, uint64_t> retired;
  collab_settings collab;  // the sender's (its welcome's, for a joiner)
};

// One-way, every heartbeat_interval, to every admitted live member; `load`
// is the sender's tasks in flight (node_args::load_probe), for routers;
// `dir_version` the version of its directory table: a receiver that holds
// an older one asks for the table (dir_pull), which repairs a dir_sync lost
// while a connection was down or sent before the receiver had admitted us.
// `links_lost` (0: says nothing; an older peer never sends it): how often
// the sender lost its connection to the receiver's incarnation. CAF then
// killed the sender's proxies of the receiver's actors, so its answers to
// the receiver's calls in flight went nowhere, while the receiver's own
// route to the sender may have stayed up and told it nothing. A receiver
// that sees the count rise fails its calls in flight to the sender's node
// (node_links.cpp). Sent in a notice (a heartbeat repeating the sender's
// last seq) after such a loss, once the link is admitted again.
struct heartbeat_msg {
  member_id from;
  uint64_t seq = 0;
  uint32_t load = 0;
  uint64_t dir_version = 0;
  uint64_t links_lost = 0;  // last on the wire: an older peer's heartbeat ends before it
};

// One component a node offers to the cluster (design §8.1): an agent, an
// agent group, a tool or a memory shard of this node, by its configured
// name. `ifs` is the message_types() of its typed interface, sorted, so a
// receiver casts `handle` only to the interface it was registered with.
struct dir_entry {
  std::string kind;  // "agent" | "group" | "tool" | "memory" | "topic" (its node's topic actor)
  std::string name;
  caf::actor handle;
  std::vector<std::string> ifs;
};

// A member's whole directory table, sent to admitted peers when its version
// changes and when a peer asks (dir_pull). Receivers keep the highest
// version per incarnation and drop the table when the member is down,
// removed or superseded.
struct dir_sync {
  member_id from;
  uint64_t version = 0;
  std::vector<dir_entry> entries;
};

// To local directory subscribers: an entry of another member appeared or
// changed (present) or left (not present: its member went down, left, or
// dropped it; `why` says which). A new subscriber first gets a present
// event for every remote entry the node holds.
struct dir_event {
  member_id owner;
  dir_entry entry;
  bool present = false;
  std::string why;
};

// One row of dir_list: every entry this node knows, its own included.
struct dir_listing {
  member_id owner;
  dir_entry entry;
};

// To local subscribers: a member's state changed in this node's view.
struct member_event {
  member_record record;
  std::string why;
  // The member's CAF node when this node has admitted it (else default):
  // a subscriber fails its calls in flight to a downed member with
  // call_watch::fail_node(self, node), since CAF keeps the proxies of a
  // node whose connection is still up.
  caf::node_id node;
  // The cluster's collaboration settings as this node holds them now
  // (its own before it joined).
  collab_settings collab;
};

// What a node counted since it started (every incarnation), for tests,
// `cluster status` and the metrics.
struct node_counters {
  uint64_t admitted = 0;          // handshakes completed, either side
  uint64_t refused = 0;           // proofs that failed or were refused, either side
  uint64_t dropped = 0;           // messages from senders not admitted
  uint64_t heartbeats_sent = 0;
  uint64_t heartbeats_heard = 0;
  uint64_t downs = 0;             // members this node set down
  uint64_t incarnations = 0;      // rejoins as a new uid
  uint64_t agents_refused = 0;    // local agent offers past max_agents (each time one is withheld)
  uint64_t links_lost = 0;        // connections to admitted peers lost (their proxies killed)
  uint64_t lost_links_heard = 0;  // peers' notices that failed the calls in flight to them
};

struct cluster_member_status {
  member_record record;
  bool reachable = true;  // false: "suspect" when the record is up
  double phi = 0;         // this node's detector; 0 for self and peers never heard
  uint32_t load = 0;      // from the member's last heartbeat
  // Its directory entries as this node holds them (agents and groups,
  // tools, memory shards).
  uint32_t agents = 0;
  uint32_t tools = 0;
  uint32_t shards = 0;
};

struct cluster_status {
  std::string cluster;
  member_id self;
  bool joined = false;                         // admitted into a cluster (or formed it)
  std::vector<cluster_member_status> members;  // in member_id order, self included
  node_counters counters;
  // The leader as this node's view sees it (membership_view::leader); uid 0
  // when there is none yet. The leader adopts a dead member's open tasks
  // from a shared journal (DESIGN §9.3).
  member_id leader;
  collab_settings collab;                      // the settings this node runs with
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, join_hello& x) {
  return f(caf::meta::type_name("agentgraph::cluster::join_hello"), x.cluster, x.joiner, x.nonce);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, join_challenge& x) {
  return f(caf::meta::type_name("agentgraph::cluster::join_challenge"), x.responder, x.nonce,
           x.proof);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, join_proof& x) {
  return f(caf::meta::type_name("agentgraph::cluster::join_proof"), x.joiner, x.proof,
           x.pid, x.url);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, collab_settings& x) {
  return f(caf::meta::type_name("agentgraph::cluster::collab_settings"), x.origin, x.max_agents,
           x.message_timeout, x.heartbeat_interval);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, gossip_msg& x) {
  return f(caf::meta::type_name("agentgraph::cluster::gossip_msg"), x.cluster, x.from, x.members,
           x.reach, x.seen, x.retired, x.collab);
}
// links_lost came after the first release: an older peer's heartbeat ends
// at dir_version. BASP decodes a message with a binary_deserializer over
// exactly its payload, and a heartbeat is the last element of its message
// (cluster_hb_atom, heartbeat_msg), so a payload that ends there is an
// older peer's and decodes with links_lost 0 (an older peer reading ours
// stops before the field and leaves it unread, which BASP allows). Never
// put a heartbeat_msg anywhere but last in a message.
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, heartbeat_msg& x) {
  if constexpr (std::is_base_of_v<caf::deserializer, Inspector>) {
    if (auto err = f(caf::meta::type_name("agentgraph::cluster::heartbeat_msg"), x.from, x.seq,
                     x.load, x.dir_version))
      return err;
    x.links_lost = 0;
    if (auto* bin = dynamic_cast<caf::binary_deserializer*>(&f); bin && bin->remaining() == 0)
      return {};
    return f(x.links_lost);
  } else {
    return f(caf::meta::type_name("agentgraph::cluster::heartbeat_msg"), x.from, x.seq, x.load,
             x.dir_version, x.links_lost);
  }
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, dir_entry& x) {
  return f(caf::meta::type_name("agentgraph::cluster::dir_entry"), x.kind, x.name, x.handle,
           x.ifs);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, dir_sync& x) {
  return f(caf::meta::type_name("agentgraph::cluster::dir_sync"), x.from, x.version, x.entries);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, dir_event& x) {
  return f(caf::meta::type_name("agentgraph::cluster::dir_event"), x.owner, x.entry, x.present,
           x.why);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, dir_listing& x) {
  return f(caf::meta::type_name("agentgraph::cluster::dir_listing"), x.owner, x.entry);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, member_event& x) {
  return f(caf::meta::type_name("agentgraph::cluster::member_event"), x.record, x.why, x.node,
           x.collab);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, cluster_member_status& x) {
  return f(caf::meta::type_name("agentgraph::cluster::cluster_member_status"), x.record,
           x.reachable, x.phi, x.load, x.agents, x.tools, x.shards);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, node_counters& x) {
  return f(caf::meta::type_name("agentgraph::cluster::node_counters"), x.admitted, x.refused,
           x.dropped, x.heartbeats_sent, x.heartbeats_heard, x.downs, x.incarnations,
           x.agents_refused, x.links_lost, x.lost_links_heard);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, cluster_status& x) {
  return f(caf::meta::type_name("agentgraph::cluster::cluster_status"), x.cluster, x.self,
           x.joined, x.members, x.counters, x.leader, x.collab);
}

// Local actors that want membership changes (directory, routers, gateway).
using member_event_sink = caf::typed_actor<caf::reacts_to<member_event_atom, member_event>>;
// Local actors that want directory changes (the host's remote refs).
using directory_sink = caf::typed_actor<caf::reacts_to<dir_event_atom, dir_event>>;

using node_actor = caf::typed_actor<
    // Admission (§7), answered to any sender: the hello needs no secret,
    // the challenge proves ours, the proof admits the sender's CAF node.
    caf::replies_to<join_hello_atom, join_hello>::with<join_challenge>,
    caf::replies_to<join_prove_atom, join_proof>::with<gossip_msg>,
    // From admitted nodes only; anything else is dropped and counted.
    caf::reacts_to<gossip_atom, gossip_msg>,
    caf::reacts_to<cluster_hb_atom, heartbeat_msg>,
    // Local only (the host, the gateway): leave gracefully, answered once
    // this node is exiting or removed; status; membership events.
    caf::replies_to<leave_atom>::with<member_state>,
    caf::replies_to<cluster_status_atom>::with<cluster_status>,
    caf::reacts_to<member_sub_atom, member_event_sink>,
    // The directory (design §8.1). Local only: put or replace an entry of
    // this node, drop one (kind, name), list every known entry, subscribe.
    caf::reacts_to<dir_put_atom, dir_entry>,
    caf::reacts_to<dir_drop_atom, std::string, std::string>,
    caf::replies_to<dir_list_atom>::with<std::vector<dir_listing>>,
    caf::reacts_to<dir_sub_atom, directory_sink>,
    // From admitted nodes only: a member's table, and a request for ours
    // (answered with a dir_sync to the asker's node actor).
    caf::reacts_to<dir_sync_atom, dir_sync>,
    caf::reacts_to<dir_pull_atom, member_id>,
    heartbeat_signature>;

}  // namespace agentgraph::cluster

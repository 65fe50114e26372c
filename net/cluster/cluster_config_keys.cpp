#include "net/cluster/cluster_config_keys.hpp"

#include "runtime/cluster/membership_view.hpp"
#include "runtime/cluster/phi_accrual.hpp"

namespace agentgraph::cluster {

using namespace std::chrono_literals;

const std::vector<field<cluster_config>>& cluster_fields() {
  static const auto fields = [] {
    using S = cluster_config;
    const S d;
    return std::vector<field<S>>{
        bind(string_key("name", d.name,
                        "Name of the cluster (1-128 bytes); a node that says hello for another "
                        "cluster is refused. Required when the section is present."),
             &S::name),
        bind(string_key("node_id", d.node_id,
                        "This node's member name in the cluster (at most 128 bytes); empty: "
                        "its advertised host:port."),
             &S::node_id),
        bind(string_key("listen", d.listen,
                        "Interface (address) the node actor is published on for its peers."),
             &S::listen),
        bind(uint_key("port", d.port, 0, 65535,
                      "TCP port the node actor is published on; 0: the OS picks a free one."),
             &S::port),
        bind(string_key("advertise_host", d.advertise_host,
                        "Host peers dial to reach this node (behind NAT or when listening on "
                        "0.0.0.0); empty: the listen address."),
             &S::advertise_host),
        bind(list_key("seeds",
                      "Seed nodes, comma-separated host:port (port 1-65535): at least one, at "
                      "most members_max. The node joins through them; a node that lists itself "
                      "first forms the cluster alone when no other seed answers within "
                      "join_timeout."),
             &S::seeds),
        bind(string_key("secret_env", d.secret_env,
                        "Name of the environment variable holding the cluster's shared secret "
                        "(16-4096 bytes). Nodes prove to each other that they know it before "
                        "one admits the other; the value never appears in a file, a log or an "
                        "error. The variable must be set when the section is present."),
             &S::secret_env),
        bind(path_key("tls_certificate", d.tls_certificate,
                      "PEM certificate (chain) this node presents to its peers. Any tls_* key "
                      "turns TLS on between nodes (caf-openssl): the node then needs "
                      "tls_certificate, tls_key and tls_cafile, and neither accepts nor makes "
                      "a plain connection. All empty: plain TCP. Relative: against the config "
                      "file's directory."),
             &S::tls_certificate),
        bind(path_key("tls_key", d.tls_key,
                      "PEM private key of tls_certificate; if it is encrypted, "
                      "tls_passphrase_env names the variable holding its passphrase. Relative: "
                      "against the config file's directory."),
             &S::tls_key),
        bind(path_key("journal_path", d.journal_path,
                      "SQLite file of this node's task journal (WAL, synchronous=FULL): a task "
                      "the gateway accepts is stored before it is acknowledged and its result "
                      "once; a finished id submitted again gets its stored answer, and tasks "
                      "open when the node died run again when it restarts. Empty: "
                      "<data_dir>/task_journal.sqlite when [runtime] data_dir is set, else "
                      "tasks are not journaled. Relative: against the config file's "
                      "directory."),
             &S::journal_path),
        bind(string_key("journal_url", d.journal_url,
                        "PostgreSQL URL (postgresql://user@host:port/db) of a task journal "
                        "shared by every node of the cluster, instead of journal_path: when a "
                        "member goes down or leaves, the leader adopts its open tasks and runs "
                        "them, and an id submitted to any node gets the one stored answer. The "
                        "password never appears in logs or errors."),
             &S::journal_url),
        bind(string_key("tls_passphrase_env", d.tls_passphrase_env,
                        "Name of the environment variable holding the passphrase of an "
                        "encrypted tls_key (the value never appears in a file, a log or an "
                        "error); empty: the key is not encrypted. The variable must be set."),
             &S::tls_passphrase_env),
        bind(path_key("tls_cafile", d.tls_cafile,
                      "PEM file of the CA certificates trusted for peers: every peer must "
                      "present a certificate that chains to one of them, so a process without "
                      "one cannot finish connecting. Relative: against the config file's "
                      "directory."),
             &S::tls_cafile),
        bind(duration_key("heartbeat_interval", d.heartbeat_interval, 10ms, 1min,
                          "How often the node sends a heartbeat to each member; also the "
                          "failure detector's first estimate of the interval. A node that "
                          "joins takes the value of the node that formed the cluster."),
             &S::heartbeat_interval),
        bind(duration_key("acceptable_heartbeat_pause", d.acceptable_heartbeat_pause, 0ms, 10min,
                          "Silence the failure detector forgives on top of the usual heartbeat "
                          "interval (GC pauses, busy hosts): larger suspects a silent member "
                          "later."),
             &S::acceptable_heartbeat_pause),
        bind(duration_key("min_std_deviation", d.min_std_deviation, 1ms, 1min,
                          "Least standard deviation the failure detector assumes for heartbeat "
                          "intervals, so very regular heartbeats do not make it jumpy."),
             &S::min_std_deviation),
        bind(double_key("phi_threshold", d.phi_threshold, 1.0, 100.0,
                        "Suspicion (phi) above which a silent member is unreachable: phi 8 "
                        "means a silence that long has odds of 1 in 10^8. Lower detects a "
                        "failure sooner, with more false alarms; with the defaults a silent "
                        "member crosses 8 about 1.5s after its last heartbeat."),
             &S::phi_threshold),
        bind(uint_key("phi_samples_max", d.phi_samples_max, 2, phi_samples_limit,
                      "Heartbeat intervals the failure detector remembers per member; the "
                      "oldest is dropped."),
             &S::phi_samples_max),
        bind(duration_key("transport_heartbeat", d.transport_heartbeat, 10ms, 1min,
                          "Heartbeat interval of CAF's connections between nodes (CAF's "
                          "middleman.heartbeat-interval)."),
             &S::transport_heartbeat),
        bind(duration_key("transport_timeout", d.transport_timeout, 40ms, 10min,
                          "A connection between nodes silent this long is closed (CAF's "
                          "middleman.connection-timeout); at least 4 x transport_heartbeat."),
             &S::transport_timeout),
        bind(duration_key("gossip_interval", d.gossip_interval, 10ms, 1min,
                          "How often the node gossips its membership view to a peer; also the "
                          "first wait before reconnecting to a peer, doubling up to "
                          "reconnect_backoff_max."),
             &S::gossip_interval),
        bind(duration_key("stable_after", d.stable_after, 1ms, 1h,
                          "How long the set of unreachable members must stay the same before "
                          "keep-majority downing decides which side goes down."),
             &S::stable_after),
        bind(bool_key("down_on_refused", d.down_on_refused,
                      "A member whose port refuses connections (its process is gone) is down "
                      "at once, without waiting for the failure detector and stable_after."),
             &S::down_on_refused),
        bind(bool_key("down_all_when_unstable", d.down_all_when_unstable,
                      "When the unreachable set keeps changing for 10 x stable_after past "
                      "stable_after, every member goes down, this node included, rather than "
                      "risk two halves running at once."),
             &S::down_all_when_unstable),
        bind(duration_key("connect_timeout", d.connect_timeout, 1ms, 10min,
                          "Deadline of one connection attempt to a peer, and of publishing the "
                          "node actor; a peer that misses it is retried after a backoff."),
             &S::connect_timeout),
        bind(duration_key("join_timeout", d.join_timeout, 1ms, 10min,
                          "Deadline of each step of an admission handshake; a pending "
                          "handshake expires after it, and a node that lists itself first "
                          "among the seeds forms the cluster alone after it."),
             &S::join_timeout),
        bind(duration_key("reconnect_backoff_max", d.reconnect_backoff_max, 1ms, 10min,
                          "Longest wait between connection attempts to a peer that failed."),
             &S::reconnect_backoff_max),
        bind(uint_key("connectors_stalled_max", d.connectors_stalled_max, 1, 1024,
                      "Times in a row a peer endpoint whose connect timed out gets a fresh "
                      "connector (each stuck one holds a thread until the kernel gives up); "
                      "then it waits for its connector."),
             &S::connectors_stalled_max),
        bind(uint_key("members_max", d.members_max, 1, view_members_limit,
                      "Members the cluster may have, this node included."),
             &S::members_max),
        bind(uint_key("handshakes_max", d.handshakes_max, 1, 100'000,
                      "Admission handshakes pending at once on this node; one more hello is "
                      "refused."),
             &S::handshakes_max),
        bind(uint_key("directory_entries_max", d.directory_entries_max, 1, 100'000,
                      "Directory entries (agents, groups, tools, memory shards) one node may "
                      "offer the cluster; a peer's table with more is refused whole."),
             &S::directory_entries_max),
        bind(uint_key("max_agents", d.max_agents, 0, 1'000'000,
                      "Agents the cluster directory offers across the whole cluster (every "
                      "node's agent instances counted; groups are not agents); 0: no limit. "
                      "The cluster takes the value of the node that formed it. An agent past "
                      "the count is refused (limit_exceeded, logged): it still serves its own "
                      "node, but no other node reaches or routes to it."),
             &S::max_agents),
        bind(duration_key("message_timeout", d.message_timeout, 1ms, 1h,
                          "Deadline of cross-node calls that have none of their own (a topic "
                          "message sent to another node), and the bound of an agent group's "
                          "task on another node's instance when the task's deadline is longer. "
                          "The cluster takes the value of the node that formed it, as it does "
                          "heartbeat_interval."),
             &S::message_timeout),
        bind(bool_key("dedicated_thread", d.dedicated_thread,
                      "Run the node actor on its own thread, so a saturated scheduler cannot "
                      "starve heartbeats. false only for virtual time (tests, simulation)."),
             &S::dedicated_thread),
    };
  }();
  return fields;
}

}  // namespace agentgraph::cluster

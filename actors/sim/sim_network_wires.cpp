// The wires of the simulated world (sim_network.hpp): carrying what a
// planet wrote to the other end, at once or at the time a link fault gives,
// the greeting of a path a connect took, reading only the handles bytes
// reached, the link rules, and log records in virtual time. Split from
// sim_network.cpp, which keeps the planets, paths, stepping and faults.
#include "actors/sim/sim_network.hpp"

#include <caf/io/scribe.hpp>
#include <caf/io/system_messages.hpp>
#include <caf/send.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "runtime/log.hpp"
#include "runtime/seeded_random.hpp"

namespace agentgraph::sim {

// The server end of a path was accepted when the path was prepared, and
// its BASP greeting was written then. On a real network that greeting
// leaves only after the client's SYN arrives, so it crosses the link now:
// at once on a plain link, after a round trip's draws on a slow or lossy
// one, and not at all across a partition (the connect then times out).
void sim_network::greet(size_t idx) {
  auto& w = wires_[idx];
  auto& net = nets_[w.client];
  const auto* rule = rule_between(w.server, w.client);
  if (rule == nullptr && joined(w.server, w.client)) {
    if (!w.client_in->empty()) {
      net.inbox.push_back(w.client_hdl);
      net.dirty = true;
    }
    return;
  }
  if (w.client_in->empty())
    return;
  auto due = elapsed_;
  if (rule != nullptr)
    due += draw_delay(*rule) + draw_delay(*rule);  // the SYN out, the greeting back
  segment greeting{due, {}};
  greeting.bytes.swap(*w.client_in);
  for (auto& later : w.to_client)
    later.due = std::max(later.due, due);
  w.to_client.push_front(std::move(greeting));
  in_flight_.insert(idx);
}

void sim_network::set_link_faults(std::vector<link_fault> faults) {
  link_faults_ = std::move(faults);
  resolve_rules();
}

void sim_network::resolve_rules() {
  rules_.clear();
  if (link_faults_.empty())
    return;
  auto covers = [](const link_fault& f, const std::string& host) {
    return f.hosts.empty() || std::find(f.hosts.begin(), f.hosts.end(), host) != f.hosts.end();
  };
  for (size_t a = 0; a < planets_.size(); ++a)
    for (size_t b = a + 1; b < planets_.size(); ++b) {
      link_rule r;
      double delivered = 1;  // chance a segment is not dropped by any fault
      for (const auto& f : link_faults_) {
        if (!covers(f, planets_[a]->host()) && !covers(f, planets_[b]->host()))
          continue;
        r.delay += f.rule.delay;
        r.jitter = std::max(r.jitter, f.rule.jitter);
        delivered *= 1 - f.rule.drop;
      }
      r.drop = 1 - delivered;
      if (!r.idle())
        rules_[{a, b}] = r;
    }
}

const link_rule* sim_network::rule_between(size_t a, size_t b) {
  if (rules_.empty())
    return nullptr;
  auto i = rules_.find(ordered(a, b));
  return i == rules_.end() ? nullptr : &i->second;
}

caf::timespan sim_network::draw_delay(const link_rule& r) {
  ++segments_delayed_;
  auto d = r.delay;
  if (r.jitter.count() > 0) {
    const double u = uniform_unit(link_rng_) * 2 - 1;
    d += caf::timespan{static_cast<int64_t>(u * static_cast<double>(r.jitter.count()))};
    d = std::max(d, caf::timespan{0});
  }
  if (r.drop > 0) {
    auto rto = rto_min;
    bool hit = false;
    for (uint32_t tries = 0; tries < retries_max && uniform_unit(link_rng_) < r.drop; ++tries) {
      d += rto;
      rto = std::min(rto * 2, rto_max);
      hit = true;
    }
    segments_dropped_ += hit ? 1 : 0;
  }
  return d;
}

// -- carrying bytes -----------------------------------------------------------

void sim_network::carry(planet& p) {
  for (size_t idx : nets_[p.id()].ends) {
    auto& w = wires_[idx];
    const bool from_server = w.server == p.id();
    if (!(from_server ? w.server_out : w.client_out)->empty())
      carry_one(w, idx, from_server);
  }
}

void sim_network::carry_one(wire& w, size_t idx, bool from_server) {
  auto& out = *(from_server ? w.server_out : w.client_out);
  auto& queue = from_server ? w.to_client : w.to_server;
  const auto* rule = rule_between(w.server, w.client);
  if (rule == nullptr && queue.empty() && joined(w.server, w.client)) {
    deliver(w, !from_server, out);
    out.clear();
    return;
  }
  auto due = elapsed_ + (rule != nullptr ? draw_delay(*rule) : caf::timespan{0});
  if (!queue.empty())
    due = std::max(due, queue.back().due);  // TCP keeps the order
  queue.push_back(segment{due, {}});
  queue.back().bytes.swap(out);
  in_flight_.insert(idx);
}

void sim_network::deliver(wire& w, bool to_server, std::vector<char>& bytes) {
  auto& in = *(to_server ? w.server_in : w.client_in);
  in.insert(in.end(), bytes.begin(), bytes.end());
  // A client end no connect has taken yet is read once one takes it
  // (ensure_paths_from); a server end waits in the inbox for its accept.
  if (!to_server && *w.client_scribe == nullptr)
    return;
  auto& net = nets_[to_server ? w.server : w.client];
  const auto hdl = to_server ? w.server_hdl : w.client_hdl;
  if (std::find(net.inbox.begin(), net.inbox.end(), hdl) == net.inbox.end())
    net.inbox.push_back(hdl);
  net.dirty = true;
}

bool sim_network::deliver_due() {
  bool any = false;
  for (auto i = in_flight_.begin(); i != in_flight_.end();) {
    auto& w = wires_[*i];
    if (joined(w.server, w.client)) {
      for (bool to_server : {true, false}) {
        auto& queue = to_server ? w.to_server : w.to_client;
        for (; !queue.empty() && queue.front().due <= elapsed_; queue.pop_front()) {
          deliver(w, to_server, queue.front().bytes);
          any = true;
        }
      }
    }
    if (w.to_server.empty() && w.to_client.empty())
      i = in_flight_.erase(i);
    else
      ++i;
  }
  return any;
}

std::optional<caf::timespan> sim_network::next_segment_due() const {
  std::optional<caf::timespan> out;
  for (size_t idx : in_flight_) {
    const auto& w = wires_[idx];
    if (!joined(w.server, w.client))
      continue;  // held until the heal
    for (const auto* queue : {&w.to_server, &w.to_client})
      if (!queue->empty() && (!out || queue->front().due < *out))
        out = queue->front().due;
  }
  return out;
}

// A peer hears of a close the way TCP's FIN reaches it: after every byte
// the closing end wrote (nothing of that direction in flight), across a
// joined link, on a running peer; the peer reads what was delivered before
// this runs, since it runs only when no planet has work. An end that got
// bytes after it closed answers with a reset (RST): its peer hears at once,
// and what the end still had on its way is dropped. A killed planet's ends
// are kill()'s (its wires are dead).
bool sim_network::notice_closes() {
  bool any = false;
  for (auto i = open_wires_.begin(); i != open_wires_.end();) {
    auto& w = wires_[*i];
    if (w.dead || w.retracted) {
      i = open_wires_.erase(i);
      continue;
    }
    for (bool server_end : {true, false}) {
      const size_t id = server_end ? w.server : w.client;
      bool& closed = server_end ? w.server_closed : w.client_closed;
      if (!closed && !state_[id].detached) {
        const auto& ptr = *(server_end ? w.server_scribe : w.client_scribe);
        closed = ptr != nullptr && ptr->parent() == nullptr;
      }
      bool& told = server_end ? w.client_told : w.server_told;
      if (!closed || told)
        continue;
      auto& peer = *planets_[server_end ? w.client : w.server];
      const auto peer_hdl = server_end ? w.client_hdl : w.server_hdl;
      const auto& st = state_[peer.id()];
      if (st.killed || st.detached) {
        told = true;
        continue;
      }
      auto& queue = server_end ? w.to_client : w.to_server;
      const bool reset = server_end ? w.server_reset : w.client_reset;
      if (st.frozen || !joined(w.server, w.client) || (!queue.empty() && !reset))
        continue;  // the FIN comes after the data, and not across a cut
      queue.clear();  // a reset drops what was still on its way
      told = true;
      if (owned(peer, peer_hdl)) {
        caf::anon_send(peer.basp(), caf::io::connection_closed_msg{peer_hdl});
        any = true;
      }
    }
    if ((w.server_closed && w.client_told) && (w.client_closed && w.server_told))
      i = open_wires_.erase(i);
    else
      ++i;
  }
  return any;
}

void sim_network::reset_from(planet& p, caf::io::connection_handle hdl) {
  for (size_t idx : nets_[p.id()].ends) {
    auto& w = wires_[idx];
    if (w.server == p.id() && w.server_hdl == hdl)
      w.server_reset = true;
    else if (w.client == p.id() && w.client_hdl == hdl)
      w.client_reset = true;
  }
}

// Reads the handles bytes were delivered to. A handle keeps its place
// while bytes wait on it (half a message, or a connection not accepted
// yet); one whose scribe closed drops them, as a closed socket does.
bool sim_network::poll(planet& p) {
  auto& net = nets_[p.id()];
  if (!net.dirty)
    return false;
  net.dirty = false;
  if (net.inbox.empty())
    return false;
  bool hit = false;
  auto handles = std::move(net.inbox);
  net.inbox.clear();
  for (auto hdl : handles) {
    auto& scribe = p.mpx().impl_ptr(hdl);
    auto& in = p.mpx().virtual_network_buffer(hdl);
    if (scribe != nullptr && scribe->parent() == nullptr) {
      if (!in.empty())
        reset_from(p, hdl);
      in.clear();
      continue;
    }
    if (scribe != nullptr)  // else a server end not accepted yet
      hit = p.mpx().read_data(hdl) || hit;
    if (!in.empty() && std::find(net.inbox.begin(), net.inbox.end(), hdl) == net.inbox.end())
      net.inbox.push_back(hdl);
  }
  if (hit)
    net.dirty = true;
  return hit;
}

namespace sim_network_detail {

std::string world_stamp(void* context) {
  const auto& net = *static_cast<const sim_network*>(context);
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(net.elapsed()).count();
  char buf[48];
  std::snprintf(buf, sizeof buf, "w%lld.%06llds", static_cast<long long>(us / 1'000'000),
                static_cast<long long>(us % 1'000'000));
  std::string out = buf;
  if (const auto* p = net.stepping())
    out += "@" + p->host();
  return out;
}

}  // namespace sim_network_detail

virtual_log_stamps::virtual_log_stamps(const sim_network& net) {
  set_log_time_source(&sim_network_detail::world_stamp,
                      const_cast<void*>(static_cast<const void*>(&net)));
}

virtual_log_stamps::~virtual_log_stamps() {
  set_log_time_source(nullptr, nullptr);
}

}  // namespace agentgraph::sim

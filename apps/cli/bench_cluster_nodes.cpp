// `agentgraph bench cluster`: the nodes (bench_cluster.hpp). Each node is
// `<this executable> node --config <dir>/<name>.ini --port-file ...`, its
// gateway on a port the kernel picks, its cluster port a free one, the
// first two nodes the seeds, as configs/cluster/ and the cluster
// integration tests set them up.
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "apps/cli/bench_cluster.hpp"
#include "runtime/assert.hpp"
#include "runtime/error.hpp"

namespace agentgraph::cli {

namespace bench_cluster_nodes_detail {

// The node writes its gateway port within this bound (it builds its
// runtime and binds first; joining comes after).
constexpr auto port_file_wait = std::chrono::seconds{15};

std::string node_ini(const node_spec& s, uint16_t cluster_port, const std::string& seeds) {
  std::ostringstream o;
  // log_level warn: the group's "task re-dispatched" line is a warning.
  o << "[runtime]\nlog_level = warn\nscheduler_threads = 2\n"
    << "[node]\nlisten = 127.0.0.1\nport = 0\nshutdown_deadline = 2s\n"
    << "tasks_in_flight_max = 1024\ntasks_kept = " << s.tasks_kept << "\n"
    << "[provider.scripted]\nkind = scripted\nrules = " << s.rules_path << "\n"
    << s.extra_sections;
  if (s.cluster)
    o << "[cluster]\nname = bench\nnode_id = " << s.name << "\nlisten = 127.0.0.1\nport = "
      << cluster_port << "\nseeds = " << seeds << "\nsecret_env = " << bench_secret_env
      << "\njoin_timeout = 2s\n";
  return o.str();
}

}  // namespace bench_cluster_nodes_detail

std::string node_proc::url() const { return "http://127.0.0.1:" + std::to_string(gateway_port); }

node_group::node_group(child_set& children, std::string dir, std::string secret)
  : children_(children), dir_(std::move(dir)), secret_(std::move(secret)) {}

caf::error node_group::start(const std::vector<node_spec>& specs) {
  using namespace bench_cluster_nodes_detail;
  const auto exe = self_executable();
  if (exe.empty())
    return make_error(errc::io_error, "bench cluster: cannot read /proc/self/exe");
  std::vector<uint16_t> ports;
  for (size_t i = 0; i < specs.size(); ++i)
    ports.push_back(free_local_port());
  std::string seeds;
  for (size_t i = 0; i < std::min<size_t>(2, ports.size()); ++i)
    seeds += (i ? ", " : "") + std::string{"127.0.0.1:"} + std::to_string(ports[i]);
  for (size_t i = 0; i < specs.size(); ++i) {
    const auto& s = specs[i];
    node_proc n;
    n.name = s.name;
    n.cluster_port = ports[i];
    n.log_path = dir_ + "/" + s.name + ".log";
    const auto ini = dir_ + "/" + s.name + ".ini";
    const auto port_file = dir_ + "/" + s.name + ".port";
    std::filesystem::remove(port_file);
    std::ofstream{ini} << node_ini(s, n.cluster_port, seeds);
    auto pid = children_.spawn({exe, "node", "--config", ini, "--port-file", port_file},
                               n.log_path, {{bench_secret_env, secret_}});
    if (!pid)
      return std::move(pid.error());
    n.pid = *pid;
    nodes_.push_back(n);
    auto& back = nodes_.back();
    const bool written = wait_until(
      [&] {
        if (!children_.running(back.pid))
          return true;
        auto text = read_text_file(port_file);
        return !text.empty() && (back.gateway_port = std::atoi(text.c_str())) > 0;
      },
      port_file_wait);
    if (!written || back.gateway_port <= 0)
      return make_error(errc::io_error, "bench cluster: node " + s.name
                                          + " did not start; its log: " + back.log_path + "\n"
                                          + read_text_file(back.log_path).substr(0, 2000));
  }
  return {};
}

bool node_group::wait_converged(uint64_t agents, std::chrono::milliseconds bound) {
  std::vector<std::unique_ptr<gateway_client>> clients;
  for (const auto& n : nodes_)
    clients.push_back(std::make_unique<gateway_client>(
      gateway_target{n.url(), "", std::chrono::milliseconds{2000}}));
  return wait_until(
    [&] {
      for (auto& c : clients) {
        auto view = cluster_view(*c);
        if (view.size() != nodes_.size())
          return false;
        for (const auto& [name, m] : view)
          if (m.state != "up" || m.agents != agents)
            return false;
      }
      return true;
    },
    bound, std::chrono::milliseconds{50});
}

const node_proc& node_group::at(const std::string& name) const {
  for (const auto& n : nodes_)
    if (n.name == name)
      return n;
  AG_ASSERT(false && "node_group::at: no such node");
  return nodes_.front();
}

void node_group::stop() {
  for (const auto& n : nodes_)
    children_.kill(n.pid);
  nodes_.clear();
}

uint64_t node_group::log_count(const std::string& name, const std::string& text) const {
  const auto log = read_text_file(at(name).log_path);
  uint64_t n = 0;
  for (size_t pos = log.find(text); pos != std::string::npos;
       pos = log.find(text, pos + text.size()))
    ++n;
  return n;
}

std::map<std::string, member_view> cluster_view(gateway_client& client) {
  std::map<std::string, member_view> out;
  auto reply = client.get("/v1/cluster");
  if (!reply || reply->status != 200)
    return out;
  auto body = nlohmann::json::parse(reply->body, nullptr, false);
  if (!body.is_object() || !body["members"].is_array())
    return out;
  // Several incarnations of one name: the newest (largest uid) speaks.
  std::map<std::string, uint64_t> newest;
  for (const auto& m : body["members"]) {
    const auto name = m.value("id", std::string{});
    const auto uid = std::strtoull(m.value("uid", std::string{"0"}).c_str(), nullptr, 10);
    if (name.empty() || (newest.contains(name) && newest[name] > uid))
      continue;
    newest[name] = uid;
    out[name] = member_view{m.value("state", std::string{}), m.value("agents", uint64_t{0})};
  }
  return out;
}

}  // namespace agentgraph::cli

// agentgraph-mock-llm --scenario FILE [--port N] [--seed S] [--port-file PATH]
//
// Serves the scenario on 127.0.0.1 until SIGTERM or SIGINT, then exits 0.
// Prints "listening on http://127.0.0.1:PORT"; with --port-file, also
// writes the port there (atomically) for scripts to wait on.
// Exit codes: 0 clean stop, 1 cannot bind, 2 bad usage or scenario.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>

#include "server.hpp"

namespace agentgraph::mock_llm::main_detail {

struct options {
  std::string scenario_path;
  std::optional<uint64_t> seed;
  uint16_t port = 0;
  std::string port_file;
};

constexpr const char* usage = "usage: agentgraph-mock-llm --scenario FILE [--port N] [--seed S] [--port-file PATH]\n";

bool parse_number(const std::string& text, uint64_t max, uint64_t& out) {
  if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos || text.size() > 20) return false;
  try {
    out = std::stoull(text);
  } catch (const std::exception&) {
    return false;
  }
  return out <= max;
}

// Returns an error message, or "" when `o` is complete.
std::string parse_args(int argc, char** argv, options& o) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") return "help";
    if (i + 1 >= argc) return arg + ": missing value";
    const std::string value = argv[++i];
    uint64_t n = 0;
    if (arg == "--scenario") o.scenario_path = value;
    else if (arg == "--port-file") o.port_file = value;
    else if (arg == "--port" && parse_number(value, 65535, n)) o.port = static_cast<uint16_t>(n);
    else if (arg == "--seed" && parse_number(value, UINT64_MAX, n)) o.seed = n;
    else if (arg == "--port" || arg == "--seed") return arg + ": not a valid number: " + value;
    else return "unknown option: " + arg;
  }
  return o.scenario_path.empty() ? "--scenario is required" : "";
}

// Written under a temporary name and renamed, so a reader never sees a partial port.
bool write_port_file(const std::string& path, uint16_t port) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << port << "\n";
    if (!out) return false;
  }
  return std::rename(tmp.c_str(), path.c_str()) == 0;
}

int run(int argc, char** argv) {
  options o;
  if (auto e = parse_args(argc, argv, o); !e.empty()) {
    if (e != "help") std::cerr << "agentgraph-mock-llm: " << e << "\n";
    std::cerr << usage;
    return e == "help" ? 0 : 2;
  }
  auto loaded = load_scenario_file(o.scenario_path);
  if (!loaded.value) {
    std::cerr << "agentgraph-mock-llm: " << loaded.error << "\n";
    return 2;
  }
  // Block the stop signals before any thread starts, so every thread
  // inherits the mask and sigwait below is the only receiver.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::string error;
  auto srv = server::start({loaded.value, o.seed, o.port}, &error);
  if (!srv) {
    std::cerr << "agentgraph-mock-llm: " << error << "\n";
    return 1;
  }
  std::cout << "agentgraph-mock-llm: scenario '" << loaded.value->name << "' listening on " << srv->base_url()
            << std::endl;
  if (!o.port_file.empty() && !write_port_file(o.port_file, srv->port())) {
    std::cerr << "agentgraph-mock-llm: cannot write " << o.port_file << "\n";
    return 1;
  }
  int sig = 0;
  sigwait(&stop_signals, &sig);
  srv->stop();
  std::cout << "agentgraph-mock-llm: stopped by signal " << sig << "; stats " << srv->stats_json().dump() << std::endl;
  return 0;
}

}  // namespace agentgraph::mock_llm::main_detail

int main(int argc, char** argv) { return agentgraph::mock_llm::main_detail::run(argc, argv); }

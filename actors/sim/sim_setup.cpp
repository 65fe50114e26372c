// The setup of one simulation run (sim_setup.hpp).
#include "actors/sim/sim_setup.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "actors/population/population_config.hpp"
#include "actors/population/population_state.hpp"
#include "actors/sim/sim_keys.hpp"
#include "runtime/config/ini_parser.hpp"
#include "runtime/error.hpp"
#include "runtime/file_open.hpp"
#include "runtime/population/population_store.hpp"

namespace agentgraph::sim {

namespace sim_setup_detail {

constexpr uint64_t node_config_bytes_max = 1 << 20;  // read to find its populations

}  // namespace sim_setup_detail

caf::expected<std::string> make_run_dir() {
  std::error_code ec;
  std::filesystem::path base = "/dev/shm";
  if (!std::filesystem::is_directory(base, ec) || ::access(base.c_str(), W_OK) != 0)
    base = std::filesystem::temp_directory_path(ec);
  if (ec)
    return make_error(errc::io_error, "no temporary directory: " + ec.message());
  std::string tmpl = (base / "agentgraph-sim-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr)
    return make_error(errc::io_error, "cannot make a temporary directory in " + base.string());
  return tmpl;
}

caf::expected<std::vector<std::string>> shared_store_populations(const std::string& node_config) {
  // Populations on every node need a store all nodes share (a key moves
  // when its node dies): PostgreSQL in a real cluster. The simulated nodes
  // share one SQLite file instead (they run in one process, one call at a
  // time), unless the config names a store itself.
  auto text = read_regular_file(node_config, sim_setup_detail::node_config_bytes_max);
  if (!text)
    return std::move(text.error());
  auto doc = parse_ini(*text, node_config);
  if (!doc)
    return std::move(doc.error());
  std::vector<std::string> out;
  for (const auto& sec : doc->sections) {
    if (sec.name.rfind("population.", 0) != 0)
      continue;
    bool own_store = false;
    for (const auto& e : sec.entries)
      own_store = own_store || e.key == "store_url" || e.key == "store_path" || e.key == "placement";
    if (!own_store)
      out.push_back(sec.name.substr(std::string{"population."}.size()));
  }
  return out;
}

caf::error check_providers(const scenario& sc, const node_config& cfg) {
  for (const auto& p : cfg.providers) {
    if (!is_http_kind(p.kind))  // scripted, replay: no HTTP to simulate
      continue;
    bool modelled = false;
    for (const auto& m : sc.llms)
      modelled = modelled || m.name == p.name;
    if (!modelled)
      return make_error(errc::invalid_argument,
                        sc.origin + ": [provider." + p.name + "] of " + sc.node_config
                          + " is an HTTP provider without an [llm." + p.name + "] model");
    if (p.kind != provider_kind::openai && p.kind != provider_kind::openrouter
        && p.kind != provider_kind::openai_compatible)
      return make_error(errc::invalid_argument,
                        "[provider." + p.name + "]: only OpenAI's wire format is simulated yet "
                        "(kinds openai, openrouter, openai_compatible)");
  }
  return {};
}

caf::expected<std::vector<std::pair<double, std::string>>> read_trace(const scenario& sc) {
  std::ifstream in{sc.trace};
  if (!in)
    return make_error(errc::io_error, sc.trace + ": cannot open the arrivals trace");
  return parse_trace(in, sc.trace, std::chrono::duration<double, std::milli>(sc.duration).count(),
                     sc.tasks_max, sc.agent);
}

caf::expected<std::vector<std::pair<double, std::string>>> parse_trace(
  std::istream& in, const std::string& name, double duration_ms, uint64_t tasks_max,
  const std::string& default_agent) {
  std::vector<std::pair<double, std::string>> out;
  std::string line;
  const auto bad = [&name](uint64_t n, errc code, const std::string& why) {
    return make_error(code, name + ":" + std::to_string(n) + ": " + why);
  };
  uint64_t n = 0;
  // Bounded by the input: every pass consumes a line, read at most
  // trace_line_max bytes far (a file without newlines is not held whole).
  for (bool more = true; more;) {
    line.clear();
    int c = 0;
    while ((c = in.get()) != std::char_traits<char>::eof() && c != '\n') {
      if (line.size() >= trace_line_max)
        return bad(n + 1, errc::limit_exceeded,
                   "a line longer than " + std::to_string(trace_line_max) + " bytes");
      line.push_back(static_cast<char>(c));
    }
    more = c == '\n';
    if (!more && line.empty())
      break;
    ++n;
    if (!line.empty() && line.back() == '\r')
      line.pop_back();  // a file written on Windows
    const auto first = line.find_first_not_of(" \t");
    if (first == std::string::npos || line[first] == '#')
      continue;
    std::istringstream fields{line};
    std::string time_text, agent, extra;
    fields >> time_text >> agent >> extra;
    if (!extra.empty())
      return bad(n, errc::parse_error, "expected \"<ms> [agent]\", got a third field");
    const char* const begin = time_text.c_str();
    char* end = nullptr;
    const double at = std::strtod(begin, &end);
    if (end == begin || *end != '\0')
      return bad(n, errc::parse_error, "expected \"<ms> [agent]\": '" + time_text
                                          + "' is not a time in ms");
    if (!(at >= 0) || at > duration_ms)
      return bad(n, errc::invalid_argument, "time outside [0, duration]");
    if (agent.size() > trace_agent_bytes_max
        || std::any_of(agent.begin(), agent.end(),
                       [](unsigned char c) { return c < 0x20 || c == 0x7f; }))
      return bad(n, errc::parse_error, "the agent name is longer than "
                                         + std::to_string(trace_agent_bytes_max)
                                         + " bytes or has control characters");
    if (out.size() >= tasks_max)
      return make_error(errc::limit_exceeded, name + ": more arrivals than tasks_max");
    out.push_back({at, agent.empty() ? default_agent : agent});
  }
  if (in.bad())
    return make_error(errc::io_error, name + ": reading the arrivals trace failed");
  std::stable_sort(out.begin(), out.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

caf::error start_key_audit(const std::string& store_at) {
  if (auto store = open_population_store(store_at); !store)
    return store.error();
  return install_key_audit(store_at);
}

caf::error preload_keys(const scenario& sc, const node_config& cfg,
                        const std::vector<std::string>& shared, const std::string& store_at) {
  const bool is_shared = std::find(shared.begin(), shared.end(), sc.agent) != shared.end();
  const bool exists = std::any_of(cfg.populations.begin(), cfg.populations.end(),
                                  [&](const population_config& p) { return p.name == sc.agent; });
  if (!exists || !is_shared)
    return make_error(errc::invalid_argument,
                      sc.origin + ": [sim] saved_keys: '" + sc.agent
                        + "' is not a population of the node config that uses the nodes' "
                          "shared store (no store_url, store_path or placement of its own)");
  auto store = open_population_store(store_at);
  if (!store)
    return store.error();
  const auto state = encode_population_state(population_key_state{});
  const uint32_t batch = (*store)->limits().batch_max;
  for (uint64_t first = 0; first < sc.saved_keys; first += batch) {
    std::vector<std::string> keys;
    std::vector<population_save> saves;
    for (uint64_t k = first; k < std::min<uint64_t>(sc.saved_keys, first + batch); ++k) {
      keys.push_back("k" + std::to_string(k));
      saves.push_back({keys.back(), state});
    }
    if (auto claimed = (*store)->claim(sc.agent, keys, preload_owner, 1); !claimed)
      return claimed.error();
    if (auto fenced = (*store)->save(sc.agent, preload_owner, 1, saves); !fenced)
      return fenced.error();
  }
  return {};
}

caf::error count_saved_states(const std::vector<std::string>& shared, const std::string& store_at,
                              bool at_start,
                              std::map<std::string, std::pair<uint64_t, uint64_t>>& counts) {
  if (shared.empty())
    return {};
  auto store = open_population_store(store_at);
  if (!store)
    return store.error();
  for (const auto& p : shared) {
    auto n = (*store)->count(p);
    if (!n)
      return n.error();
    auto& c = counts[p];
    (at_start ? c.first : c.second) = *n;
  }
  return {};
}

}  // namespace agentgraph::sim

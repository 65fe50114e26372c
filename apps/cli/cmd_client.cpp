// `agentgraph status`, `submit`, `vars`, `broadcast` and `cluster status`:
// clients of a running node's gateway (`agentgraph node`). They speak the gateway's JSON and SSE over
// HTTP like any other client would; nothing here reaches into a Runtime.
#include <cstdio>
#include <map>
#include <iostream>
#include <string_view>
#include <optional>

#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include "apps/cli/commands.hpp"
#include "apps/cli/gateway_client.hpp"
#include "apps/cli/stats_table.hpp"
#include "actors/population/population_config.hpp"
#include "runtime/error.hpp"
#include "runtime/value.hpp"

namespace po = boost::program_options;

namespace agentgraph::cli {

namespace cmd_client_detail {

using nlohmann::json;

struct client_options {
  std::string url = "http://127.0.0.1:8080";
  std::string token_env = "AGENTGRAPH_TOKEN";
  std::string agent;
  std::string task;
  std::string context;
  bool background = false;
  bool json = false;
  uint64_t timeout_s = 600;
  // vars: NAME=VALUE each, or clear (an empty set).
  std::vector<std::string> vars;
  bool clear = false;
  // broadcast
  std::string population;
  std::string input;
  uint64_t sample = 0;
  uint64_t seed = 0;
  uint32_t concurrency = 16;
};

// Parses `argv` for `name`; returns the exit code when parsing ends the
// command (help or bad usage).
std::optional<int> parse(const char* name, const args& argv, client_options& out, bool submit) {
  po::options_description desc{std::string{"agentgraph "} + name};
  desc.add_options()("help", "print this help")(
    "url", po::value(&out.url)->default_value(out.url), "the node's gateway")(
    "token-env", po::value(&out.token_env)->default_value(out.token_env),
    "environment variable holding the bearer token (if the node requires one)")(
    "timeout", po::value(&out.timeout_s)->default_value(out.timeout_s), "seconds to wait");
  const std::string_view command{name};
  if (command == "cluster status")
    desc.add_options()("json", po::bool_switch(&out.json),
                       "print the node's answer as JSON: {\"members\": [...]}");
  if (command == "vars")
    desc.add_options()("agent", po::value(&out.agent), "the population key, <type>/<key>")(
      "var", po::value(&out.vars)->composing(), "NAME=VALUE, once per variable")(
      "clear", po::bool_switch(&out.clear), "set no variables (drops the key's earlier ones)");
  if (command == "broadcast")
    desc.add_options()("population", po::value(&out.population), "the population's type")(
      "input", po::value(&out.input), "every key's task input")(
      "sample", po::value(&out.sample)->default_value(0),
      "0: every key with a saved state; else at most this many keys, chosen by --seed")(
      "seed", po::value(&out.seed)->default_value(0), "the sample's seed")(
      "concurrency", po::value(&out.concurrency)->default_value(out.concurrency),
      "tasks in flight at once")(
      "json", po::bool_switch(&out.json), "print the node's answer as JSON");
  if (submit)
    desc.add_options()("agent", po::value(&out.agent), "agent that gets the task")(
      "task", po::value(&out.task), "the task text")(
      "context", po::value(&out.context), "structured task input, a JSON value")(
      "background", po::bool_switch(&out.background),
      "print the task id and return at once instead of streaming the answer");
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argv).options(desc).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "agentgraph " << name << ": " << e.what() << "\n";
    return 2;
  }
  if (vm.count("help")) {
    std::cout << desc;
    return 0;
  }
  if (submit && (out.agent.empty() || out.task.empty())) {
    std::cerr << "agentgraph submit: --agent and --task are required\n";
    return 2;
  }
  if (command == "vars" && (out.agent.empty() || out.vars.empty() == !out.clear)) {
    std::cerr << "agentgraph vars: --agent and either --var NAME=VALUE (repeatable) or --clear "
                 "are required\n";
    return 2;
  }
  if (command == "broadcast" && (out.population.empty() || out.input.empty())) {
    std::cerr << "agentgraph broadcast: --population and --input are required\n";
    return 2;
  }
  // A variable named on purpose must hold a token: running on without one
  // would only earn 401s. The default name may be unset (a node without
  // auth needs none). The token itself is never printed.
  if (!vm["token-env"].defaulted() && token_from_env(out.token_env).empty()) {
    std::cerr << "agentgraph " << name << ": --token-env names the environment variable "
              << out.token_env << ", which is unset or empty\n";
    return 2;
  }
  if (out.timeout_s == 0 || out.timeout_s > 86'400) {
    std::cerr << "agentgraph " << name << ": --timeout must be 1..86400 seconds\n";
    return 2;
  }
  return std::nullopt;
}

gateway_target target_of(const client_options& o) {
  return {o.url, token_from_env(o.token_env), std::chrono::seconds{o.timeout_s}};
}

// The gateway's error body's message, or the raw body.
std::string error_text(const gateway_reply& r) {
  auto j = json::parse(r.body, nullptr, false);
  if (j.is_object() && j.contains("error") && j["error"].is_object())
    return j["error"].value("code", "") + ": " + j["error"].value("message", "");
  return r.body;
}

template <class T>
T number(const json& j, const char* key) {
  return j.contains(key) && j[key].is_number() ? j[key].get<T>() : T{};
}

// The node's answer to `path`, parsed, when it is 200 with a JSON object
// holding the array `list`; otherwise the message is printed as `command`'s
// and nothing returned.
std::optional<json> get_list(gateway_client& client, const client_options& o,
                             const char* command, const std::string& path, const char* list) {
  auto r = client.get(path);
  if (!r) {
    std::cerr << "agentgraph " << command << ": " << o.url << ": " << describe(r.error()) << "\n";
    return std::nullopt;
  }
  if (r->status != 200) {
    std::cerr << "agentgraph " << command << ": " << path << ": HTTP " << r->status << ": "
              << error_text(*r) << "\n";
    return std::nullopt;
  }
  auto j = json::parse(r->body, nullptr, false);
  if (!j.is_object() || !j.contains(list) || !j[list].is_array()) {
    std::cerr << "agentgraph " << command << ": the node's answer has no `" << list << "` list\n";
    return std::nullopt;
  }
  return j;
}

// The populations' rows under the agents' (none printed for a node without
// populations).
int population_rows(gateway_client& client, const client_options& o) {
  auto j = get_list(client, o, "status", "/v1/populations", "populations");
  if (!j)
    return 1;
  std::vector<population_figures_row> rows;
  for (const auto& p : (*j)["populations"]) {
    population_figures_row row;
    auto& s = row.stats;
    s.name = p.value("name", "?");
    row.healthy = p.value("healthy", false);
    s.active = number<uint64_t>(p, "active");
    s.activating = number<uint64_t>(p, "activating");
    s.passivating = number<uint64_t>(p, "passivating");
    s.saved_keys = number<uint64_t>(p, "saved_keys");
    s.waiting = number<uint64_t>(p, "waiting");
    s.tasks_in_flight = number<uint64_t>(p, "tasks_in_flight");
    s.activations = number<uint64_t>(p, "activations");
    s.passivations = number<uint64_t>(p, "passivations");
    s.evictions = number<uint64_t>(p, "evictions");
    s.store_errors = number<uint64_t>(p, "store_errors");
    s.active_max = number<uint64_t>(p, "active_max");
    s.passivated = number<uint64_t>(p, "passivated");
    s.state_bytes = number<uint64_t>(p, "state_bytes");
    rows.push_back(std::move(row));
  }
  if (!rows.empty())
    std::cout << "\n" << format_population_table(rows);
  return 0;
}

int status(const client_options& o) {
  gateway_client client{target_of(o)};
  auto j = get_list(client, o, "status", "/v1/agents", "agents");
  if (!j)
    return 1;
  std::vector<agent_figures_row> rows;
  for (const auto& a : (*j)["agents"]) {
    agent_figures_row row;
    row.name = a.value("name", "?");
    row.status = a.value("status", "?");
    row.healthy = a.value("healthy", false);
    row.tasks_completed = number<uint64_t>(a, "tasks_completed");
    row.errors = number<uint64_t>(a, "errors");
    row.tasks_in_flight = number<uint64_t>(a, "tasks_in_flight");
    row.requests_per_second = number<double>(a, "requests_per_second");
    row.avg_response_ms = number<double>(a, "avg_response_ms");
    row.tokens_per_second = number<double>(a, "tokens_per_second");
    row.error_rate = number<double>(a, "error_rate");
    row.memory_bytes = number<uint64_t>(a, "memory_bytes");
    rows.push_back(std::move(row));
  }
  std::cout << format_agent_figures_table(rows);
  return population_rows(client, o);
}

// Prints the streamed events of task `id` until it completes or fails.
int follow(gateway_client& client, const std::string& id) {
  int code = 1;
  bool finished = false;
  std::string current_call;
  auto err = client.stream_events("/v1/tasks/" + id + "/events", [&](const sse_event& ev) {
    auto data = json::parse(ev.data, nullptr, false);
    // Each model call's pieces go on one line headed by its request id.
    auto switch_call = [&](const std::string& call) {
      if (call != current_call) {
        std::cout << (current_call.empty() ? "" : "\n") << "[" << call << "] ";
        current_call = call;
      }
    };
    if (ev.type == "token") {
      switch_call(data.is_object() ? data.value("request_id", "") : "");
      std::cout << (data.is_object() ? data.value("text", "") : "") << std::flush;
      return true;
    }
    if (ev.type == "tool_call") {
      switch_call(data.is_object() ? data.value("request_id", "") : "");
      auto args = data.is_object() && data.contains("arguments") ? data["arguments"].dump() : "{}";
      std::cout << "<tool call " << (data.is_object() ? data.value("tool", "?") : "?") << " "
                << args << ">" << std::flush;
      return true;
    }
    if (ev.type == "completed") {
      std::cout << (current_call.empty() ? "" : "\n") << "answer:\n"
                << (data.is_object() ? data.value("output", "") : ev.data) << "\n";
      code = 0;
      finished = true;
      return false;
    }
    if (ev.type == "failed") {
      std::cout << (current_call.empty() ? "" : "\n");
      std::cerr << "agentgraph submit: task failed: " << ev.data << "\n";
      finished = true;
      return false;
    }
    return true;  // truncated and future event kinds: keep going
  });
  if (err) {
    std::cerr << "agentgraph submit: events of task " << id << ": " << describe(err) << "\n";
    return 1;
  }
  if (!finished)
    std::cerr << "agentgraph submit: the event stream of task " << id
              << " ended before the task did\n";
  return code;
}

int submit(const client_options& o) {
  json body = {{"agent", o.agent}, {"input", o.task}, {"mode", "background"}};
  if (!o.context.empty()) {
    // Value::from_json: the project's one JSON reader, which refuses
    // duplicate keys instead of silently keeping the last.
    auto ctx = Value::from_json(o.context);
    if (!ctx) {
      std::cerr << "agentgraph submit: --context is not valid JSON: " << describe(ctx.error())
                << "\n";
      return 2;
    }
    body["context"] = json::parse(ctx->to_json());
  }
  gateway_client client{target_of(o)};
  auto r = client.post_json("/v1/tasks", body.dump());
  if (!r) {
    std::cerr << "agentgraph submit: " << o.url << ": " << describe(r.error()) << "\n";
    return 1;
  }
  if (r->status != 202 && r->status != 200) {
    std::cerr << "agentgraph submit: HTTP " << r->status << ": " << error_text(*r) << "\n";
    return r->status == 400 || r->status == 404 ? 2 : 1;
  }
  auto j = json::parse(r->body, nullptr, false);
  if (!j.is_object() || !j.contains("task_id") || !j["task_id"].is_string()) {
    std::cerr << "agentgraph submit: the node's answer has no task_id\n";
    return 1;
  }
  const std::string id = j["task_id"];
  if (o.background) {
    std::cout << id << "\n";
    return 0;
  }
  std::cout << "task " << id << " on " << o.agent << "\n";
  return follow(client, id);
}

// The exit code of a refused write: 2 for what the caller got wrong (a bad
// body, an unknown name), 1 for the rest.
int refused(const char* command, const gateway_reply& r) {
  std::cerr << "agentgraph " << command << ": HTTP " << r.status << ": " << error_text(r) << "\n";
  return r.status == 400 || r.status == 404 ? 2 : 1;
}

// Sends the JSON `body` to `path` with `method` (PUT or POST): the node's
// 200 answer, or nothing once the problem is printed as `command`'s and
// `code` set (refused's, or 1 when the node could not be reached).
std::optional<gateway_reply> write(const char* command, const client_options& o,
                                   const std::string& method, const std::string& path,
                                   const json& body, int& code) {
  gateway_client client{target_of(o)};
  const auto text = body.dump();
  auto r = method == "PUT" ? client.put_json(path, text) : client.post_json(path, text);
  if (!r) {
    std::cerr << "agentgraph " << command << ": " << o.url << ": " << describe(r.error()) << "\n";
    code = 1;
    return std::nullopt;
  }
  if (r->status != 200) {
    code = refused(command, *r);
    return std::nullopt;
  }
  return std::move(*r);
}

// PUT /v1/agents/<type>/<key>/vars with the --var pairs.
int vars(const client_options& o) {
  json body = json::object();
  std::map<std::string, std::string> vars;
  for (const auto& pair : o.vars) {
    auto eq = pair.find('=');
    if (eq == std::string::npos || eq == 0) {
      std::cerr << "agentgraph vars: --var " << pair << ": expected NAME=VALUE\n";
      return 2;
    }
    const auto name = pair.substr(0, eq);
    if (body.contains(name)) {
      std::cerr << "agentgraph vars: --var " << name << " given twice\n";
      return 2;
    }
    body[name] = pair.substr(eq + 1);
    vars.emplace(name, pair.substr(eq + 1));
  }
  // The population's own rule, checked here too so a bad name needs no node.
  if (auto problem = population_vars_problem(vars); !problem.empty()) {
    std::cerr << "agentgraph vars: " << problem << "\n";
    return 2;
  }
  auto slash = o.agent.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == o.agent.size()
      || o.agent.find('/', slash + 1) != std::string::npos) {
    std::cerr << "agentgraph vars: --agent must be <type>/<key>\n";
    return 2;
  }
  int code = 0;
  auto r = write("vars", o, "PUT", "/v1/agents/" + o.agent + "/vars", body, code);
  if (!r)
    return code;
  std::cout << r->body << "\n";
  return 0;
}

// POST /v1/agents/<type>/broadcast; exit 1 when any key's task failed.
int broadcast(const client_options& o) {
  json body = {{"input", o.input}, {"sample", o.sample}, {"seed", o.seed},
               {"concurrency", o.concurrency}};
  int code = 0;
  auto r = write("broadcast", o, "POST", "/v1/agents/" + o.population + "/broadcast", body, code);
  if (!r)
    return code;
  auto j = json::parse(r->body, nullptr, false);
  if (!j.is_object()) {
    std::cerr << "agentgraph broadcast: the node's answer is not a JSON object\n";
    return 1;
  }
  const auto failed = number<uint64_t>(j, "failed");
  if (o.json) {
    std::cout << j.dump() << "\n";
    return failed == 0 ? 0 : 1;
  }
  std::cout << "broadcast to " << o.population << ": " << number<uint64_t>(j, "keys")
            << " keys, " << number<uint64_t>(j, "ok") << " ok, " << failed << " failed\n";
  if (j.contains("errors") && j["errors"].is_array())
    for (const auto& e : j["errors"])
      std::cout << "  " << (e.is_string() ? e.get<std::string>() : e.dump()) << "\n";
  return failed == 0 ? 0 : 1;
}

// The members as the node at --url sees them (GET /v1/cluster).
int cluster_status(const client_options& o) {
  gateway_client client{target_of(o)};
  auto r = client.get("/v1/cluster");
  if (!r) {
    std::cerr << "agentgraph cluster status: " << o.url << ": " << describe(r.error()) << "\n";
    return 1;
  }
  if (r->status != 200) {
    std::cerr << "agentgraph cluster status: HTTP " << r->status << ": " << error_text(*r) << "\n";
    return 1;
  }
  auto j = json::parse(r->body, nullptr, false);
  if (!j.is_object() || !j.contains("members") || !j["members"].is_array()) {
    std::cerr << "agentgraph cluster status: the node's answer has no `members` list\n";
    return 1;
  }
  if (o.json) {
    std::cout << j.dump() << "\n";
    return 0;
  }
  std::cout << "cluster " << j.value("cluster", "?") << " as seen by " << j.value("self", "?")
            << (j.value("joined", false) ? "" : " (not joined)") << "\n";
  std::printf("%-24s %-10s %-22s %-8s %8s %6s %6s %5s %6s  %s\n", "member", "state", "address",
              "pid", "phi", "load", "agents", "tools", "shards", "url");
  for (const auto& m : j["members"]) {
    const auto addr = m.value("host", "?") + ":" + std::to_string(number<uint64_t>(m, "port"));
    const auto phi = m.contains("phi") && m["phi"].is_number()
                         ? std::to_string(m["phi"].get<double>()).substr(0, 6)
                         : std::string{"inf"};
    std::printf("%-24s %-10s %-22s %-8lld %8s %6llu %6llu %5llu %6llu  %s\n",
                (m.value("id", "?") + (m.value("self", false) ? " *" : "")).c_str(),
                m.value("state", "?").c_str(), addr.c_str(),
                static_cast<long long>(number<int64_t>(m, "pid")), phi.c_str(),
                static_cast<unsigned long long>(number<uint64_t>(m, "load")),
                static_cast<unsigned long long>(number<uint64_t>(m, "agents")),
                static_cast<unsigned long long>(number<uint64_t>(m, "tools")),
                static_cast<unsigned long long>(number<uint64_t>(m, "shards")),
                m.value("url", "").c_str());
  }
  return 0;
}

}  // namespace cmd_client_detail

int status_command(const args& argv) {
  cmd_client_detail::client_options o;
  if (auto code = cmd_client_detail::parse("status", argv, o, false))
    return *code;
  return cmd_client_detail::status(o);
}

int cluster_command(const args& argv) {
  if (argv.empty() || argv.front() != "status") {
    std::cerr << "usage: agentgraph cluster status [--url U] [--json]\n";
    return 2;
  }
  cmd_client_detail::client_options o;
  o.timeout_s = 10;
  const args rest(argv.begin() + 1, argv.end());
  if (auto code = cmd_client_detail::parse("cluster status", rest, o, false))
    return *code;
  return cmd_client_detail::cluster_status(o);
}

int vars_command(const args& argv) {
  cmd_client_detail::client_options o;
  o.timeout_s = 60;
  if (auto code = cmd_client_detail::parse("vars", argv, o, false))
    return *code;
  return cmd_client_detail::vars(o);
}

int broadcast_command(const args& argv) {
  cmd_client_detail::client_options o;
  if (auto code = cmd_client_detail::parse("broadcast", argv, o, false))
    return *code;
  return cmd_client_detail::broadcast(o);
}

int submit_command(const args& argv) {
  cmd_client_detail::client_options o;
  if (auto code = cmd_client_detail::parse("submit", argv, o, true))
    return *code;
  return cmd_client_detail::submit(o);
}

}  // namespace agentgraph::cli

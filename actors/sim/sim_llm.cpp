#include "actors/sim/sim_llm.hpp"

#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>

#include "actors/sim/sim_network.hpp"
#include "runtime/error.hpp"
#include "runtime/seeded_random.hpp"

namespace agentgraph::sim {

using namespace std::chrono_literals;

namespace sim_llm_detail {

using sim_llm_done_atom = caf::atom_constant<caf::atom("ag_simllm")>;

constexpr std::string_view host_suffix = ".llm.sim";
constexpr caf::timespan minute = 60s;
// A refusal (429, 503) comes back after one network round trip.
constexpr caf::timespan refusal_after = 2ms;
// Calls one node may have open at once; the provider's own in_flight_max
// is far below it, so reaching it is a bug here.
constexpr size_t pending_max = 1'000'000;

caf::timespan ms(double x) {
  return std::chrono::duration_cast<caf::timespan>(std::chrono::duration<double, std::milli>(x));
}

net::http_response json_response(long status, const nlohmann::json& body) {
  net::http_response r;
  r.status = status;
  r.headers.emplace_back("content-type", "application/json");
  r.body = body.dump();
  r.http_version = 11;
  return r;
}

// The answer `body` (a chat.completion) as OpenAI streams it (SSE): one
// chunk with the whole text, one with the finish reason, one with the
// usage (stream_options.include_usage), then [DONE]. Time to the first
// token is not seen apart: the stream arrives whole, at the end.
net::http_response stream_response(const nlohmann::json& body) {
  const auto& choice = body["choices"][0];
  nlohmann::json head = {{"id", body["id"]}, {"object", "chat.completion.chunk"}, {"model", body["model"]}};
  auto text = head;
  text["choices"] = {{{"index", 0},
                      {"delta", {{"role", "assistant"}, {"content", choice["message"]["content"]}}},
                      {"finish_reason", nullptr}}};
  auto finish = head;
  finish["choices"] = {{{"index", 0}, {"delta", nlohmann::json::object()},
                        {"finish_reason", choice["finish_reason"]}}};
  auto usage = head;
  usage["choices"] = nlohmann::json::array();
  usage["usage"] = body["usage"];
  net::http_response r;
  r.status = 200;
  r.headers.emplace_back("content-type", "text/event-stream");
  for (const auto* chunk : {&text, &finish, &usage})
    r.body += "data: " + chunk->dump() + "\n\n";
  r.body += "data: [DONE]\n\n";
  r.http_version = 11;
  return r;
}

net::http_response error_response(long status, const std::string& type, const std::string& text) {
  return json_response(status, {{"error", {{"type", type}, {"message", text}}}});
}

// The provider name from "http://<provider>.llm.sim/...", or "".
std::string provider_of(const std::string& url) {
  auto start = url.find("://");
  if (start == std::string::npos)
    return {};
  start += 3;
  auto end = url.find_first_of("/:", start);
  auto host = url.substr(start, end == std::string::npos ? std::string::npos : end - start);
  if (host.size() <= host_suffix.size()
      || host.compare(host.size() - host_suffix.size(), host_suffix.size(), host_suffix) != 0)
    return {};
  return host.substr(0, host.size() - host_suffix.size());
}

// An HTTP answer (any status): the transport succeeded.
void answer_with(llm_answer& a, net::http_response r) {
  a.result.response = std::move(r);
  a.result.transport = net::transport_error::none;
}

llm_answer refused(const std::string& why) {
  llm_answer a;
  a.after = refusal_after;
  a.result.response = make_error(errc::invalid_argument, "simulated LLM: " + why);
  a.result.transport = net::transport_error::invalid_request;
  return a;
}

}  // namespace sim_llm_detail

std::string llm_base_url(const std::string& provider) {
  return "http://" + provider + std::string{sim_llm_detail::host_suffix} + "/v1";
}

llm_service::llm_service(std::vector<llm_model> models, uint64_t seed) {
  for (auto& m : models) {
    auto name = m.name;
    vendor v{std::move(m), std::mt19937_64{derive_seed(seed, "llm." + name)}, {}, false, false, 1};
    vendors_.emplace(name, std::move(v));
    figures_[name];
  }
}

llm_answer llm_service::call(const net::http_request& req, caf::timespan now, size_t node) {
  using namespace sim_llm_detail;
  const auto name = provider_of(req.url);
  auto it = vendors_.find(name);
  if (it == vendors_.end())
    return refused("no [llm.<name>] for the URL " + req.url);
  auto& v = it->second;
  auto& fig = figures_[name];
  ++fig.calls;
  if (fig.calls_by_node.size() < node)
    fig.calls_by_node.resize(node);
  ++fig.calls_by_node[node - 1];
  if (req.url.find("/chat/completions") == std::string::npos) {
    ++fig.refused;
    return refused("only chat completions are simulated (not " + req.url + ")");
  }
  llm_answer a;
  a.streamed = req.stream;
  const auto note_served = [&fig, now](bool served) {
    if (!fig.served_changes.empty() && fig.served_changes.back().second == served)
      return;
    if (fig.served_changes.size() >= served_changes_max) {
      fig.changes_cut = true;
      return;
    }
    fig.served_changes.emplace_back(std::chrono::duration<double, std::milli>(now).count(), served);
  };
  if (v.outage) {
    note_served(false);
    ++fig.unavailable;
    a.after = refusal_after;
    answer_with(a, error_response(503, "overloaded", "simulated outage"));
    return a;
  }
  // The vendor's window: calls in the last minute, this one included.
  while (!v.window.empty() && v.window.front() <= now - minute)
    v.window.pop_front();
  const auto rpm = v.model.requests_per_minute;
  if (v.storm || (rpm > 0 && v.window.size() >= rpm)) {
    note_served(false);
    ++fig.rate_limited;
    a.after = refusal_after;
    auto r = error_response(429, "rate_limit_exceeded", "simulated rate limit");
    const auto wait = v.storm || v.window.empty()
                        ? caf::timespan{1s}
                        : v.window.front() + minute - now;
    r.headers.emplace_back(
      "retry-after-ms",
      std::to_string(std::max<int64_t>(
        1, std::chrono::duration_cast<std::chrono::milliseconds>(wait).count())));
    answer_with(a, std::move(r));
    return a;
  }
  note_served(true);
  v.window.push_back(now);
  const double first = v.model.first_token_ms.draw(v.rng);
  if (v.model.error_rate > 0 && uniform_unit(v.rng) < v.model.error_rate) {
    ++fig.errors;
    a.after = ms(first * v.slow);
    answer_with(a, error_response(500, "server_error", "simulated server error"));
    return a;
  }
  const auto completion = std::min<uint64_t>(
    completion_tokens_max, static_cast<uint64_t>(std::llround(v.model.completion_tokens.draw(v.rng))));
  double total = first;
  for (uint64_t i = 1; i < completion; ++i)
    total += v.model.per_token_ms.draw(v.rng);
  // The prompt's size in tokens, estimated as providers do: bytes / 4.
  const uint64_t prompt = std::max<uint64_t>(1, req.body.size() / 4);
  std::string model = "sim";
  if (auto body = nlohmann::json::parse(req.body, nullptr, false);
      body.is_object() && body.contains("model") && body["model"].is_string())
    model = body["model"].get<std::string>();
  a.provider = name;
  a.prompt_tokens = prompt;
  a.completion_tokens = completion;
  a.cost_usd = (static_cast<double>(prompt) * v.model.input_price_per_mtok
                + static_cast<double>(completion) * v.model.output_price_per_mtok)
               / 1e6;
  nlohmann::json body = {
    {"id", "sim-" + std::to_string(fig.calls)},
    {"object", "chat.completion"},
    {"model", model},
    {"choices",
     {{{"index", 0},
       {"message",
        {{"role", "assistant"},
         {"content", "simulated answer of " + std::to_string(completion) + " tokens"}}},
       {"finish_reason", "stop"}}}},
    {"usage",
     {{"prompt_tokens", prompt},
      {"completion_tokens", completion},
      {"total_tokens", prompt + completion}}}};
  a.after = ms(total * v.slow);
  answer_with(a, req.stream ? stream_response(body) : json_response(200, body));
  return a;
}

void llm_service::delivered(const llm_answer& a) {
  if (a.provider.empty())
    return;  // not a 200
  auto& fig = figures_[a.provider];
  ++fig.answered;
  fig.prompt_tokens += a.prompt_tokens;
  fig.completion_tokens += a.completion_tokens;
  fig.cost_usd += a.cost_usd;
}

void llm_service::set_outage(const std::string& provider, bool on) {
  if (auto it = vendors_.find(provider); it != vendors_.end())
    it->second.outage = on;
}

void llm_service::set_storm(const std::string& provider, bool on) {
  if (auto it = vendors_.find(provider); it != vendors_.end())
    it->second.storm = on;
}

void llm_service::set_slow(const std::string& provider, double factor) {
  if (auto it = vendors_.find(provider); it != vendors_.end())
    it->second.slow = factor;
}

// -- the transport ------------------------------------------------------------

struct sim_transport::state {
  std::shared_ptr<llm_service> service;
  size_t node = 0;
  caf::actor_system* sys = nullptr;
  caf::actor endpoint;
  uint64_t next_id = 0;
  struct call {
    net::http_handlers handlers;
    llm_answer answer;
  };
  std::map<net::request_id, call> pending;

  // Hands the answer to the provider (whose on_complete anon_sends it to
  // the provider actor), exactly once.
  void complete(net::request_id id) {
    auto it = pending.find(id);
    if (it == pending.end())
      return;
    auto c = std::move(it->second);
    pending.erase(it);
    auto& result = c.answer.result;
    if (result.response) {
      service->delivered(c.answer);
      if (c.handlers.on_headers)
        c.handlers.on_headers(result.response->status, result.response->headers);
      // A stream's body (an error's too) goes to on_data, as curl hands it.
      if (c.answer.streamed && c.handlers.on_data) {
        c.handlers.on_data(result.response->body);
        result.response->body.clear();
      }
    }
    c.handlers.on_complete(std::move(result));
  }
};

sim_transport::sim_transport(std::shared_ptr<llm_service> service, size_t node)
  : st_(std::make_shared<state>()) {
  st_->service = std::move(service);
  st_->node = node;
}

sim_transport::~sim_transport() = default;

void sim_transport::unbind() {
  // Bounded by the open calls; complete() erases each.
  while (!st_->pending.empty()) {
    auto& c = st_->pending.begin()->second;
    c.answer.provider.clear();  // not billed
    c.answer.result.response = make_error(errc::cancelled, "cancelled: the node ended");
    c.answer.result.transport = net::transport_error::cancelled;
    st_->complete(st_->pending.begin()->first);
  }
  if (st_->endpoint)
    caf::anon_send_exit(st_->endpoint, caf::exit_reason::user_shutdown);
  st_->endpoint = nullptr;
  st_->sys = nullptr;
}

void sim_transport::bind(caf::actor_system& sys) {
  using namespace sim_llm_detail;
  st_->sys = &sys;
  std::weak_ptr<state> weak = st_;
  st_->endpoint = sys.spawn([weak](caf::event_based_actor*) -> caf::behavior {
    return {[weak](sim_llm_done_atom, uint64_t id) {
      if (auto st = weak.lock())
        st->complete(id);
    }};
  });
}

caf::expected<net::request_id> sim_transport::submit(net::http_request req, net::http_handlers h) {
  using namespace sim_llm_detail;
  if (st_->sys == nullptr || !st_->endpoint)
    return make_error(errc::internal, "simulated LLM: the node's transport is not bound");
  if (!h.on_complete)
    return make_error(errc::invalid_argument, "simulated LLM: no on_complete handler");
  if (st_->pending.size() >= pending_max)
    return make_error(errc::overloaded, "simulated LLM: too many calls open on one node");
  auto answer = st_->service->call(req, world_time_of(*st_->sys), st_->node);
  const auto id = ++st_->next_id;
  st_->pending.emplace(id, state::call{std::move(h), std::move(answer)});
  caf::delayed_anon_send(st_->endpoint, answer.after, sim_llm_done_atom::value, uint64_t{id});
  return id;
}

void sim_transport::cancel(net::request_id id) {
  using namespace sim_llm_detail;
  auto it = st_->pending.find(id);
  if (it == st_->pending.end())
    return;
  it->second.answer.provider.clear();  // not billed
  it->second.answer.result.response = make_error(errc::cancelled, "cancelled");
  it->second.answer.result.transport = net::transport_error::cancelled;
  caf::anon_send(st_->endpoint, sim_llm_done_atom::value, uint64_t{id});
}

size_t sim_transport::pending() const {
  return st_->pending.size();
}

}  // namespace agentgraph::sim

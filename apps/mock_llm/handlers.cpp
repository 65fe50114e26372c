// One exchange, the same for every vendor: count it, check auth, parse,
// match a rule, wait the sampled latency, then either inject the chosen
// fault or answer (plain body or stream of events, with drip delays).
#include <memory>
#include <string>
#include <vector>

#include "server_impl.hpp"
#include "text.hpp"

namespace agentgraph::mock_llm {
namespace handlers_detail {

using nlohmann::json;

header_lookup headers_of(const httplib::Request& req) {
  return [&req](const std::string& name) -> std::string {
    // "?name" reads a URL query parameter (Gemini accepts ?key=).
    if (!name.empty() && name[0] == '?') return req.get_param_value(name.substr(1).c_str());
    return req.get_header_value(name.c_str());
  };
}

void send_error(const chat_wire& wire, const wire_error& e, httplib::Response& res, stats& counters) {
  res.status = e.status;
  res.set_content(wire.render_error(e), "application/json");
  counters.add("statuses", std::to_string(e.status));
}

std::string fault_message(int status) {
  if (status == 429) return "Rate limit reached (mock fault injection). Please retry after the indicated delay.";
  if (status == 503) return "The service is temporarily overloaded (mock fault injection).";
  return "The server had an error while processing your request (mock fault injection).";
}

const char* id_prefix(std::string_view api, bool tool) {
  if (api == "anthropic") return tool ? "toolu_" : "msg_";
  if (api == "gemini") return tool ? "" : "resp-";
  return tool ? "call_" : "chatcmpl-";
}

reply build_reply(const scenario& s, int index, const chat_request& req, uint64_t seed, uint64_t seq) {
  const reply_spec& spec = index < 0 ? s.default_reply : s.rules[static_cast<size_t>(index)].reply;
  const usage_override none;
  const usage_override& over = index < 0 ? none : s.rules[static_cast<size_t>(index)].usage;
  reply r;
  r.id = make_id(id_prefix(req.conv.api, false), seed, seq, 0);
  r.text = spec.text;
  r.chunk_chars = s.chunk_chars;
  r.created_unix = s.created_unix;
  size_t completion_chars = r.text.size();
  for (size_t i = 0; i < spec.tool_calls.size(); ++i) {
    tool_call call{make_id(id_prefix(req.conv.api, true), seed, seq, i + 1), spec.tool_calls[i].name,
                   spec.tool_calls[i].arguments.dump()};
    completion_chars += call.name.size() + call.arguments_json.size();
    r.tool_calls.push_back(std::move(call));
  }
  r.use.prompt_tokens = over.prompt_tokens.value_or(estimate_tokens(req.conv.prompt_chars));
  r.use.completion_tokens = over.completion_tokens.value_or(estimate_tokens(completion_chars));
  return r;
}

// Cuts the connection after `keep` bytes of a body announced in full: the
// client sees a short read, as when a proxy or the vendor drops the socket.
void send_truncated(httplib::Response& res, std::string body, size_t keep, const std::string& type) {
  auto shared = std::make_shared<std::string>(std::move(body));
  res.set_content_provider(shared->size(), type, [shared, keep](size_t offset, size_t, httplib::DataSink& sink) {
    if (offset >= keep) return false;  // returning false makes httplib close the socket
    return sink.write(shared->data() + offset, keep - offset);
  });
}

struct stream_plan {
  std::vector<std::string> events;
  uint32_t drip_ms = 0;
  std::optional<uint32_t> drop_after;  // events written before the socket closes
};

void send_stream(server::impl& self, httplib::Response& res, const std::string& type, stream_plan plan) {
  auto shared = std::make_shared<stream_plan>(std::move(plan));
  auto next = std::make_shared<size_t>(0);
  res.set_chunked_content_provider(type, [&self, shared, next](size_t, httplib::DataSink& sink) {
    size_t& i = *next;
    if (shared->drop_after && i >= *shared->drop_after) return false;  // closes the socket mid-stream
    if (i >= shared->events.size()) {
      sink.done();
      return true;
    }
    if (i > 0 && shared->drip_ms > 0 && !self.wait_ms(shared->drip_ms)) return false;
    const std::string& e = shared->events[i++];
    return sink.write(e.data(), e.size());
  });
}

// Applies an injected fault that replaces the answer; false if the answer
// still goes out (possibly altered, as for drop and malformed).
bool refuse_with_fault(const chat_wire& wire, const injection& in, httplib::Response& res, stats& counters) {
  if (in.kind == fault_kind::rate_limit) {
    counters.add("faults", "rate_limit");
    res.set_header("Retry-After", std::to_string(in.retry_after_s));
    res.set_header("retry-after-ms", std::to_string(in.retry_after_ms));
    send_error(wire, {429, fault_message(429), "", "rate_limit_exceeded"}, res, counters);
    return true;
  }
  if (in.kind == fault_kind::status) {
    counters.add("faults", "status_" + std::to_string(in.status));
    send_error(wire, {in.status, fault_message(in.status), "", ""}, res, counters);
    return true;
  }
  return false;
}

void answer_plain(const chat_wire& wire, const chat_request& req, const reply& r, const fault_decision& d,
                  httplib::Response& res, stats& counters) {
  std::string body = wire.render(req, r);
  counters.add("statuses", "200");
  if (d.fault && d.fault->kind == fault_kind::malformed) {
    counters.add("faults", "malformed");
    res.set_content(malform_body(body), "application/json");
  } else if (d.fault && d.fault->kind == fault_kind::drop) {
    counters.add("faults", "drop");
    const size_t keep = body.size() / 2;
    send_truncated(res, std::move(body), keep, "application/json");
  } else {
    res.set_content(body, "application/json");
  }
}

void answer_stream(server::impl& self, const chat_wire& wire, const chat_request& req, const reply& r,
                   const fault_decision& d, httplib::Response& res) {
  stream_plan plan{wire.render_stream(req, r), d.drip_ms, std::nullopt};
  self.counters.add("statuses", "200");
  self.counters.add("streams", std::string{wire.api()});
  if (d.drip_ms > 0) self.counters.add("faults", "drip");
  if (d.fault && d.fault->kind == fault_kind::malformed) {
    self.counters.add("faults", "malformed");
    for (auto& e : plan.events)
      if (e.find("data: ") != std::string::npos || e.front() == '[') {
        e = malform_event(e);
        break;
      }
  } else if (d.fault && d.fault->kind == fault_kind::drop) {
    self.counters.add("faults", "drop");
    plan.drop_after = d.fault->after_events;
  }
  res.set_header("Cache-Control", "no-cache");
  send_stream(self, res, wire.stream_content_type(req), std::move(plan));
}

void count_attribution(const httplib::Request& req, stats& counters) {
  for (const char* h : {"HTTP-Referer", "X-Title"})
    if (req.has_header(h)) counters.add("headers", h);
}

}  // namespace handlers_detail

bool server::impl::wait_ms(uint32_t ms) {
  // Counted so tests can wait for a request to be inside its wait, and see
  // that stop() cut it short.
  counters.add("waits", "started");
  std::unique_lock lock{stop_mutex};
  bool stopped = stop_cv.wait_for(lock, std::chrono::milliseconds(ms), [this] { return stopping; });
  lock.unlock();
  if (stopped) counters.add("waits", "interrupted");
  return !stopped;
}

void server::impl::handle_chat(const chat_wire& wire, const std::string& route, const url_info& url,
                               const httplib::Request& req, httplib::Response& res) {
  using namespace handlers_detail;
  const uint64_t seq = next_seq++;
  counters.add_request();
  counters.add("routes", route);
  if (wire.api() == "openrouter") count_attribution(req, counters);
  if (auto e = wire.check_auth(headers_of(req), scn->api_key)) return send_error(wire, *e, res, counters);
  const auto body = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded())
    return send_error(wire, {400, "We could not parse the JSON body of your request.", "body", ""}, res, counters);
  const parsed_chat parsed = wire.parse(body, url);
  if (parsed.error) return send_error(wire, *parsed.error, res, counters);
  const int index = match_rule(*scn, parsed.req.conv);
  counters.add("rules", index < 0 ? "(default)" : scn->rules[static_cast<size_t>(index)].name);
  request_rng rng{seed, seq};
  const fault_decision d = faults.decide(resolve_faults(*scn, index), rng);
  if (d.latency_ms > 0 && !wait_ms(d.latency_ms)) return;
  if (d.fault && refuse_with_fault(wire, *d.fault, res, counters)) return;
  const reply r = build_reply(*scn, index, parsed.req, seed, seq);
  res.set_header("x-request-id", r.id);
  if (parsed.req.stream) return answer_stream(*this, wire, parsed.req, r, d, res);
  answer_plain(wire, parsed.req, r, d, res, counters);
}

void server::impl::handle_embeddings(const chat_wire& wire, embed_route format, const std::string& route,
                                     const url_info& url, const httplib::Request& req, httplib::Response& res) {
  using namespace handlers_detail;
  const uint64_t seq = next_seq++;
  counters.add_request();
  counters.add("routes", route);
  if (auto e = wire.check_auth(headers_of(req), scn->api_key)) return send_error(wire, *e, res, counters);
  const auto body = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded())
    return send_error(wire, {400, "We could not parse the JSON body of your request.", "body", ""}, res, counters);
  parsed_embed parsed = format == embed_route::openai         ? parse_openai_embeddings(body, wire.api())
                        : format == embed_route::gemini_batch ? parse_gemini_embeddings(body, url)
                                                              : parse_gemini_embed_content(body, url);
  if (parsed.error) return send_error(wire, *parsed.error, res, counters);
  const int index = match_rule(*scn, parsed.req.conv);
  counters.add("rules", index < 0 ? "(default)" : scn->rules[static_cast<size_t>(index)].name);
  request_rng rng{seed, seq};
  const fault_decision d = faults.decide(resolve_faults(*scn, index), rng);
  if (d.latency_ms > 0 && !wait_ms(d.latency_ms)) return;
  if (d.fault && refuse_with_fault(wire, *d.fault, res, counters)) return;
  uint32_t dims = parsed.req.dimensions ? parsed.req.dimensions : scn->embedding_dimensions;
  if (d.fault && d.fault->kind == fault_kind::dimensions) {
    // A vendor that ignores or misreads `dimensions`: clients must notice.
    counters.add("faults", "dimensions");
    dims = d.fault->dimensions;
  }
  std::vector<std::vector<float>> vectors;
  for (const auto& in : parsed.req.inputs) vectors.push_back(embed_text(in, dims));
  std::string out = format == embed_route::openai         ? render_openai_embeddings(parsed.req, vectors)
                    : format == embed_route::gemini_batch ? render_gemini_embeddings(vectors)
                                                          : render_gemini_embed_content(vectors.front());
  counters.add("statuses", "200");
  if (d.fault && d.fault->kind == fault_kind::malformed) {
    counters.add("faults", "malformed");
    out = malform_body(out);
  } else if (d.fault && d.fault->kind == fault_kind::drop) {
    counters.add("faults", "drop");
    const size_t keep = out.size() / 2;
    return send_truncated(res, std::move(out), keep, "application/json");
  }
  res.set_content(out, "application/json");
}

}  // namespace agentgraph::mock_llm

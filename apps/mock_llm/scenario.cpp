#include "scenario.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <initializer_list>
#include <sstream>
#include <stdexcept>

namespace agentgraph::mock_llm {
namespace scenario_detail {

using nlohmann::json;

// Parsing throws this internally and parse_scenario turns it into the
// load_result error: validation is deep and one throw keeps every reader a
// one-liner. Nothing escapes this file.
struct invalid : std::runtime_error {
  invalid(const std::string& path, const std::string& what)
      : std::runtime_error(path + ": " + what) {}
};

void require_keys(const json& j, const std::string& path, std::initializer_list<const char*> keys) {
  if (!j.is_object()) throw invalid(path, "must be an object");
  for (const auto& [key, _] : j.items()) {
    if (std::none_of(keys.begin(), keys.end(), [&](const char* k) { return key == k; }))
      throw invalid(path + "." + key, "unknown key");
  }
}

std::string read_string(const json& j, const std::string& path, size_t bytes_max) {
  if (!j.is_string()) throw invalid(path, "must be a string");
  auto s = j.get<std::string>();
  if (s.size() > bytes_max) throw invalid(path, "longer than " + std::to_string(bytes_max) + " bytes");
  return s;
}

std::string shortest(double v) {
  std::ostringstream out;
  out << v;
  return out.str();
}

double read_number(const json& j, const std::string& path, double lo, double hi) {
  if (!j.is_number()) throw invalid(path, "must be a number");
  double v = j.get<double>();
  if (!(v >= lo && v <= hi)) throw invalid(path, "must be in [" + shortest(lo) + ", " + shortest(hi) + "]");
  return v;
}

uint64_t read_uint(const json& j, const std::string& path, uint64_t lo, uint64_t hi) {
  // nlohmann parses every non-negative integer literal as unsigned.
  if (!j.is_number_unsigned())
    throw invalid(path, "must be a non-negative integer");
  auto v = j.get<uint64_t>();
  if (v < lo || v > hi)
    throw invalid(path, "must be in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  return v;
}

bool read_bool(const json& j, const std::string& path) {
  if (!j.is_boolean()) throw invalid(path, "must be true or false");
  return j.get<bool>();
}

latency_spec read_latency(const json& j, const std::string& path) {
  const double hi = latency_ms_max;
  if (j.is_number()) return {latency_kind::fixed, read_number(j, path, 0, hi), 0};
  require_keys(j, path, {"fixed", "uniform", "normal"});
  if (j.size() != 1) throw invalid(path, "needs exactly one of fixed, uniform, normal");
  if (j.contains("fixed")) return {latency_kind::fixed, read_number(j["fixed"], path + ".fixed", 0, hi), 0};
  const bool uniform = j.contains("uniform");
  const std::string sub = path + (uniform ? ".uniform" : ".normal");
  const json& pair = uniform ? j["uniform"] : j["normal"];
  if (!pair.is_array() || pair.size() != 2)
    throw invalid(sub, uniform ? "must be [min_ms, max_ms]" : "must be [mean_ms, stddev_ms]");
  latency_spec l{uniform ? latency_kind::uniform : latency_kind::normal,
                 read_number(pair[0], sub + "[0]", 0, hi), read_number(pair[1], sub + "[1]", 0, hi)};
  if (uniform && l.b_ms < l.a_ms) throw invalid(sub, "max_ms is below min_ms");
  return l;
}

fault_kind read_fault_kind(const json& j, const std::string& path) {
  auto s = read_string(j, path, 32);
  if (s == "status") return fault_kind::status;
  if (s == "rate_limit") return fault_kind::rate_limit;
  if (s == "drop") return fault_kind::drop;
  if (s == "malformed") return fault_kind::malformed;
  if (s == "dimensions") return fault_kind::dimensions;
  throw invalid(path, "must be one of status, rate_limit, drop, malformed, dimensions");
}

injection read_injection(const json& j, const std::string& path) {
  require_keys(j, path,
               {"fault", "rate", "first", "status", "retry_after_s", "retry_after_ms", "after_events", "dimensions"});
  if (!j.contains("fault")) throw invalid(path + ".fault", "is required");
  injection in;
  in.kind = read_fault_kind(j["fault"], path + ".fault");
  if (j.contains("rate")) in.rate = read_number(j["rate"], path + ".rate", 0, 1);
  if (j.contains("first")) in.first = static_cast<uint32_t>(read_uint(j["first"], path + ".first", 0, 1'000'000));
  if (!j.contains("rate") && !j.contains("first")) throw invalid(path, "needs rate or first");
  if (j.contains("status")) in.status = static_cast<int>(read_uint(j["status"], path + ".status", 400, 599));
  if (in.kind == fault_kind::status && !j.contains("status")) in.status = 500;
  if (j.contains("retry_after_s"))
    in.retry_after_s = static_cast<uint32_t>(read_uint(j["retry_after_s"], path + ".retry_after_s", 0, 3600));
  if (j.contains("retry_after_ms"))
    in.retry_after_ms = static_cast<uint32_t>(read_uint(j["retry_after_ms"], path + ".retry_after_ms", 0, 3'600'000));
  if (j.contains("after_events"))
    in.after_events = static_cast<uint32_t>(read_uint(j["after_events"], path + ".after_events", 0, stream_events_max_max));
  if (j.contains("dimensions"))
    in.dimensions =
        static_cast<uint32_t>(read_uint(j["dimensions"], path + ".dimensions", 1, embedding_dimensions_max));
  if (in.kind == fault_kind::dimensions && !j.contains("dimensions"))
    throw invalid(path + ".dimensions", "is required for the dimensions fault");
  return in;
}

fault_spec read_faults(const json& j, const std::string& path) {
  require_keys(j, path, {"latency_ms", "drip_ms", "inject"});
  fault_spec f;
  if (j.contains("latency_ms")) f.latency = read_latency(j["latency_ms"], path + ".latency_ms");
  if (j.contains("drip_ms")) f.drip_ms = static_cast<uint32_t>(read_uint(j["drip_ms"], path + ".drip_ms", 0, drip_ms_max));
  if (j.contains("inject")) {
    const json& list = j["inject"];
    if (!list.is_array() || list.size() > injections_max)
      throw invalid(path + ".inject", "must be an array of at most " + std::to_string(injections_max));
    f.inject.emplace();
    for (size_t i = 0; i < list.size(); ++i)
      f.inject->push_back(read_injection(list[i], path + ".inject[" + std::to_string(i) + "]"));
  }
  return f;
}

reply_spec read_reply(const json& j, const std::string& path) {
  require_keys(j, path, {"text", "tool_calls"});
  reply_spec r;
  if (j.contains("text")) r.text = read_string(j["text"], path + ".text", reply_text_bytes_max);
  if (!j.contains("tool_calls")) return r;
  const json& calls = j["tool_calls"];
  if (!calls.is_array() || calls.size() > tool_calls_max)
    throw invalid(path + ".tool_calls", "must be an array of at most " + std::to_string(tool_calls_max));
  for (size_t i = 0; i < calls.size(); ++i) {
    const std::string sub = path + ".tool_calls[" + std::to_string(i) + "]";
    require_keys(calls[i], sub, {"name", "arguments"});
    tool_call_spec call;
    call.name = read_string(calls[i].value("name", json{}), sub + ".name", 64);
    if (call.name.empty()) throw invalid(sub + ".name", "must not be empty");
    if (calls[i].contains("arguments")) call.arguments = calls[i]["arguments"];
    // Every vendor carries tool arguments as a JSON object.
    if (!call.arguments.is_object()) throw invalid(sub + ".arguments", "must be an object");
    if (call.arguments.dump().size() > reply_text_bytes_max) throw invalid(sub + ".arguments", "too large");
    r.tool_calls.push_back(std::move(call));
  }
  return r;
}

match_spec read_match(const json& j, const std::string& path) {
  require_keys(j, path, {"contains", "regex", "tools", "tool_result", "tool_result_contains", "api", "kind"});
  match_spec m;
  if (j.contains("contains")) m.contains = read_string(j["contains"], path + ".contains", pattern_bytes_max);
  if (j.contains("regex")) {
    auto source = read_string(j["regex"], path + ".regex", pattern_bytes_max);
    try {
      m.regex.emplace(source, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      throw invalid(path + ".regex", std::string{"does not compile: "} + e.what());
    }
  }
  if (j.contains("tools")) m.tools = read_bool(j["tools"], path + ".tools");
  if (j.contains("tool_result")) m.tool_result = read_bool(j["tool_result"], path + ".tool_result");
  if (j.contains("tool_result_contains"))
    m.tool_result_contains = read_string(j["tool_result_contains"], path + ".tool_result_contains", pattern_bytes_max);
  if (j.contains("api")) {
    m.api = read_string(j["api"], path + ".api", 16);
    if (*m.api != "openai" && *m.api != "anthropic" && *m.api != "gemini" && *m.api != "openrouter")
      throw invalid(path + ".api", "must be one of openai, anthropic, gemini, openrouter");
  }
  if (j.contains("kind")) {
    m.kind = read_string(j["kind"], path + ".kind", 16);
    if (m.kind != "chat" && m.kind != "embeddings") throw invalid(path + ".kind", "must be chat or embeddings");
  }
  return m;
}

rule read_rule(const json& j, const std::string& path) {
  require_keys(j, path, {"name", "match", "reply", "usage", "faults"});
  rule r;
  r.name = j.contains("name") ? read_string(j["name"], path + ".name", 128) : path;
  if (j.contains("match")) r.match = read_match(j["match"], path + ".match");
  if (j.contains("reply")) r.reply = read_reply(j["reply"], path + ".reply");
  if (j.contains("faults")) r.faults = read_faults(j["faults"], path + ".faults");
  if (j.contains("usage")) {
    const json& u = j["usage"];
    require_keys(u, path + ".usage", {"prompt_tokens", "completion_tokens"});
    if (u.contains("prompt_tokens"))
      r.usage.prompt_tokens = static_cast<int64_t>(read_uint(u["prompt_tokens"], path + ".usage.prompt_tokens", 0, 1 << 30));
    if (u.contains("completion_tokens"))
      r.usage.completion_tokens =
          static_cast<int64_t>(read_uint(u["completion_tokens"], path + ".usage.completion_tokens", 0, 1 << 30));
  }
  return r;
}

// Upper bound of the events one reply streams (the largest vendor framing:
// a start, one event per fragment, a start and stop per block, the tail).
size_t stream_events_bound(const reply_spec& r, uint32_t chunk_chars) {
  size_t events = 8 + (r.text.size() + chunk_chars - 1) / chunk_chars;
  for (const auto& call : r.tool_calls) events += 3 + (call.arguments.dump().size() + chunk_chars - 1) / chunk_chars;
  return events;
}

void read_top_level(const json& j, scenario& s) {
  require_keys(j, "scenario", {"name", "seed", "api_key", "created_unix", "chunk_chars", "embedding_dimensions",
                               "compress_responses", "limits", "default_reply", "faults", "rules"});
  if (j.contains("name")) s.name = read_string(j["name"], "name", 128);
  if (j.contains("seed")) s.seed = read_uint(j["seed"], "seed", 0, UINT64_MAX);
  if (j.contains("api_key")) s.api_key = read_string(j["api_key"], "api_key", 256);
  if (j.contains("compress_responses")) s.compress_responses = read_bool(j["compress_responses"], "compress_responses");
  if (j.contains("created_unix")) s.created_unix = static_cast<int64_t>(read_uint(j["created_unix"], "created_unix", 0, 1ull << 40));
  if (j.contains("chunk_chars")) s.chunk_chars = static_cast<uint32_t>(read_uint(j["chunk_chars"], "chunk_chars", 1, 65536));
  if (j.contains("embedding_dimensions"))
    s.embedding_dimensions =
        static_cast<uint32_t>(read_uint(j["embedding_dimensions"], "embedding_dimensions", 1, embedding_dimensions_max));
  if (j.contains("limits")) {
    const json& l = j["limits"];
    require_keys(l, "limits",
                 {"threads", "pending_connections_max", "body_bytes_max", "stream_events_max", "keep_alive_idle_s"});
    if (l.contains("threads")) s.threads = static_cast<uint32_t>(read_uint(l["threads"], "limits.threads", 1, threads_max));
    if (l.contains("pending_connections_max"))
      s.pending_connections_max = static_cast<uint32_t>(
          read_uint(l["pending_connections_max"], "limits.pending_connections_max", 1, pending_connections_max_max));
    if (l.contains("body_bytes_max"))
      s.body_bytes_max = read_uint(l["body_bytes_max"], "limits.body_bytes_max", 1024, body_bytes_max_max);
    if (l.contains("stream_events_max"))
      s.stream_events_max =
          static_cast<uint32_t>(read_uint(l["stream_events_max"], "limits.stream_events_max", 16, stream_events_max_max));
    if (l.contains("keep_alive_idle_s"))
      s.keep_alive_idle_s =
          static_cast<uint32_t>(read_uint(l["keep_alive_idle_s"], "limits.keep_alive_idle_s", 1, keep_alive_idle_s_max));
  }
  if (j.contains("default_reply")) s.default_reply = read_reply(j["default_reply"], "default_reply");
  if (j.contains("faults")) s.faults = read_faults(j["faults"], "faults");
}

void read_rules(const json& j, scenario& s) {
  if (stream_events_bound(s.default_reply, s.chunk_chars) > s.stream_events_max)
    throw invalid("default_reply", "streams more than limits.stream_events_max events; raise chunk_chars");
  if (!j.contains("rules")) return;
  const json& rules = j["rules"];
  if (!rules.is_array() || rules.size() > rules_max)
    throw invalid("rules", "must be an array of at most " + std::to_string(rules_max));
  for (size_t i = 0; i < rules.size(); ++i) {
    const std::string path = "rules[" + std::to_string(i) + "]";
    s.rules.push_back(read_rule(rules[i], path));
    if (stream_events_bound(s.rules.back().reply, s.chunk_chars) > s.stream_events_max)
      throw invalid(path + ".reply", "streams more than limits.stream_events_max events; raise chunk_chars");
  }
}

bool text_matches(const match_spec& m, const conversation& c) {
  if (m.contains && c.last_user_text.find(*m.contains) == std::string::npos) return false;
  if (m.regex) {
    if (c.last_user_text.size() > regex_input_bytes_max) return false;
    if (!std::regex_search(c.last_user_text, *m.regex)) return false;
  }
  if (m.tool_result_contains && c.last_tool_result.find(*m.tool_result_contains) == std::string::npos) return false;
  return true;
}

bool rule_matches(const match_spec& m, const conversation& c) {
  if (m.kind != c.kind) return false;
  if (m.api && *m.api != c.api) return false;
  if (m.tools && *m.tools != c.has_tools) return false;
  if (m.tool_result && *m.tool_result != c.last_is_tool_result) return false;
  return text_matches(m, c);
}

}  // namespace scenario_detail

load_result parse_scenario(std::string_view text) {
  if (text.size() > scenario_bytes_max)
    return {nullptr, "scenario: larger than " + std::to_string(scenario_bytes_max) + " bytes"};
  auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return {nullptr, "scenario: not valid JSON"};
  auto s = std::make_shared<scenario>();
  try {
    scenario_detail::read_top_level(j, *s);
    scenario_detail::read_rules(j, *s);
  } catch (const scenario_detail::invalid& e) {
    return {nullptr, e.what()};
  } catch (const nlohmann::json::exception& e) {
    return {nullptr, std::string{"scenario: "} + e.what()};
  }
  return {std::move(s), {}};
}

// Not agentgraph's read_regular_file: the mock links nothing of agentgraph
// (apps/CMakeLists.txt), so it keeps this small read of its own. One byte
// past the bound is read so parse_scenario can refuse an oversize file.
load_result load_scenario_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {nullptr, path + ": cannot open"};
  std::string text;
  text.resize(scenario_bytes_max + 1);
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  // A read error is not a short file: never parse what was half read.
  if (in.bad()) return {nullptr, path + ": read failed"};
  text.resize(static_cast<size_t>(in.gcount()));
  auto r = parse_scenario(text);
  if (!r.value) r.error = path + ": " + r.error;
  return r;
}

int match_rule(const scenario& s, const conversation& c) {
  for (size_t i = 0; i < s.rules.size(); ++i)
    if (scenario_detail::rule_matches(s.rules[i].match, c)) return static_cast<int>(i);
  return -1;
}

resolved_faults resolve_faults(const scenario& s, int index) {
  resolved_faults r;
  const fault_spec* rule_faults = index >= 0 ? &s.rules[static_cast<size_t>(index)].faults : nullptr;
  auto pick = [&](auto member) -> decltype(auto) {
    return (rule_faults && (rule_faults->*member)) ? (rule_faults->*member) : (s.faults.*member);
  };
  if (const auto& l = pick(&fault_spec::latency)) r.latency = *l;
  if (const auto& d = pick(&fault_spec::drip_ms)) r.drip_ms = *d;
  if (const auto& in = pick(&fault_spec::inject)) r.inject = *in;
  r.inject_owner = (rule_faults && rule_faults->inject) ? index : -1;
  return r;
}

}  // namespace agentgraph::mock_llm

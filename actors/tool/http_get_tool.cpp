#include "actors/tool/http_get_tool.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <memory>

#include "actors/tool/blocking_tool.hpp"
#include "actors/tool/tool_common.hpp"
#include "net/http_fetch.hpp"
#include "runtime/error.hpp"

namespace agentgraph {

namespace http_get_tool_detail {

using url_ptr = std::unique_ptr<CURLU, decltype(&curl_url_cleanup)>;

// One part of a parsed URL, or nothing when the URL lacks it.
std::optional<std::string> url_part(CURLU* u, CURLUPart part) {
  char* text = nullptr;
  if (curl_url_get(u, part, &text, 0) != CURLUE_OK || text == nullptr)
    return std::nullopt;
  std::string out{text};
  curl_free(text);
  return out;
}

std::string normalize_host(std::string host) {
  std::transform(host.begin(), host.end(), host.begin(), [](unsigned char c) {
    return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  });
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  return host;
}

bool host_allowed(const std::string& host, const std::vector<std::string>& allowed) {
  return std::any_of(allowed.begin(), allowed.end(),
                     [&](const std::string& a) { return normalize_host(a) == host; });
}

// Control characters would be cut (NUL) or reinterpreted by the C parser,
// so the string it checks would differ from the one the model sent.
bool has_control_char(std::string_view s) {
  return std::any_of(s.begin(), s.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

caf::error fetch_failure(const caf::error& err, const std::string& host) {
  auto code = errc_of(err);
  if (code == errc::timeout)
    return make_error(errc::timeout, "GET from '" + host + "': " + error_context(err));
  if (code == errc::limit_exceeded)
    return make_error(errc::tool_error, "GET from '" + host + "': " + error_context(err));
  if (code == errc::invalid_argument)
    return err;
  return make_error(errc::tool_error, "GET from '" + host + "' failed: " + describe(err));
}

}  // namespace http_get_tool_detail

tool_spec http_get_spec(const std::string& name) {
  tool_spec spec;
  spec.name = name;
  spec.description = "Fetches a URL with HTTP GET and returns the status, content type and body. "
                     "Only some hosts are allowed; redirects are not followed.";
  spec.params = {{"url", "string", "absolute http or https URL", true}};
  spec.deterministic = false;  // remote content changes
  return spec;
}

caf::expected<checked_url> check_url(std::string_view url,
                                     const std::vector<std::string>& allowed_hosts) {
  using namespace http_get_tool_detail;
  if (url.size() > http_get_url_chars_max)
    return make_error(errc::invalid_argument, "URL is " + std::to_string(url.size())
                                                + " characters; the limit is "
                                                + std::to_string(http_get_url_chars_max));
  if (url.empty() || has_control_char(url))
    return make_error(errc::invalid_argument, "URL is empty or contains control characters");
  url_ptr u{curl_url(), &curl_url_cleanup};
  if (!u)
    return make_error(errc::internal, "curl_url failed");
  std::string text{url};
  if (auto rc = curl_url_set(u.get(), CURLUPART_URL, text.c_str(), 0); rc != CURLUE_OK)
    return make_error(errc::invalid_argument,
                      "malformed URL: " + std::string{curl_url_strerror(rc)});
  auto scheme = url_part(u.get(), CURLUPART_SCHEME);
  if (!scheme || (*scheme != "http" && *scheme != "https"))
    return make_error(errc::sandbox_violation,
                      "scheme '" + scheme.value_or("") + "' is not allowed; use http or https");
  // Credentials in a URL come from the model, not the operator: refuse them
  // rather than send them on.
  if (url_part(u.get(), CURLUPART_USER) || url_part(u.get(), CURLUPART_PASSWORD))
    return make_error(errc::sandbox_violation, "URLs with user information are refused");
  auto host = url_part(u.get(), CURLUPART_HOST);
  auto full = url_part(u.get(), CURLUPART_URL);
  if (!host || !full)
    return make_error(errc::invalid_argument, "URL has no host");
  auto h = normalize_host(*host);
  if (!host_allowed(h, allowed_hosts))
    return make_error(errc::sandbox_violation, "host '" + h + "' is not in allowed_hosts");
  return checked_url{std::move(*full), std::move(h)};
}

caf::expected<Value> run_http_get(const tool_config& cfg, std::string_view url) {
  auto checked = check_url(url, cfg.allowed_hosts);
  if (!checked)
    return std::move(checked.error());
  net::http_fetch_limits limits{cfg.connect_timeout, cfg.timeout, cfg.body_bytes_max};
  auto resp = net::http_fetch(checked->url, limits);
  if (!resp)
    return http_get_tool_detail::fetch_failure(resp.error(), checked->host);
  Value out = Value::object();
  out["status"] = static_cast<int64_t>(resp->status);
  out["content_type"] = std::move(resp->content_type);
  out["body"] = std::move(resp->body);
  return out;
}

tool_actor spawn_http_get_tool(caf::actor_system& sys, const tool_config& cfg,
                               tool_metrics metrics) {
  blocking_tool_config bc;
  bc.metrics = std::move(metrics);
  bc.spec = http_get_spec(cfg.name);
  // curl enforces cfg.timeout itself and reports it precisely; the worker
  // deadline is only the backstop behind it.
  bc.worker_timeout = cfg.timeout + tool_reply_grace;
  bc.job = [cfg](const Value& args) { return run_http_get(cfg, args.find("url")->as_string()); };
  return spawn_blocking_tool(sys, std::move(bc));
}

}  // namespace agentgraph

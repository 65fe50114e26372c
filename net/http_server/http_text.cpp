// The pure halves of http_server: error bodies, SSE framing, token checks.
#include <cctype>

#include "net/http_server/http_server.hpp"
#include "runtime/value.hpp"

namespace agentgraph::net {

std::string json_error_body(std::string_view code, std::string_view message) {
  Value inner = Value::object();
  inner["code"] = Value{code};
  inner["message"] = Value{message};
  Value outer = Value::object();
  outer["error"] = std::move(inner);
  return outer.to_json();
}

server_response json_response(int status, std::string body) {
  server_response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

server_response json_error(int status, std::string_view code, std::string_view message) {
  return json_response(status, json_error_body(code, message));
}

std::string format_sse_event(const server_sse_event& e) {
  std::string out;
  if (!e.event.empty())
    out += "event: " + e.event + "\n";
  // A data line ends at CR or LF, so each line of the payload gets its own
  // `data:` field; the client joins them with "\n".
  size_t begin = 0;
  for (;;) {
    size_t end = e.data.find_first_of("\r\n", begin);
    out += "data: ";
    out.append(e.data, begin, end == std::string::npos ? std::string::npos : end - begin);
    out += "\n";
    if (end == std::string::npos)
      break;
    begin = end + ((e.data[end] == '\r' && end + 1 < e.data.size() && e.data[end + 1] == '\n')
                     ? 2
                     : 1);
  }
  out += "\n";
  return out;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  // Every byte of the longer string is visited whatever the contents; the
  // length difference is folded into the result rather than returned early.
  const size_t n = a.size() > b.size() ? a.size() : b.size();
  unsigned diff = a.size() == b.size() ? 0u : 1u;
  for (size_t i = 0; i < n; ++i) {
    auto x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0u;
    auto y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0u;
    diff |= x ^ y;
  }
  return diff == 0;
}

std::string_view bearer_token(std::string_view authorization) {
  constexpr std::string_view scheme = "bearer";
  if (authorization.size() <= scheme.size() || authorization[scheme.size()] != ' ')
    return {};
  for (size_t i = 0; i < scheme.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(authorization[i])) != scheme[i])
      return {};
  auto token = authorization.substr(scheme.size() + 1);
  while (!token.empty() && token.front() == ' ')
    token.remove_prefix(1);
  while (!token.empty() && (token.back() == ' ' || token.back() == '\t'))
    token.remove_suffix(1);
  return token;
}

std::string_view status_code_word(int status) {
  switch (status) {
    case 400:
      return "invalid_argument";
    case 401:
      return "unauthorized";
    case 404:
      return "not_found";
    case 405:
      return "method_not_allowed";
    case 408:
      return "timeout";
    case 409:
      return "conflict";
    case 413:
      return "body_too_large";
    case 431:
      return "header_too_large";
    case 501:
      return "unsupported";
    case 429:
      return "overloaded";
    case 503:
      return "unavailable";
    default:
      return status >= 500 ? "internal" : "http_error";
  }
}

std::string_view status_reason(int status) {
  switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Unknown";
  }
}

int hex_value(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

bool percent_decode_path(std::string_view in, std::string& out) {
  out.clear();
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out += in[i];
      continue;
    }
    if (i + 2 >= in.size())
      return false;
    int hi = hex_value(in[i + 1]);
    int lo = hex_value(in[i + 2]);
    if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
      return false;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return true;
}

bool split_target(std::string_view target, std::string& path, std::string& query) {
  auto q = target.find('?');
  auto raw = target.substr(0, q);
  query = q == std::string_view::npos ? std::string{} : std::string{target.substr(q + 1)};
  return !raw.empty() && raw.front() == '/' && percent_decode_path(raw, path);
}

std::string http_url(std::string_view host, uint16_t port) {
  std::string out = "http://";
  if (host.find(':') != std::string_view::npos) {
    out += '[';
    out += host;
    out += ']';
  } else {
    out += host;
  }
  out += ':';
  out += std::to_string(port);
  return out;
}

}  // namespace agentgraph::net

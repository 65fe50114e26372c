#include "net/http_client_transfer.hpp"

#include <algorithm>
#include <cctype>
#include <exception>
#include <memory>

#include "runtime/error.hpp"

namespace agentgraph::net {

namespace http_client_transfer_detail {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size()
         && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
              return std::tolower(static_cast<unsigned char>(x))
                     == std::tolower(static_cast<unsigned char>(y));
            });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && is_space(s.back()))
    s.remove_suffix(1);
  return s;
}

// RFC 9110 token characters, the only ones allowed in a field name or method.
bool is_token(std::string_view s) {
  constexpr std::string_view extra = "!#$%&'*+-.^_`|~";
  return !s.empty() && std::all_of(s.begin(), s.end(), [&](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || extra.find(c) != std::string_view::npos;
  });
}

bool has_line_break(std::string_view s) {
  return s.find_first_of(std::string_view{"\r\n\0", 3}) != std::string_view::npos;
}

caf::error invalid(std::string what) {
  return make_error(errc::invalid_argument, "invalid_request: " + std::move(what));
}

caf::error validate_url(const std::string& url) {
  // A provider sends every request to the same URL: remember the last one
  // this thread found valid (validity depends on the text alone) and skip
  // curl's parse, a handful of allocations, when it comes again.
  thread_local std::string last_valid;
  if (!url.empty() && url == last_valid)
    return {};
  std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> u{curl_url(), &curl_url_cleanup};
  if (!u)
    return make_error(errc::io_error, "curl_url failed");
  // No default scheme: a URL without one is a caller's mistake.
  if (curl_url_set(u.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK)
    return invalid("malformed URL");
  char* scheme = nullptr;
  if (curl_url_get(u.get(), CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK)
    return invalid("URL without scheme");
  std::string s = scheme;
  curl_free(scheme);
  if (s != "http" && s != "https")
    return invalid("scheme '" + s + "' (only http and https)");
  last_valid = url;
  return {};
}

caf::error validate_headers(const http_headers& headers) {
  for (std::size_t i = 0; i < headers.size(); ++i) {
    const auto& [name, value] = headers[i];
    // The name is safe to quote; the value may be an API key and never is.
    if (!is_token(name))
      return invalid("request header #" + std::to_string(i) + " has an invalid name");
    if (has_line_break(value))
      return invalid("request header '" + name + "' value contains a line break or NUL");
  }
  return {};
}

}  // namespace http_client_transfer_detail

const std::string* find_header(const http_headers& headers, std::string_view name) {
  for (const auto& [key, value] : headers)
    if (http_client_transfer_detail::iequals(key, name))
      return &value;
  return nullptr;
}

const char* to_string(transport_error kind) {
  switch (kind) {
    case transport_error::none: return "none";
    case transport_error::connect_timeout: return "connect_timeout";
    case transport_error::total_timeout: return "total_timeout";
    case transport_error::stream_idle_timeout: return "stream_idle_timeout";
    case transport_error::connect_refused: return "connect_refused";
    case transport_error::dns: return "dns";
    case transport_error::connection_reset: return "connection_reset";
    case transport_error::tls: return "tls";
    case transport_error::protocol: return "protocol";
    case transport_error::response_too_large: return "response_too_large";
    case transport_error::headers_too_large: return "headers_too_large";
    case transport_error::invalid_request: return "invalid_request";
    case transport_error::cancelled: return "cancelled";
    case transport_error::callback_failed: return "callback_failed";
    case transport_error::other: return "other";
  }
  return "unknown";
}

errc errc_for(transport_error kind) {
  switch (kind) {
    case transport_error::none: return errc::none;
    case transport_error::connect_timeout:
    case transport_error::total_timeout:
    case transport_error::stream_idle_timeout: return errc::timeout;
    case transport_error::connect_refused:
    case transport_error::dns:
    case transport_error::connection_reset:
    case transport_error::tls: return errc::unavailable;
    case transport_error::protocol: return errc::provider_error;
    case transport_error::response_too_large:
    case transport_error::headers_too_large: return errc::limit_exceeded;
    case transport_error::invalid_request: return errc::invalid_argument;
    case transport_error::cancelled: return errc::cancelled;
    case transport_error::callback_failed: return errc::internal;
    case transport_error::other: return errc::io_error;
  }
  return errc::internal;
}

namespace http_client_transfer_detail {

http_client_counters atomic_counters::snapshot() const {
  http_client_counters out;
  out.requests = requests.load(std::memory_order_relaxed);
  out.rejected_overloaded = rejected_overloaded.load(std::memory_order_relaxed);
  out.responses = responses.load(std::memory_order_relaxed);
  out.connections_opened = connections_opened.load(std::memory_order_relaxed);
  out.bytes_in = bytes_in.load(std::memory_order_relaxed);
  out.bytes_out = bytes_out.load(std::memory_order_relaxed);
  for (std::size_t i = 0; i < transport_error_count; ++i)
    out.errors[i] = errors[i].load(std::memory_order_relaxed);
  return out;
}

transfer::transfer(request_id id_in, http_request req_in, http_handlers h_in,
                   const http_client_limits& limits, atomic_counters& counters_in)
  : id(id_in),
    req(std::move(req_in)),
    handlers(std::move(h_in)),
    response_bytes_max(limits.response_bytes_max),
    header_bytes_max(limits.header_bytes_max),
    idle_timeout(req.stream ? req.stream_idle_timeout.value_or(limits.stream_idle_timeout)
                            : std::chrono::milliseconds{0}),
    counters(counters_in) {
}

transfer::~transfer() {
  // The easy handle first: it still points at the header list.
  if (easy != nullptr)
    curl_easy_cleanup(easy);
  curl_slist_free_all(header_list);
}

caf::error validate(const http_request& req) {
  // Upper-case only, to catch "post" typos that servers answer with 405.
  if (req.method.empty() || req.method.size() > 16
      || !std::all_of(req.method.begin(), req.method.end(),
                      [](char c) { return c >= 'A' && c <= 'Z'; }))
    return invalid("method must be an upper-case token like GET or POST");
  if (auto err = validate_url(req.url))
    return err;
  if (auto err = validate_headers(req.headers))
    return err;
  if (req.total_timeout && req.total_timeout->count() <= 0)
    return invalid("total_timeout override must be positive");
  if (req.stream_idle_timeout && req.stream_idle_timeout->count() <= 0)
    return invalid("stream_idle_timeout override must be positive");
  return {};
}

std::string noproxy_list(const char* env_value) {
  std::string env = env_value != nullptr ? std::string{trim(env_value)} : std::string{};
  if (env == "*")
    return env;
  constexpr std::string_view loopback = "localhost,127.0.0.1,::1";
  return env.empty() ? std::string{loopback} : env + "," + std::string{loopback};
}

std::optional<long> parse_status_line(std::string_view line) {
  if (line.substr(0, 5) != "HTTP/")
    return std::nullopt;
  auto space = line.find(' ');
  if (space == std::string_view::npos)
    return std::nullopt;
  auto code = line.substr(space + 1, 3);
  if (code.size() != 3 || !std::all_of(code.begin(), code.end(), [](char c) {
        return c >= '0' && c <= '9';
      }))
    return std::nullopt;
  return std::stol(std::string{code});
}

std::optional<std::pair<std::string, std::string>> parse_field(std::string_view line) {
  auto colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0)
    return std::nullopt;
  std::string name{line.substr(0, colon)};
  std::transform(name.begin(), name.end(), name.begin(), [](char c) {
    return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  });
  return std::pair{std::move(name), std::string{trim(line.substr(colon + 1))}};
}

int http_version_of(long curl_version) {
  switch (curl_version) {
    case CURL_HTTP_VERSION_1_0: return 10;
    case CURL_HTTP_VERSION_1_1: return 11;
    case CURL_HTTP_VERSION_2_0: return 20;
    case CURL_HTTP_VERSION_3: return 30;
    default: return 0;
  }
}

transport_error classify_curl(CURLcode rc, bool request_sent) {
  switch (rc) {
    case CURLE_OPERATION_TIMEDOUT:
      return request_sent ? transport_error::total_timeout : transport_error::connect_timeout;
    case CURLE_COULDNT_CONNECT: return transport_error::connect_refused;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY: return transport_error::dns;
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2_STREAM: return transport_error::connection_reset;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_USE_SSL_FAILED: return transport_error::tls;
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_HTTP2:
    case CURLE_BAD_CONTENT_ENCODING:
    case CURLE_TOO_MANY_REDIRECTS: return transport_error::protocol;
    case CURLE_FILESIZE_EXCEEDED: return transport_error::response_too_large;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL: return transport_error::invalid_request;
    default: return transport_error::other;
  }
}

transport_error classify(CURLcode rc, abort_reason aborted, bool request_sent) {
  // Our callbacks return 0 to stop a transfer, which curl reports as a
  // write error; the recorded reason is the real cause.
  if (rc == CURLE_WRITE_ERROR || rc == CURLE_ABORTED_BY_CALLBACK) {
    switch (aborted) {
      case abort_reason::response_too_large: return transport_error::response_too_large;
      case abort_reason::headers_too_large: return transport_error::headers_too_large;
      case abort_reason::callback_failed: return transport_error::callback_failed;
      case abort_reason::none: break;
    }
  }
  return classify_curl(rc, request_sent);
}

http_result failure(transport_error kind, std::string_view detail) {
  std::string context = to_string(kind);
  context += ": ";
  context += detail;
  return http_result{make_error(errc_for(kind), std::move(context)), kind};
}

std::string failure_detail(const transfer& t, transport_error kind, CURLcode rc) {
  switch (kind) {
    case transport_error::response_too_large:
      return "response body exceeds response_bytes_max (" + std::to_string(t.response_bytes_max)
             + " bytes)";
    case transport_error::headers_too_large:
      return "response headers exceed header_bytes_max (" + std::to_string(t.header_bytes_max)
             + " bytes)";
    case transport_error::callback_failed:
      return "on_headers or on_data threw";
    default:
      // curl's messages name host and port at most, never request headers.
      return t.errbuf[0] != '\0' ? std::string{t.errbuf} : std::string{curl_easy_strerror(rc)};
  }
}

// --- curl callbacks (I/O thread, inside curl_multi_perform) ---

bool notify_headers(transfer& t) {
  if (!t.handlers.on_headers)
    return true;
  try {
    t.handlers.on_headers(t.response.status, t.response.headers);
    return true;
  } catch (...) {
    t.aborted = abort_reason::callback_failed;
    return false;
  }
}

// One header line without its CRLF. Each response block starts with a
// status line; interim 1xx blocks are dropped and the blank line that ends
// the final block fires on_headers. Lines after that are trailers: ignored.
bool handle_header_line(transfer& t, std::string_view line) {
  if (t.headers_done)
    return true;
  if (auto status = parse_status_line(line)) {
    t.response.status = *status;
    t.response.headers.clear();
    return true;
  }
  if (line.empty()) {
    if (t.response.status < 200)
      return true;
    t.headers_done = true;
    return notify_headers(t);
  }
  if ((line.front() == ' ' || line.front() == '\t') && !t.response.headers.empty()) {
    // Obsolete line folding: the line continues the previous value.
    t.response.headers.back().second += ' ';
    t.response.headers.back().second += trim(line);
    return true;
  }
  if (auto field = parse_field(line))
    t.response.headers.push_back(std::move(*field));
  return true;
}

size_t on_header_bytes(char* data, size_t size, size_t count, void* user) {
  auto& t = *static_cast<transfer*>(user);
  const size_t n = size * count;
  t.last_byte = clock::now();
  t.counters.bytes_in.fetch_add(n, std::memory_order_relaxed);
  t.header_bytes += n;
  if (t.header_bytes > t.header_bytes_max) {
    t.aborted = abort_reason::headers_too_large;
    return 0;
  }
  std::string_view line{data, n};
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r'))
    line.remove_suffix(1);
  return handle_header_line(t, line) ? n : 0;
}

size_t on_body_bytes(char* data, size_t size, size_t count, void* user) {
  auto& t = *static_cast<transfer*>(user);
  const size_t n = size * count;
  t.last_byte = clock::now();
  t.counters.bytes_in.fetch_add(n, std::memory_order_relaxed);
  if (t.body_bytes + n > t.response_bytes_max) {
    t.aborted = abort_reason::response_too_large;
    return 0;
  }
  t.body_bytes += n;
  if (!t.req.stream) {
    t.response.body.append(data, n);
    return n;
  }
  try {
    t.handlers.on_data(std::string_view{data, n});
    return n;
  } catch (...) {
    t.aborted = abort_reason::callback_failed;
    return 0;
  }
}

int on_prereq(void* user, char*, char*, int, int) {
  static_cast<transfer*>(user)->request_sent = true;
  return CURL_PREREQFUNC_OK;
}

// --- option setup (submitting thread) ---

// Collects the first failing option instead of checking each call site.
struct option_setter {
  CURL* h;
  CURLcode rc = CURLE_OK;
  template <class T>
  void operator()(CURLoption opt, T value) {
    if (rc == CURLE_OK)
      rc = curl_easy_setopt(h, opt, value);
  }
};

void set_transport_options(option_setter& set, const transfer& t,
                           const http_client_limits& limits, const std::string& noproxy) {
  set(CURLOPT_URL, t.req.url.c_str());
  set(CURLOPT_PROTOCOLS_STR, "http,https");
  set(CURLOPT_FOLLOWLOCATION, 0L);
  // Signals (SIGALRM for DNS timeouts) are unsafe in a threaded process.
  set(CURLOPT_NOSIGNAL, 1L);
  set(CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(limits.connect_timeout.count()));
  auto total = t.req.total_timeout.value_or(limits.total_timeout);
  set(CURLOPT_TIMEOUT_MS, static_cast<long>(total.count()));
  // Refuses a body whose Content-Length already announces too much; the
  // write callback bounds chunked and compressed bodies.
  set(CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(limits.response_bytes_max));
  set(CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_2TLS));
  // https: wait for a connection that may multiplex (HTTP/2, known after
  // ALPN) instead of opening a parallel one. Not for http://, where curl
  // learns "no multiplexing" only from the first response, so concurrent
  // requests would queue behind it.
  set(CURLOPT_PIPEWAIT, t.req.url.compare(0, 8, "https://") == 0 ? 1L : 0L);
  // CURLOPT_PROXY stays unset so curl reads http_proxy & co. from the
  // environment; only the no-proxy list is ours (see noproxy_list).
  set(CURLOPT_NOPROXY, noproxy.c_str());
  set(CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
  // Kept-alive connections idle between LLM calls: probe them so a dead
  // peer is noticed before a request is written into it.
  set(CURLOPT_TCP_KEEPALIVE, 1L);
  set(CURLOPT_TCP_KEEPIDLE, 30L);
  set(CURLOPT_TCP_KEEPINTVL, 15L);
  // Below the common 60-120 s server idle limits, so reuse rarely races a close.
  set(CURLOPT_MAXAGE_CONN, 55L);
  // Whole bodies: every encoding curl can decode. Streams: none. A server
  // (or proxy) that compresses an event stream may hold the compressed
  // bytes until it ends (cpp-httplib's brotli and gzip do): the caller
  // would see no event before the last, and a stream cut halfway would look
  // like one cut before any event. SSE events are small; take them plain.
  set(CURLOPT_ACCEPT_ENCODING, t.req.stream ? "identity" : "");
  set(CURLOPT_USERAGENT, "agentgraph/0.1");
}

void set_method_and_body(option_setter& set, const http_request& req) {
  if (req.method == "HEAD") {
    set(CURLOPT_NOBODY, 1L);
    return;
  }
  if (req.method == "GET" && req.body.empty()) {
    set(CURLOPT_HTTPGET, 1L);
    return;
  }
  // POSTFIELDS does not copy: req.body lives in the transfer until cleanup.
  set(CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
  set(CURLOPT_POSTFIELDS, req.body.data());
  if (req.method != "POST")
    set(CURLOPT_CUSTOMREQUEST, req.method.c_str());
}

caf::error build_header_list(transfer& t) {
  bool has_expect = false;
  for (const auto& [name, value] : t.req.headers) {
    has_expect = has_expect || iequals(name, "expect");
    // "Name;" is curl's spelling for a header with an empty value.
    std::string line = value.empty() ? name + ";" : name + ": " + value;
    auto* next = curl_slist_append(t.header_list, line.c_str());
    if (next == nullptr)
      return make_error(errc::io_error, "curl_slist_append failed");
    t.header_list = next;
  }
  if (!has_expect) {
    // 100-continue costs a round trip (or a 1 s stall against servers that
    // ignore it) for no gain on API calls.
    auto* next = curl_slist_append(t.header_list, "Expect:");
    if (next == nullptr)
      return make_error(errc::io_error, "curl_slist_append failed");
    t.header_list = next;
  }
  return {};
}

caf::error prepare(transfer& t, const http_client_limits& limits, const std::string& noproxy) {
  if (t.easy == nullptr)
    return make_error(errc::io_error, "curl_easy_init failed");
  if (auto err = build_header_list(t))
    return err;
  option_setter set{t.easy};
  set_transport_options(set, t, limits, noproxy);
  set_method_and_body(set, t.req);
  set(CURLOPT_HTTPHEADER, t.header_list);
  set(CURLOPT_ERRORBUFFER, t.errbuf);
  set(CURLOPT_PRIVATE, static_cast<void*>(&t));
  set(CURLOPT_HEADERFUNCTION, &on_header_bytes);
  set(CURLOPT_HEADERDATA, static_cast<void*>(&t));
  set(CURLOPT_WRITEFUNCTION, &on_body_bytes);
  set(CURLOPT_WRITEDATA, static_cast<void*>(&t));
  set(CURLOPT_PREREQFUNCTION, &on_prereq);
  set(CURLOPT_PREREQDATA, static_cast<void*>(&t));
  if (set.rc != CURLE_OK)
    return make_error(errc::internal, std::string{"curl_easy_setopt failed: "}
                                        + curl_easy_strerror(set.rc));
  return {};
}

}  // namespace http_client_transfer_detail

}  // namespace agentgraph::net

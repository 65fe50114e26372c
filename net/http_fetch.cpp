#include "net/http_fetch.hpp"

#include <curl/curl.h>

#include <memory>

#include "net/curl_global.hpp"
#include "runtime/error.hpp"

namespace agentgraph::net {

namespace http_fetch_detail {

struct body_sink {
  std::string body;
  uint64_t bytes_max = 0;
  bool overflow = false;
};

// Returning less than asked makes curl abort with CURLE_WRITE_ERROR; the
// flag tells that abort apart from a real write failure.
size_t write_body(char* data, size_t size, size_t count, void* user) {
  auto* sink = static_cast<body_sink*>(user);
  size_t n = size * count;
  if (sink->body.size() + n > sink->bytes_max) {
    sink->overflow = true;
    return 0;
  }
  sink->body.append(data, n);
  return n;
}

using easy_ptr = std::unique_ptr<CURL, decltype(&curl_easy_cleanup)>;

void set_options(CURL* h, const std::string& url, const http_fetch_limits& limits,
                 body_sink& sink, char* errbuf) {
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
  // No signals: curl would otherwise use SIGALRM for DNS timeouts, which is
  // unsafe with the actor system's threads.
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
#if LIBCURL_VERSION_NUM >= 0x075500
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
#else
  curl_easy_setopt(h, CURLOPT_PROTOCOLS, static_cast<long>(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(limits.connect_timeout.count()));
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(limits.timeout.count()));
  curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(limits.body_bytes_max));
  // An inherited http_proxy variable would silently route tool traffic
  // through a host nobody allowed; a proxy, when wanted, becomes a config key.
  curl_easy_setopt(h, CURLOPT_PROXY, "");
  curl_easy_setopt(h, CURLOPT_USERAGENT, "agentgraph-http_get/0.1");
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &write_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
}

caf::error map_failure(CURLcode rc, const body_sink& sink, const char* errbuf,
                       const http_fetch_limits& limits) {
  std::string detail = errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc);
  switch (rc) {
    case CURLE_OPERATION_TIMEDOUT:
      return make_error(errc::timeout, detail);
    case CURLE_FILESIZE_EXCEEDED:
    case CURLE_WRITE_ERROR:
      if (rc == CURLE_FILESIZE_EXCEEDED || sink.overflow)
        return make_error(errc::limit_exceeded, "response body exceeds body_bytes_max ("
                                                  + std::to_string(limits.body_bytes_max)
                                                  + " bytes)");
      return make_error(errc::io_error, detail);
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
      return make_error(errc::unavailable, detail);
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
      return make_error(errc::invalid_argument, detail);
    default:
      return make_error(errc::io_error, "curl error " + std::to_string(static_cast<int>(rc))
                                          + ": " + detail);
  }
}

}  // namespace http_fetch_detail

caf::expected<http_fetch_response> http_fetch(const std::string& url,
                                              const http_fetch_limits& limits) {
  using namespace http_fetch_detail;
  ensure_curl_initialized();
  // Declared before the handle so they outlive curl_easy_cleanup, which
  // still holds pointers to both.
  body_sink sink;
  sink.bytes_max = limits.body_bytes_max;
  char errbuf[CURL_ERROR_SIZE] = {};
  easy_ptr h{curl_easy_init(), &curl_easy_cleanup};
  if (!h)
    return make_error(errc::io_error, "curl_easy_init failed");
  set_options(h.get(), url, limits, sink, errbuf);
  auto rc = curl_easy_perform(h.get());
  if (rc != CURLE_OK)
    return map_failure(rc, sink, errbuf, limits);
  http_fetch_response out;
  curl_easy_getinfo(h.get(), CURLINFO_RESPONSE_CODE, &out.status);
  char* type = nullptr;
  curl_easy_getinfo(h.get(), CURLINFO_CONTENT_TYPE, &type);
  if (type != nullptr)
    out.content_type = type;
  out.body = std::move(sink.body);
  return out;
}

}  // namespace agentgraph::net

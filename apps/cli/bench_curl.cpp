// The raw libcurl floor of `agentgraph bench llm`: the least any libcurl
// client can spend per request. One thread, one multi handle, one easy
// handle per concurrent request, each re-added to the multi handle as soon
// as its transfer ends (so the multi's connection cache hands it the same
// kept-alive connection). The body is collected and the status checked;
// nothing is parsed.
#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include <curl/curl.h>

#include "apps/cli/bench_llm.hpp"
#include "net/curl_global.hpp"
#include "runtime/assert.hpp"

namespace agentgraph::cli {

namespace bench_curl_detail {

size_t collect_body(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

struct slot {
  CURL* easy = nullptr;
  std::string body;
  bench_clock::time_point started;
};

// Owns the handles of one loop; the connections live as long as it does.
class raw_loop {
 public:
  raw_loop(const bench_target& t, uint32_t concurrency, bool reuse) : target_(t) {
    multi_ = curl_multi_init();
    AG_ASSERT(multi_ != nullptr);
    curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS, static_cast<long>(concurrency));
    for (const auto& [name, value] : t.http.headers)
      headers_ = curl_slist_append(headers_, (name + ": " + value).c_str());
    headers_ = curl_slist_append(headers_, "Expect:");  // as net::http_client does
    slots_.resize(concurrency);
    for (auto& s : slots_) {
      s.easy = curl_easy_init();
      AG_ASSERT(s.easy != nullptr);
      curl_easy_setopt(s.easy, CURLOPT_URL, target_.http.url.c_str());
      curl_easy_setopt(s.easy, CURLOPT_HTTPHEADER, headers_);
      curl_easy_setopt(s.easy, CURLOPT_POSTFIELDS, target_.http.body.data());
      curl_easy_setopt(s.easy, CURLOPT_POSTFIELDSIZE_LARGE,
                       static_cast<curl_off_t>(target_.http.body.size()));
      curl_easy_setopt(s.easy, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
      curl_easy_setopt(s.easy, CURLOPT_NOSIGNAL, 1L);
      curl_easy_setopt(s.easy, CURLOPT_PROXY, "");
      curl_easy_setopt(s.easy, CURLOPT_TIMEOUT_MS,
                       static_cast<long>(std::chrono::milliseconds{bench_request_timeout}.count()));
      curl_easy_setopt(s.easy, CURLOPT_FORBID_REUSE, reuse ? 0L : 1L);
      curl_easy_setopt(s.easy, CURLOPT_WRITEFUNCTION, &collect_body);
      curl_easy_setopt(s.easy, CURLOPT_WRITEDATA, static_cast<void*>(&s.body));
      curl_easy_setopt(s.easy, CURLOPT_PRIVATE, static_cast<void*>(&s));
    }
  }

  ~raw_loop() {
    for (auto& s : slots_) {
      curl_multi_remove_handle(multi_, s.easy);
      curl_easy_cleanup(s.easy);
    }
    curl_multi_cleanup(multi_);
    curl_slist_free_all(headers_);
  }

  raw_loop(const raw_loop&) = delete;
  raw_loop& operator=(const raw_loop&) = delete;

  loop_result run(uint64_t count) {
    loop_result out;
    out.latency_ns.reserve(count);
    uint64_t started = 0;
    const auto cpu_begin = client_cpu_now();
    const auto begin = bench_clock::now();
    const auto give_up = begin + bench_loop_wait_max;
    for (auto& s : slots_)
      if (started < count) {
        start(s);
        ++started;
      }
    while (out.latency_ns.size() < count && bench_clock::now() < give_up) {
      int running = 0;
      curl_multi_perform(multi_, &running);
      int left = 0;
      while (CURLMsg* msg = curl_multi_info_read(multi_, &left)) {
        if (msg->msg != CURLMSG_DONE)
          continue;
        slot* s = nullptr;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &s);
        finish(*s, msg->data.result, out);
        if (started < count) {
          start(*s);
          ++started;
        }
      }
      if (out.latency_ns.size() < count)
        curl_multi_poll(multi_, nullptr, 0, 100, nullptr);
    }
    out.seconds = std::chrono::duration<double>(bench_clock::now() - begin).count();
    client_cpu_now().end(cpu_begin, out);
    if (out.latency_ns.size() < count)
      out.add_error("the loop ran out of time");
    return out;
  }

 private:
  void start(slot& s) {
    s.body.clear();
    s.started = bench_clock::now();
    curl_multi_add_handle(multi_, s.easy);
  }

  void finish(slot& s, CURLcode result, loop_result& out) {
    out.latency_ns.push_back(
      std::chrono::duration_cast<std::chrono::nanoseconds>(bench_clock::now() - s.started).count());
    long status = 0;
    curl_easy_getinfo(s.easy, CURLINFO_RESPONSE_CODE, &status);
    curl_multi_remove_handle(multi_, s.easy);
    if (result != CURLE_OK)
      out.add_error(curl_easy_strerror(result));
    else if (status != 200)
      out.add_error("HTTP " + std::to_string(status) + ": " + s.body.substr(0, 200));
  }

  const bench_target& target_;
  CURLM* multi_ = nullptr;
  curl_slist* headers_ = nullptr;
  std::vector<slot> slots_;  // never resized after construction: handles point into it
};

}  // namespace bench_curl_detail

loop_result run_raw_curl(const bench_target& t, uint32_t concurrency, uint64_t warmup,
                         uint64_t count, bool reuse) {
  net::ensure_curl_initialized();
  bench_curl_detail::raw_loop loop{t, concurrency, reuse};
  if (warmup > 0)
    (void)loop.run(warmup);
  return loop.run(count);
}

}  // namespace agentgraph::cli

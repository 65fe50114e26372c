// `agentgraph bench cluster`: the failover client (bench_cluster.hpp). One
// libcurl multi handle on the calling thread keeps `window` sync tasks in
// flight, each with its own id, and keeps the answer each id got. Between
// transfers it calls the caller's tick, which signals a node mid-run.
#include <curl/curl.h>

#include <algorithm>
#include <deque>

#include <nlohmann/json.hpp>

#include "apps/cli/bench_cluster.hpp"
#include "net/curl_global.hpp"

namespace agentgraph::cli {

namespace bench_cluster_stream_detail {

// A task's answer is a few hundred bytes; more is cut.
constexpr size_t body_bytes_max = 64 * 1024;

size_t collect(char* data, size_t size, size_t n, void* out) {
  auto& body = *static_cast<std::string*>(out);
  const size_t bytes = size * n;
  body.append(data, std::min(bytes, body_bytes_max - std::min(body.size(), body_bytes_max)));
  return bytes;
}

struct slot {
  CURL* easy = nullptr;
  std::string id;
  std::string request;
  std::string body;
};

}  // namespace bench_cluster_stream_detail

void read_task_body(const std::string& body, id_answer& out) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (!j.is_object())
    return;
  out.status = j.value("status", std::string{});
  // POST answers the result itself; GET /v1/tasks/<id> nests it in "result".
  const auto& r = j.contains("result") && j["result"].is_object() ? j["result"] : j;
  out.output = r.value("output", std::string{});
}

std::map<std::string, id_answer> run_id_stream(
  const std::string& url, const std::string& agent, const std::vector<std::string>& ids,
  uint32_t window, std::chrono::milliseconds request_timeout, std::chrono::milliseconds bound,
  const std::function<void(uint64_t)>& tick) {
  using namespace bench_cluster_stream_detail;
  net::ensure_curl_initialized();
  std::map<std::string, id_answer> out;
  CURLM* multi = curl_multi_init();
  curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, static_cast<long>(window));
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
  headers = curl_slist_append(headers, "Expect:");
  const std::string endpoint = url + "/v1/tasks";
  std::vector<slot> slots(window);
  std::deque<std::string> pending(ids.begin(), ids.end());
  uint64_t in_flight = 0;
  uint64_t answered = 0;
  auto start = [&](slot& s) {
    s.id = pending.front();
    pending.pop_front();
    s.body.clear();
    s.request = nlohmann::json{{"agent", agent}, {"input", "work " + s.id}, {"task_id", s.id},
                               {"mode", "sync"}}
                  .dump();
    curl_easy_setopt(s.easy, CURLOPT_POSTFIELDS, s.request.data());
    curl_easy_setopt(s.easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(s.request.size()));
    out[s.id].sent = bench_clock::now();
    curl_multi_add_handle(multi, s.easy);
    ++in_flight;
  };
  for (auto& s : slots) {
    s.easy = curl_easy_init();
    curl_easy_setopt(s.easy, CURLOPT_URL, endpoint.c_str());
    curl_easy_setopt(s.easy, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(s.easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(s.easy, CURLOPT_PROXY, "");
    curl_easy_setopt(s.easy, CURLOPT_TIMEOUT_MS, static_cast<long>(request_timeout.count()));
    curl_easy_setopt(s.easy, CURLOPT_WRITEFUNCTION, &collect);
    curl_easy_setopt(s.easy, CURLOPT_WRITEDATA, static_cast<void*>(&s.body));
    curl_easy_setopt(s.easy, CURLOPT_PRIVATE, static_cast<void*>(&s));
    if (!pending.empty())
      start(s);
  }
  const auto give_up = bench_clock::now() + bound;
  while (in_flight > 0 && bench_clock::now() < give_up) {
    int running = 0;
    curl_multi_perform(multi, &running);
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi, &left)) {
      if (msg->msg != CURLMSG_DONE)
        continue;
      slot* s = nullptr;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &s);
      const CURLcode result = msg->data.result;
      curl_multi_remove_handle(multi, s->easy);
      --in_flight;
      auto& a = out[s->id];
      a.at = bench_clock::now();
      a.answered = true;
      if (result == CURLE_OK) {
        curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &a.http_status);
        read_task_body(s->body, a);
      } else {
        a.status = std::string{"transport: "} + curl_easy_strerror(result);
      }
      ++answered;
      if (!pending.empty())
        start(*s);
    }
    tick(answered);
    if (in_flight > 0)
      curl_multi_poll(multi, nullptr, 0, 50, nullptr);
  }
  for (auto& s : slots) {
    curl_multi_remove_handle(multi, s.easy);
    curl_easy_cleanup(s.easy);
  }
  curl_multi_cleanup(multi);
  curl_slist_free_all(headers);
  for (const auto& id : ids)
    out.try_emplace(id);  // not answered within the bound
  return out;
}

id_answer fetch_task(gateway_client& client, const std::string& id) {
  id_answer a;
  auto reply = client.get("/v1/tasks/" + id);
  if (!reply)
    return a;
  a.answered = true;
  a.http_status = reply->status;
  read_task_body(reply->body, a);
  return a;
}

}  // namespace agentgraph::cli

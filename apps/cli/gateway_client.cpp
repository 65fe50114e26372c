#include "apps/cli/gateway_client.hpp"

#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <future>
#include <mutex>

#include "runtime/error.hpp"

namespace agentgraph::cli {

std::string token_from_env(const std::string& env_name) {
  const char* v = env_name.empty() ? nullptr : std::getenv(env_name.c_str());
  return v == nullptr ? std::string{} : std::string{v};
}

gateway_client::gateway_client(gateway_target target)
  : target_(std::move(target)), http_(net::http_client_limits{}) {
  while (!target_.url.empty() && target_.url.back() == '/')
    target_.url.pop_back();
}

net::http_request gateway_client::make(const std::string& method, const std::string& path) const {
  net::http_request req;
  req.method = method;
  req.url = target_.url + path;
  req.total_timeout = target_.timeout;
  if (!target_.token.empty())
    req.headers.emplace_back("Authorization", "Bearer " + target_.token);
  return req;
}

caf::expected<gateway_reply> gateway_client::send(net::http_request req) {
  auto done = std::make_shared<std::promise<net::http_result>>();
  auto result = done->get_future();
  net::http_handlers h;
  h.on_complete = [done](net::http_result r) { done->set_value(std::move(r)); };
  if (auto id = http_.submit(std::move(req), std::move(h)); !id)
    return std::move(id.error());
  auto r = result.get();  // bounded: the request's total timeout
  if (!r.response)
    return std::move(r.response.error());
  return gateway_reply{r.response->status, std::move(r.response->body)};
}

caf::expected<gateway_reply> gateway_client::get(const std::string& path) {
  return send(make("GET", path));
}

caf::expected<gateway_reply> gateway_client::send_json(const std::string& method,
                                                       const std::string& path,
                                                       const std::string& body) {
  auto req = make(method, path);
  req.headers.emplace_back("Content-Type", "application/json");
  req.body = body;
  return send(std::move(req));
}

caf::expected<gateway_reply> gateway_client::post_json(const std::string& path,
                                                       const std::string& body) {
  return send_json("POST", path, body);
}

caf::expected<gateway_reply> gateway_client::put_json(const std::string& path,
                                                      const std::string& body) {
  return send_json("PUT", path, body);
}

caf::error gateway_client::stream_events(const std::string& path,
                                         const std::function<bool(const sse_event&)>& on_event) {
  // The I/O thread queues what arrives; this thread parses and calls back,
  // so on_event may print or block without stalling the transfer.
  struct inbox {
    std::mutex mu;
    std::condition_variable cv;
    std::deque<std::string> chunks;
    long status = 0;
    std::optional<net::http_result> done;
  };
  auto box = std::make_shared<inbox>();
  auto req = make("GET", path);
  req.stream = true;
  req.headers.emplace_back("Accept", "text/event-stream");
  net::http_handlers h;
  h.on_headers = [box](long status, const net::http_headers&) {
    std::lock_guard<std::mutex> lock{box->mu};
    box->status = status;
  };
  h.on_data = [box](std::string_view chunk) {
    std::lock_guard<std::mutex> lock{box->mu};
    box->chunks.emplace_back(chunk);
    box->cv.notify_one();
  };
  h.on_complete = [box](net::http_result r) {
    std::lock_guard<std::mutex> lock{box->mu};
    box->done = std::move(r);
    box->cv.notify_one();
  };
  auto id = http_.submit(std::move(req), std::move(h));
  if (!id)
    return std::move(id.error());
  sse_parser parser;
  std::string error_body;
  for (;;) {
    std::unique_lock<std::mutex> lock{box->mu};
    box->cv.wait(lock, [&] { return !box->chunks.empty() || box->done.has_value(); });
    if (box->chunks.empty()) {
      auto r = std::move(*box->done);
      if (!r.response)
        return std::move(r.response.error());
      if (box->status < 200 || box->status >= 300)
        return make_error(errc::provider_error, "HTTP " + std::to_string(box->status) + ": "
                                                  + error_body);
      return {};
    }
    auto chunk = std::move(box->chunks.front());
    box->chunks.pop_front();
    const long status = box->status;
    lock.unlock();
    if (status < 200 || status >= 300) {
      error_body += chunk;
      continue;
    }
    std::vector<sse_event> events;
    if (auto err = parser.feed(chunk, events)) {
      http_.cancel(*id);
      return err;
    }
    for (const auto& ev : events)
      if (!on_event(ev)) {
        http_.cancel(*id);
        return {};
      }
  }
}

}  // namespace agentgraph::cli

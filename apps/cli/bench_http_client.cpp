// `agentgraph bench llm`, our HTTP layer without the actor: net::http_client
// (libcurl multi on its own I/O thread) plus the wire codec's decode_chat.
// The difference between this row and the provider row is what the actor
// pipeline (admission queue, rate limiter, breaker, messages) costs; the
// difference between this row and raw libcurl is what the client's own
// thread hand-off, bookkeeping and decoding cost.
#include <algorithm>
#include <condition_variable>
#include <memory>
#include <mutex>

#include "apps/cli/bench_llm.hpp"
#include "net/curl_global.hpp"
#include "net/http_client.hpp"
#include "runtime/error.hpp"

namespace agentgraph::cli {

namespace bench_http_client_detail {

// Shared by the submitting thread and the client's I/O thread.
struct loop_state {
  std::mutex mu;
  std::condition_variable finished_cv;
  loop_result out;        // guarded by mu
  uint64_t started = 0;   // guarded by mu
  uint64_t finished = 0;  // guarded by mu; answers plus refused submits
  uint64_t count = 0;     // constant during a run
};

struct loop_env {
  net::http_client* client;
  const bench_target* target;
  const wire_codec* codec;
  bool close_connection;
  std::shared_ptr<loop_state> state;
};

void start_one(const loop_env& env);

// Records one answer, then starts the next request if any is left. Runs on
// the I/O thread; decoding a short body takes microseconds.
void on_answer(const loop_env& env, bench_clock::time_point started, net::http_result r) {
  const auto latency = bench_clock::now() - started;
  std::string error;
  if (!r.response)
    error = describe(r.response.error());
  else if (auto decoded = env.codec->decode_chat(static_cast<int>(r.response->status),
                                                 r.response->body);
           !decoded)
    error = describe(decoded.error());
  bool more = false;
  bool last = false;
  {
    std::lock_guard lock{env.state->mu};
    auto& st = *env.state;
    st.out.latency_ns.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(latency).count());
    if (!error.empty())
      st.out.add_error(error);
    last = ++st.finished >= st.count;
    if (st.started < st.count) {
      ++st.started;
      more = true;
    }
  }
  // Only the last answer wakes the waiting thread: a wake-up per answer
  // would put the harness's own context switches into the row's CPU.
  if (last)
    env.state->finished_cv.notify_one();
  if (more)
    start_one(env);
}

void start_one(const loop_env& env) {
  net::http_request req;
  req.method = env.target->http.method;
  req.url = env.target->http.url;
  req.headers = env.target->http.headers;
  if (env.close_connection)
    req.headers.emplace_back("Connection", "close");
  req.body = env.target->http.body;
  const auto started = bench_clock::now();
  net::http_handlers h;
  h.on_complete = [env, started](net::http_result r) { on_answer(env, started, std::move(r)); };
  auto id = env.client->submit(std::move(req), std::move(h));
  if (id)
    return;
  std::lock_guard lock{env.state->mu};
  env.state->out.add_error("submit: " + describe(id.error()));
  if (++env.state->finished >= env.state->count)
    env.state->finished_cv.notify_one();
}

loop_result run(const loop_env& base, uint32_t concurrency, uint64_t count) {
  loop_env env = base;
  env.state = std::make_shared<loop_state>();
  env.state->count = count;
  env.state->out.latency_ns.reserve(count);
  const auto cpu_begin = client_cpu_now();
  const auto begin = bench_clock::now();
  uint64_t first = 0;
  {
    std::lock_guard lock{env.state->mu};
    first = std::min<uint64_t>(concurrency, count);
    env.state->started = first;
  }
  for (uint64_t i = 0; i < first; ++i)
    start_one(env);
  std::unique_lock lock{env.state->mu};
  const bool all = env.state->finished_cv.wait_for(lock, bench_loop_wait_max, [&] {
    return env.state->finished >= count;
  });
  loop_result out = std::move(env.state->out);
  out.seconds = std::chrono::duration<double>(bench_clock::now() - begin).count();
  client_cpu_now().end(cpu_begin, out);
  if (!all)
    out.add_error("the loop ran out of time");
  return out;
}

}  // namespace bench_http_client_detail

loop_result run_http_client(const bench_target& t, uint32_t concurrency, uint64_t warmup,
                            uint64_t count, bool close_connection) {
  net::ensure_curl_initialized();
  wire_settings ws;
  ws.kind = wire_kind::openai;
  ws.base_url = t.base_url + "/v1";
  ws.api_key = t.api_key;
  auto codec = make_wire_codec(std::move(ws));
  if (!codec) {
    loop_result failed;
    failed.add_error(describe(codec.error()));
    return failed;
  }
  net::http_client_limits limits;
  limits.in_flight_max = std::max<uint32_t>(limits.in_flight_max, concurrency);
  net::http_client client{limits};
  bench_http_client_detail::loop_env env{&client, &t, codec->get(), close_connection, nullptr};
  if (warmup > 0)
    (void)bench_http_client_detail::run(env, concurrency, warmup);
  return bench_http_client_detail::run(env, concurrency, count);
}

}  // namespace agentgraph::cli

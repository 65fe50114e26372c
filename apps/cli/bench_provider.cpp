// `agentgraph bench llm`, the whole client: the HTTP provider actor (kind
// openai) as an agent uses it, driven by a small event-based actor that keeps
// `concurrency` chat requests in flight. The driver runs on the CAF
// scheduler and never blocks; the calling thread waits on a future. It
// calls the provider the way an agent does (actors/agent/agent.cpp): a
// request without a CAF timeout, watched by a call_watch until its
// deadline (runtime/call_watch.hpp), so the row pays for what an agent's
// call pays for, not for a CAF request timeout per request.
#include <algorithm>
#include <future>
#include <memory>

#include <caf/all.hpp>

#include "actors/provider/provider_factory.hpp"
#include "apps/cli/bench_llm.hpp"
#include "net/curl_global.hpp"
#include "net/http_client.hpp"
#include "runtime/blocking_ask.hpp"
#include "runtime/call_watch.hpp"
#include "runtime/error.hpp"

namespace agentgraph::cli {

namespace bench_provider_detail {

// Starts a driver's loop.
using bench_go_atom = caf::atom_constant<caf::atom("ag_benchgo")>;

struct driver_state {
  static inline const char* name = "bench_driver";
  provider_actor provider;
  chat_request proto;
  uint32_t concurrency = 1;
  uint64_t count = 0;
  uint64_t started = 0;
  bench_clock::time_point begin;
  loop_result out;  // latency_ns bounded by count
  std::shared_ptr<std::promise<loop_result>> done;
  call_watch watch{bench_concurrency_max};  // the calls in flight, at most `concurrency`
};

using driver_actor = caf::stateful_actor<driver_state>;

void send_one(driver_actor* self);

void on_reply(driver_actor* self, bench_clock::time_point started, const caf::error* err) {
  auto& st = self->state;
  st.out.latency_ns.push_back(
    std::chrono::duration_cast<std::chrono::nanoseconds>(bench_clock::now() - started).count());
  if (err != nullptr)
    st.out.add_error(describe(*err));
  if (st.started < st.count) {
    send_one(self);
    return;
  }
  if (st.out.latency_ns.size() < st.count)
    return;
  st.out.seconds = std::chrono::duration<double>(bench_clock::now() - st.begin).count();
  st.done->set_value(std::move(st.out));
  self->quit();
}

void send_one(driver_actor* self) {
  auto& st = self->state;
  chat_request req = st.proto;
  req.request_id = "bench-" + std::to_string(st.started++);
  const auto started = bench_clock::now();
  watched_request(
    self, st.watch, st.provider, started + bench_request_timeout,
    [self, started](chat_response&) { on_reply(self, started, nullptr); },
    [self, started](caf::error& e) { on_reply(self, started, &e); }, chat_atom::value,
    std::move(req));
}

caf::behavior driver(driver_actor* self, provider_actor provider, chat_request proto,
                     uint32_t concurrency, uint64_t count,
                     std::shared_ptr<std::promise<loop_result>> done) {
  auto& st = self->state;
  st.provider = std::move(provider);
  st.proto = std::move(proto);
  st.concurrency = concurrency;
  st.count = count;
  st.out.latency_ns.reserve(count);
  st.done = std::move(done);
  route_to_watch(self, &driver_state::watch);
  return {[self](bench_go_atom) {
    auto& st = self->state;
    st.begin = bench_clock::now();
    const uint64_t first = std::min<uint64_t>(st.concurrency, st.count);
    for (uint64_t i = 0; i < first; ++i)
      send_one(self);
  }};
}

loop_result run(caf::actor_system& sys, const provider_actor& provider, const chat_request& proto,
                 uint32_t concurrency, uint64_t count) {
  auto done = std::make_shared<std::promise<loop_result>>();
  auto result = done->get_future();
  const auto cpu_begin = client_cpu_now();
  auto d = sys.spawn(driver, provider, proto, concurrency, count, std::move(done));
  caf::anon_send(d, bench_go_atom::value);
  loop_result out;
  if (result.wait_for(bench_loop_wait_max) != std::future_status::ready) {
    caf::anon_send_exit(d, caf::exit_reason::user_shutdown);
    out.add_error("the loop ran out of time");
    return out;
  }
  out = result.get();
  client_cpu_now().end(cpu_begin, out);
  return out;
}

// Stops the provider and waits until it is gone, so its HTTP client is
// released on this thread and not on a scheduler thread.
void stop(caf::actor_system& sys, const provider_actor& provider) {
  stop_and_wait(sys, std::vector{provider}, std::chrono::seconds{10});
}

}  // namespace bench_provider_detail

loop_result run_provider(caf::actor_system& sys, const bench_target& t, uint32_t concurrency,
                         uint64_t warmup, uint64_t count) {
  net::ensure_curl_initialized();
  net::http_client_limits limits;
  limits.in_flight_max = std::max<uint32_t>(limits.in_flight_max, concurrency);
  http_provider_deps deps;
  deps.http = std::make_shared<net::http_client>(limits);
  deps.jitter_seed = 1;
  provider_config cfg;
  cfg.name = "bench";
  cfg.kind = provider_kind::openai;
  cfg.base_url = t.base_url + "/v1";
  cfg.api_key = t.api_key;
  cfg.model = t.model;
  cfg.in_flight_max = concurrency;
  cfg.waiting_max = concurrency;
  cfg.retries_max = 0;  // a failure must show as an error, not as a slow request
  cfg.timeout = bench_request_timeout;
  auto provider = spawn_provider(sys, cfg, deps);
  if (!provider) {
    loop_result failed;
    failed.add_error(describe(provider.error()));
    return failed;
  }
  if (warmup > 0)
    (void)bench_provider_detail::run(sys, *provider, t.request, concurrency, warmup);
  auto out = bench_provider_detail::run(sys, *provider, t.request, concurrency, count);
  bench_provider_detail::stop(sys, *provider);
  return out;
}

}  // namespace agentgraph::cli

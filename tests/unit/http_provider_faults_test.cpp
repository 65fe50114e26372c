// The HTTP provider under the mock LLM server's injected faults (issue 3):
// retries and what is never retried, Retry-After and its cap, backpressure,
// client-side rate limits, the circuit breaker, broken streams,
// cancellation in every phase, keys kept out of errors and logs, and the
// request deadline. Nothing asserts on wall time: where time matters the
// provider gets a hand-moved clock (deps.clock), and real waits are only
// lower bounds (a server latency, a retry delay) that load can stretch but
// never shorten.
// Over 600 lines on purpose: every fault shares one mock-server fixture and
// its hand-moved clock; split files would each repeat them.
#include "http_provider_fixture.hpp"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <sstream>
#include <string_view>

#include <unistd.h>

#include "runtime/log.hpp"

namespace http_provider_faults_test {

using namespace http_provider_fixture;
using json = nlohmann::json;

// A rule answering "answer for <word>" to prompts containing `word`, with
// its own faults (and so its own `first` counters).
json rule(const std::string& word, json faults, json usage = nullptr) {
  json r = {{"name", word},
            {"match", {{"contains", word}}},
            {"reply", {{"text", "answer for " + word}}},
            {"faults", std::move(faults)}};
  if (!usage.is_null())
    r["usage"] = std::move(usage);
  return r;
}

// Faults that inject `one` (and nothing else) into a rule.
json injecting(json one) {
  return {{"inject", json::array({std::move(one)})}};
}

json latency(int ms) {
  return {{"latency_ms", ms}};
}

std::string scenario(json rules, const std::string& api_key = "k") {
  return json{{"name", "faults"},
              {"seed", 5},
              {"api_key", api_key},
              {"chunk_chars", 3},
              {"limits", {{"threads", 8}}},
              {"rules", std::move(rules)}}
    .dump();
}

bool contains(std::string_view text, std::string_view piece) {
  return text.find(piece) != std::string_view::npos;
}

// The call failed with `code`, and its message names every piece.
void check_failed(const caf::expected<chat_response>& r, errc code,
                  std::initializer_list<std::string_view> pieces) {
  REQUIRE_FALSE(r);
  const auto text = describe(r.error());
  CHECK_MESSAGE(errc_of(r.error()) == code, text);
  for (auto piece : pieces)
    CHECK_MESSAGE(contains(text, piece), "missing '" << piece << "' in: " << text);
}

// A chat sent without waiting for its reply; `await` collects it. Replies
// to other requests stay in the mailbox meanwhile, so calls can be awaited
// in any order.
using chat_handle = decltype(std::declval<caf::scoped_actor&>()->request(
  std::declval<provider_actor&>(), wait_max, chat_atom::value, std::declval<chat_request>()));

chat_handle send_chat(fixture& f, const provider_actor& p, chat_request req) {
  return (*f.self)->request(p, wait_max, chat_atom::value, std::move(req));
}

template <class Response = chat_response, class Handle>
caf::expected<Response> await(Handle& h) {
  caf::expected<Response> out = make_error(errc::internal, "no reply");
  h.receive([&](Response& r) { out = std::move(r); },
            [&](caf::error& e) { out = std::move(e); });
  return out;
}

// Cancels call `id`, whose reply `h` awaits, and checks the caller hears so.
void cancel(fixture& f, const provider_actor& p, chat_handle& h, const std::string& id) {
  (*f.self)->send(p, cancel_atom::value, id);
  check_failed(await(h), errc::cancelled, {id, "cancelled by its caller"});
}

// Polls the provider's stats (bounded, like every wait here) until `done` holds.
template <class Predicate>
bool wait_for_stats(fixture& f, const provider_actor& p, Predicate done) {
  for (int i = 0; i < 2000; ++i) {
    if (done(f.stats(p)))
      return true;
    std::this_thread::sleep_for(std::chrono::milliseconds{5});
  }
  return false;
}

// The provider's clock, moved by hand: rate buckets, breaker cooldowns and
// deadlines see only what the test allows, whatever the machine's load.
struct manual_clock {
  const std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
  std::atomic<int64_t> advanced_ms{0};
  std::chrono::steady_clock::time_point now() const {
    return start + std::chrono::milliseconds{advanced_ms.load()};
  }
  void advance(std::chrono::milliseconds d) { advanced_ms += d.count(); }
};

provider_actor spawn_with_clock(fixture& f, const provider_config& c,
                                const std::shared_ptr<manual_clock>& clock) {
  http_provider_deps deps;
  deps.http = f.http;
  deps.jitter_seed = 42;
  deps.clock = [clock] { return clock->now(); };
  auto p = spawn_provider(*f.sys, c, deps);
  REQUIRE_MESSAGE(p, describe(p.error()));
  f.spawned.push_back(*p);
  return *p;
}

// Sends everything written to stderr (fd 2, where log lines go) to a
// temporary file until finish(), at `level`; restores both afterwards.
class stderr_capture {
 public:
  explicit stderr_capture(log_severity level) : saved_level_(log_level()) {
    char path[] = "/tmp/agentgraph-faults-log-XXXXXX";
    file_ = mkstemp(path);
    REQUIRE(file_ >= 0);
    path_ = path;
    std::fflush(stderr);
    saved_fd_ = dup(STDERR_FILENO);
    REQUIRE(saved_fd_ >= 0);
    REQUIRE(dup2(file_, STDERR_FILENO) >= 0);
    set_log_level(level);
  }
  stderr_capture(const stderr_capture&) = delete;
  stderr_capture& operator=(const stderr_capture&) = delete;
  ~stderr_capture() {
    restore();
    close(file_);
    unlink(path_.c_str());
  }

  // Stops capturing and returns what was written.
  std::string finish() {
    restore();
    std::ifstream in{path_};
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

 private:
  void restore() {
    if (saved_fd_ < 0)
      return;
    std::fflush(stderr);
    dup2(saved_fd_, STDERR_FILENO);
    close(saved_fd_);
    saved_fd_ = -1;
    set_log_level(saved_level_);
  }

  const log_severity saved_level_;
  int file_ = -1;
  int saved_fd_ = -1;
  std::string path_;
};

// The first log line containing `needle`, or "" if none does.
std::string line_with(const std::string& log, std::string_view needle) {
  std::istringstream in{log};
  for (std::string line; std::getline(in, line);)
    if (contains(line, needle))
      return line;
  return {};
}

// What one call saw, once its reply and (streamed) every chunk arrived.
struct call_outcome {
  caf::expected<chat_response> reply = make_error(errc::internal, "not run");
  provider_stats stats;
  std::string text;  // what the stream sink received, in order
  uint64_t mock_requests = 0;
};

// Sends "<word>" once (a chat or a chat_stream) through a fresh openai
// provider, `tune` adjusting its config, against a mock whose only rule
// answers it with these faults.
call_outcome call_once(call_kind kind, const std::string& word, json faults,
                       const std::function<void(provider_config&)>& tune = {}) {
  fixture f{scenario(json::array({rule(word, std::move(faults))}))};
  auto c = f.config("openai");
  if (tune)
    tune(c);
  auto p = f.spawn(c);
  auto chunks = std::make_shared<chunk_log>();
  call_outcome out;
  out.reply = kind == call_kind::chat_stream ? f.stream(p, fixture::ask(word + "-1", word), chunks)
                                             : f.chat(p, fixture::ask(word + "-1", word));
  out.stats = f.stats(p);
  CHECK(chunks->wait_for(out.stats.stream_chunks));
  CHECK(chunks->size() == out.stats.stream_chunks);
  out.text = chunks->text();
  out.mock_requests = f.mock_requests();
  return out;
}

// The test cases live in this namespace too, so that its helpers never meet
// another test file's in a unity build.

// ---------------------------------------------------------------- retries

TEST_CASE("http provider faults: 5xx, 408 and 409 on the first attempts are retried until one succeeds") {
  struct row {
    int status;
    int first;
  };
  const std::vector<row> rows = {{500, 2}, {503, 2}, {408, 1}, {409, 1}};
  json rules = json::array();
  for (const auto& r : rows)
    rules.push_back(rule("status" + std::to_string(r.status),
                         injecting({{"fault", "status"}, {"status", r.status},
                                    {"first", r.first}})));
  fixture f{scenario(rules)};
  for (const auto& r : rows) {
    const auto word = "status" + std::to_string(r.status);
    INFO(word);
    auto p = f.spawn(f.config("openai", word));
    const auto before = f.mock_requests();
    auto reply = f.chat(p, fixture::ask(word, "please " + word));
    REQUIRE_MESSAGE(reply, describe(reply.error()));
    CHECK(reply->message.content == "answer for " + word);
    auto s = f.stats(p);
    CHECK(s.retries == static_cast<uint64_t>(r.first));
    CHECK(s.attempts == static_cast<uint64_t>(r.first + 1));
    CHECK(s.succeeded == 1);
    CHECK(s.failed == 0);
    CHECK(f.mock_requests() - before == static_cast<uint64_t>(r.first + 1));
    CHECK(f.mock_count("faults", "status_" + std::to_string(r.status))
          == static_cast<uint64_t>(r.first));
  }
}

TEST_CASE("http provider faults: 400, 401, 403, 404 and 422 are never retried nor open the breaker") {
  const std::vector<int> statuses = {400, 401, 403, 404, 422};
  json rules = json::array();
  for (int status : statuses)
    rules.push_back(rule("status" + std::to_string(status),
                         injecting({{"fault", "status"}, {"status", status}, {"rate", 1.0}})));
  fixture f{scenario(rules)};
  auto c = f.config("openai");
  c.breaker_failures = 2;  // five failures in a row would open it, were they counted
  auto p = f.spawn(c);
  for (int status : statuses) {
    const auto word = "status" + std::to_string(status);
    INFO(word);
    const auto before = f.mock_requests();
    check_failed(f.chat(p, fixture::ask(word, "please " + word)), errc::provider_error,
                 {"HTTP " + std::to_string(status), "attempts: 1", "status not retryable"});
    CHECK(f.mock_requests() - before == 1);
  }
  auto s = f.stats(p);
  CHECK(s.attempts == statuses.size());
  CHECK(s.retries == 0);
  CHECK(s.failed == statuses.size());
  CHECK(s.breaker_state == "closed");
  CHECK(s.breaker_opened == 0);
}

TEST_CASE("http provider faults: a permanent 503 exhausts retries_max and says so") {
  auto o = call_once(call_kind::chat, "down",
                     injecting({{"fault", "status"}, {"status", 503}, {"rate", 1.0}}),
                     [](provider_config& c) { c.retries_max = 2; });
  check_failed(o.reply, errc::provider_error, {"HTTP 503", "attempts: 3", "retries exhausted"});
  CHECK(o.stats.attempts == 3);
  CHECK(o.stats.retries == 2);
  CHECK(o.stats.failed == 1);
  CHECK(o.mock_requests == 3);
}

// ------------------------------------------------------------ Retry-After

TEST_CASE("http provider faults: a 429 waits the server's retry-after-ms, plain and streamed") {
  // The mock sends Retry-After: 5 (seconds) and retry-after-ms: 60; the
  // finer header wins. retry_delay is 5 ms, so a 60 ms wait in the log can
  // only have come from the header.
  const json busy = {{"fault", "rate_limit"}, {"first", 1}, {"retry_after_s", 5},
                     {"retry_after_ms", 60}};
  fixture f{scenario(json::array({rule("busyplain", injecting(busy)),
                                  rule("busystream", injecting(busy))}))};
  auto p = f.spawn(f.config("openai"));
  stderr_capture capture{log_severity::info};
  auto plain = f.chat(p, fixture::ask("ra-plain", "busyplain"));
  auto chunks = std::make_shared<chunk_log>();
  auto streamed = f.stream(p, fixture::ask("ra-stream", "busystream"), chunks);
  const auto log = capture.finish();
  REQUIRE_MESSAGE(plain, describe(plain.error()));
  REQUIRE_MESSAGE(streamed, describe(streamed.error()));
  CHECK(plain->message.content == "answer for busyplain");
  CHECK(streamed->message.content == "answer for busystream");
  auto s = f.stats(p);
  CHECK(s.retries == 2);
  CHECK(s.attempts == 4);
  CHECK(f.mock_count("faults", "rate_limit") == 2);
  for (const auto* id : {"request_id=ra-plain", "request_id=ra-stream"}) {
    INFO(id);
    const auto line = line_with(log, id);
    CHECK_MESSAGE(contains(line, "msg=retrying"), log);
    CHECK_MESSAGE(contains(line, "delay_ms=60 delay_source=retry-after-ms"), line);
  }
  // The failed streamed attempt sent nothing to the sink: the answer once.
  REQUIRE(chunks->wait_for(s.stream_chunks));
  CHECK(chunks->text() == "answer for busystream");
}

TEST_CASE("http provider faults: a server wait above retry_after_max fails at once after one attempt") {
  auto o = call_once(call_kind::chat, "slowdown",
                     injecting({{"fault", "rate_limit"}, {"first", 1}, {"retry_after_s", 5},
                                {"retry_after_ms", 5000}}),
                     [](provider_config& c) { c.retry_after_max = 100ms; });
  check_failed(o.reply, errc::provider_error, {"HTTP 429", "attempts: 1", "retry_after_max"});
  CHECK(o.stats.attempts == 1);
  CHECK(o.stats.retries == 0);
  CHECK(o.mock_requests == 1);
}

// ----------------------------------------------------------- backpressure

TEST_CASE("http provider faults: a full admission queue answers overloaded at once") {
  // in_flight_max 1: the first call runs (300 ms at the mock), waiting_max
  // more wait, and the next has no room. waiting_max 0 rejects whenever the
  // only slot is busy.
  for (uint32_t waiting_max : {1u, 0u}) {
    INFO("waiting_max " << waiting_max);
    fixture f{scenario(json::array({rule("slow", latency(300))}))};
    auto c = f.config("openai");
    c.in_flight_max = 1;
    c.waiting_max = waiting_max;
    auto p = f.spawn(c);
    const uint32_t admitted = 1 + waiting_max;
    std::vector<chat_handle> calls;
    for (uint32_t i = 0; i <= admitted; ++i)
      calls.push_back(send_chat(f, p, fixture::ask("bp-" + std::to_string(i), "slow")));
    check_failed(await(calls.back()), errc::overloaded, {"in_flight_max", "waiting_max"});
    for (uint32_t i = 0; i < admitted; ++i) {
      auto r = await(calls[i]);
      CHECK_MESSAGE(r, describe(r.error()));
    }
    auto s = f.stats(p);
    CHECK(s.rejected_overloaded == 1);
    CHECK(s.succeeded == admitted);
    CHECK(s.failed == 1);
    CHECK(s.attempts == admitted);
    CHECK(f.mock_requests() == admitted);
    CHECK(s.in_flight == 0);
    CHECK(s.waiting == 0);
  }
}

// ------------------------------------------------------------ rate limits

TEST_CASE("http provider faults: requests_per_minute refuses a call whose wait exceeds rate_wait_max") {
  fixture f{scenario(json::array({rule("hello", json::object())}))};
  auto c = f.config("openai");
  c.requests_per_minute = 1;
  c.rate_wait_max = 50ms;
  auto p = f.spawn(c);
  REQUIRE(f.chat(p, fixture::ask("rpm-1", "hello")));
  // The next request slot is a minute away.
  check_failed(f.chat(p, fixture::ask("rpm-2", "hello")), errc::overloaded,
               {"requests-per-minute", "rate_wait_max"});
  auto s = f.stats(p);
  CHECK(s.rejected_overloaded == 1);
  CHECK(s.attempts == 1);
  CHECK(f.mock_requests() == 1);  // nothing went upstream for the refused call
}

TEST_CASE("http provider faults: tokens_per_minute holds calls until the bucket refills or they are cancelled") {
  // 60000 tokens a minute (one per ms); the bucket starts full. The first
  // answer reports 60000 tokens used, which empties it; the second call's
  // estimate (~210 tokens) must wait for a refill. The clock only moves when
  // the test moves it, so the wait cannot pass early however slow the machine.
  fixture f{scenario(json::array(
    {rule("budget", json::object(), {{"prompt_tokens", 30000}, {"completion_tokens", 30000}})}))};
  auto clock = std::make_shared<manual_clock>();
  auto c = f.config("openai");
  c.tokens_per_minute = 60000;
  c.rate_wait_max = 10s;
  auto p = spawn_with_clock(f, c, clock);
  REQUIRE(f.chat(p, fixture::ask("tpm-1", "budget one")));
  auto h2 = send_chat(f, p, fixture::ask("tpm-2", "budget two"));
  auto h3 = send_chat(f, p, fixture::ask("tpm-3", "budget three"));
  CHECK(wait_for_stats(f, p, [](const provider_stats& s) { return s.rate_waits >= 2; }));
  auto held = f.stats(p);
  CHECK(held.attempts == 1);  // neither waiting call has gone upstream
  CHECK(held.in_flight == 2);
  // A call is cancelled in its rate wait; its timer later finds nothing.
  cancel(f, p, h3, "tpm-3");
  clock->advance(1s);  // 1000 tokens refilled
  auto r2 = await(h2);
  REQUIRE_MESSAGE(r2, describe(r2.error()));
  auto s = f.stats(p);
  CHECK(s.succeeded == 2);
  CHECK(s.cancelled == 1);
  CHECK(s.attempts == 2);
  CHECK(s.rate_waits >= 2);
  CHECK(s.rejected_overloaded == 0);
  CHECK(s.in_flight == 0);
}

// -------------------------------------------------------- circuit breaker

// A provider on `clock` whose breaker opens after 2 failures in a row (one
// attempt per call, 100 ms cooldown), opened by two calls of "breaker" that
// the mock answers 500.
provider_actor spawn_and_open_breaker(fixture& f, const std::shared_ptr<manual_clock>& clock) {
  auto c = f.config("openai");
  c.retries_max = 0;
  c.breaker_failures = 2;
  c.breaker_cooldown = 100ms;
  auto p = spawn_with_clock(f, c, clock);
  for (const auto* id : {"open-1", "open-2"})
    check_failed(f.chat(p, fixture::ask(id, "breaker")), errc::provider_error, {"HTTP 500"});
  return p;
}

TEST_CASE("http provider faults: the breaker opens, refuses unseen, re-opens on a bad probe, closes on a good one") {
  fixture f{scenario(json::array(
    {rule("breaker", injecting({{"fault", "status"}, {"status", 500}, {"first", 3}}))}))};
  auto clock = std::make_shared<manual_clock>();
  auto p = spawn_and_open_breaker(f, clock);
  auto refused_unseen = [&](const std::string& id) {
    const auto seen = f.mock_requests();
    check_failed(f.chat(p, fixture::ask(id, "breaker")), errc::unavailable,
                 {"circuit breaker open"});
    CHECK(f.mock_requests() == seen);
    CHECK(f.stats(p).breaker_state == "open");
  };
  // Calls 1 and 2 failed and opened it; call 3 is refused unseen.
  refused_unseen("br-3");
  CHECK(f.stats(p).breaker_opened == 1);
  // Past the cooldown the next call is a probe; its 500 re-opens the breaker
  // with the cooldown doubled (200 ms), so 150 ms later it still refuses.
  clock->advance(150ms);
  check_failed(f.chat(p, fixture::ask("br-4", "breaker")), errc::provider_error, {"HTTP 500"});
  clock->advance(150ms);
  refused_unseen("br-5");
  clock->advance(100ms);
  auto probe = f.chat(p, fixture::ask("br-6", "breaker"));
  REQUIRE_MESSAGE(probe, describe(probe.error()));
  auto s = f.stats(p);
  CHECK(s.breaker_state == "closed");
  CHECK(s.breaker_opened == 2);
  CHECK(s.breaker_rejected == 2);
  CHECK(s.attempts == 4);
  CHECK(f.mock_requests() == 4);
}

TEST_CASE("http provider faults: while a probe is out the breaker refuses, and a cancelled probe re-opens it") {
  fixture f{scenario(json::array(
    {rule("breaker", injecting({{"fault", "status"}, {"status", 500}, {"first", 2}})),
     rule("slow", latency(2000))}))};
  auto clock = std::make_shared<manual_clock>();
  auto p = spawn_and_open_breaker(f, clock);
  clock->advance(150ms);
  auto probe = send_chat(f, p, fixture::ask("pr-3", "slow"));  // 2 s at the mock
  REQUIRE(wait_for_stats(f, p, [](const provider_stats& s) { return s.attempts == 3; }));
  CHECK(f.stats(p).breaker_state == "half_open");
  check_failed(f.chat(p, fixture::ask("pr-4", "breaker")), errc::unavailable,
               {"probe in flight"});
  // Nothing proved the endpoint healthy: a cancelled probe counts as failed.
  cancel(f, p, probe, "pr-3");
  auto s = f.stats(p);
  CHECK(s.breaker_state == "open");
  CHECK(s.breaker_opened == 2);
  CHECK(s.breaker_rejected == 1);
  CHECK(s.attempts == 3);
}

TEST_CASE("http provider faults: a shared HTTP client at its limit makes the provider answer overloaded") {
  net::http_client_limits limits;
  limits.in_flight_max = 1;
  fixture f{scenario(json::array({rule("slow", latency(2000)), rule("quick", json::object())})),
            limits};
  auto a = f.spawn(f.config("openai", "a"));
  auto b = f.spawn(f.config("openai", "b"));
  auto held = send_chat(f, a, fixture::ask("sh-1", "slow"));  // holds the client's only slot
  REQUIRE(wait_for_stats(f, a, [](const provider_stats& s) { return s.attempts == 1; }));
  check_failed(f.chat(b, fixture::ask("sh-2", "quick")), errc::overloaded, {"in_flight_max"});
  auto s = f.stats(b);
  CHECK(s.rejected_overloaded == 1);
  CHECK(s.attempts == 0);
  CHECK(s.in_flight == 0);
  CHECK(s.breaker_state == "closed");
  cancel(f, a, held, "sh-1");
}

// -------------------------------------------------------- broken streams

TEST_CASE("http provider faults: a stream cut after chunks reached the caller is not retried") {
  auto o = call_once(call_kind::chat_stream, "cut", {{"drip_ms", 20},
                               {"inject", json::array({{{"fault", "drop"}, {"first", 1},
                                                        {"after_events", 4}}})}});
  check_failed(o.reply, errc::provider_error,
               {"attempts: 1", "part of the answer was already streamed"});
  CHECK(o.stats.attempts == 1);
  CHECK(o.stats.retries == 0);
  CHECK(o.stats.stream_chunks >= 1);
  CHECK(o.mock_requests == 1);
}

TEST_CASE("http provider faults: a stream cut before any event is retried and streams the answer once") {
  auto o = call_once(call_kind::chat_stream, "early",
                     injecting({{"fault", "drop"}, {"first", 1}, {"after_events", 0}}));
  REQUIRE_MESSAGE(o.reply, describe(o.reply.error()));
  CHECK(o.stats.attempts == 2);
  CHECK(o.stats.retries == 1);
  CHECK(o.text == "answer for early");
}

TEST_CASE("http provider faults: a malformed first stream event fails after one attempt") {
  auto o = call_once(call_kind::chat_stream, "garbled",
                     injecting({{"fault", "malformed"}, {"first", 1}}));
  check_failed(o.reply, errc::provider_error, {"attempts: 1", "not retryable"});
  CHECK(o.stats.attempts == 1);
  CHECK(o.stats.retries == 0);
  CHECK(o.stats.stream_chunks == 0);
}

TEST_CASE("http provider faults: a stream quiet for longer than stream_idle_timeout times out") {
  // The first event (the role, no text) arrives at once, the next 2 s later.
  auto o = call_once(call_kind::chat_stream, "quiet", {{"drip_ms", 2000}}, [](provider_config& c) {
    c.stream_idle_timeout = 100ms;
    c.retries_max = 0;
  });
  check_failed(o.reply, errc::timeout, {"attempts: 1"});
  CHECK(o.stats.attempts == 1);
  CHECK(o.stats.stream_chunks == 0);
  CHECK(o.stats.in_flight == 0);
}

TEST_CASE("http provider faults: a malformed plain body fails after one attempt, a cut one is retried") {
  fixture f{scenario(
    json::array({rule("garbled", injecting({{"fault", "malformed"}, {"first", 1}})),
                 rule("halved", injecting({{"fault", "drop"}, {"first", 1}}))}))};
  auto p = f.spawn(f.config("openai"));
  check_failed(f.chat(p, fixture::ask("garbled-1", "garbled")), errc::provider_error,
               {"malformed", "attempts: 1"});
  auto s = f.stats(p);
  CHECK(s.attempts == 1);
  CHECK(s.retries == 0);
  // Half a body then a closed socket is a dropped connection: retried.
  auto r = f.chat(p, fixture::ask("halved-1", "halved"));
  REQUIRE_MESSAGE(r, describe(r.error()));
  CHECK(r->message.content == "answer for halved");
  s = f.stats(p);
  CHECK(s.attempts == 3);
  CHECK(s.retries == 1);
}

// ------------------------------------------------------------ embeddings

TEST_CASE("http provider faults: the callers of one embedding batch share its retry and its failure") {
  auto embed_rule = [](const std::string& word, json fault) {
    auto r = rule(word, injecting(std::move(fault)));
    r["match"]["kind"] = "embeddings";
    r.erase("reply");
    return r;
  };
  fixture f{scenario(json::array(
    {embed_rule("flaky", {{"fault", "status"}, {"status", 503}, {"first", 1}}),
     embed_rule("broken", {{"fault", "status"}, {"status", 400}, {"rate", 1.0}})}))};
  auto c = f.config("openai");
  c.embed_batch_window = 5s;
  c.embed_batch_inputs_max = 2;  // the second caller's input fills the batch: sent at once
  auto p = f.spawn(c);
  auto embed_pair = [&](const std::string& word) {
    auto h1 = (*f.self)->request(p, wait_max, embed_atom::value,
                                 embed_request{"embed-model", {word + " one"}});
    auto h2 = (*f.self)->request(p, wait_max, embed_atom::value,
                                 embed_request{"embed-model", {word + " two"}});
    return std::vector{await<embed_response>(h1), await<embed_response>(h2)};
  };
  for (auto& r : embed_pair("flaky")) {
    REQUIRE_MESSAGE(r, describe(r.error()));
    CHECK(r->vectors.size() == 1);
  }
  auto s = f.stats(p);
  CHECK(s.embed_batches == 1);
  CHECK(s.attempts == 2);
  CHECK(s.retries == 1);
  CHECK(s.succeeded == 2);
  for (auto& r : embed_pair("broken")) {
    REQUIRE_FALSE(r);
    CHECK(errc_of(r.error()) == errc::provider_error);
    CHECK_MESSAGE(contains(describe(r.error()), "HTTP 400"), describe(r.error()));
  }
  s = f.stats(p);
  CHECK(s.embed_batches == 2);
  CHECK(s.attempts == 3);
  CHECK(s.failed == 2);
  CHECK(f.mock_requests() == 3);
}

// ---------------------------------------------------------- cancellation

TEST_CASE("http provider faults: a call cancelled when queued, in flight or in a retry wait ends at once") {
  fixture f{scenario(json::array(
    {rule("slow", latency(2000)), rule("quick", json::object()),
     rule("retry", injecting({{"fault", "status"}, {"status", 503}, {"first", 1}}))}))};
  auto c = f.config("openai");
  c.in_flight_max = 1;
  c.retry_delay = 5s;  // a retry wait (2.5 to 5 s) outlasts the test's cancel
  c.retry_delay_max = 5s;
  auto p = f.spawn(c);
  // The first holds the only slot (2 s at the mock), the second waits for it.
  auto h1 = send_chat(f, p, fixture::ask("q-1", "slow"));
  auto h2 = send_chat(f, p, fixture::ask("q-2", "quick"));
  REQUIRE(wait_for_stats(f, p, [](const provider_stats& s) { return s.waiting == 1; }));
  cancel(f, p, h2, "q-2");
  auto s = f.stats(p);
  CHECK(s.waiting == 0);
  CHECK(s.in_flight == 1);
  cancel(f, p, h1, "q-1");
  s = f.stats(p);
  CHECK(s.attempts == 1);  // the queued call never went upstream
  CHECK(s.in_flight == 0);
  CHECK(f.mock_count("rules", "quick") == 0);
  // The slot is free again; this call fails once and waits to retry.
  auto h3 = send_chat(f, p, fixture::ask("rw-1", "retry"));
  REQUIRE(wait_for_stats(f, p, [](const provider_stats& s) { return s.retries == 1; }));
  cancel(f, p, h3, "rw-1");
  s = f.stats(p);
  CHECK(s.cancelled == 3);
  CHECK(s.failed == 0);
  CHECK(s.attempts == 2);
  CHECK(s.in_flight == 0);
}

// --------------------------------------------------------------- secrets

constexpr std::string_view secret_key = "sk-SECRET-abc123";

void check_no_secret(std::string_view text) {
  CHECK_MESSAGE(!contains(text, secret_key), text);
  CHECK_MESSAGE(!contains(text, "SECRET"), text);
}

TEST_CASE("http provider faults: a rejected key appears in neither the error nor the log") {
  fixture f{scenario(json::array({rule("hello", json::object())}), "the-right-key")};
  stderr_capture capture{log_severity::debug};
  // Gemini answers a bad key with 400 INVALID_ARGUMENT, as the service does.
  const std::vector<std::pair<std::string, std::string>> kinds = {
    {"openai", "HTTP 401"}, {"anthropic", "HTTP 401"}, {"gemini", "HTTP 400"},
    {"openrouter", "HTTP 401"}};
  for (const auto& [kind, status] : kinds) {
    INFO(kind);
    auto c = f.config(kind, kind);
    c.api_key = std::string{secret_key};
    auto p = f.spawn(c);
    auto r = f.chat(p, fixture::ask("key-" + kind, "hello"));
    check_failed(r, errc::provider_error, {status, "attempts: 1"});
    if (!r)
      check_no_secret(describe(r.error()));
  }
  const auto log = capture.finish();
  CHECK_MESSAGE(contains(line_with(log, "request_id=key-gemini"), "msg=\"call failed\""), log);
  CHECK(contains(log, "component=provider"));
  check_no_secret(log);
}

TEST_CASE("http provider faults: the key stays out of retry log lines") {
  fixture f{scenario(
    json::array({rule("flaky", injecting({{"fault", "status"}, {"status", 500}, {"first", 1}}))}),
    std::string{secret_key})};
  stderr_capture capture{log_severity::debug};
  auto c = f.config("openai");
  c.api_key = std::string{secret_key};
  auto p = f.spawn(c);
  auto r = f.chat(p, fixture::ask("key-retry", "flaky"));
  const auto log = capture.finish();
  REQUIRE_MESSAGE(r, describe(r.error()));
  CHECK_MESSAGE(contains(line_with(log, "request_id=key-retry"), "msg=retrying"), log);
  check_no_secret(log);
}

// -------------------------------------------------------------- deadline

TEST_CASE("http provider faults: a request_deadline shorter than the server's latency times out") {
  auto o = call_once(call_kind::chat, "slow", latency(2000),
                     [](provider_config& c) { c.request_deadline = 150ms; });
  check_failed(o.reply, errc::timeout, {"attempts: 1"});
  CHECK(o.stats.failed == 1);
  CHECK(o.stats.attempts == 1);
  CHECK(o.stats.in_flight == 0);
}

TEST_CASE("http provider faults: a queued call whose deadline passes times out too") {
  fixture f{scenario(json::array({rule("slow", latency(2000))}))};
  auto c = f.config("openai");
  c.in_flight_max = 1;
  c.request_deadline = 150ms;
  auto p = f.spawn(c);
  auto h1 = send_chat(f, p, fixture::ask("dq-1", "slow"));
  auto h2 = send_chat(f, p, fixture::ask("dq-2", "slow"));
  check_failed(await(h1), errc::timeout, {});
  check_failed(await(h2), errc::timeout, {});
  auto s = f.stats(p);
  CHECK(s.failed == 2);
  CHECK(s.in_flight == 0);
  CHECK(s.waiting == 0);
}

}  // namespace http_provider_faults_test

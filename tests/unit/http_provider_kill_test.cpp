// An HTTP provider killed while calls are in flight, at many moments: in its
// admission queue, on the wire, and in the window where the libcurl I/O
// thread answers a caller directly (http_provider_detail::direct_reply).
// Every caller gets exactly one answer, the reply or an error, and none
// waits for its deadline; the actor system then stops without hanging.
#include <doctest/doctest.h>

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <caf/event_based_actor.hpp>
#include <nlohmann/json.hpp>

#include "http_provider_fixture.hpp"

namespace http_provider_kill_test {

using namespace http_provider_fixture;
using namespace std::chrono_literals;
using json = nlohmann::json;

// What the callers heard, by request id.
struct tally {
  std::mutex m;
  std::map<std::string, int> answers;  // guarded by m
  int replies = 0;                     // guarded by m
  int errors = 0;                      // guarded by m

  void add(const std::string& id, bool reply) {
    std::lock_guard<std::mutex> guard{m};
    ++answers[id];
    (reply ? replies : errors) += 1;
  }
  size_t answered() {
    std::lock_guard<std::mutex> guard{m};
    return answers.size();
  }
};

// One actor per call, so the calls do not share a mailbox: each asks once
// with an hour's deadline. A provider stopped by an exit message answers
// its calls itself (`watch` false: nothing else could end them early). A
// killed actor cannot run any code, so CAF 0.17 drops the promises it held:
// callers learn of it from a monitor, as the runtime's callers do
// (runtime/call_watch.hpp), and `watch` is true.
void ask(caf::actor_system& sys, const provider_actor& p, std::shared_ptr<tally> t,
         std::string id, std::string text, bool watch) {
  sys.spawn([p, t, id, text, watch](caf::event_based_actor* self) {
    if (watch) {
      self->monitor(p);
      self->set_down_handler([self, t, id](caf::down_msg&) {
        t->add(id, false);
        self->quit();
      });
    }
    self->request(p, std::chrono::seconds{3600}, chat_atom::value, fixture::ask(id, text))
      .then([self, t, id](chat_response&) { t->add(id, true); self->quit(); },
            [self, t, id](caf::error&) { t->add(id, false); self->quit(); });
  });
}

std::string scenario() {
  auto rule = [](const std::string& word, int latency_ms) {
    return json{{"name", word},
                {"match", {{"contains", word}}},
                {"reply", {{"text", "answer for " + word}}},
                {"faults", {{"latency_ms", latency_ms}}}};
  };
  return json{{"name", "kill"},
              {"seed", 3},
              {"api_key", "k"},
              {"limits", {{"threads", 8}}},
              {"rules", json::array({rule("fast", 0), rule("mid", 5), rule("slow", 40)})}}
    .dump();
}

}  // namespace http_provider_kill_test

using namespace http_provider_kill_test;

TEST_CASE("http provider kill: every call in flight gets one answer, at any moment of the kill") {
  fixture f{scenario()};
  constexpr int rounds = 24;
  constexpr int calls = 12;
  const char* words[] = {"fast", "mid", "slow"};
  for (int r = 0; r < rounds; ++r) {
    CAPTURE(r);
    auto c = f.config("openai");
    c.in_flight_max = 4;  // the rest wait in the admission queue
    c.retries_max = 0;
    auto p = f.spawn(c);
    auto t = std::make_shared<tally>();
    const bool kill = r % 2 == 0;
    for (int i = 0; i < calls; ++i)
      ask(*f.sys, p, t, "r" + std::to_string(r) + "-" + std::to_string(i), words[i % 3], kill);
    // Kill at a different moment each round: before any call arrived, while
    // they queue, while they are on the wire, while answers come back.
    std::this_thread::sleep_for(std::chrono::microseconds{(r % 8) * 1500});
    caf::anon_send_exit(p, kill ? caf::exit_reason::kill : caf::exit_reason::user_shutdown);
    // Each call is answered (a caller quits on its first answer, and CAF
    // keeps no second handler for one request), long before its hour.
    bool all = false;
    for (int k = 0; k < 1000 && !all; ++k) {
      all = t->answered() == static_cast<size_t>(calls);
      if (!all)
        std::this_thread::sleep_for(10ms);
    }
    REQUIRE(all);
    std::lock_guard<std::mutex> guard{t->m};
    CHECK(t->replies + t->errors == calls);
    for (const auto& [id, n] : t->answers)
      CHECK_MESSAGE(n == 1, id);
  }
  // The fixture's destructor stops the system: it must not wait on a
  // provider or a transfer left behind.
}

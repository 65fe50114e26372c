// The fallback chain's member calls and the LLM cache's inner calls are
// watched (runtime/call_watch.hpp): a member or inner provider that never
// answers fails its call at the deadline, named as a timeout, and one that
// dies holding a call fails it at once, named as down. The "dies" cases
// give the calls an hour: without the watch's monitor they would outwait
// the 20 s receive here and fail.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include "actors/host/register_types.hpp"
#include "actors/provider/caching_provider.hpp"
#include "actors/provider/fallback_provider.hpp"
#include "runtime/error.hpp"

namespace provider_watched_calls_test {

using namespace agentgraph;
using namespace std::chrono_literals;

enum class mode { answer, hang, die };

struct fake_provider_state {
  static inline const char* name = "provider_watched_calls_test.fake_provider";
  std::vector<caf::typed_response_promise<chat_response>> parked;
  std::shared_ptr<std::atomic<int>> calls;  // seen by the test
};

// A provider that answers "<name>" at once, holds every call unanswered
// (hang), or dies holding it (die: CAF 0.17 then answers nobody).
provider_actor::behavior_type fake_provider(provider_actor::stateful_pointer<fake_provider_state> self,
                                            std::string name, mode m, std::shared_ptr<std::atomic<int>> calls) {
  self->state.calls = std::move(calls);
  auto chat = [self, name, m]() -> caf::result<chat_response> {
    ++*self->state.calls;
    if (m == mode::answer) {
      chat_response r;
      r.message.role = chat_role::assistant;
      r.message.content = name;
      r.model = name;
      return r;
    }
    auto rp = self->make_response_promise<chat_response>();
    self->state.parked.push_back(rp);
    if (m == mode::die)
      self->quit(caf::exit_reason::kill);
    return rp;
  };
  return {
    [chat](chat_atom, chat_request&) { return chat(); },
    [chat](chat_stream_atom, chat_request&, stream_sink_actor&) { return chat(); },
    [](embed_atom, embed_request&) -> caf::result<embed_response> {
      return make_error(errc::unsupported, "no embeddings");
    },
    [](cancel_atom, std::string&) {},
    [](stats_atom) { return provider_stats{}; },
    [](ping_atom) { return pong_atom::value; },
  };
}

struct fixture {
  caf::actor_system_config cfg;
  std::optional<caf::actor_system> sys;
  std::vector<caf::actor> owned;

  fixture() {
    register_all_types(cfg);
    cfg.set("scheduler.max-threads", 2);
    sys.emplace(cfg);
  }
  ~fixture() {
    for (auto& a : owned)
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  }
  provider_actor provider(const std::string& name, mode m, std::shared_ptr<std::atomic<int>> calls = nullptr) {
    auto p = sys->spawn(fake_provider, name, m, calls ? calls : std::make_shared<std::atomic<int>>(0));
    owned.push_back(caf::actor_cast<caf::actor>(p));
    return p;
  }
  template <class Handle>
  caf::expected<chat_response> chat(const Handle& p, const std::string& id = "r1") {
    caf::scoped_actor self{*sys};
    chat_request req;
    req.request_id = id;
    req.model = "m";
    req.messages.push_back(chat_message{chat_role::user, "hello", {}, {}, {}});
    caf::expected<chat_response> out = make_error(errc::internal, "no answer");
    self->request(p, 20s, chat_atom::value, std::move(req))
      .receive([&](chat_response& r) { out = std::move(r); },
               [&](caf::error& e) { out = std::move(e); });
    return out;
  }
  provider_actor chain(std::vector<fallback_member> members, std::chrono::milliseconds timeout) {
    auto p = spawn_fallback_provider(*sys, "chain", std::move(members), timeout);
    REQUIRE_MESSAGE(p, describe(p.error()));
    owned.push_back(caf::actor_cast<caf::actor>(*p));
    return *p;
  }
  provider_actor cache(provider_actor inner, std::chrono::milliseconds timeout) {
    llm_cache_config c;
    c.name = "agent.a";
    c.inner_timeout = timeout;
    auto p = spawn_caching_provider(*sys, std::move(c), dep<provider_actor>{std::move(inner)});
    REQUIRE_MESSAGE(p, describe(p.error()));
    owned.push_back(caf::actor_cast<caf::actor>(*p));
    return *p;
  }
};

std::string message_of(const caf::expected<chat_response>& r) {
  return r ? "answer: " + r->message.content : describe(r.error());
}

TEST_CASE("fallback chain: a member past member_timeout hands the call to the next") {
  fixture f;
  auto p = f.chain({{"slow", f.provider("slow", mode::hang), ""},
                    {"spare", f.provider("spare", mode::answer), ""}},
                   50ms);
  auto r = f.chat(p);
  REQUIRE_MESSAGE(r, message_of(r));
  CHECK(r->message.content == "spare");
}

TEST_CASE("fallback chain: a member that dies mid-call hands it on at once, not at the deadline") {
  fixture f;
  auto p = f.chain({{"mortal", f.provider("mortal", mode::die), ""},
                    {"spare", f.provider("spare", mode::answer), ""}},
                   std::chrono::hours{1});
  auto r = f.chat(p);
  REQUIRE_MESSAGE(r, message_of(r));
  CHECK(r->message.content == "spare");
}

TEST_CASE("fallback chain: with no member left the error is the last member's, by our codes") {
  fixture f;
  auto timed_out = f.chat(f.chain({{"slow", f.provider("slow", mode::hang), ""}}, 50ms));
  REQUIRE_FALSE(timed_out);
  CHECK(errc_of(timed_out.error()) == errc::timeout);
  CHECK(message_of(timed_out).find("fallback chain 'chain' failed: slow: ") != std::string::npos);
  auto down = f.chat(f.chain({{"mortal", f.provider("mortal", mode::die), ""}}, std::chrono::hours{1}));
  REQUIRE_FALSE(down);
  CHECK(errc_of(down.error()) == errc::unavailable);
  CHECK(message_of(down).find("request_receiver_down") != std::string::npos);
}

TEST_CASE("LLM cache: an inner provider past inner_timeout is a timeout naming it") {
  fixture f;
  auto r = f.chat(f.cache(f.provider("slow", mode::hang), 50ms));
  REQUIRE_FALSE(r);
  CHECK(errc_of(r.error()) == errc::timeout);
  CHECK(message_of(r).find("agent.a: provider gave no reply within 50 ms") != std::string::npos);
}

TEST_CASE("LLM cache: an inner provider that dies mid-call fails it at once, as unavailable") {
  fixture f;
  auto r = f.chat(f.cache(f.provider("mortal", mode::die), std::chrono::hours{1}));
  REQUIRE_FALSE(r);
  CHECK(errc_of(r.error()) == errc::unavailable);
  CHECK(message_of(r).find("agent.a: provider is down") != std::string::npos);
}

TEST_CASE("LLM cache: a miss asks the inner provider once, a repeat is answered from the cache") {
  fixture f;
  auto calls = std::make_shared<std::atomic<int>>(0);
  auto p = f.cache(f.provider("inner", mode::answer, calls), std::chrono::hours{1});
  auto first = f.chat(p, "r1");
  auto again = f.chat(p, "r2");
  REQUIRE_MESSAGE(first, message_of(first));
  REQUIRE_MESSAGE(again, message_of(again));
  CHECK(again->message.content == "inner");
  CHECK(*calls == 1);
}

}  // namespace provider_watched_calls_test

// The scripted provider as an actor: replies, delays and cancellation,
// streaming, error injection, bounds, and the factory's kinds.
#include <doctest/doctest.h>

#include "actors/memory/hashing_embedder.hpp"

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/exit_reason.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include "actors/provider/provider_factory.hpp"
#include "actors/provider/scripted_provider.hpp"
#include "actors/provider/token_count.hpp"
#include "actors/host/register_types.hpp"
#include "runtime/error.hpp"

using namespace agentgraph;

namespace provider_actor_test {

// Rules used by most actor tests.
constexpr const char* rules_json = R"J({"rules": [
  {"name": "slow", "when": {"user_contains": "slow"}, "reply": "finally", "delay_ms": 60000},
  {"name": "quick delay", "when": {"user_contains": "later"}, "reply": "done later",
   "delay_ms": 1},
  {"name": "boom", "when": {"user_contains": "boom"}, "error": "injected failure"},
  {"name": "slow boom", "when": {"user_contains": "deferred fault"}, "error": "late failure",
   "delay_ms": 1},
  {"name": "tools", "when": {"user_contains": "tools"}, "reply": "Let me  look that up.",
   "tool_calls": [{"name": "file_read", "arguments": {"path": "a.txt"}},
                  {"name": "calculator", "arguments": {"expression": "1+2"}}]},
  {"name": "echo", "reply": "You said: {{user}}"}]})J";

struct fixture {
  caf::actor_system_config cfg;
  std::optional<caf::actor_system> sys;
  std::optional<caf::scoped_actor> self;
  std::vector<provider_actor> spawned;

  fixture() {
    register_all_types(cfg);
    cfg.set("scheduler.max-threads", 2);
    sys.emplace(cfg);
    self.emplace(*sys);
  }

  ~fixture() {
    // A provider with a pending 60 s timer would keep the system's
    // destructor waiting; stop it explicitly, as a supervisor would.
    for (auto& p : spawned)
      caf::anon_send_exit(p, caf::exit_reason::user_shutdown);
    self.reset();
  }

  provider_actor spawn(const char* json = rules_json) {
    auto rules = parse_scripted_rules(json, "actor_test.json");
    REQUIRE_MESSAGE(rules, describe(rules.error()));
    auto shared = std::make_shared<const scripted_rules>(std::move(*rules));
    provider_actor p{sys->spawn(scripted_provider, std::move(shared), provider_metrics{})};
    spawned.push_back(p);
    return p;
  }

  // Blocking call for tests only; the provider itself never blocks.
  caf::expected<chat_response> chat(const provider_actor& p, const chat_request& req) {
    caf::expected<chat_response> out{make_error(errc::internal, "no reply")};
    (*self)
      ->request(p, caf::infinite, chat_atom::value, req)
      .receive([&](chat_response& r) { out = std::move(r); },
               [&](caf::error& e) { out = std::move(e); });
    return out;
  }
};

chat_request request(std::string id, std::string text) {
  chat_request req;
  req.request_id = std::move(id);
  req.messages.push_back({chat_role::user, std::move(text), {}, {}, {}});
  return req;
}

}  // namespace provider_actor_test

TEST_CASE("provider: the actor answers chat, ping and embeddings") {
  provider_actor_test::fixture f;
  auto p = f.spawn();
  auto r = f.chat(p, provider_actor_test::request("r1", "hello there"));
  REQUIRE_MESSAGE(r, describe(r.error()));
  CHECK(r->message.content == "You said: hello there");
  CHECK(r->finish == finish_reason::stop);
  CHECK(r->usage.prompt_tokens == 4 + 2 + 2);  // overhead + hel|lo + the|re
  CHECK(r->usage.completion_tokens == count_completion_tokens(r->message));
  bool pong = false;
  (*f.self)->request(p, caf::infinite, ping_atom::value)
    .receive([&](pong_atom) { pong = true; }, [&](caf::error& e) { FAIL(describe(e)); });
  CHECK(pong);
  std::optional<caf::error> embed_err;
  (*f.self)
    ->request(p, caf::infinite, embed_atom::value, embed_request{"m", {"text"}})
    .receive([&](embed_response&) { FAIL("embed with an unknown model must fail"); },
             [&](caf::error& e) { embed_err = e; });
  REQUIRE(embed_err);
  CHECK(errc_of(*embed_err) == errc::unsupported);
  embed_response emb;
  (*f.self)
    ->request(p, caf::infinite, embed_atom::value,
              embed_request{"hash-64", {"the blue crate", "the blue crate", "unrelated words"}})
    .receive([&](embed_response& r) { emb = std::move(r); },
             [&](caf::error& e) { FAIL(describe(e)); });
  REQUIRE(emb.vectors.size() == 3);
  CHECK(emb.vectors[0].size() == 64);
  CHECK(emb.vectors[0] == emb.vectors[1]);
  CHECK(dot(emb.vectors[0], emb.vectors[0]) == doctest::Approx(1.0));
  CHECK(dot(emb.vectors[0], emb.vectors[2]) < 0.5);
  CHECK(emb.usage.prompt_tokens > 0);
}

TEST_CASE("provider: the actor validates requests and injects errors") {
  provider_actor_test::fixture f;
  auto p = f.spawn();
  chat_request empty;
  empty.request_id = "r0";
  auto r = f.chat(p, empty);
  REQUIRE_FALSE(r);
  CHECK(errc_of(r.error()) == errc::invalid_argument);
  auto boom = f.chat(p, provider_actor_test::request("r1", "boom"));
  REQUIRE_FALSE(boom);
  CHECK(errc_of(boom.error()) == errc::provider_error);
  CHECK(error_context(boom.error()) == "rule 'boom': injected failure");
  auto late = f.chat(p, provider_actor_test::request("r2", "deferred fault"));
  REQUIRE_FALSE(late);
  CHECK(error_context(late.error()) == "rule 'slow boom': late failure");
  auto later = f.chat(p, provider_actor_test::request("r3", "answer later"));
  REQUIRE_MESSAGE(later, describe(later.error()));
  CHECK(later->message.content == "done later");
}

TEST_CASE("provider: cancel answers a delayed request with cancelled at once") {
  provider_actor_test::fixture f;
  auto p = f.spawn();
  auto& self = *f.self;
  // The delay is 60 s; the test can only finish promptly if cancel works.
  auto pending = self->request(p, caf::infinite, chat_atom::value,
                               provider_actor_test::request("slow-1", "be slow"));
  // Cancelling an unknown id is harmless.
  self->send(p, cancel_atom::value, std::string{"no-such-request"});
  self->send(p, cancel_atom::value, std::string{"slow-1"});
  std::optional<caf::error> err;
  pending.receive([&](chat_response&) { FAIL("a cancelled request must not succeed"); },
                  [&](caf::error& e) { err = e; });
  REQUIRE(err);
  CHECK(errc_of(*err) == errc::cancelled);
  CHECK(error_context(*err).find("slow-1") != std::string::npos);
  // The id is free again after cancellation, and the actor still answers.
  auto again = self->request(p, caf::infinite, chat_atom::value,
                             provider_actor_test::request("slow-1", "be slow"));
  self->send(p, cancel_atom::value, std::string{"slow-1"});
  again.receive([&](chat_response&) { FAIL("cancelled"); },
                [&](caf::error& e) { CHECK(errc_of(e) == errc::cancelled); });
  auto r = f.chat(p, provider_actor_test::request("r9", "still alive"));
  CHECK(r);
}

TEST_CASE("provider: delayed requests are bounded and fail with overloaded beyond") {
  provider_actor_test::fixture f;
  auto p = f.spawn();
  auto& self = *f.self;
  using handle_t = decltype(self->request(p, caf::infinite, chat_atom::value, chat_request{}));
  std::vector<handle_t> held;
  for (size_t i = 0; i < scripted_pending_max; ++i)
    held.push_back(self->request(p, caf::infinite, chat_atom::value,
                                 provider_actor_test::request("s" + std::to_string(i), "slow")));
  auto dup = f.chat(p, provider_actor_test::request("s0", "slow"));
  REQUIRE_FALSE(dup);
  CHECK(errc_of(dup.error()) == errc::overloaded);  // the bound is checked first
  auto over = f.chat(p, provider_actor_test::request("one-too-many", "slow"));
  REQUIRE_FALSE(over);
  CHECK(errc_of(over.error()) == errc::overloaded);
  // Undelayed requests do not count against the bound.
  CHECK(f.chat(p, provider_actor_test::request("quick", "hi")));
  // Freeing one slot admits one more.
  self->send(p, cancel_atom::value, std::string{"s0"});
  held.front().receive([&](chat_response&) { FAIL("cancelled"); },
                       [&](caf::error& e) { CHECK(errc_of(e) == errc::cancelled); });
  auto dup_id = self->request(p, caf::infinite, chat_atom::value,
                              provider_actor_test::request("s1", "slow"));
  dup_id.receive([&](chat_response&) { FAIL("duplicate id must fail"); },
                 [&](caf::error& e) { CHECK(errc_of(e) == errc::invalid_argument); });
  // Stopping the provider fails every pending request with unavailable.
  caf::anon_send_exit(p, caf::exit_reason::user_shutdown);
  held.back().receive([&](chat_response&) { FAIL("stopped"); },
                      [&](caf::error& e) { CHECK(errc_of(e) == errc::unavailable); });
}

TEST_CASE("provider: streamed chunks reassemble to the full reply") {
  provider_actor_test::fixture f;
  auto p = f.spawn();
  auto& self = *f.self;
  auto sink = caf::actor_cast<stream_sink_actor>(self.ptr());
  for (const char* text : {"use tools please", "answer later"}) {
    CAPTURE(std::string{text});
    std::optional<chat_response> resp;
    self->request(p, caf::infinite, chat_stream_atom::value,
                  provider_actor_test::request("st", text), sink)
      .receive([&](chat_response& r) { resp = std::move(r); },
               [&](caf::error& e) { FAIL(describe(e)); });
    REQUIRE(resp);
    // Chunks come from the provider before its reply, so all are queued now.
    std::string joined;
    std::vector<tool_call> calls;
    size_t chunks = 0;
    bool more = true;
    while (more)
      self->receive(
        [&](stream_chunk& c) {
          CHECK(c.request_id == "st");
          joined += c.delta_text;
          calls.insert(calls.end(), c.tool_calls.begin(), c.tool_calls.end());
          ++chunks;
        },
        caf::after(std::chrono::seconds(0)) >> [&] { more = false; });
    CHECK(joined == resp->message.content);
    CHECK(calls.size() == resp->message.tool_calls.size());
    CHECK(chunks > 1);
  }
  auto bad = self->request(p, caf::infinite, chat_stream_atom::value,
                           provider_actor_test::request("st2", "x"), stream_sink_actor{});
  bad.receive([&](chat_response&) { FAIL("invalid sink"); },
              [&](caf::error& e) { CHECK(errc_of(e) == errc::invalid_argument); });
}

TEST_CASE("provider: spawn_provider builds scripted and checks the HTTP kinds' needs") {
  provider_actor_test::fixture f;
  for (const char* kind : {"openai", "anthropic", "gemini", "openrouter", "openai_compatible"}) {
    auto p = spawn_provider(*f.sys, provider_config{"p", kind, ""});
    REQUIRE_FALSE(p);
    CHECK(errc_of(p.error()) == errc::invalid_argument);
    CHECK(error_context(p.error()).find("no HTTP client") != std::string::npos);
  }
  auto unknown = spawn_provider(*f.sys, provider_config{"p", "gpt", ""});
  REQUIRE_FALSE(unknown);
  CHECK(errc_of(unknown.error()) == errc::invalid_argument);
  CHECK(error_context(unknown.error()).find("known: scripted, openai") != std::string::npos);
  auto no_rules = spawn_provider(*f.sys, provider_config{"local", "scripted", ""});
  REQUIRE_FALSE(no_rules);
  CHECK(errc_of(no_rules.error()) == errc::invalid_argument);
  CHECK(error_context(no_rules.error()).find("provider 'local'") != std::string::npos);
  CHECK(error_context(no_rules.error()).find("`rules`") != std::string::npos);
  auto missing = spawn_provider(*f.sys, provider_config{"local", "scripted", "/no/such.json"});
  REQUIRE_FALSE(missing);
  CHECK(errc_of(missing.error()) == errc::io_error);
  auto ok = spawn_provider(*f.sys, provider_config{
                                     "local", "scripted",
                                     AGENTGRAPH_SOURCE_DIR "/configs/examples/research.rules.json"});
  REQUIRE_MESSAGE(ok, describe(ok.error()));
  f.spawned.push_back(*ok);
  auto r = f.chat(*ok, provider_actor_test::request("r1", "what is the weather?"));
  REQUIRE(r);
  CHECK(r->message.content.find("scripted research flow") != std::string::npos);
}

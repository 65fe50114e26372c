// Wire bodies on the libcurl I/O thread: the HTTP provider's I/O-thread
// half (http_provider_detail::done_event). A whole body is decoded where
// the transfer finished, a 2xx chat answer is claimed for the caller (and
// reaches it from that thread) when the call's direct_reply is unclaimed, and
// everything else (errors with their headers, streams, a reply claimed by
// the actor first) is left for the actor. The whole pipeline over real HTTP
// is in http_provider_*_test.cpp.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <thread>

#include <caf/all.hpp>

#include "actors/host/register_types.hpp"
#include "actors/provider/http_provider_detail.hpp"
#include "net/llm/wire_codec.hpp"
#include "runtime/error.hpp"

namespace wire_io_thread_test {

using namespace agentgraph;
using http_provider_detail::done_event;

constexpr const char* chat_body =
  R"({"id":"c1","object":"chat.completion","model":"m-answered",)"
  R"("choices":[{"index":0,"message":{"role":"assistant","content":"pong"},)"
  R"("finish_reason":"stop"}],"usage":{"prompt_tokens":7,"completion_tokens":2}})";

std::shared_ptr<const wire_codec> openai_codec() {
  wire_settings ws;
  ws.kind = wire_kind::openai;
  ws.base_url = "http://127.0.0.1:1/v1";
  ws.api_key = "k";
  auto c = make_wire_codec(std::move(ws));
  REQUIRE(c);
  return std::shared_ptr<const wire_codec>{std::move(*c)};
}

net::http_result answer(long status, std::string body, net::http_headers headers = {}) {
  net::http_response r;
  r.status = status;
  r.body = std::move(body);
  r.headers = std::move(headers);
  r.connections_opened = 1;
  return net::http_result{std::move(r), net::transport_error::none};
}

}  // namespace wire_io_thread_test

using namespace wire_io_thread_test;

TEST_CASE("http provider I/O: a 2xx chat body arrives decoded, its headers dropped") {
  auto ev = done_event(*openai_codec(), call_kind::chat, 3, 4, nullptr, 0,
                       answer(200, chat_body, {{"content-type", "application/json"}}));
  CHECK(ev.kind == http_event::what::done);
  CHECK(ev.call == 3);
  CHECK(ev.attempt == 4);
  CHECK(ev.status == 200);
  CHECK(ev.connections_opened == 1);
  CHECK_FALSE(ev.error);
  CHECK_FALSE(ev.answered);
  REQUIRE(ev.chat);
  CHECK(ev.chat->message.content == "pong");
  CHECK(ev.chat->usage.prompt_tokens == 7);
  CHECK(ev.chat->usage.completion_tokens == 2);
  CHECK(ev.chat->model == "m-answered");
  CHECK(ev.headers.empty());  // nothing reads a success's headers
  CHECK(ev.bytes.empty());    // the body does not travel
}

TEST_CASE("http provider I/O: a non-2xx body becomes the vendor's error, headers kept") {
  auto ev = done_event(*openai_codec(), call_kind::chat, 1, 1, nullptr, 0,
                       answer(429, R"({"error":{"message":"slow down","type":"rate_limit"}})",
                              {{"retry-after-ms", "250"}}));
  CHECK(ev.status == 429);
  CHECK_FALSE(ev.chat);
  REQUIRE(ev.error);
  CHECK(errc_of(ev.error) == errc::provider_error);
  CHECK(describe(ev.error).find("slow down") != std::string::npos);
  // The retry policy reads Retry-After from them.
  REQUIRE(net::find_header(ev.headers, "retry-after-ms") != nullptr);
}

TEST_CASE("http provider I/O: a malformed 2xx body is an error for the actor") {
  auto ev = done_event(*openai_codec(), call_kind::chat, 1, 1, nullptr, 0, answer(200, "not json"));
  CHECK_FALSE(ev.chat);
  CHECK_FALSE(ev.answered);
  REQUIRE(ev.error);
  CHECK(errc_of(ev.error) == errc::provider_error);
}

TEST_CASE("http provider I/O: embeddings decode there too") {
  auto ev = done_event(*openai_codec(), call_kind::embed, 1, 1, nullptr, 0,
                       answer(200, R"({"data":[{"index":0,"embedding":[0.5,0.25]}],)"
                                   R"("usage":{"prompt_tokens":3}})"));
  CHECK_FALSE(ev.error);
  REQUIRE(ev.embed);
  REQUIRE(ev.embed->vectors.size() == 1);
  CHECK(ev.embed->vectors[0].size() == 2);
}

TEST_CASE("http provider I/O: an embedding answer of another length than asked is an error") {
  const auto body = answer(200, R"({"data":[{"index":0,"embedding":[0.5,0.25]}]})");
  auto ev = done_event(*openai_codec(), call_kind::embed, 1, 1, nullptr, 3, body);
  CHECK_FALSE(ev.embed);
  REQUIRE(ev.error);
  CHECK(errc_of(ev.error) == errc::provider_error);
  CHECK(describe(ev.error).find("dimension mismatch: asked 3, got 2") != std::string::npos);
  auto asked_two = done_event(*openai_codec(), call_kind::embed, 1, 1, nullptr, 2, body);
  CHECK_FALSE(asked_two.error);
  CHECK(asked_two.embed);
}

TEST_CASE("http provider I/O: transport failures and stream ends pass through undecoded") {
  auto failed = done_event(
    *openai_codec(), call_kind::chat, 1, 1, nullptr, 0,
    net::http_result{make_error(errc::timeout, "total_timeout: 5 ms"), net::transport_error::total_timeout});
  CHECK(failed.transport == net::transport_error::total_timeout);
  CHECK(errc_of(failed.error) == errc::timeout);
  CHECK_FALSE(failed.chat);
  // A stream's body went to on_data; its end carries the status only.
  auto stream = done_event(*openai_codec(), call_kind::chat_stream, 1, 1, nullptr, 0, answer(200, ""));
  CHECK(stream.status == 200);
  CHECK_FALSE(stream.error);
  CHECK_FALSE(stream.chat);
}

TEST_CASE("http provider I/O: a reply the actor claimed first is left to the actor") {
  direct_reply d;
  REQUIRE(d.try_claim());  // e.g. a cancel won the race
  auto ev = done_event(*openai_codec(), call_kind::chat, 1, 1, &d, 0, answer(200, chat_body));
  CHECK_FALSE(ev.answered);
  REQUIRE(ev.chat);  // the actor's: it finds its call gone and drops it
  CHECK_FALSE(d.try_claim());
}

namespace wire_io_thread_test {

// Parks each chat request's promise in a direct_reply, as the provider does,
// and answers nothing itself.
struct parking_state {
  std::shared_ptr<std::promise<std::shared_ptr<direct_reply>>> parked;
};

caf::behavior parking(caf::stateful_actor<parking_state>* self,
                      std::shared_ptr<std::promise<std::shared_ptr<direct_reply>>> parked) {
  self->state.parked = std::move(parked);
  return {[self](chat_atom, chat_request&) -> caf::result<chat_response> {
    auto rp = self->make_response_promise<chat_response>();
    caf::response_promise& untyped = rp;
    auto d = std::make_shared<direct_reply>();
    d->caller = untyped.source();
    d->provider = caf::actor_cast<caf::strong_actor_ptr>(self);
    d->request = untyped.id();
    d->model = "the-configured-model";
    self->state.parked->set_value(d);
    return rp;
  }};
}

}  // namespace wire_io_thread_test

TEST_CASE("http provider I/O: an unclaimed reply answers the caller from the I/O thread") {
  caf::actor_system_config cfg;
  register_all_types(cfg);
  cfg.set("scheduler.max-threads", 2);
  caf::actor_system sys{cfg};
  auto parked = std::make_shared<std::promise<std::shared_ptr<direct_reply>>>();
  auto parked_reply = parked->get_future();
  auto callee = sys.spawn(parking, parked);
  std::atomic<bool> answered_by_io{false};
  // The "I/O thread": waits for the parked call, then finishes it.
  std::thread io{[&] {
    if (parked_reply.wait_for(std::chrono::seconds{10}) != std::future_status::ready)
      return;
    auto d = parked_reply.get();
    // A body without "model": the reply names the call's model.
    std::string body = chat_body;
    body.replace(body.find(R"("model":"m-answered",)"), 21, "");
    auto ev = done_event(*openai_codec(), call_kind::chat, 1, 1, d.get(), 0, answer(200, body));
    // Claimed for the caller: post_done posts the event, then delivers this.
    answered_by_io = ev.answered && ev.chat && ev.usage.prompt_tokens == 7 && !d->try_claim();
    if (ev.chat)
      d->deliver(std::move(*ev.chat));
  }};
  caf::scoped_actor self{sys};
  chat_request req;
  req.model = "m";
  req.messages.push_back({chat_role::user, "ping", {}, {}, {}});
  std::string content;
  std::string model;
  self->request(callee, std::chrono::seconds{10}, chat_atom::value, req)
    .receive([&](chat_response& r) { content = r.message.content; model = r.model; },
             [&](caf::error& e) { FAIL("no direct answer: " << describe(e)); });
  io.join();
  CHECK(answered_by_io);
  CHECK(content == "pong");
  CHECK(model == "the-configured-model");
  caf::anon_send_exit(callee, caf::exit_reason::user_shutdown);
}

// Record mode against the mock LLM server over loopback (a real HTTP
// provider, a real SSE stream, a real 429), then the replay kind answers
// the same calls from the file with no server running: same text, same
// stream, same usage, same error.
#include "http_provider_fixture.hpp"

#include <thread>

#include "actors/provider/recording_store.hpp"
#include "temp_dir.hpp"

namespace replay_mock_llm_test {

using namespace http_provider_fixture;
using json = nlohmann::json;

std::string scenario() {
  json limited = {{"name", "limited"},
                  {"match", {{"contains", "limited"}}},
                  {"reply", {{"text", "never"}}},
                  {"faults",
                   {{"inject", json::array({{{"fault", "status"}, {"status", 429}, {"rate", 1.0}}})}}}};
  json hello = {{"name", "hello"},
                {"match", {{"contains", "hello"}}},
                {"reply", {{"text", "Hello from the mock, streamed in pieces."}}}};
  return json{{"name", "replay"},
              {"seed", 3},
              {"api_key", "k"},
              {"chunk_chars", 5},
              {"limits", {{"threads", 4}}},
              {"rules", json::array({limited, hello})}}
    .dump();
}


TEST_CASE("replay: calls recorded against the mock LLM server replay without it") {
  test_support::temp_dir dir{"replay-mock"};
  const auto file = (dir.path / "mock.sqlite").string();
  fixture f{scenario()};
  auto live_cfg = f.config("openai", "live");
  live_cfg.retries_max = 0;  // the 429 is the call's outcome
  live_cfg.record = file;
  auto live = f.spawn(live_cfg);
  auto hello = f.chat(live, fixture::ask("r1", "hello there"));
  REQUIRE_MESSAGE(hello, describe(hello.error()));
  auto live_log = std::make_shared<chunk_log>();
  auto streamed = f.stream(live, fixture::ask("r2", "hello, stream it"), live_log);
  REQUIRE_MESSAGE(streamed, describe(streamed.error()));
  REQUIRE(live_log->wait_for(2));
  auto limited = f.chat(live, fixture::ask("r3", "limited please"));
  REQUIRE_FALSE(limited);
  CHECK(describe(limited.error()).find("429") != std::string::npos);
  bool written = false;
  for (int i = 0; i < 2000 && !written; ++i) {
    written = f.stats(live).records_written == 3;
    if (!written)
      std::this_thread::sleep_for(std::chrono::milliseconds{5});
  }
  REQUIRE(written);
  const auto mock_calls = f.mock_requests();
  // The file's timing is the wrapper's measurement: positive, TTFT within it.
  auto rec = load_recording(file, 10);
  REQUIRE_MESSAGE(rec, describe(rec.error()));
  CHECK(rec->entries == 3);
  for (const auto& [hash, list] : rec->by_hash)
    for (const auto& r : list) {
      CHECK(r.latency_us > 0);
      CHECK(r.provider == "live");
      if (r.call == recorded_call::chat_stream) {
        CHECK(r.ttft_us >= 0);
        CHECK(r.ttft_us <= r.latency_us);
        CHECK(r.chunks.size() == live_log->size());
      }
    }

  provider_config again;
  again.name = "again";
  again.kind = provider_kind::replay;
  again.recording = file;
  again.timing = replay_timing::recorded;
  again.speed = 1000;  // the recorded pacing, a thousand times faster
  auto replay = f.spawn(again);
  auto hello2 = f.chat(replay, fixture::ask("x1", "hello there"));
  REQUIRE_MESSAGE(hello2, describe(hello2.error()));
  CHECK(hello2->message.content == hello->message.content);
  CHECK(hello2->usage.prompt_tokens == hello->usage.prompt_tokens);
  CHECK(hello2->usage.completion_tokens == hello->usage.completion_tokens);
  CHECK(hello2->model == hello->model);
  auto log = std::make_shared<chunk_log>();
  auto streamed2 = f.stream(replay, fixture::ask("x2", "hello, stream it"), log);
  REQUIRE_MESSAGE(streamed2, describe(streamed2.error()));
  CHECK(streamed2->message.content == streamed->message.content);
  REQUIRE(log->wait_for(live_log->size()));
  CHECK(log->text() == live_log->text());
  auto limited2 = f.chat(replay, fixture::ask("x3", "limited please"));
  REQUIRE_FALSE(limited2);
  CHECK(errc_of(limited2.error()) == errc_of(limited.error()));
  CHECK(error_context(limited2.error()) == error_context(limited.error()));
  CHECK(f.mock_requests() == mock_calls);  // the replay cost no LLM call
  CHECK(f.stats(replay).replay_hits == 3);
}

}  // namespace replay_mock_llm_test

// Record mode and the replay kind (issue 15): a scripted provider's calls
// recorded and replayed with the same answers, stream chunks, embeddings
// and errors; misses per on_miss; several records of one request in
// recorded order, cycling; corrupt, truncated and foreign files refused at
// spawn naming the file and the row; the entries bound; the record queue
// bound. Timing under virtual time is in replay_timing_test.cpp, the
// mock LLM server in replay_mock_llm_test.cpp.
#include "http_provider_fixture.hpp"

#include <filesystem>
#include <fstream>

#include <sqlite3.h>

#include "actors/provider/recording_store.hpp"
#include "actors/provider/replay_provider.hpp"
#include "temp_dir.hpp"

namespace replay_provider_test {

using namespace http_provider_fixture;

constexpr const char* rules_json = R"J({"rules": [
  {"name": "boom", "when": {"user_contains": "boom"}, "error": "injected failure"},
  {"name": "tools", "when": {"user_contains": "tools"}, "reply": "Let me look that up.",
   "tool_calls": [{"name": "calculator", "arguments": {"expression": "1+2"}}]},
  {"name": "echo", "reply": "You said: {{user}}"}]})J";

// The HTTP provider tests' fixture (its blocking helpers; its mock server
// stays idle here) plus a directory for the rules and the recording.
struct replay_fixture : fixture {
  test_support::temp_dir dir{"replay"};

  replay_fixture() : fixture(R"({"name": "idle", "api_key": "k", "rules": []})") {
    std::ofstream{path("rules.json")} << rules_json;
  }

  std::string path(const std::string& name) const { return (dir.path / name).string(); }

  provider_config scripted_recording(uint32_t queue_max = 1024) const {
    provider_config c;
    c.name = "live";
    c.kind = provider_kind::scripted;
    c.rules = path("rules.json");
    c.record = path("rec/calls.sqlite");  // its directory is created
    c.record_queue_max = queue_max;
    return c;
  }

  provider_config replay(replay_on_miss miss = replay_on_miss::error) const {
    provider_config c;
    c.name = "again";
    c.kind = provider_kind::replay;
    c.recording = path("rec/calls.sqlite");
    c.timing = replay_timing::none;
    c.on_miss = miss;
    c.rules = path("rules.json");
    return c;
  }

  caf::expected<provider_actor> try_spawn(const provider_config& c) {
    auto p = spawn_provider(*sys, c);
    if (p)
      spawned.push_back(*p);
    return p;
  }

  // The reply, and every chunk the sink got: the scripted provider and the
  // replay send all of a stream's chunks before its reply, but the sink is
  // another actor, so wait (bounded) until its count holds still.
  caf::expected<chat_response> stream_all(const provider_actor& p, chat_request req,
                                          std::vector<stream_chunk>& chunks) {
    auto log = std::make_shared<chunk_log>();
    auto out = stream(p, std::move(req), log);
    for (int still = 0, i = 0; still < 3 && i < 500; ++i) {
      const auto seen = log->size();
      std::this_thread::sleep_for(std::chrono::milliseconds{10});
      still = log->size() == seen ? still + 1 : 0;
    }
    std::lock_guard<std::mutex> lock{log->mu};
    chunks = log->chunks;
    return out;
  }

  // The writer runs on its own thread: wait (bounded) for `n` rows.
  bool wait_written(const provider_actor& p, uint64_t n) {
    for (int i = 0; i < 2000; ++i) {
      if (stats(p).records_written >= n)
        return true;
      std::this_thread::sleep_for(std::chrono::milliseconds{5});
    }
    return false;
  }
};

std::string joined_text(const std::vector<stream_chunk>& chunks) {
  std::string out;
  for (const auto& c : chunks)
    out += c.delta_text;
  return out;
}

std::vector<tool_call> joined_calls(const std::vector<stream_chunk>& chunks) {
  std::vector<tool_call> out;
  for (const auto& c : chunks)
    out.insert(out.end(), c.tool_calls.begin(), c.tool_calls.end());
  return out;
}

void check_same(const chat_response& a, const chat_response& b) {
  CHECK(a.message.content == b.message.content);
  REQUIRE(a.message.tool_calls.size() == b.message.tool_calls.size());
  for (size_t i = 0; i < a.message.tool_calls.size(); ++i) {
    CHECK(a.message.tool_calls[i].name == b.message.tool_calls[i].name);
    CHECK(a.message.tool_calls[i].id == b.message.tool_calls[i].id);
    CHECK(a.message.tool_calls[i].arguments.to_json() == b.message.tool_calls[i].arguments.to_json());
  }
  CHECK(a.usage.prompt_tokens == b.usage.prompt_tokens);
  CHECK(a.usage.completion_tokens == b.usage.completion_tokens);
  CHECK(a.finish == b.finish);
}

// A record answering `text` to the request.
call_record text_record(const chat_request& req, std::string text, int64_t latency_us = 1000) {
  call_record r;
  r.request_hash = chat_request_hash(req);
  r.call = recorded_call::chat;
  r.provider = "hand";
  r.model = req.model;
  r.chat.message.role = chat_role::assistant;
  r.chat.message.content = std::move(text);
  r.chat.usage = {3, 4};
  r.latency_us = latency_us;
  return r;
}

void write_records(const std::string& path, const std::vector<call_record>& records) {
  auto w = recording_writer::open(path);
  REQUIRE_MESSAGE(w, describe(w.error()));
  for (const auto& r : records) {
    auto err = (*w)->append(encode_recording_row(r));
    REQUIRE_MESSAGE(!err, describe(err));
  }
}

// Runs `sql` on the file with SQLite itself (damage a row, make a foreign file).
void exec_sql(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  char* msg = nullptr;
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &msg);
  std::string text = msg ? msg : "";
  sqlite3_free(msg);
  sqlite3_close(db);
  REQUIRE_MESSAGE(rc == SQLITE_OK, text);
}

bool contains(const std::string& text, const std::string& piece) {
  return text.find(piece) != std::string::npos;
}


TEST_CASE("replay: a recorded scripted run replays with the same answers, chunks and errors") {
  replay_fixture f;
  auto live = f.spawn(f.scripted_recording());
  auto hello = f.chat(live, fixture::ask("r1", "hello there"));
  REQUIRE_MESSAGE(hello, describe(hello.error()));
  std::vector<stream_chunk> live_chunks;
  auto tools = f.stream_all(live, fixture::ask("r2", "tools please"), live_chunks);
  REQUIRE_MESSAGE(tools, describe(tools.error()));
  REQUIRE(live_chunks.size() >= 2);
  auto emb = f.embed(live, {"the blue crate", "words"}, "hash-16");
  REQUIRE_MESSAGE(emb, describe(emb.error()));
  auto boom = f.chat(live, fixture::ask("r3", "boom now"));
  REQUIRE_FALSE(boom);
  REQUIRE(f.wait_written(live, 4));
  CHECK(f.stats(live).records_dropped == 0);
  CHECK(f.stats(live).kind == "scripted");  // the wrapper reports the inner provider
  caf::anon_send_exit(live, caf::exit_reason::user_shutdown);

  auto again = f.spawn(f.replay());
  // Other request ids: the hash leaves them out.
  auto hello2 = f.chat(again, fixture::ask("x1", "hello there"));
  REQUIRE_MESSAGE(hello2, describe(hello2.error()));
  check_same(*hello, *hello2);
  std::vector<stream_chunk> chunks;
  auto tools2 = f.stream_all(again, fixture::ask("x2", "tools please"), chunks);
  REQUIRE_MESSAGE(tools2, describe(tools2.error()));
  check_same(*tools, *tools2);
  CHECK(chunks.size() == live_chunks.size());
  CHECK(joined_text(chunks) == joined_text(live_chunks));
  CHECK(joined_calls(chunks).size() == 1);
  for (const auto& c : chunks)
    CHECK(c.request_id == "x2");
  auto emb2 = f.embed(again, {"the blue crate", "words"}, "hash-16");
  REQUIRE_MESSAGE(emb2, describe(emb2.error()));
  CHECK(emb2->vectors == emb->vectors);
  CHECK(emb2->usage.prompt_tokens == emb->usage.prompt_tokens);
  auto boom2 = f.chat(again, fixture::ask("x3", "boom now"));
  REQUIRE_FALSE(boom2);
  CHECK(errc_of(boom2.error()) == errc_of(boom.error()));
  CHECK(error_context(boom2.error()) == error_context(boom.error()));
  // A streamed call of a request recorded by a plain chat: one text chunk.
  std::vector<stream_chunk> one;
  auto hello3 = f.stream_all(again, fixture::ask("x4", "hello there"), one);
  REQUIRE_MESSAGE(hello3, describe(hello3.error()));
  REQUIRE(one.size() == 1);
  CHECK(one[0].delta_text == hello->message.content);
  auto s = f.stats(again);
  CHECK(s.kind == "replay");
  CHECK(s.replay_hits == 5);
  CHECK(s.replay_misses == 0);
  CHECK(s.succeeded == 4);
  CHECK(s.failed == 1);
  CHECK(s.prompt_tokens == 2 * hello->usage.prompt_tokens + tools->usage.prompt_tokens
                             + emb->usage.prompt_tokens);
}

TEST_CASE("replay: a miss is provider_error with the hash, or the rules' answer") {
  replay_fixture f;
  write_records(f.path("rec/calls.sqlite"), {text_record(fixture::ask("a", "known"), "recorded")});
  auto strict = f.spawn(f.replay(replay_on_miss::error));
  auto hit = f.chat(strict, fixture::ask("r1", "known"));
  REQUIRE_MESSAGE(hit, describe(hit.error()));
  CHECK(hit->message.content == "recorded");
  auto miss = f.chat(strict, fixture::ask("r2", "never recorded"));
  REQUIRE_FALSE(miss);
  CHECK(errc_of(miss.error()) == errc::provider_error);
  const auto text = error_context(miss.error());
  CHECK_MESSAGE(contains(text, "no recording for this request"), text);
  CHECK_MESSAGE(contains(text, chat_request_hash(fixture::ask("r2", "never recorded"))), text);
  CHECK_MESSAGE(contains(text, f.path("rec/calls.sqlite")), text);
  // Another model is another request.
  auto other = fixture::ask("r3", "known");
  other.model = "m2";
  CHECK_FALSE(f.chat(strict, other));
  auto e = f.embed(strict, {"x"}, "hash-16");
  REQUIRE_FALSE(e);
  CHECK(errc_of(e.error()) == errc::provider_error);
  auto s = f.stats(strict);
  CHECK(s.replay_hits == 1);
  CHECK(s.replay_misses == 3);

  auto lenient = f.spawn(f.replay(replay_on_miss::scripted));
  auto scripted = f.chat(lenient, fixture::ask("r4", "never recorded"));
  REQUIRE_MESSAGE(scripted, describe(scripted.error()));
  CHECK(scripted->message.content == "You said: never recorded");
  CHECK(f.chat(lenient, fixture::ask("r5", "known"))->message.content == "recorded");
  auto e2 = f.embed(lenient, {"x"}, "hash-16");
  REQUIRE_MESSAGE(e2, describe(e2.error()));
  CHECK(e2->vectors.at(0).size() == 16);
  CHECK(f.stats(lenient).replay_misses == 2);
}

TEST_CASE("replay: records of one request answer in recorded order, cycling") {
  replay_fixture f;
  auto req = fixture::ask("a", "same question");
  write_records(f.path("rec/calls.sqlite"),
                {text_record(req, "first"), text_record(fixture::ask("b", "other"), "unrelated"),
                 text_record(req, "second"), text_record(req, "third")});
  auto p = f.spawn(f.replay());
  std::vector<std::string> got;
  for (int i = 0; i < 5; ++i) {
    auto r = f.chat(p, fixture::ask("q" + std::to_string(i), "same question"));
    REQUIRE_MESSAGE(r, describe(r.error()));
    got.push_back(r->message.content);
  }
  CHECK(got == std::vector<std::string>{"first", "second", "third", "first", "second"});
}

TEST_CASE("replay: a recorded failure comes back as the same error") {
  replay_fixture f;
  auto limited = text_record(fixture::ask("a", "rate me"), "");
  limited.error_code = errc::provider_error;
  limited.error_text = "provider 'openai': HTTP 429 (attempts: 1)";
  auto slow = text_record(fixture::ask("b", "slow me"), "");
  slow.error_code = errc::timeout;
  slow.error_text = "provider 'openai': no answer within 60000 ms";
  write_records(f.path("rec/calls.sqlite"), {limited, slow});
  auto p = f.spawn(f.replay());
  auto r1 = f.chat(p, fixture::ask("x", "rate me"));
  REQUIRE_FALSE(r1);
  CHECK(errc_of(r1.error()) == errc::provider_error);
  CHECK(error_context(r1.error()) == limited.error_text);
  std::vector<stream_chunk> chunks;
  auto r2 = f.stream_all(p, fixture::ask("y", "slow me"), chunks);
  REQUIRE_FALSE(r2);
  CHECK(errc_of(r2.error()) == errc::timeout);
  CHECK(error_context(r2.error()) == slow.error_text);
  CHECK(chunks.empty());
}

TEST_CASE("replay: bad recordings are refused at spawn, naming the file and the row") {
  replay_fixture f;
  const auto file = f.path("rec/calls.sqlite");
  auto refused = [&](errc code, std::initializer_list<std::string> pieces) {
    auto p = f.try_spawn(f.replay());
    REQUIRE(!p);
    CHECK(errc_of(p.error()) == code);
    const auto text = error_context(p.error());
    CHECK_MESSAGE(contains(text, "provider 'again'"), text);
    for (const auto& piece : pieces)
      CHECK_MESSAGE(contains(text, piece), "missing '" << piece << "' in: " << text);
    // config check refuses it the same way.
    auto check = check_provider_startable(f.replay());
    CHECK(errc_of(check) == code);
  };
  SUBCASE("missing file") {
    refused(errc::io_error, {file});
  }
  SUBCASE("not SQLite") {
    std::filesystem::create_directories(f.path("rec"));
    std::ofstream{file} << "this is not a database at all, just some text";
    refused(errc::parse_error, {file});
  }
  SUBCASE("truncated") {
    std::vector<call_record> many;
    for (int i = 0; i < 200; ++i)
      many.push_back(text_record(fixture::ask("a", "q" + std::to_string(i)), std::string(500, 'x')));
    write_records(file, many);
    exec_sql(file, "PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode=DELETE;");
    auto size = std::filesystem::file_size(file);
    REQUIRE(size > 8192);
    std::filesystem::resize_file(file, size / 2);
    refused(errc::parse_error, {file});
  }
  SUBCASE("a SQLite file of something else") {
    std::filesystem::create_directories(f.path("rec"));
    exec_sql(file, "CREATE TABLE tasks(id TEXT);");
    refused(errc::parse_error, {file, "not a provider recording"});
    // Record mode refuses to write into it too.
    auto rec = f.scripted_recording();
    auto p = f.try_spawn(rec);
    REQUIRE(!p);
    CHECK(errc_of(p.error()) == errc::parse_error);
    CHECK_MESSAGE(contains(error_context(p.error()), "not a provider recording"),
                  error_context(p.error()));
  }
  SUBCASE("another format version") {
    write_records(file, {});
    exec_sql(file, "UPDATE recording_format SET version = 7;");
    refused(errc::parse_error, {file, "version 7"});
  }
  SUBCASE("a damaged row") {
    write_records(file, {text_record(fixture::ask("a", "one"), "fine"), text_record(fixture::ask("b", "two"), "x")});
    exec_sql(file, "UPDATE recording_calls SET response = X'C1' WHERE seq = 2;");
    refused(errc::parse_error, {file, "row 2", "response"});
  }
  SUBCASE("a row with an impossible value") {
    write_records(file, {text_record(fixture::ask("a", "one"), "fine")});
    exec_sql(file, "UPDATE recording_calls SET error_code = 200 WHERE seq = 1;");
    refused(errc::parse_error, {file, "row 1", "error_code"});
  }
}

TEST_CASE("replay: recording_entries_max refuses a larger recording") {
  replay_fixture f;
  std::vector<call_record> three;
  for (int i = 0; i < 3; ++i)
    three.push_back(text_record(fixture::ask("a", "q" + std::to_string(i)), "a"));
  write_records(f.path("rec/calls.sqlite"), three);
  auto c = f.replay();
  c.recording_entries_max = 2;
  auto p = f.try_spawn(c);
  REQUIRE(!p);
  CHECK(errc_of(p.error()) == errc::invalid_argument);
  CHECK_MESSAGE(contains(error_context(p.error()), "recording_entries_max (2)"),
                error_context(p.error()));
  c.recording_entries_max = 3;
  CHECK(f.try_spawn(c));
}

TEST_CASE("replay: a full record queue drops and counts records, never the call") {
  replay_fixture f;
  auto live = f.spawn(f.scripted_recording(1));
  // Hold the file's write lock from another connection: the writer's first
  // append waits for it (busy timeout), so the queue of one stays full and
  // every later record is dropped, deterministically.
  sqlite3* lock = nullptr;
  REQUIRE(sqlite3_open(f.path("rec/calls.sqlite").c_str(), &lock) == SQLITE_OK);
  REQUIRE(sqlite3_exec(lock, "BEGIN IMMEDIATE;", nullptr, nullptr, nullptr) == SQLITE_OK);
  constexpr int calls = 50;
  int ok = 0;
  for (int i = 0; i < calls; ++i)
    if (f.chat(live, fixture::ask("r" + std::to_string(i), "q")))
      ++ok;
  CHECK(ok == calls);  // no call waited for the recording or failed
  auto held = f.stats(live);
  CHECK(held.records_written == 0);
  CHECK(held.records_dropped == calls - 1);
  sqlite3_exec(lock, "COMMIT;", nullptr, nullptr, nullptr);
  sqlite3_close(lock);
  CHECK(f.wait_written(live, 1));
  CHECK(f.stats(live).records_dropped == calls - 1);
}

TEST_CASE("replay: an embed request's hash names its length asked, only when one is asked") {
  const embed_request own{"m", {"x"}, 0};
  // Recordings made before `dimensions` existed keep matching.
  CHECK(embed_request_hash(own) == request_hash_of(R"({"embed_model":"m","inputs":["x"]})"));
  const embed_request eight{"m", {"x"}, 8};
  const embed_request sixteen{"m", {"x"}, 16};
  CHECK(embed_request_hash(eight) != embed_request_hash(own));
  CHECK(embed_request_hash(eight) != embed_request_hash(sixteen));
  CHECK(embed_request_hash(eight) == embed_request_hash(embed_request{"m", {"x"}, 8}));
}

}  // namespace replay_provider_test

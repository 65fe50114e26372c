// The pure helpers both checkpoint backends share (no database).
#include <doctest/doctest.h>

#include "runtime/checkpoint/checkpoint_codec.hpp"
#include "runtime/error.hpp"

namespace agentgraph::checkpoint_codec_test {

TEST_CASE("checkpoint codec: passwords are redacted from connection strings") {
  CHECK(redact_connection_url("postgresql://u:secret@h:5432/db") == "postgresql://u:***@h:5432/db");
  CHECK(redact_connection_url("postgresql://u@h/db") == "postgresql://u@h/db");
  CHECK(redact_connection_url("postgresql://h/db?user=u&password=secret&sslmode=require")
        == "postgresql://h/db?user=u&password=***&sslmode=require");
  CHECK(redact_connection_url("host=h user=u password=secret dbname=d")
        == "host=h user=u password=*** dbname=d");
  CHECK(redact_connection_url("postgresql://u:p%40ss@h/db") == "postgresql://u:***@h/db");
  // An '@' in the path is not userinfo.
  CHECK(redact_connection_url("postgresql://h/db@x") == "postgresql://h/db@x");
}

TEST_CASE("checkpoint codec: thread ids are UTF-8 text without control characters") {
  checkpoint_limits l;
  for (const char* ok : {"run-1", "ünï 🧵 日本", "a b/c:d"})
    CHECK_FALSE(check_thread_id(ok, l, ""));
  for (const char* bad : {"\x01", "x\x7f", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe2\x82",
                          "\x80"})
    CHECK(errc_of(check_thread_id(bad, l, "")) == errc::invalid_argument);
}

TEST_CASE("checkpoint codec: limits are checked") {
  CHECK_FALSE(check_checkpoint_limits({}, ""));
  checkpoint_limits l;
  l.keep_last = checkpoint_keep_last_max + 1;
  CHECK(errc_of(check_checkpoint_limits(l, "")) == errc::invalid_argument);
  l = {};
  l.state_bytes_max = checkpoint_value_bytes_max + 1;
  CHECK(errc_of(check_checkpoint_limits(l, "")) == errc::invalid_argument);
  l = {};
  l.list_max = 0;
  CHECK(errc_of(check_checkpoint_limits(l, "")) == errc::invalid_argument);
}

TEST_CASE("checkpoint codec: each Value has its own bound and bad bytes are a parse_error") {
  checkpoint c;
  c.thread_id = "t";
  c.metadata = Value{std::string(100, 'm')};
  checkpoint_limits l;
  l.metadata_bytes_max = 50;
  auto enc = encode_checkpoint(c, l, "where: ");
  REQUIRE_FALSE(enc);
  CHECK(errc_of(enc.error()) == errc::limit_exceeded);
  CHECK(error_context(enc.error()).rfind("where: metadata", 0) == 0);
  l = {};
  enc = encode_checkpoint(c, l, "");
  REQUIRE(enc);
  CHECK(Value::from_msgpack(enc->metadata).value() == c.metadata);
  auto bad = decode_checkpoint_value("\xc1", "state", "t", 3, "w: ");
  REQUIRE_FALSE(bad);
  CHECK(errc_of(bad.error()) == errc::parse_error);
  CHECK(error_context(bad.error()).find("checkpoint 3: state") != std::string::npos);
}

}  // namespace agentgraph::checkpoint_codec_test

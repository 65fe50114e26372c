// INI syntax: sections, keys, comments, duplicates and limits, each error
// naming the file and line.
#include <doctest/doctest.h>

#include "runtime/config/config_text.hpp"
#include "runtime/config/ini_parser.hpp"
#include "runtime/error.hpp"

using namespace agentgraph;

namespace config_ini_test {

std::string ini_error(std::string_view text) {
  auto doc = parse_ini(text, "node.ini");
  REQUIRE_FALSE(doc);
  return error_context(doc.error());
}

}  // namespace config_ini_test

using config_ini_test::ini_error;

TEST_CASE("config: ini sections, keys, comments and blank lines") {
  auto doc = parse_ini(
      "\xEF\xBB\xBF# comment\n; another\n\n[runtime]\n  scheduler_threads =  4 \r\n"
      "[agent.a]\nsystem_prompt = a # b ; c\nempty =\n",
      "node.ini");
  REQUIRE(doc);
  REQUIRE(doc->sections.size() == 2);
  CHECK(doc->sections[0].name == "runtime");
  CHECK(doc->sections[0].line == 4);
  REQUIRE(doc->sections[0].entries.size() == 1);
  CHECK(doc->sections[0].entries[0].key == "scheduler_threads");
  CHECK(doc->sections[0].entries[0].value == "4");
  CHECK(doc->sections[0].entries[0].line == 5);
  CHECK(doc->sections[1].entries[0].value == "a # b ; c");
  CHECK(doc->sections[1].entries[1].value.empty());
}

TEST_CASE("config: ini duplicate key and duplicate section name both lines") {
  CHECK(ini_error("[agent.a]\nmodel = x\n\nmodel = y\n") ==
        "node.ini:4: [agent.a] duplicate key 'model' (first set at line 2)");
  CHECK(ini_error("[runtime]\n[agent.a]\n[runtime]\n") ==
        "node.ini:3: duplicate section [runtime] (first defined at line 1)");
}

TEST_CASE("config: ini syntax errors name the line") {
  CHECK(ini_error("scheduler_threads = 2\n") ==
        "node.ini:1: key 'scheduler_threads' appears before any [section] header");
  CHECK(ini_error("[runtime]\njust words\n") ==
        "node.ini:2: expected 'key = value', '[section]' or a comment (the line starts with key "
        "'just')");
  CHECK(ini_error("[runtime\n") == "node.ini:1: a section header must end with ']'");
  CHECK(ini_error("[ ]\n") == "node.ini:1: empty section name '[]'");
  CHECK(ini_error("[runtime]\n = 3\n") == "node.ini:2: missing key before '='");
  CHECK(ini_error(std::string_view{"[runtime]\na = \0\n", 15}) ==
        "node.ini:2: NUL byte: this does not look like a text file");
}

// Issue 9 part 5: a malformed line may hold a secret; no error echoes its
// value, and a key name is shown only when it is plainly a name.
TEST_CASE("config: ini errors never echo a secret from a malformed line") {
  const std::string secret = "sk-proj-4f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c";
  struct row {
    std::string text;
    std::string message;
  };
  const std::vector<row> rows{
    {"[provider.x]\napi_key: " + secret + "\n",
     "node.ini:2: expected 'key = value', '[section]' or a comment (the line starts with key "
     "'api_key': use '=' instead of ':')"},
    {"[provider.x]\n" + secret + "\n",
     "node.ini:2: expected 'key = value', '[section]' or a comment"},
    {"[provider.x]\nAbCdEf0123456789AbCdEf0123456789 token\n",
     "node.ini:2: expected 'key = value', '[section]' or a comment"},
    {"[provider.x " + secret + "\n", "node.ini:1: a section header must end with ']'"},
    {secret + " = 1\n", "node.ini:1: key '<redacted>' appears before any [section] header"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.text);
    auto msg = ini_error(r.text);
    CHECK(msg == r.message);
    CHECK(msg.find(secret) == std::string::npos);
  }
}

TEST_CASE("config: secret-like names and values") {
  for (const char* k : {"api_key", "auth_token", "client_secret", "password", "KEY"})
    CHECK(secret_like_name(k));
  for (const char* k : {"api_key_env", "auth_token_env", "max_tokens", "tokens_per_minute", "keys",
                        "model"})
    CHECK_FALSE(secret_like_name(k));
  for (const char* v : {"sk-abc", "postgresql://u:pw@db/x", "ghp_x", "AbCdEf0123456789AbCdEf01"})
    CHECK(secret_like_value(v));
  for (const char* v : {"gpt-4o-mini", "postgresql://u@db/x", "/srv/agentgraph/rules.json",
                        "https://api.openai.com/v1", "0.25", "a_rather_long_name_without_digits"})
    CHECK_FALSE(secret_like_value(v));
  CHECK(shown_value("api_key", "x") == "<redacted>");
  CHECK(shown_value("temperature", "3.5") == "3.5");
}

TEST_CASE("config: ini limits on file size, line length, sections and keys") {
  CHECK(ini_error(std::string(ini_bytes_max + 1, '#')) ==
        "node.ini: file is larger than 1048576 bytes");
  CHECK(ini_error("[runtime]\n#" + std::string(ini_line_bytes_max, 'x') + "\n") ==
        "node.ini:2: line is longer than 4096 bytes");
  std::string sections;
  for (size_t i = 0; i <= ini_sections_max; ++i)
    sections += "[agent.a" + std::to_string(i) + "]\n";
  CHECK(ini_error(sections) == "node.ini:1025: more than 1024 sections");
  std::string keys = "[agent.a]\n";
  for (size_t i = 0; i <= ini_section_entries_max; ++i)
    keys += "k" + std::to_string(i) + " = 1\n";
  CHECK(ini_error(keys) == "node.ini:258: [agent.a] has more than 256 keys");
}

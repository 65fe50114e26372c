// INI syntax: sections, keys, comments, duplicates and limits, each error
// naming the file and line.
#include <doctest/doctest.h>

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
        "node.ini:2: expected 'key = value', '[section]' or a comment, got 'just words'");
  CHECK(ini_error("[runtime\n") == "node.ini:1: section header '[runtime' must end with ']'");
  CHECK(ini_error("[ ]\n") == "node.ini:1: empty section name '[]'");
  CHECK(ini_error("[runtime]\n = 3\n") == "node.ini:2: missing key before '='");
  CHECK(ini_error(std::string_view{"[runtime]\na = \0\n", 15}) ==
        "node.ini:2: NUL byte: this does not look like a text file");
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

// The INI syntax of agentgraph config files, and nothing else: which
// sections and keys exist and what their values mean is the schema's job
// (config_resolve.hpp). Keeping syntax separate lets the reference-config
// test and the resolver share one parser.
//
// Syntax, one construct per line:
//   [section]         a section header; names are validated by the resolver
//   key = value       the value is the rest of the line, trimmed
//   # comment         comments are full lines only (also ';'), so a value
//   ; comment         may contain '#' (prompts, URLs with fragments)
//   (blank)
// There is no quoting, escaping or line continuation. A key outside any
// section, a duplicate key within a section and a duplicate section are
// errors naming both lines.
#pragma once

#include <caf/expected.hpp>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace agentgraph {

// Limits that keep a hostile or corrupted file from costing more than a
// little memory and time. Each is hit with an invalid_argument error.
constexpr size_t ini_bytes_max = 1 << 20;        // 1 MiB per file
constexpr size_t ini_line_bytes_max = 4096;      // per line
constexpr size_t ini_sections_max = 1024;        // per file
constexpr size_t ini_section_entries_max = 256;  // keys per section

struct ini_entry {
  std::string key;
  std::string value;
  uint32_t line = 0;
};

struct ini_section {
  std::string name;  // text between the brackets, trimmed
  uint32_t line = 0;
  std::vector<ini_entry> entries;
};

struct ini_document {
  std::string origin;  // file path (or a label) used in every message
  std::vector<ini_section> sections;
};

// "origin:line", the prefix of every message about that line.
[[nodiscard]] std::string ini_location(std::string_view origin, uint32_t line);

// Parses `text`; errors are parse_error (syntax) or invalid_argument
// (limits, duplicates) and start with "origin:line: ".
[[nodiscard]] caf::expected<ini_document> parse_ini(std::string_view text, std::string origin);

}  // namespace agentgraph

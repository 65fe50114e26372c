#include "runtime/config/ini_parser.hpp"

#include <cctype>

#include "runtime/config/config_text.hpp"
#include "runtime/error.hpp"

namespace agentgraph {

std::string ini_location(std::string_view origin, uint32_t line) {
  return std::string{origin} + ":" + std::to_string(line);
}

namespace ini_parser_detail {

// A malformed line is never echoed: it may be a key with its secret
// (`api_key: sk-...`). Only a leading word that is clearly a key name (an
// identifier, not secret-like) is named, to say which line to fix.
std::string malformed_hint(std::string_view text) {
  constexpr size_t word_chars_max = 64;
  size_t n = 0;
  while (n < text.size() && n < word_chars_max
         && (std::isalnum(static_cast<unsigned char>(text[n])) != 0 || text[n] == '_'))
    ++n;
  auto word = text.substr(0, n);
  if (word.empty() || std::isdigit(static_cast<unsigned char>(word[0])) != 0
      || (n < text.size() && text[n] != ':' && text[n] != ' ' && text[n] != '\t')
      || secret_like_value(word))
    return {};
  auto sep = n < text.size() && text[n] == ':' ? "': use '=' instead of ':'" : "'";
  return " (the line starts with key '" + std::string{word} + sep + ")";
}

struct parser {
  ini_document doc;
  uint32_t line = 0;

  caf::error fail(errc code, const std::string& msg) const {
    return make_error(code, ini_location(doc.origin, line) + ": " + msg);
  }

  caf::error on_header(std::string_view text) {
    // Not echoed either: the parser cannot know what the line holds.
    if (text.back() != ']')
      return fail(errc::parse_error, "a section header must end with ']'");
    auto name = trim(text.substr(1, text.size() - 2));
    if (name.empty())
      return fail(errc::parse_error, "empty section name '[]'");
    for (const auto& s : doc.sections)
      if (s.name == name)
        return fail(errc::invalid_argument, "duplicate section [" + std::string{name} +
                                                "] (first defined at line " +
                                                std::to_string(s.line) + ")");
    if (doc.sections.size() == ini_sections_max)
      return fail(errc::invalid_argument,
                  "more than " + std::to_string(ini_sections_max) + " sections");
    doc.sections.push_back(ini_section{std::string{name}, line, {}});
    return {};
  }

  caf::error on_entry(std::string_view text) {
    auto eq = text.find('=');
    if (eq == std::string_view::npos)
      return fail(errc::parse_error, "expected 'key = value', '[section]' or a comment"
                                         + malformed_hint(text));
    auto key = trim(text.substr(0, eq));
    if (key.empty())
      return fail(errc::parse_error, "missing key before '='");
    if (doc.sections.empty())
      return fail(errc::parse_error,
                  "key '" + shown_value({}, key) + "' appears before any [section] header");
    auto& sec = doc.sections.back();
    for (const auto& e : sec.entries)
      if (e.key == key)
        return fail(errc::invalid_argument, "[" + sec.name + "] duplicate key '" +
                                                shown_value({}, key) + "' (first set at line " +
                                                std::to_string(e.line) + ")");
    if (sec.entries.size() == ini_section_entries_max)
      return fail(errc::invalid_argument, "[" + sec.name + "] has more than " +
                                              std::to_string(ini_section_entries_max) + " keys");
    sec.entries.push_back(
        ini_entry{std::string{key}, std::string{trim(text.substr(eq + 1))}, line});
    return {};
  }

  caf::error on_line(std::string_view raw) {
    if (raw.size() > ini_line_bytes_max)
      return fail(errc::invalid_argument,
                  "line is longer than " + std::to_string(ini_line_bytes_max) + " bytes");
    if (raw.find('\0') != std::string_view::npos)
      return fail(errc::parse_error, "NUL byte: this does not look like a text file");
    auto text = trim(raw);
    if (text.empty() || text[0] == '#' || text[0] == ';')
      return {};
    if (text[0] == '[')
      return on_header(text);
    return on_entry(text);
  }
};

}  // namespace ini_parser_detail

caf::expected<ini_document> parse_ini(std::string_view text, std::string origin) {
  if (text.size() > ini_bytes_max)
    return make_error(errc::invalid_argument,
                      origin + ": file is larger than " + std::to_string(ini_bytes_max) + " bytes");
  // A UTF-8 byte order mark from Windows editors is not part of line 1.
  if (text.substr(0, 3) == "\xEF\xBB\xBF")
    text.remove_prefix(3);
  ini_parser_detail::parser p;
  p.doc.origin = std::move(origin);
  for (auto raw : split(text, '\n')) {
    ++p.line;
    if (auto err = p.on_line(raw))
      return err;
  }
  return std::move(p.doc);
}

}  // namespace agentgraph

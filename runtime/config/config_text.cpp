#include "runtime/config/config_text.hpp"

#include <algorithm>
#include <cctype>
#include <numeric>

namespace agentgraph {

std::string_view trim(std::string_view s) {
  constexpr std::string_view blanks = " \t\r\n";
  auto first = s.find_first_not_of(blanks);
  if (first == std::string_view::npos)
    return {};
  auto last = s.find_last_not_of(blanks);
  return s.substr(first, last - first + 1);
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (;;) {
    auto pos = s.find(sep, start);
    if (pos == std::string_view::npos) {
      out.push_back(s.substr(start));
      return out;
    }
    out.push_back(s.substr(start, pos - start));
    start = pos + 1;
  }
}

std::string to_lower(std::string_view s) {
  std::string out{s};
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z')
      c = static_cast<char>(c - 'A' + 'a');
  return out;
}

std::string join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0)
      out += sep;
    out += parts[i];
  }
  return out;
}

namespace config_text_detail {

// Levenshtein distance with one row of state. Callers only pass names of
// similar length (see closest_name), so this stays cheap.
size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  std::iota(row.begin(), row.end(), size_t{0});
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

}  // namespace config_text_detail

std::optional<std::string> closest_name(std::string_view name,
                                        const std::vector<std::string>& candidates) {
  constexpr size_t edits_max = 2;
  std::optional<std::string> best;
  size_t best_distance = edits_max + 1;
  for (const auto& c : candidates) {
    auto longer = std::max(c.size(), name.size());
    if (longer - std::min(c.size(), name.size()) > edits_max)
      continue;
    auto d = config_text_detail::edit_distance(name, c);
    if (d < best_distance && d * 2 < longer) {
      best = c;
      best_distance = d;
    }
  }
  return best;
}

bool secret_like_name(std::string_view key) {
  auto lower = to_lower(key);
  std::string_view k{lower};
  if (k.size() >= 4 && k.substr(k.size() - 4) == "_env")
    return false;
  for (auto part : split(k, '_'))
    for (std::string_view word : {"key", "apikey", "token", "secret", "password", "passwd",
                                  "credential", "credentials"})
      if (part == word)
        return true;
  return false;
}

namespace config_text_detail {

bool token_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-' || c == '+'
         || c == '=';
}

// A long run of token characters with both letters and digits: API keys,
// bearer tokens, base64 secrets. Words and paths rarely qualify.
bool has_key_like_run(std::string_view v) {
  size_t run = 0;
  bool letters = false, digits = false;
  for (size_t i = 0; i <= v.size(); ++i) {
    if (i < v.size() && token_char(v[i])) {
      ++run;
      letters = letters || std::isalpha(static_cast<unsigned char>(v[i])) != 0;
      digits = digits || std::isdigit(static_cast<unsigned char>(v[i])) != 0;
      continue;
    }
    if (run >= secret_run_chars_min && letters && digits)
      return true;
    run = 0;
    letters = digits = false;
  }
  return false;
}

// scheme://user:password@host
bool url_with_password(std::string_view v) {
  auto scheme = v.find("://");
  if (scheme == std::string_view::npos)
    return false;
  auto rest = v.substr(scheme + 3);
  auto at = rest.find('@');
  auto slash = rest.find('/');
  if (at == std::string_view::npos || (slash != std::string_view::npos && slash < at))
    return false;
  return rest.substr(0, at).find(':') != std::string_view::npos;
}

}  // namespace config_text_detail

bool secret_like_value(std::string_view value) {
  using namespace config_text_detail;
  auto v = trim(value);
  for (std::string_view prefix : {"sk-", "sk_", "ghp_", "github_pat_", "AIza", "xoxb-", "xoxp-"})
    if (v.substr(0, prefix.size()) == prefix)
      return true;
  return url_with_password(v) || has_key_like_run(v);
}

std::string shown_value(std::string_view key, std::string_view value) {
  if (secret_like_name(key) || secret_like_value(value))
    return "<redacted>";
  return std::string{value};
}

}  // namespace agentgraph

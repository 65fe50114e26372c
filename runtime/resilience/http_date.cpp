#include "runtime/resilience/http_date.hpp"

#include <array>
#include <cstdint>

namespace agentgraph {

namespace http_date_detail {

using sys_clock = std::chrono::system_clock;

constexpr std::array<std::string_view, 7> day_names_short{"Mon", "Tue", "Wed", "Thu",
                                                          "Fri", "Sat", "Sun"};
constexpr std::array<std::string_view, 7> day_names_long{
  "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"};
constexpr std::array<std::string_view, 12> month_names{"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

// Consumes the text left to right; every method either consumes what it
// names and returns success, or leaves the cursor in an unspecified place
// and fails (callers give up on the first failure, so no rewinding).
struct cursor {
  std::string_view rest;

  bool literal(std::string_view lit) {
    if (!rest.starts_with(lit))
      return false;
    rest.remove_prefix(lit.size());
    return true;
  }

  // Exactly `count` ASCII digits.
  std::optional<int> digits(size_t count) {
    if (rest.size() < count)
      return std::nullopt;
    int value = 0;
    for (size_t i = 0; i < count; ++i) {
      char c = rest[i];
      if (c < '0' || c > '9')
        return std::nullopt;
      value = value * 10 + (c - '0');
    }
    rest.remove_prefix(count);
    return value;
  }

  // Index of the name that the text starts with. Names are case-sensitive
  // (RFC 9110); no name in one table is a prefix of another.
  template <size_t N>
  std::optional<int> name(const std::array<std::string_view, N>& names) {
    for (size_t i = 0; i < N; ++i)
      if (literal(names[i]))
        return static_cast<int>(i);
    return std::nullopt;
  }
};

struct date_fields {
  int year = 0;
  int month = 0;  // 1..12
  int day = 0;
  int hour = 0;
  int minute = 0;
  int second = 0;
};

// time-of-day = hour ":" minute ":" second, two digits each.
bool parse_time_of_day(cursor& c, date_fields& f) {
  auto h = c.digits(2);
  if (!h || !c.literal(":"))
    return false;
  auto m = c.digits(2);
  if (!m || !c.literal(":"))
    return false;
  auto s = c.digits(2);
  if (!s)
    return false;
  f.hour = *h;
  f.minute = *m;
  f.second = *s;
  return true;
}

bool parse_month(cursor& c, date_fields& f) {
  auto m = c.name(month_names);
  if (!m)
    return false;
  f.month = *m + 1;
  return true;
}

// IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT"
bool parse_imf_fixdate(cursor c, date_fields& f) {
  if (!c.name(day_names_short) || !c.literal(", "))
    return false;
  auto day = c.digits(2);
  if (!day || !c.literal(" ") || !parse_month(c, f) || !c.literal(" "))
    return false;
  auto year = c.digits(4);
  if (!year || !c.literal(" ") || !parse_time_of_day(c, f) || !c.literal(" GMT"))
    return false;
  f.day = *day;
  f.year = *year;
  return c.rest.empty();
}

// RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT"; the year is resolved later.
bool parse_rfc850(cursor c, date_fields& f) {
  if (!c.name(day_names_long) || !c.literal(", "))
    return false;
  auto day = c.digits(2);
  if (!day || !c.literal("-") || !parse_month(c, f) || !c.literal("-"))
    return false;
  auto year = c.digits(2);
  if (!year || !c.literal(" ") || !parse_time_of_day(c, f) || !c.literal(" GMT"))
    return false;
  f.day = *day;
  f.year = *year;
  return c.rest.empty();
}

// asctime: "Sun Nov  6 08:49:37 1994" (day is two digits or space + digit).
bool parse_asctime(cursor c, date_fields& f) {
  if (!c.name(day_names_short) || !c.literal(" ") || !parse_month(c, f) || !c.literal(" "))
    return false;
  auto day = c.literal(" ") ? c.digits(1) : c.digits(2);
  if (!day || !c.literal(" ") || !parse_time_of_day(c, f) || !c.literal(" "))
    return false;
  auto year = c.digits(4);
  if (!year)
    return false;
  f.day = *day;
  f.year = *year;
  return c.rest.empty();
}

// RFC 9110 §5.6.7: a two-digit year that would lie more than 50 years in the
// future is taken as the most recent past year with those last two digits.
int resolve_two_digit_year(int yy, sys_clock::time_point now) {
  std::chrono::year_month_day today{std::chrono::floor<std::chrono::days>(now)};
  int now_year = static_cast<int>(today.year());
  int year = now_year - now_year % 100 + yy;
  if (year > now_year + 50)
    year -= 100;
  return year;
}

std::optional<sys_clock::time_point> to_time_point(const date_fields& f) {
  using namespace std::chrono;
  year_month_day ymd{year{f.year}, month{static_cast<unsigned>(f.month)},
                     day{static_cast<unsigned>(f.day)}};
  // 60 is a leap second, which IMF dates may carry.
  if (!ymd.ok() || f.hour > 23 || f.minute > 59 || f.second > 60)
    return std::nullopt;
  return sys_days{ymd} + hours{f.hour} + minutes{f.minute} + seconds{f.second};
}

}  // namespace http_date_detail

std::optional<std::chrono::system_clock::time_point>
parse_http_date(std::string_view text, std::chrono::system_clock::time_point now) {
  using namespace http_date_detail;
  if (text.size() > http_date_bytes_max)
    return std::nullopt;
  date_fields f;
  if (parse_imf_fixdate(cursor{text}, f) || parse_asctime(cursor{text}, f))
    return to_time_point(f);
  if (parse_rfc850(cursor{text}, f)) {
    f.year = resolve_two_digit_year(f.year, now);
    return to_time_point(f);
  }
  return std::nullopt;
}

}  // namespace agentgraph

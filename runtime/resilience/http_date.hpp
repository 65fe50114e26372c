// Parses the HTTP-date of a `Retry-After` header (RFC 9110 §5.6.7, formerly
// RFC 7231 §7.1.1.1) into a system_clock time point. Servers must send the
// preferred IMF-fixdate; recipients must also accept the two obsolete forms,
// and so do we:
//   IMF-fixdate  Sun, 06 Nov 1994 08:49:37 GMT
//   RFC 850      Sunday, 06-Nov-94 08:49:37 GMT
//   asctime      Sun Nov  6 08:49:37 1994
//
// Hand-written rather than strptime/timegm: those depend on the C locale and
// on non-standard functions, and a header value is untrusted network input
// that must never be able to do more than fail to parse.
//
// Pure: no clock is read here. RFC 850 has a two-digit year, which the RFC
// resolves relative to "now", so the caller passes its (injectable) now.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace agentgraph {

// Longest header value we look at; a longer one is not a date (the longest
// valid form, RFC 850 with "Wednesday", is 37 bytes).
constexpr size_t http_date_bytes_max = 64;

// The instant `text` names, or nothing if it is not one of the three forms
// (wrong day or month name, out-of-range field, trailing bytes, a zone other
// than GMT). The weekday name must be a real one but is not checked against
// the date: RFC 9110 lets recipients ignore it, and a wrong one is harmless.
// `now` resolves RFC 850's two-digit year: a year more than 50 years in the
// future means the most recent past year with the same last two digits.
[[nodiscard]] std::optional<std::chrono::system_clock::time_point>
parse_http_date(std::string_view text, std::chrono::system_clock::time_point now);

}  // namespace agentgraph

#include "runtime/checkpoint/checkpoint_codec.hpp"

#include <chrono>

#include "runtime/error.hpp"

namespace agentgraph {

namespace checkpoint_codec_detail {

caf::error check_bytes(const std::string& bytes, uint64_t max, const char* what,
                       const std::string& where) {
  if (bytes.size() <= max)
    return caf::none;
  return make_error(errc::limit_exceeded, where + what + " is " + std::to_string(bytes.size())
                                            + " bytes encoded, above the bound of "
                                            + std::to_string(max));
}

// Replaces the value after every "password=" up to the next separator.
void redact_password_params(std::string& s) {
  const std::string key = "password=";
  for (size_t pos = s.find(key); pos != std::string::npos; pos = s.find(key, pos)) {
    pos += key.size();
    size_t end = s.find_first_of("& \t", pos);
    if (end == std::string::npos)
      end = s.size();
    s.replace(pos, end - pos, "***");
    pos += 3;
  }
}

}  // namespace checkpoint_codec_detail

// Well-formed UTF-8 (no overlongs, surrogates or code points above
// U+10FFFF) without control characters: PostgreSQL's TEXT refuses invalid
// UTF-8 and libpq cuts a parameter at NUL, so both backends accept exactly
// these thread ids (and the task journal these names).
bool printable_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    auto b = static_cast<unsigned char>(s[i]);
    if (b < 0x20 || b == 0x7f)
      return false;
    size_t n = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xe ? 3 : (b >> 3) == 0x1e ? 4 : 0;
    if (n == 0 || i + n > s.size())
      return false;
    uint32_t cp = n == 1 ? b : b & (0x7f >> n);
    for (size_t k = 1; k < n; ++k) {
      auto c = static_cast<unsigned char>(s[i + k]);
      if ((c >> 6) != 0x2)
        return false;
      cp = (cp << 6) | (c & 0x3f);
    }
    static constexpr uint32_t min_by_length[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min_by_length[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
      return false;
    i += n;
  }
  return true;
}

caf::error check_checkpoint_limits(const checkpoint_limits& limits, const std::string& where) {
  auto bad = [&](const char* what) { return make_error(errc::invalid_argument, where + what); };
  if (limits.keep_last == 0 || limits.keep_last > checkpoint_keep_last_max)
    return bad("keep_last must be in [1, 100000]");
  if (limits.thread_id_bytes_max == 0 || limits.list_max == 0 || limits.threads_listed_max == 0)
    return bad("thread_id_bytes_max, list_max and threads_listed_max must be at least 1");
  for (uint64_t v : {limits.state_bytes_max, limits.pending_bytes_max, limits.metadata_bytes_max})
    if (v == 0 || v > checkpoint_value_bytes_max)
      return bad("state, pending and metadata byte bounds must be in [1, 256 MiB]");
  return caf::none;
}

caf::error check_thread_id(const std::string& thread_id, const checkpoint_limits& limits,
                           const std::string& where) {
  if (thread_id.empty())
    return make_error(errc::invalid_argument, where + "empty thread id");
  if (thread_id.size() > limits.thread_id_bytes_max)
    return make_error(errc::invalid_argument,
                      where + "thread id of " + std::to_string(thread_id.size())
                        + " bytes, above the bound of "
                        + std::to_string(limits.thread_id_bytes_max));
  if (!printable_utf8(thread_id))
    return make_error(errc::invalid_argument,
                      where + "thread id is not UTF-8 text without control characters");
  return caf::none;
}

caf::error check_list_limit(uint32_t limit, uint32_t max, const char* what,
                            const std::string& where) {
  if (limit >= 1 && limit <= max)
    return caf::none;
  return make_error(errc::invalid_argument, where + what + " limit " + std::to_string(limit)
                                              + " is outside [1, " + std::to_string(max) + "]");
}

caf::expected<encoded_checkpoint> encode_checkpoint(const checkpoint& c,
                                                    const checkpoint_limits& limits,
                                                    const std::string& where) {
  namespace d = checkpoint_codec_detail;
  if (auto err = check_thread_id(c.thread_id, limits, where))
    return err;
  encoded_checkpoint out{c.state.to_msgpack(), c.pending.to_msgpack(), c.metadata.to_msgpack()};
  if (auto err = d::check_bytes(out.state, limits.state_bytes_max, "state", where))
    return err;
  if (auto err = d::check_bytes(out.pending, limits.pending_bytes_max, "pending", where))
    return err;
  if (auto err = d::check_bytes(out.metadata, limits.metadata_bytes_max, "metadata", where))
    return err;
  return out;
}

caf::expected<Value> decode_checkpoint_value(std::string_view bytes, const char* column,
                                             const std::string& thread_id, uint64_t checkpoint_id,
                                             const std::string& where) {
  auto v = Value::from_msgpack(bytes);
  if (v)
    return v;
  return make_error(errc::parse_error, where + "thread '" + thread_id + "' checkpoint "
                                         + std::to_string(checkpoint_id) + ": " + column
                                         + " is not msgpack: " + describe(v.error()));
}

caf::error check_parent(const checkpoint& c, uint64_t new_id, const std::string& where) {
  if (c.parent_id >= new_id)
    return make_error(errc::invalid_argument,
                      where + "parent " + std::to_string(c.parent_id)
                        + " is newer than the thread's latest checkpoint "
                        + std::to_string(new_id - 1));
  // Checked here, in the put's transaction, rather than by a read before the
  // run starts: two runs started at once with one id cannot both pass.
  if (c.step == 0 && c.parent_id == 0 && new_id > 1)
    return make_error(errc::conflict,
                      where + "thread '" + c.thread_id + "' already has checkpoints (up to "
                        + std::to_string(new_id - 1)
                        + "): a new run cannot take its id; resume it or choose another thread id");
  return caf::none;
}

int64_t checkpoint_now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string redact_connection_url(std::string_view url) {
  std::string s{url};
  if (auto scheme = s.find("://"); scheme != std::string::npos) {
    size_t start = scheme + 3;
    size_t authority_end = s.find_first_of("/?#", start);
    if (authority_end == std::string::npos)
      authority_end = s.size();
    size_t at = s.rfind('@', authority_end);
    if (at != std::string::npos && at >= start) {
      size_t colon = s.find(':', start);
      if (colon != std::string::npos && colon < at)
        s.replace(colon + 1, at - colon - 1, "***");
    }
  }
  checkpoint_codec_detail::redact_password_params(s);
  return s;
}

}  // namespace agentgraph

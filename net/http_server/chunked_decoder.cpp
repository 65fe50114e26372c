// The chunked body decoder (see chunked_decoder.hpp).
#include "net/http_server/chunked_decoder.hpp"

#include "net/http_server/http_server.hpp"

#include <algorithm>

namespace agentgraph::net {

namespace chunked_decoder_detail {

// "1a;name=value" -> 26. False for no digits, more than 16, or anything but
// optional whitespace and an extension after them.
bool parse_size_line(std::string_view line, uint64_t& size) {
  size = 0;
  size_t i = 0;
  for (; i < line.size() && hex_value(line[i]) >= 0; ++i) {
    if (i == 16)
      return false;  // would overflow 64 bits
    size = size * 16 + static_cast<uint64_t>(hex_value(line[i]));
  }
  if (i == 0)
    return false;
  while (i < line.size() && (line[i] == ' ' || line[i] == '\t'))
    ++i;
  return i == line.size() || line[i] == ';';
}

}  // namespace chunked_decoder_detail

chunked_decoder::status chunked_decoder::take_line(std::string_view in, size_t& i,
                                                   bool& complete) {
  complete = false;
  while (i < in.size()) {
    const char c = in[i++];
    if (c == '\n') {
      if (line_.empty() || line_.back() != '\r')
        return status::malformed;  // bare LF
      line_.pop_back();
      complete = true;
      return status::need_more;
    }
    if (line_.size() >= line_max_)
      return status::malformed;
    line_ += c;
  }
  return status::need_more;
}

chunked_decoder::status chunked_decoder::feed(std::string_view in, size_t& used,
                                              std::string& body) {
  using namespace chunked_decoder_detail;
  used = 0;
  if (result_ != status::need_more)
    return result_;
  size_t i = 0;
  auto fail = [&](status s) {
    used = i;
    result_ = s;
    return s;
  };
  while (i < in.size() && state_ != state::finished) {
    switch (state_) {
      case state::size_line: {
        bool complete = false;
        if (take_line(in, i, complete) != status::need_more)
          return fail(status::malformed);
        if (!complete)
          break;
        uint64_t size = 0;
        if (!parse_size_line(line_, size))
          return fail(status::malformed);
        line_.clear();
        if (size > body_max_ - decoded_)
          return fail(status::too_large);
        chunk_left_ = size;
        state_ = size == 0 ? state::trailer : state::data;
        break;
      }
      case state::data: {
        const size_t n = static_cast<size_t>(std::min<uint64_t>(chunk_left_, in.size() - i));
        body.append(in.substr(i, n));
        i += n;
        chunk_left_ -= n;
        decoded_ += n;
        if (chunk_left_ == 0)
          state_ = state::data_end;
        break;
      }
      case state::data_end: {
        bool complete = false;
        if (take_line(in, i, complete) != status::need_more)
          return fail(status::malformed);
        if (!complete)
          break;
        if (!line_.empty())
          return fail(status::malformed);  // chunk data longer than its size
        state_ = state::size_line;
        break;
      }
      case state::trailer: {
        bool complete = false;
        if (take_line(in, i, complete) != status::need_more)
          return fail(status::malformed);
        if (!complete)
          break;
        const bool end = line_.empty();
        line_.clear();
        if (end)
          state_ = state::finished;
        else if (++trailer_lines_ > trailer_lines_max)
          return fail(status::malformed);
        break;
      }
      case state::finished:
        break;
    }
  }
  used = i;
  if (state_ == state::finished)
    result_ = status::done;
  return result_;
}

}  // namespace agentgraph::net

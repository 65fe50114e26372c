#include "text.hpp"

#include <cctype>
#include <cmath>
#include <cstring>

namespace agentgraph::mock_llm {
namespace text_detail {

uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// Length of the UTF-8 sequence starting with byte `b`; stray continuation
// bytes count as one so malformed input still advances.
size_t utf8_length(unsigned char b) {
  if (b >= 0xF0) return 4;
  if (b >= 0xE0) return 3;
  if (b >= 0xC0) return 2;
  return 1;
}

void add_word(std::vector<float>& v, std::string_view word) {
  const uint64_t h = fnv1a(word);
  const size_t slot = static_cast<size_t>(h % v.size());
  v[slot] += ((h >> 32) & 1) ? 1.0f : -1.0f;
}

}  // namespace text_detail

request_rng::request_rng(uint64_t seed, uint64_t seq) : state_(seed ^ (seq * 0xD1B54A32D192ED03ull)) {
  text_detail::splitmix64(state_);  // decorrelate neighbouring seeds
}

uint64_t request_rng::next() { return text_detail::splitmix64(state_); }

double request_rng::uniform01() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

uint64_t fnv1a(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

int64_t estimate_tokens(size_t chars) { return static_cast<int64_t>((chars + 3) / 4); }

std::string make_id(std::string_view prefix, uint64_t seed, uint64_t seq, uint64_t salt, size_t hex_digits) {
  static constexpr char digits[] = "0123456789abcdef";
  uint64_t state = seed ^ (seq * 0x9E3779B97F4A7C15ull) ^ (salt * 0xC2B2AE3D27D4EB4Full);
  std::string id{prefix};
  uint64_t bits = 0;
  for (size_t i = 0; i < hex_digits; ++i) {
    if (i % 16 == 0) bits = text_detail::splitmix64(state);
    id += digits[bits & 0xF];
    bits >>= 4;
  }
  return id;
}

std::vector<std::string> utf8_chunks(std::string_view text, size_t chars) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = pos;
    for (size_t n = 0; n < chars && end < text.size(); ++n)
      end += text_detail::utf8_length(static_cast<unsigned char>(text[end]));
    if (end > text.size()) end = text.size();
    out.emplace_back(text.substr(pos, end - pos));
    pos = end;
  }
  return out;
}

std::vector<float> embed_text(std::string_view text, uint32_t dimensions) {
  std::vector<float> v(dimensions, 0.0f);
  std::string word;
  for (size_t i = 0; i <= text.size(); ++i) {
    const unsigned char c = i < text.size() ? static_cast<unsigned char>(text[i]) : ' ';
    if (std::isalnum(c) || c >= 0x80) {
      word += static_cast<char>(std::tolower(c));
    } else if (!word.empty()) {
      text_detail::add_word(v, word);
      word.clear();
    }
  }
  double norm = 0;
  for (float x : v) norm += static_cast<double>(x) * x;
  // A text without words still gets a unit vector, so cosine similarity is defined.
  if (norm == 0) {
    v[static_cast<size_t>(fnv1a(text) % dimensions)] = 1.0f;
    return v;
  }
  const float scale = static_cast<float>(1.0 / std::sqrt(norm));
  for (float& x : v) x *= scale;
  return v;
}

std::string base64_floats(const std::vector<float>& v) {
  static constexpr char table[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string bytes(v.size() * 4, '\0');
  for (size_t i = 0; i < v.size(); ++i) {
    uint32_t bits;
    std::memcpy(&bits, &v[i], 4);
    for (int b = 0; b < 4; ++b) bytes[i * 4 + b] = static_cast<char>((bits >> (8 * b)) & 0xFF);
  }
  std::string out;
  for (size_t i = 0; i < bytes.size(); i += 3) {
    uint32_t n = static_cast<uint32_t>(static_cast<unsigned char>(bytes[i])) << 16;
    if (i + 1 < bytes.size()) n |= static_cast<uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8;
    if (i + 2 < bytes.size()) n |= static_cast<unsigned char>(bytes[i + 2]);
    out += table[(n >> 18) & 63];
    out += table[(n >> 12) & 63];
    out += i + 1 < bytes.size() ? table[(n >> 6) & 63] : '=';
    out += i + 2 < bytes.size() ? table[n & 63] : '=';
  }
  return out;
}

}  // namespace agentgraph::mock_llm

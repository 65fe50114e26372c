#include "runtime/digest.hpp"

#include <array>
#include <cstdint>

#include <caf/detail/ripemd_160.hpp>

namespace agentgraph {

std::string ripemd160_hex(const std::string& bytes) {
  std::array<uint8_t, 20> digest{};
  caf::detail::ripemd_160(digest, bytes);
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * digest.size());
  for (auto b : digest) {
    out.push_back(hex[b >> 4]);
    out.push_back(hex[b & 0x0f]);
  }
  return out;
}

}  // namespace agentgraph

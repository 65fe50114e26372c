// Fuzz target: the cluster heartbeat's decoder (heartbeat_msg's inspect in
// net/cluster/cluster_interface.hpp), which takes a payload that ends
// before links_lost (an older peer's) as links_lost 0. From any bytes it
// must never crash, and what it accepts must survive a round trip:
// serialized again and decoded, the same fields, links_lost included.
//
// Input: the first byte picks the mode.
//   0: the rest is a heartbeat as BASP hands it to the decoder.
//   1: the rest builds one ([name len][name..][host len][host..][port 2]
//      [seq 1][load 1][dir 1][links_lost 1], short inputs padded with 0),
//      which is serialized, cut to an older peer's length when the last
//      input byte is odd, and decoded: it must come back equal (links_lost
//      0 when cut). Seeds of mode 1 reach the decoder with real layouts
//      that the mutations then break.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>

#include "net/cluster/cluster_interface.hpp"

namespace cluster_heartbeat_fuzz {

using agentgraph::cluster::heartbeat_msg;

struct reader {
  const uint8_t* p;
  size_t n;
  size_t i = 0;
  uint8_t next() { return i < n ? p[i++] : 0; }
  std::string text() {
    const size_t len = next() % 24;
    std::string out;
    for (size_t k = 0; k < len; ++k)
      out.push_back(static_cast<char>(next()));
    return out;
  }
};

bool same(const heartbeat_msg& a, const heartbeat_msg& b) {
  return a.from.name == b.from.name && a.from.host == b.from.host && a.from.port == b.from.port
         && a.from.uid == b.from.uid && a.seq == b.seq && a.load == b.load
         && a.dir_version == b.dir_version && a.links_lost == b.links_lost;
}

std::vector<char> bytes_of(heartbeat_msg x) {
  std::vector<char> buf;
  caf::binary_serializer sink{nullptr, buf};
  if (sink(x))
    std::abort();  // serializing plain fields never fails
  return buf;
}

// Decodes `buf` as BASP would; false when it is no heartbeat.
bool decode(const std::vector<char>& buf, heartbeat_msg& out) {
  caf::binary_deserializer source{nullptr, buf};
  return !source(out);
}

}  // namespace cluster_heartbeat_fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cluster_heartbeat_fuzz;
  if (size == 0)
    return 0;
  if (data[0] % 2 == 0) {
    const std::vector<char> buf(data + 1, data + size);
    heartbeat_msg hb;
    if (!decode(buf, hb))
      return 0;
    heartbeat_msg again;
    if (!decode(bytes_of(hb), again) || !same(hb, again))
      std::abort();
    return 0;
  }
  reader r{data + 1, size - 1};
  heartbeat_msg hb;
  hb.from.name = r.text();
  hb.from.host = r.text();
  hb.from.port = static_cast<uint16_t>(r.next() << 8 | r.next());
  hb.from.uid = r.next();
  hb.seq = r.next();
  hb.load = r.next();
  hb.dir_version = r.next();
  hb.links_lost = r.next();
  auto buf = bytes_of(hb);
  const bool older = data[size - 1] % 2 == 1;
  if (older) {
    buf.resize(buf.size() - sizeof(uint64_t));
    hb.links_lost = 0;
  }
  heartbeat_msg back;
  if (!decode(buf, back) || !same(hb, back))
    std::abort();
  return 0;
}

// A key's saved state as the population store keeps it (opaque bytes
// there): the agent's snapshot (agent_interface.hpp) and the key's
// variables, as msgpack (a Value map with short field names). Stored bytes
// are checked when read back (a store is a database anyone may edit):
// decoding never trusts them (tests/fuzz/population_state_fuzz.cpp).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <caf/expected.hpp>

#include "actors/agent/agent_interface.hpp"

namespace agentgraph {

struct population_key_state {
  agent_snapshot agent;
  std::map<std::string, std::string> vars;  // the key's own prompt variables
};

[[nodiscard]] std::vector<uint8_t> encode_population_state(const population_key_state& s);

// Errors: parse_error (not msgpack, not a map, a field of the wrong type, a
// negative figure, an odd history, a version this build does not know).
[[nodiscard]] caf::expected<population_key_state> decode_population_state(
  const std::vector<uint8_t>& bytes);

}  // namespace agentgraph

// A short, stable name for any bytes: the RIPEMD-160 of them as 40 hex
// digits (CAF ships the function, so no other crypto library is needed).
// For keys that must stay short whatever they name (a recorded request, an
// embedded text) and be the same on every node. Not for secrets.
#pragma once

#include <string>

namespace agentgraph {

[[nodiscard]] std::string ripemd160_hex(const std::string& bytes);

}  // namespace agentgraph

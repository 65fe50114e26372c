// Configuration of one provider: [provider.<name>] sections.
#pragma once

#include <cstdint>
#include <string>

namespace agentgraph {

struct provider_config {
  std::string name;
  std::string kind = "scripted";  // only `scripted` is built in this version
  std::string rules;              // scripted: path of the rules file
};

}  // namespace agentgraph

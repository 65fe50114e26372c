#include "runtime/resilience/admission_queue.hpp"

namespace agentgraph {

const char* to_string(admission a) {
  switch (a) {
    case admission::started: return "started";
    case admission::queued: return "queued";
    case admission::rejected: return "rejected";
  }
  return "unknown";
}

}  // namespace agentgraph

// libcurl's process-wide initialisation. curl_global_init is not thread-safe,
// so the process calls it once before any actor thread can start a transfer:
// the Runtime constructor does it through this guard.
#pragma once

namespace agentgraph::net {

// Initialises libcurl on first use (thread-safe via a function-local static)
// and never cleans up: cleanup at exit would race with detached threads that
// may still hold easy handles during shutdown.
void ensure_curl_initialized();

}  // namespace agentgraph::net

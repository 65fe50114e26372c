#include "net/curl_global.hpp"

#include <curl/curl.h>

#include <cstdio>
#include <cstdlib>

namespace agentgraph::net {

void ensure_curl_initialized() {
  static const bool initialized = [] {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
      std::fputs("agentgraph: curl_global_init failed\n", stderr);
      std::abort();
    }
    return true;
  }();
  (void)initialized;
}

}  // namespace agentgraph::net

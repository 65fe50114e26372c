// caf-openssl 0.17.6 leaves OpenSSL's error queue dirty on its multiplexer
// thread, and then closes healthy TLS sessions (openssl_error_queue.cpp has
// the details and the measurement). That file interposes SSL_read,
// SSL_write, SSL_connect and SSL_accept so each starts with an empty queue.
#pragma once

namespace agentgraph::cluster {

// True when the process's SSL_read is the interposed one, i.e. the fix is
// linked into the executable and libcaf_openssl.so binds to it. Calling it
// also makes sure the linker keeps the object file.
[[nodiscard]] bool openssl_error_queue_fixed();

}  // namespace agentgraph::cluster

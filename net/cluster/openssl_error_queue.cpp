// Works around a caf-openssl 0.17.6 defect that breaks TLS between cluster
// nodes: it never empties OpenSSL's per-thread error queue.
//
// OpenSSL's SSL_get_error() reports SSL_ERROR_SSL whenever the calling
// thread's error queue holds anything, so its documentation demands an empty
// queue before every SSL_read/SSL_write/SSL_connect/SSL_accept. caf-openssl
// runs every session on the multiplexer thread and pops errors only inside
// CAF_LOG_INFO (compiled out in Debian's quiet build). One failed handshake
// (a plain client, a peer with another CA's certificate, a port scanner)
// leaves its errors queued; from then on every session on that thread whose
// read would block (SSL_ERROR_WANT_READ) is taken for failed and closed.
// Measured (integration.cluster_tls; three TLS nodes, 250 ms heartbeats):
// without this file one plain connection sending 64 bytes to a node's port
// made 89 healthy connections drop within 6 s and members go down; with it,
// none.
//
// The fix interposes those four calls from the executable: each empties the
// calling thread's queue, then calls libssl's own. A definition in the
// executable takes precedence for libcaf_openssl.so's calls (ELF symbol
// interposition; ld exports a symbol a linked shared library references).
// libcurl empties the queue before its own calls anyway, so for it this is a
// no-op. Rejected: patching CAF (a distribution package); a middleman hook
// (none runs before each read).
#include "net/cluster/openssl_error_queue.hpp"

#include <dlfcn.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

namespace {

template <class F>
F next_symbol(const char* name) {
  return reinterpret_cast<F>(dlsym(RTLD_NEXT, name));
}

using io_fn = int (*)(SSL*, void*, int);
using write_fn = int (*)(SSL*, const void*, int);
using handshake_fn = int (*)(SSL*);

}  // namespace

extern "C" {

int SSL_read(SSL* ssl, void* buf, int num) {
  static const auto real = next_symbol<io_fn>("SSL_read");
  ERR_clear_error();
  return real(ssl, buf, num);
}

int SSL_write(SSL* ssl, const void* buf, int num) {
  static const auto real = next_symbol<write_fn>("SSL_write");
  ERR_clear_error();
  return real(ssl, buf, num);
}

int SSL_connect(SSL* ssl) {
  static const auto real = next_symbol<handshake_fn>("SSL_connect");
  ERR_clear_error();
  return real(ssl);
}

int SSL_accept(SSL* ssl) {
  static const auto real = next_symbol<handshake_fn>("SSL_accept");
  ERR_clear_error();
  return real(ssl);
}

}  // extern "C"

namespace agentgraph::cluster {

bool openssl_error_queue_fixed() {
  // The definition every shared library binds to is ours.
  return dlsym(RTLD_DEFAULT, "SSL_read") == reinterpret_cast<void*>(&SSL_read);
}

}  // namespace agentgraph::cluster

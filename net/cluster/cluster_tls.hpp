// TLS between cluster nodes (issue 12, design §7): which [cluster] tls_*
// settings make sense together, and a probe that loads the files the way
// caf-openssl will, before the node starts.
//
// Why a probe: caf-openssl (0.17.6) builds its TLS context for every new
// connection and throws when a file fails to load (a wrong passphrase, a
// key that is not PEM, a CA file that holds no certificate). On an
// accepted connection that throw would happen on the multiplexer thread,
// at the first peer that dials in (read in the source, not tried). So the
// node loads
// every file once itself, with the same OpenSSL calls, and refuses to
// start with an error that names the key and the file. Errors never carry
// the passphrase.
//
// What CAF does with them (libcaf_openssl/src/openssl/session.cpp): with
// any openssl.* value set, both sides must present a certificate
// (SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT) that chains to
// openssl.cafile; CAF loads no system trust store, so without a CA file no
// peer can be verified. Without any value CAF falls back to anonymous
// (unauthenticated) ciphers; we never run that mode.
#pragma once

#include <string>

#include <caf/error.hpp>

#include "net/cluster/cluster_config.hpp"

namespace agentgraph::cluster {

// Whether the node talks TLS to its peers: any tls_* key set. validate_tls
// then wants all of certificate, key and CA file.
[[nodiscard]] bool tls_enabled(const cluster_config& c);

// Rules across the tls_* keys (pure): certificate, key and CA file come
// together; a passphrase variable only with a key. Errors read
// "cluster.<key>: why", naming the key to fix.
[[nodiscard]] caf::error validate_tls(const cluster_config& c);

// The passphrase of tls_key: the value of the variable tls_passphrase_env
// names, or empty (no variable named, or it is unset).
[[nodiscard]] std::string tls_passphrase(const cluster_config& c);

// What needs the file system and the environment: each file exists and is
// readable; the passphrase variable is set; then the certificate, the key
// (decrypted with the passphrase, matching the certificate) and the CA file
// load with OpenSSL as caf-openssl loads them. Call only when tls_enabled
// and validate_tls passed. Errors read "cluster.<key>: why" and name the
// file (never the passphrase).
[[nodiscard]] caf::error check_tls_files(const cluster_config& c);

}  // namespace agentgraph::cluster

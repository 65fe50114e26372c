#include "net/cluster/cluster_tls.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>

#include <sys/stat.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "runtime/error.hpp"

namespace agentgraph::cluster {

namespace {

caf::error refuse(const char* key, const std::string& why) {
  return make_error(errc::invalid_argument, std::string{"cluster."} + key + ": " + why);
}

// A regular file this process can open for reading.
caf::error readable(const char* key, const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    return refuse(key, "cannot read " + path + ": " + std::strerror(errno));
  if (!S_ISREG(st.st_mode))
    return refuse(key, path + " is not a regular file");
  std::ifstream in{path};
  if (!in)
    return refuse(key, "cannot read " + path + ": " + std::strerror(errno));
  return caf::none;
}

// OpenSSL's reason for the last failure ("bad decrypt", "no certificate
// or crl found"), and the queue emptied so the next probe starts clean.
std::string openssl_reason() {
  const unsigned long code = ERR_peek_last_error();
  const char* reason = code != 0 ? ERR_reason_error_string(code) : nullptr;
  ERR_clear_error();
  return reason != nullptr ? reason : "unknown OpenSSL error";
}

// Hands OpenSSL the passphrase. Set even without one, so an encrypted key
// fails here instead of OpenSSL's default callback prompting on the
// terminal (which caf-openssl would do on its multiplexer thread).
int passphrase_cb(char* buf, int size, int /*rwflag*/, void* user) {
  const auto* pass = static_cast<const std::string*>(user);
  if (pass->empty() || pass->size() > static_cast<size_t>(size))
    return 0;
  std::memcpy(buf, pass->data(), pass->size());
  return static_cast<int>(pass->size());
}

using ssl_ctx_ptr = std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)>;

// The loads of caf-openssl's session::create_ssl_context, in its order,
// plus the key-matches-certificate check it leaves to the handshake.
caf::error load_like_caf(const cluster_config& c, const std::string& passphrase) {
  ERR_clear_error();
  ssl_ctx_ptr ctx{SSL_CTX_new(TLS_method()), &SSL_CTX_free};
  if (!ctx)
    return make_error(errc::internal, "cluster: cannot create an OpenSSL context: "
                                        + openssl_reason());
  if (SSL_CTX_use_certificate_chain_file(ctx.get(), c.tls_certificate.c_str()) != 1)
    return refuse("tls_certificate", "cannot load a PEM certificate from " + c.tls_certificate
                                       + ": " + openssl_reason());
  SSL_CTX_set_default_passwd_cb(ctx.get(), passphrase_cb);
  SSL_CTX_set_default_passwd_cb_userdata(ctx.get(), const_cast<std::string*>(&passphrase));
  if (SSL_CTX_use_PrivateKey_file(ctx.get(), c.tls_key.c_str(), SSL_FILETYPE_PEM) != 1) {
    // It checks the key against the certificate loaded above: a key that
    // decrypts but belongs to another certificate fails here.
    const unsigned long code = ERR_peek_last_error();
    if (ERR_GET_LIB(code) == ERR_LIB_X509 && ERR_GET_REASON(code) == X509_R_KEY_VALUES_MISMATCH) {
      ERR_clear_error();
      return refuse("tls_key", c.tls_key + " is not the key of the certificate "
                                 + c.tls_certificate);
    }
    const std::string hint = c.tls_passphrase_env.empty()
                               ? " (an encrypted key needs tls_passphrase_env)"
                               : " (is " + c.tls_passphrase_env + " its passphrase?)";
    return refuse("tls_key", "cannot load the PEM private key " + c.tls_key + ": "
                               + openssl_reason() + hint);
  }
  if (SSL_CTX_check_private_key(ctx.get()) != 1)
    return refuse("tls_key", c.tls_key + " is not the key of the certificate "
                               + c.tls_certificate + ": " + openssl_reason());
  if (SSL_CTX_load_verify_locations(ctx.get(), c.tls_cafile.c_str(), nullptr) != 1)
    return refuse("tls_cafile", "cannot load CA certificates from " + c.tls_cafile + ": "
                                  + openssl_reason());
  return caf::none;
}

}  // namespace

bool tls_enabled(const cluster_config& c) {
  return !c.tls_certificate.empty() || !c.tls_key.empty() || !c.tls_passphrase_env.empty()
         || !c.tls_cafile.empty();
}

caf::error validate_tls(const cluster_config& c) {
  if (!tls_enabled(c))
    return caf::none;
  // caf-openssl refuses to start without a certificate and a key once any
  // openssl.* value is set (manager::init throws), and verifies every peer
  // against the CA file alone: without one no connection could succeed.
  if (c.tls_certificate.empty())
    return refuse("tls_certificate", "TLS is on (a tls_* key is set), so this node needs its "
                                     "certificate (PEM)");
  if (c.tls_key.empty())
    return refuse("tls_key", "TLS is on (tls_certificate is set), so this node needs the "
                             "private key of its certificate (PEM)");
  if (c.tls_cafile.empty())
    return refuse("tls_cafile", "TLS is on, so the CA certificates that signed the nodes' "
                                "certificates are needed: every peer must present a "
                                "certificate that chains to them, and no other CA is trusted");
  return caf::none;
}

std::string tls_passphrase(const cluster_config& c) {
  if (c.tls_passphrase_env.empty())
    return {};
  const char* value = std::getenv(c.tls_passphrase_env.c_str());
  return value != nullptr ? value : "";
}

caf::error check_tls_files(const cluster_config& c) {
  if (auto err = readable("tls_certificate", c.tls_certificate))
    return err;
  if (auto err = readable("tls_key", c.tls_key))
    return err;
  if (auto err = readable("tls_cafile", c.tls_cafile))
    return err;
  if (!c.tls_passphrase_env.empty() && std::getenv(c.tls_passphrase_env.c_str()) == nullptr)
    return refuse("tls_passphrase_env", "the environment variable " + c.tls_passphrase_env
                                          + " is not set; it must hold the passphrase of "
                                          + c.tls_key);
  return load_like_caf(c, tls_passphrase(c));
}

}  // namespace agentgraph::cluster

// The [cluster] tls_* keys (issue 12, design §7): certificate, key and CA
// file come together (refused at load, naming the key); check_node_resources
// wants each file readable, the passphrase's variable set, and the files
// loadable the way caf-openssl loads them (a wrong passphrase, a key of
// another certificate, a CA file without certificates), never printing the
// passphrase; apply_cluster_transport hands them to caf-openssl, whose
// manager the actor system then has; and the error-queue workaround is in
// force. Certificates are made for each run with
// the `openssl` command (tools/setup.sh installs it).
#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/io/middleman.hpp>
#include <caf/openssl/manager.hpp>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "actors/host/cluster/cluster_host.hpp"
#include "actors/host/node_config.hpp"
#include "net/cluster/cluster_tls.hpp"
#include "net/cluster/openssl_error_queue.hpp"
#include "runtime/error.hpp"
#include "scoped_env.hpp"
#include "temp_dir.hpp"

using namespace agentgraph;

namespace config_cluster_tls_test {

const std::string rules_path =
  std::string{AGENTGRAPH_SOURCE_DIR} + "/configs/examples/research.rules.json";
const std::string secret_var = "AG_CLUSTER_TLS_TEST_SECRET";
const std::string pass_var = "AG_CLUSTER_TLS_TEST_PASS";
const std::string passphrase = "tls-test-passphrase-7Qz";

// A throwaway CA, a node certificate it signed with a plain and an
// encrypted copy of its key, and a self-signed certificate whose key is
// another one.
struct test_pki {
  test_support::temp_dir dir{"cluster-tls"};
  std::string file(const std::string& name) const { return (dir.path / name).string(); }

  test_pki() {
    const std::string d = dir.path.string();
    const std::string ec = " -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes";
    const std::string script =
      "cd '" + d + "' && exec >openssl.log 2>&1 && set -e"
      " && openssl req -x509" + ec + " -keyout ca.key -out ca.pem -days 2 -subj /CN=ag-test-ca"
      " && openssl req" + ec + " -keyout node.key -out node.csr -subj /CN=n1"
      " && openssl x509 -req -in node.csr -CA ca.pem -CAkey ca.key -CAcreateserial"
      "    -out node.pem -days 2"
      " && openssl pkey -in node.key -aes256 -passout pass:" + passphrase + " -out node.enc.key"
      " && openssl req -x509" + ec + " -keyout other.key -out other.pem -days 2 -subj /CN=o";
    REQUIRE_MESSAGE(std::system(("bash -c \"" + script + "\"").c_str()) == 0,
                    "openssl failed; see " << d << "/openssl.log");
  }
};

using test_support::scoped_env;

// One agent and a usable [cluster] section (header on line 6, name, seeds
// and secret_env on lines 7-9), then `tls` from line 10 on.
std::string section(const std::string& tls) {
  return "[provider.p]\nkind = scripted\nrules = " + rules_path + "\n[agent.a]\nprovider = p\n"
         + "[cluster]\nname = prod\nseeds = 127.0.0.1:7400\nsecret_env = " + secret_var + "\n"
         + tls;
}

std::string tls_keys(const std::string& cert, const std::string& key, const std::string& ca,
                     const std::string& pass_env = {}) {
  std::string out = "tls_certificate = " + cert + "\ntls_key = " + key + "\ntls_cafile = " + ca
                    + "\n";
  if (!pass_env.empty())
    out += "tls_passphrase_env = " + pass_env + "\n";
  return out;
}

caf::expected<node_config> load(const std::string& text) {
  return parse_node_config(text, "node.ini", {}, {});
}

std::string load_error(const std::string& text) {
  auto cfg = load(text);
  REQUIRE_FALSE_MESSAGE(cfg, "loaded although an error was expected");
  return error_context(cfg.error());
}

// check_node_resources' message for a config that loads, or "" when it
// passes.
std::string resources_error(const std::string& text) {
  auto cfg = load(text);
  REQUIRE_MESSAGE(cfg, describe(cfg.error()));
  scoped_env secret{secret_var, "a-cluster-secret-of-enough-bytes"};
  auto err = check_node_resources(*cfg);
  return err ? error_context(err) : std::string{};
}

// The cases live in the namespace: unity builds put this file next to
// config_cluster_test.cpp, whose helpers have the same names.

TEST_CASE("config cluster tls: the four keys bind, and TLS is on with any of them") {
  auto cfg = load(section(tls_keys("/etc/ag/node.pem", "/etc/ag/node.key", "/etc/ag/ca.pem",
                                   "AG_NODE_KEY_PASS")));
  REQUIRE_MESSAGE(cfg, describe(cfg.error()));
  const auto& c = *cfg->cluster;
  CHECK(c.tls_certificate == "/etc/ag/node.pem");
  CHECK(c.tls_key == "/etc/ag/node.key");
  CHECK(c.tls_cafile == "/etc/ag/ca.pem");
  CHECK(c.tls_passphrase_env == "AG_NODE_KEY_PASS");
  CHECK(cluster::tls_enabled(c));
  auto plain = load(section(""));
  REQUIRE(plain);
  CHECK_FALSE(cluster::tls_enabled(*plain->cluster));
  // Relative paths are against the config file's directory.
  auto rel = parse_node_config(section(tls_keys("n.pem", "n.key", "../ca.pem")),
                               "/etc/ag/node.ini", {}, {});
  REQUIRE_MESSAGE(rel, describe(rel.error()));
  CHECK(rel->cluster->tls_certificate == "/etc/ag/n.pem");
  CHECK(rel->cluster->tls_cafile == "/etc/ca.pem");
}

TEST_CASE("config cluster tls: certificate, key and CA file come together") {
  // A certificate without its key, naming the key to add.
  CHECK(load_error(section("tls_certificate = /n.pem\ntls_cafile = /ca.pem\n")).find(
          "[cluster] tls_key: TLS is on (tls_certificate is set), so this node needs the private "
          "key of its certificate")
        != std::string::npos);
  // A key or a CA file alone: the certificate is missing.
  for (const std::string one : {"tls_key = /n.key\n", "tls_cafile = /ca.pem\n",
                                "tls_passphrase_env = SOME_VAR\n"}) {
    INFO(one);
    CHECK(load_error(section(one)).find("[cluster] tls_certificate: TLS is on (a tls_* key is "
                                        "set), so this node needs its certificate (PEM)")
          != std::string::npos);
  }
  // Certificate and key without a CA file: no peer could be verified.
  CHECK(load_error(section("tls_certificate = /n.pem\ntls_key = /n.key\n"))
          .find("[cluster] tls_cafile: TLS is on, so the CA certificates") != std::string::npos);
}

TEST_CASE("config cluster tls: check_node_resources loads the files as caf-openssl will") {
  test_pki pki;
  const auto cert = pki.file("node.pem"), key = pki.file("node.key"), ca = pki.file("ca.pem");
  ::unsetenv(pass_var.c_str());
  CHECK(resources_error(section(tls_keys(cert, key, ca))) == "");
  // A missing file, named with its key and path.
  const auto gone = pki.file("nope.pem");
  CHECK(resources_error(section(tls_keys(gone, key, ca)))
        == "cluster.tls_certificate: cannot read " + gone + ": No such file or directory");
  CHECK(resources_error(section(tls_keys(cert, gone, ca)))
        == "cluster.tls_key: cannot read " + gone + ": No such file or directory");
  CHECK(resources_error(section(tls_keys(cert, key, gone)))
        == "cluster.tls_cafile: cannot read " + gone + ": No such file or directory");
  CHECK(resources_error(section(tls_keys(cert, key, pki.dir.path.string())))
        == "cluster.tls_cafile: " + pki.dir.path.string() + " is not a regular file");
  // The passphrase's variable must be set.
  const auto enc = pki.file("node.enc.key");
  CHECK(resources_error(section(tls_keys(cert, enc, ca, pass_var)))
        == "cluster.tls_passphrase_env: the environment variable " + pass_var
             + " is not set; it must hold the passphrase of " + enc);
  {
    scoped_env pass{pass_var, passphrase};
    CHECK(resources_error(section(tls_keys(cert, enc, ca, pass_var))) == "");
  }
  {
    // A wrong passphrase: refused, and neither passphrase is shown.
    const std::string wrong = "not-the-passphrase-x9";
    scoped_env pass{pass_var, wrong};
    auto msg = resources_error(section(tls_keys(cert, enc, ca, pass_var)));
    CHECK(msg.find("cluster.tls_key: cannot load the PEM private key " + enc) == 0);
    CHECK(msg.find("(is " + pass_var + " its passphrase?)") != std::string::npos);
    CHECK(msg.find(wrong) == std::string::npos);
    CHECK(msg.find(passphrase) == std::string::npos);
  }
  // An encrypted key without a passphrase is refused (never a prompt).
  CHECK(resources_error(section(tls_keys(cert, enc, ca))).find(
          "(an encrypted key needs tls_passphrase_env)")
        != std::string::npos);
  // The key of another certificate.
  CHECK(resources_error(section(tls_keys(cert, pki.file("other.key"), ca)))
        == "cluster.tls_key: " + pki.file("other.key") + " is not the key of the certificate "
             + cert);
  // Files of the wrong kind: a key as the certificate, a key as the CA file.
  CHECK(resources_error(section(tls_keys(key, key, ca)))
          .find("cluster.tls_certificate: cannot load a PEM certificate from " + key)
        == 0);
  CHECK(resources_error(section(tls_keys(cert, key, key)))
          .find("cluster.tls_cafile: cannot load CA certificates from " + key)
        == 0);
}

TEST_CASE("config cluster tls: apply_cluster_transport hands the keys to caf-openssl") {
  test_pki pki;
  cluster::cluster_config c;
  c.tls_certificate = pki.file("node.pem");
  c.tls_key = pki.file("node.enc.key");
  c.tls_cafile = pki.file("ca.pem");
  c.tls_passphrase_env = pass_var;
  scoped_env pass{pass_var, passphrase};
  caf::actor_system_config sys_cfg;
  sys_cfg.set("scheduler.max-threads", size_t{2});
  sys_cfg.load<caf::io::middleman>();
  apply_cluster_transport(c, sys_cfg);
  CHECK(sys_cfg.openssl_certificate == c.tls_certificate);
  CHECK(sys_cfg.openssl_key == c.tls_key);
  CHECK(sys_cfg.openssl_cafile == c.tls_cafile);
  CHECK(sys_cfg.openssl_passphrase == passphrase);
  caf::actor_system sys{sys_cfg};
  REQUIRE(sys.has_openssl_manager());
  CHECK(sys.openssl_manager().authentication_enabled());
  // Without tls_* keys the manager is not loaded: the node stays on TCP.
  caf::actor_system_config plain_cfg;
  plain_cfg.set("scheduler.max-threads", size_t{2});
  plain_cfg.load<caf::io::middleman>();
  apply_cluster_transport(cluster::cluster_config{}, plain_cfg);
  caf::actor_system plain{plain_cfg};
  CHECK_FALSE(plain.has_openssl_manager());
  CHECK(plain_cfg.openssl_certificate.empty());
}

// caf-openssl leaves errors of a failed handshake queued on its thread
// (net/cluster/openssl_error_queue.cpp); a later read that merely has no
// data yet must still say "want read", or caf-openssl closes the session.
TEST_CASE("config cluster tls: a stale OpenSSL error does not fail a read that would block") {
  REQUIRE(cluster::openssl_error_queue_fixed());
  SSL_CTX* ctx = SSL_CTX_new(TLS_method());
  REQUIRE(ctx != nullptr);
  SSL* ssl = SSL_new(ctx);
  REQUIRE(ssl != nullptr);
  BIO* in = BIO_new(BIO_s_mem());
  BIO_set_mem_eof_return(in, -1);  // empty means "retry later", not end of stream
  SSL_set_bio(ssl, in, BIO_new(BIO_s_mem()));
  SSL_set_connect_state(ssl);
  ERR_raise(ERR_LIB_SSL, SSL_R_CERTIFICATE_VERIFY_FAILED);  // left by another session
  char buf[16];
  const int n = SSL_read(ssl, buf, sizeof buf);
  CHECK(n <= 0);
  CHECK(SSL_get_error(ssl, n) == SSL_ERROR_WANT_READ);
  SSL_free(ssl);
  SSL_CTX_free(ctx);
}

}  // namespace config_cluster_tls_test

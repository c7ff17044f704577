// dspy::LM over HTTPS on loopback, against a certificate made for the test run: peer verification
// is on by default and fails with a typed error naming the cause; trusting the certificate
// (ca_bundle) or turning verification off explicitly makes the call work; curl offers HTTP/2 by
// ALPN.
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <boost/asio/ssl/context.hpp>
#include <dspy/clients/lm.hpp>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "../support/http_test_server.hpp"

namespace lm_tls_test {

namespace asio = boost::asio;
using dspy::test::TestServer;

// A throwaway P-256 key and a self-signed certificate for 127.0.0.1, valid for an hour, in PEM.
struct Identity {
  std::string certificate;
  std::string private_key;
};

std::string pem_of(int (*write)(BIO*, void*), void* object) {
  BIO* bio = BIO_new(BIO_s_mem());
  write(bio, object);
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<std::size_t>(size));
  BIO_free(bio);
  return out;
}

Identity make_identity() {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), -60);
  X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("127.0.0.1"), -1, -1, 0);
  X509_set_issuer_name(cert, name);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  const std::pair<int, const char*> extensions[] = {{NID_subject_alt_name, "IP:127.0.0.1"},
                                                    {NID_basic_constraints, "critical,CA:TRUE"}};
  for (auto [nid, value] : extensions) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
  }
  X509_sign(cert, key, EVP_sha256());
  Identity out{pem_of([](BIO* b, void* c) { return PEM_write_bio_X509(b, static_cast<X509*>(c)); }, cert),
               pem_of(
                   [](BIO* b, void* k) {
                     return PEM_write_bio_PrivateKey(b, static_cast<EVP_PKEY*>(k), nullptr, nullptr, 0, nullptr,
                                                     nullptr);
                   },
                   key)};
  X509_free(cert);
  EVP_PKEY_free(key);
  return out;
}

// The protocols clients offered by ALPN; the server always picks http/1.1 (it speaks no HTTP/2).
struct AlpnLog {
  std::mutex mutex;
  std::vector<std::string> offered;
};

int select_http11(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in, unsigned int inlen,
                  void* arg) {
  auto* log = static_cast<AlpnLog*>(arg);
  {
    std::lock_guard lock(log->mutex);
    for (unsigned int i = 0; i < inlen; i += 1U + in[i])
      log->offered.emplace_back(reinterpret_cast<const char*>(in + i + 1), in[i]);
  }
  static const unsigned char http11[] = "\x08http/1.1";
  unsigned char* chosen = nullptr;
  if (SSL_select_next_proto(&chosen, outlen, http11, sizeof http11 - 1, in, inlen) != OPENSSL_NPN_NEGOTIATED)
    return SSL_TLSEXT_ERR_NOACK;
  *out = chosen;
  return SSL_TLSEXT_ERR_OK;
}

class LmTls : public ::testing::Test {
 protected:
  void SetUp() override {
    static const Identity identity = make_identity();
    auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
    ctx->use_certificate_chain(asio::buffer(identity.certificate));
    ctx->use_private_key(asio::buffer(identity.private_key), asio::ssl::context::pem);
    SSL_CTX_set_alpn_select_cb(ctx->native_handle(), &select_http11, &alpn_);
    server_ = std::make_unique<TestServer>(ctx);
    server_->fallback({.body = dspy::test::openai_reply({"Paris"})});
    ca_file_ = std::filesystem::temp_directory_path() / ("dspy-tls-test-" + std::to_string(::getpid()) + ".pem");
    std::ofstream(ca_file_) << identity.certificate;
  }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove(ca_file_);
  }

  dspy::LMConfig config() const {
    return {.api_base = server_->base_url(), .api_key = "sk-tls", .num_retries = 2, .cache = false};
  }

  static dspy::LMRequest ask() {
    dspy::LMRequest r;
    r.messages = {{"user", "Capital of France?"}};
    return r;
  }

  AlpnLog alpn_;
  std::unique_ptr<TestServer> server_;
  std::filesystem::path ca_file_;
};

TEST_F(LmTls, AnUntrustedCertificateIsRejectedByDefaultWithATypedError) {
  ASSERT_TRUE(server_->base_url().starts_with("https://"));
  dspy::LM lm("openai/m", config());
  EXPECT_TRUE(lm.config().verify_tls);
  auto r = lm.call(ask());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), dspy::Errc::network);
  const std::string& msg = r.error().message();
  EXPECT_NE(msg.find("TLS"), std::string::npos) << msg;
  EXPECT_NE(msg.find("certificate"), std::string::npos) << msg;
  EXPECT_NE(msg.find("ca_bundle"), std::string::npos) << msg;
  EXPECT_EQ(server_->requests().size(), 0u);  // nothing was sent
  EXPECT_EQ(server_->connections(), 1);  // a verification failure is not retried
  std::cout << "  the error: " << msg << '\n';
}

TEST_F(LmTls, TrustingTheCertificateMakesTheVerifiedCallWork) {
  auto c = config();
  c.ca_bundle = ca_file_.string();
  auto r = dspy::LM("openai/m", c).call(ask());
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->completions.at(0), "Paris");
  ASSERT_EQ(server_->requests().size(), 1u);
  EXPECT_EQ(server_->requests()[0].header("authorization"), "Bearer sk-tls");
}

TEST_F(LmTls, TheHostNameIsVerifiedToo) {
  auto c = config();
  c.ca_bundle = ca_file_.string();  // trusted, but issued for 127.0.0.1 only
  c.api_base = "https://localhost:" + std::to_string(server_->port()) + "/v1";
  auto r = dspy::LM("openai/m", c).call(ask());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), dspy::Errc::network);
  EXPECT_NE(r.error().message().find("localhost"), std::string::npos) << r.error().message();
  EXPECT_EQ(server_->requests().size(), 0u);
}

TEST_F(LmTls, TurningVerificationOffIsExplicit) {
  auto c = config();
  c.verify_tls = false;
  auto r = dspy::LM("openai/m", c).call(ask());
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(server_->requests().size(), 1u);
}

TEST_F(LmTls, CurlOffersHttp2ByAlpn) {
  auto c = config();
  c.ca_bundle = ca_file_.string();
  ASSERT_TRUE(dspy::LM("openai/m", c).call(ask()));
  std::lock_guard lock(alpn_.mutex);
  EXPECT_NE(std::find(alpn_.offered.begin(), alpn_.offered.end(), "h2"), alpn_.offered.end());
  EXPECT_NE(std::find(alpn_.offered.begin(), alpn_.offered.end(), "http/1.1"), alpn_.offered.end());
}

}  // namespace lm_tls_test

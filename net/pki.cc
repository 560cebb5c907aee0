#include "net/pki.h"

#include <arpa/inet.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include <memory>

namespace kubit::net {
namespace {

template <typename T, void (*F)(T*)>
struct Deleter {
  void operator()(T* p) const { F(p); }
};
using PKey = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using Cert = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using Bio = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;

std::string Err(const std::string& what) {
  char buf[256];
  unsigned long e = ERR_get_error();
  ERR_error_string_n(e, buf, sizeof(buf));
  return what + ": " + (e ? buf : "failed");
}

PKey NewKey() { return PKey(EVP_EC_gen("P-256")); }

std::string KeyPem(EVP_PKEY* key) {
  Bio bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

std::string CertPem(X509* cert) {
  Bio bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), cert);
  char* data;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

bool AddExt(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (!ext) return false;
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  return true;
}

// A certificate for `key` with the given subject, not yet signed.
Cert NewCert(EVP_PKEY* key, const std::string& cn, const std::vector<std::string>& orgs, int days) {
  Cert cert(X509_new());
  X509_set_version(cert.get(), 2);
  unsigned char serial[16];
  RAND_bytes(serial, sizeof(serial));
  serial[0] &= 0x7f;
  BIGNUM* bn = BN_bin2bn(serial, sizeof(serial), nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);  // tolerate clock skew
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(days) * 86400);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  for (const auto& o : orgs)
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>(o.c_str()), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  return cert;
}

}  // namespace

bool GenerateKey(std::string* key_pem, std::string* error) {
  PKey key = NewKey();
  if (!key) {
    *error = Err("generate key");
    return false;
  }
  *key_pem = KeyPem(key.get());
  return true;
}

bool GenerateCA(const std::string& common_name, KeyPair* out, std::string* error) {
  PKey key = NewKey();
  if (!key) {
    *error = Err("generate CA key");
    return false;
  }
  Cert cert = NewCert(key.get(), common_name, {}, 3650);
  X509_set_issuer_name(cert.get(), X509_get_subject_name(cert.get()));
  bool ok = AddExt(cert.get(), cert.get(), NID_basic_constraints, "critical,CA:TRUE") &&
            AddExt(cert.get(), cert.get(), NID_key_usage, "critical,digitalSignature,keyCertSign,cRLSign") &&
            AddExt(cert.get(), cert.get(), NID_subject_key_identifier, "hash");
  if (!ok || X509_sign(cert.get(), key.get(), EVP_sha256()) <= 0) {
    *error = Err("sign CA certificate");
    return false;
  }
  out->cert_pem = CertPem(cert.get());
  out->key_pem = KeyPem(key.get());
  return true;
}

bool IssueCertificate(const KeyPair& ca, const CertRequest& req, KeyPair* out, std::string* error) {
  Bio cb(BIO_new_mem_buf(ca.cert_pem.data(), static_cast<int>(ca.cert_pem.size())));
  Cert ca_cert(PEM_read_bio_X509(cb.get(), nullptr, nullptr, nullptr));
  Bio kb(BIO_new_mem_buf(ca.key_pem.data(), static_cast<int>(ca.key_pem.size())));
  PKey ca_key(PEM_read_bio_PrivateKey(kb.get(), nullptr, nullptr, nullptr));
  if (!ca_cert || !ca_key) {
    *error = Err("load CA");
    return false;
  }
  PKey key = NewKey();
  Cert cert = NewCert(key.get(), req.common_name, req.organizations, req.days);
  X509_set_issuer_name(cert.get(), X509_get_subject_name(ca_cert.get()));
  std::string eku;
  if (req.server) eku = "serverAuth";
  if (req.client) eku += std::string(eku.empty() ? "" : ",") + "clientAuth";
  std::string sans;
  for (const auto& d : req.dns_names) sans += (sans.empty() ? "DNS:" : ",DNS:") + d;
  for (const auto& ip : req.ip_addresses) sans += (sans.empty() ? "IP:" : ",IP:") + ip;
  bool ok = AddExt(cert.get(), ca_cert.get(), NID_basic_constraints, "critical,CA:FALSE") &&
            AddExt(cert.get(), ca_cert.get(), NID_key_usage, "critical,digitalSignature,keyEncipherment") &&
            AddExt(cert.get(), ca_cert.get(), NID_authority_key_identifier, "keyid:always") &&
            (eku.empty() || AddExt(cert.get(), ca_cert.get(), NID_ext_key_usage, eku)) &&
            (sans.empty() || AddExt(cert.get(), ca_cert.get(), NID_subject_alt_name, sans));
  if (!ok || X509_sign(cert.get(), ca_key.get(), EVP_sha256()) <= 0) {
    *error = Err("sign certificate for " + req.common_name);
    return false;
  }
  out->cert_pem = CertPem(cert.get());
  out->key_pem = KeyPem(key.get());
  return true;
}

std::vector<std::string> CertificateSANs(const std::string& cert_pem) {
  std::vector<std::string> out;
  Bio b(BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size())));
  Cert cert(PEM_read_bio_X509(b.get(), nullptr, nullptr, nullptr));
  if (!cert) return out;
  auto* names = static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert.get(), NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; names && i < sk_GENERAL_NAME_num(names); i++) {
    GENERAL_NAME* n = sk_GENERAL_NAME_value(names, i);
    if (n->type == GEN_DNS) {
      out.push_back("DNS:" + std::string(reinterpret_cast<const char*>(
                                            ASN1_STRING_get0_data(n->d.dNSName)),
                                        ASN1_STRING_length(n->d.dNSName)));
    } else if (n->type == GEN_IPADD) {
      char buf[INET6_ADDRSTRLEN] = "";
      int len = ASN1_STRING_length(n->d.iPAddress);
      inet_ntop(len == 4 ? AF_INET : AF_INET6, ASN1_STRING_get0_data(n->d.iPAddress), buf,
                sizeof(buf));
      out.push_back(std::string("IP:") + buf);
    }
  }
  GENERAL_NAMES_free(names);
  return out;
}

std::string Sha256Hex(const std::string& data) {
  unsigned char md[32];
  unsigned int n = 0;
  EVP_Digest(data.data(), data.size(), md, &n, EVP_sha256(), nullptr);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < n; i++) {
    out += hex[md[i] >> 4];
    out += hex[md[i] & 15];
  }
  return out;
}

std::string RandomHex(size_t n) {
  std::string bytes(n, '\0');
  RAND_bytes(reinterpret_cast<unsigned char*>(bytes.data()), static_cast<int>(n));
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += hex[c >> 4];
    out += hex[c & 15];
  }
  return out;
}

}  // namespace kubit::net

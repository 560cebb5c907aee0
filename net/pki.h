// PKI: ECDSA P-256 keys and X.509 certificates for the cluster's CA,
// serving and client certificates. Knows nothing of Kubernetes: callers say
// which names and groups go in.
#pragma once

#include <string>
#include <vector>

namespace kubit::net {

struct KeyPair {
  std::string cert_pem;
  std::string key_pem;
};

struct CertRequest {
  std::string common_name;
  std::vector<std::string> organizations;
  std::vector<std::string> dns_names;
  std::vector<std::string> ip_addresses;
  bool server = false;  // extendedKeyUsage serverAuth
  bool client = false;  // extendedKeyUsage clientAuth
  int days = 365;
};

// A self-signed CA certificate valid for ten years.
bool GenerateCA(const std::string& common_name, KeyPair* out, std::string* error);
// A certificate signed by `ca`.
bool IssueCertificate(const KeyPair& ca, const CertRequest& req, KeyPair* out, std::string* error);
// A bare ECDSA P-256 private key (PEM, PKCS#8).
bool GenerateKey(std::string* key_pem, std::string* error);
// The subjectAltNames of a certificate ("DNS:x", "IP:y").
std::vector<std::string> CertificateSANs(const std::string& cert_pem);
// Lower-case hex SHA-256 of `data`.
std::string Sha256Hex(const std::string& data);
// `n` random bytes as lower-case hex.
std::string RandomHex(size_t n);

}  // namespace kubit::net

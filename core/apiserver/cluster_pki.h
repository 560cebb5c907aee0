// The cluster's certificates, keys and join token on disk under
// <data-dir>/server/tls and <data-dir>/server/token, made on first start
// and reused after. Private keys and the token are 0600.
#pragma once

#include <string>
#include <vector>

#include "net/pki.h"

namespace kubit::apiserver {

struct ClusterPKI {
  net::KeyPair ca;            // signs every cluster certificate
  net::KeyPair serving;       // the API server's certificate
  net::KeyPair admin;         // CN=system:admin, O=system:masters
  std::string sa_key_pem;     // signs ServiceAccount tokens
  std::string token;          // K10<sha256 of the CA>::server:<secret>
};

struct PKIOptions {
  std::string data_dir;
  std::vector<std::string> sans;  // --tls-san values (names or IPs)
  std::vector<std::string> node_ips;
  std::string token;              // --token: the secret part, or a whole K10 token
};

// Loads what exists and makes what is missing. The serving certificate is
// made again when the wanted names are not all in it.
bool EnsureClusterPKI(const PKIOptions& opts, ClusterPKI* out, std::string* error);

// Writes a kubeconfig for the admin user at `path` with the given mode.
bool WriteAdminKubeconfig(const ClusterPKI& pki, const std::string& server_url,
                          const std::string& path, unsigned mode, std::string* error);

// Reads/writes whole files; WriteFileAtomic replaces via rename with `mode`.
bool ReadFile(const std::string& path, std::string* out);
bool WriteFileAtomic(const std::string& path, const std::string& data, unsigned mode,
                     std::string* error);

}  // namespace kubit::apiserver

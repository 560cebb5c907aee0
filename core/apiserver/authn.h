// Authentication: who sent a request. x509 client certificates (CN is the
// user, O values the groups) and ServiceAccount bearer tokens (ES256 JWTs
// this server signed). Also issues those tokens (the TokenRequest API).
#pragma once

#include <string>
#include <vector>

#include "core/apiserver/cluster_pki.h"
#include "core/apiserver/rbac.h"
#include "store/store.h"

namespace kubit::net {
struct HttpRequest;
}

namespace kubit::apiserver {

class Authenticator {
 public:
  Authenticator(const ClusterPKI* pki, store::Store* state);
  // False when the request proves no identity (401).
  bool Authenticate(const net::HttpRequest& req, UserInfo* user) const;
  // Checks a bearer token (TokenReview uses this too).
  bool AuthenticateToken(const std::string& token, UserInfo* user) const;

  struct Token {
    std::string token;
    int64_t expires_at = 0;  // unix seconds
  };
  // A token for ServiceAccount ns/name (uid) valid for `seconds`.
  bool IssueServiceAccountToken(const std::string& ns, const std::string& name,
                                const std::string& uid, const std::vector<std::string>& audiences,
                                int64_t seconds, Token* out, std::string* error) const;

  static const char* Issuer() { return "https://kubernetes.default.svc.cluster.local"; }

 private:
  const ClusterPKI* pki_;
  store::Store* state_;
  std::string kid_;
};

}  // namespace kubit::apiserver

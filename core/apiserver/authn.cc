#include "core/apiserver/authn.h"

#include <strings.h>
#include <time.h>

#include <nlohmann/json.hpp>

#include "core/api/meta.h"
#include "core/api/resources.h"
#include "net/http_server.h"
#include "net/jwt.h"

namespace kubit::apiserver {

using api::Json;

Authenticator::Authenticator(const ClusterPKI* pki, store::Store* state)
    : pki_(pki), state_(state), kid_(net::KeyId(pki->sa_key_pem)) {}

bool Authenticator::Authenticate(const net::HttpRequest& req, UserInfo* user) const {
  const net::PeerCertificate& peer = req.conn->peer();
  if (peer.present && peer.verified && !peer.common_name.empty()) {
    user->name = peer.common_name;
    user->groups = peer.organizations;
    user->groups.push_back("system:authenticated");
    return true;
  }
  std::string auth = req.Header("authorization");
  if (auth.size() > 7 && strncasecmp(auth.c_str(), "Bearer ", 7) == 0)
    return AuthenticateToken(auth.substr(7), user);
  return false;
}

bool Authenticator::AuthenticateToken(const std::string& token, UserInfo* user) const {
  std::string payload;
  if (!net::VerifyJwtES256(pki_->sa_key_pem, token, &payload)) return false;
  Json claims;
  try {
    claims = Json::parse(payload);
  } catch (...) {
    return false;
  }
  if (claims.value("iss", "") != Issuer()) return false;
  int64_t now = time(nullptr);
  if (claims.value("exp", int64_t{0}) < now || claims.value("nbf", int64_t{0}) > now + 60) return false;
  const Json& k = claims.value("kubernetes.io", Json::object());
  std::string ns = k.value("namespace", "");
  const Json& sa = k.value("serviceaccount", Json::object());
  std::string name = sa.value("name", ""), uid = sa.value("uid", "");
  if (ns.empty() || name.empty()) return false;
  // The ServiceAccount must still exist, and be the one the token was made for.
  const api::ResourceType* t = api::FindType("", "v1", "serviceaccounts");
  store::KeyValue kv;
  if (!state_->Get(t->storage_key(ns, name), &kv).ok()) return false;
  try {
    if (Json::parse(kv.value)["metadata"].value("uid", "") != uid) return false;
  } catch (...) {
    return false;
  }
  user->name = "system:serviceaccount:" + ns + ":" + name;
  user->uid = uid;
  user->groups = {"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"};
  user->extra["authentication.kubernetes.io/credential-id"] = {"JTI=" + claims.value("jti", "")};
  return true;
}

bool Authenticator::IssueServiceAccountToken(const std::string& ns, const std::string& name,
                                             const std::string& uid,
                                             const std::vector<std::string>& audiences,
                                             int64_t seconds, Token* out,
                                             std::string* error) const {
  int64_t now = time(nullptr);
  out->expires_at = now + seconds;
  Json claims = {{"aud", audiences.empty() ? std::vector<std::string>{Issuer()} : audiences},
                 {"exp", out->expires_at},
                 {"iat", now},
                 {"nbf", now},
                 {"iss", Issuer()},
                 {"jti", api::NewUID()},
                 {"sub", "system:serviceaccount:" + ns + ":" + name},
                 {"kubernetes.io",
                  {{"namespace", ns}, {"serviceaccount", {{"name", name}, {"uid", uid}}}}}};
  return net::SignJwtES256(pki_->sa_key_pem, kid_, claims.dump(), &out->token, error);
}

}  // namespace kubit::apiserver

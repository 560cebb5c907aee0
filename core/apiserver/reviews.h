// The APIs that answer a question instead of storing an object: access
// reviews (kubectl auth can-i), self and token reviews (kubectl auth
// whoami), and the serviceaccounts/token subresource (kubectl create token).
#pragma once

#include "core/apiserver/authn.h"
#include "core/apiserver/rbac.h"
#include "core/apiserver/request_info.h"
#include "store/store.h"

namespace kubit::net {
struct HttpRequest;
class HttpResponse;
}  // namespace kubit::net

namespace kubit::apiserver {

class Reviews {
 public:
  Reviews(const Authenticator* authn, const RbacAuthorizer* rbac, store::Store* state)
      : authn_(authn), rbac_(rbac), state_(state) {}
  void Serve(const RequestInfo& info, const UserInfo& user, net::HttpRequest& req,
             net::HttpResponse& resp) const;
  void ServeToken(const RequestInfo& info, net::HttpRequest& req, net::HttpResponse& resp) const;

 private:
  const Authenticator* authn_;
  const RbacAuthorizer* rbac_;
  store::Store* state_;
};

}  // namespace kubit::apiserver

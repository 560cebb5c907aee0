// The APIs that answer a question instead of storing an object: access
// reviews (kubectl auth can-i), self and token reviews (kubectl auth
// whoami), and the serviceaccounts/token subresource (kubectl create token).
#pragma once

#include <functional>
#include <utility>

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
  // `authorize` is the server's whole decision (masters, nodes, RBAC), so
  // that access reviews answer what a request would get.
  Reviews(const Authenticator* authn, const RbacAuthorizer* rbac,
          std::function<bool(const Attributes&)> authorize, store::Store* state)
      : authn_(authn), rbac_(rbac), authorize_(std::move(authorize)), state_(state) {}
  void Serve(const RequestInfo& info, const UserInfo& user, net::HttpRequest& req,
             net::HttpResponse& resp) const;
  void ServeToken(const RequestInfo& info, net::HttpRequest& req, net::HttpResponse& resp) const;

 private:
  const Authenticator* authn_;
  const RbacAuthorizer* rbac_;
  std::function<bool(const Attributes&)> authorize_;
  store::Store* state_;
};

}  // namespace kubit::apiserver

// Rest: the verbs of the built-in resources over the store: get, list,
// watch, create, update, delete, deletecollection (and patch, as it lands).
#pragma once

#include <nlohmann/json_fwd.hpp>

#include "core/apiserver/request_info.h"
#include "store/store.h"

namespace kubit::net {
struct HttpRequest;
class HttpResponse;
}  // namespace kubit::net

namespace kubit::apiserver {

struct ApiError;

// Decodes a request body (JSON, or protobuf for built-in kinds) into JSON.
bool ParseRequestBody(const net::HttpRequest& req, nlohmann::json* out, ApiError* err);

class Rest {
 public:
  explicit Rest(store::Store* state) : state_(state) {}
  void Serve(const RequestInfo& info, net::HttpRequest& req, net::HttpResponse& resp);
  // Creates default, kube-system, kube-public and kube-node-lease if missing.
  store::Status EnsureDefaultNamespaces();

 private:
  store::Store* state_;
};

}  // namespace kubit::apiserver

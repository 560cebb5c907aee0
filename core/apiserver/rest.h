// Rest: the verbs of the built-in resources over the store: get, list,
// watch, create, update, delete, deletecollection (and patch, as it lands).
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <utility>

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

// What the server decides for the objects it serves.
struct RestOptions {
  // Service ClusterIPs come from this range (k3s's --service-cidr); the
  // first address is the `kubernetes` Service's.
  std::string service_cidr = "10.43.0.0/16";
  int node_port_min = 30000, node_port_max = 32767;
  // The address and port the `kubernetes` Service's endpoints name.
  std::string advertise_address = "127.0.0.1";
  int advertise_port = 6443;
};

class Rest {
 public:
  Rest(store::Store* state, RestOptions options) : state_(state), options_(std::move(options)) {}
  void Serve(const RequestInfo& info, net::HttpRequest& req, net::HttpResponse& resp);
  // Creates default, kube-system, kube-public and kube-node-lease if
  // missing, and the `kubernetes` Service with its Endpoints and
  // EndpointSlice (kept pointing at this server).
  store::Status EnsureDefaults();

 private:
  store::Store* state_;
  RestOptions options_;
};

}  // namespace kubit::apiserver

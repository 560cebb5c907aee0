#include "core/apiserver/node_join.h"

#include <openssl/crypto.h>

#include <nlohmann/json.hpp>

#include "core/api/meta.h"
#include "core/api/resources.h"
#include "core/apiserver/api_error.h"
#include "core/apiserver/responses.h"
#include "net/base64.h"
#include "net/http_server.h"

namespace kubit::apiserver {
namespace {

using api::Json;

bool SameSecret(const std::string& a, const std::string& b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

// The secret part of a K10 token ("K10<hash>::server:<secret>").
std::string TokenSecret(const std::string& token) {
  size_t p = token.find("::server:");
  return p == std::string::npos ? token : token.substr(p + 9);
}

}  // namespace

bool NodeJoin::Serve(net::HttpRequest& req, net::HttpResponse& resp) {
  if (req.path == "/cacerts") {
    if (req.method != "GET" && req.method != "HEAD") return false;
    resp.SetHeader("Content-Type", "text/plain");
    resp.Send(200, pki_->ca.cert_pem);
    return true;
  }
  if (req.path == "/v1-kubit/config") {
    if (req.method != "GET")
      SendError(resp, ApiError::MethodNotAllowed("use GET"));
    else
      SendClusterConfig(req, resp);
    return true;
  }
  if (req.path == "/v1-kubit/client-kubelet") {
    if (req.method != "POST")
      SendError(resp, ApiError::MethodNotAllowed("use POST"));
    else
      IssueClientCertificate(req, resp);
    return true;
  }
  return false;
}

bool NodeJoin::HasJoinToken(net::HttpRequest& req) const {
  std::string auth = req.Header("authorization"), creds;
  return auth.rfind("Basic ", 0) == 0 && net::Base64Decode(auth.substr(6), &creds) &&
         creds.rfind("node:", 0) == 0 && SameSecret(creds.substr(5), TokenSecret(pki_->token));
}

void NodeJoin::SendClusterConfig(net::HttpRequest& req, net::HttpResponse& resp) {
  if (!HasJoinToken(req)) return SendError(resp, ApiError::Unauthorized());
  Json config = {{"clusterCIDR", network_.cluster_cidr},
                 {"serviceCIDR", network_.service_cidr},
                 {"clusterDNS", network_.cluster_dns},
                 {"clusterDomain", network_.cluster_domain},
                 {"flannelBackend", network_.flannel_backend}};
  resp.SetHeader("Content-Type", "application/json");
  resp.Send(200, config.dump());
}

void NodeJoin::IssueClientCertificate(net::HttpRequest& req, net::HttpResponse& resp) {
  if (!HasJoinToken(req)) return SendError(resp, ApiError::Unauthorized());
  std::string node = req.Header("kubit-node-name"), password = req.Header("kubit-node-password");
  if (!api::IsDNS1123Subdomain(node).empty())
    return SendError(resp, ApiError::BadRequest("invalid node name \"" + node + "\": " +
                                                (node.empty() ? "missing" : api::IsDNS1123Subdomain(node)[0])));
  if (password.size() < 16) return SendError(resp, ApiError::BadRequest("missing or short node password"));
  std::string why;
  if (!CheckNodePassword(node, password, &why)) return SendError(resp, ApiError::Forbidden(why));
  net::CertRequest cr;
  cr.common_name = "system:node:" + node;
  cr.organizations = {"system:nodes"};
  cr.client = true;
  net::KeyPair kp;
  std::string error;
  if (!net::IssueCertificate(pki_->ca, cr, &kp, &error))
    return SendError(resp, ApiError::Internal("cannot issue the node's certificate: " + error));
  SendJson(resp, 200, {{"cert", kp.cert_pem}, {"key", kp.key_pem}, {"ca", pki_->ca.cert_pem}});
}

bool NodeJoin::CheckNodePassword(const std::string& node, const std::string& password,
                                 std::string* why) {
  const api::ResourceType& secrets = *api::FindType("", "v1", "secrets");
  std::string name = node + ".node-password.kubit";
  std::string key = secrets.storage_key("kube-system", name);
  std::string hash = net::Sha256Hex(password);
  store::KeyValue kv;
  store::Status s = state_->Get(key, &kv);
  if (s.ok()) {
    Json secret = Json::parse(kv.value, nullptr, false);
    std::string stored, want = secret.is_object() && secret.contains("data") ? secret["data"].value("hash", "") : "";
    if (net::Base64Decode(want, &stored) && SameSecret(stored, hash)) return true;
    *why = "node password rejected for \"" + node + "\": another node joined with that name " +
           "(delete the Secret kube-system/" + name + " to let this one take it over)";
    return false;
  }
  if (!s.IsNotFound()) {
    *why = "cannot read the node password: " + s.ToString();
    return false;
  }
  Json secret = {{"apiVersion", "v1"},
                 {"kind", "Secret"},
                 {"metadata",
                  {{"name", name}, {"namespace", "kube-system"}, {"uid", api::NewUID()},
                   {"creationTimestamp", api::Now()}}},
                 {"type", "kubit.io/node-password"},
                 {"immutable", true},
                 {"data", {{"hash", net::Base64Encode(hash)}}}};
  s = state_->Create(key, secret.dump());
  if (s.IsAlreadyExists()) return CheckNodePassword(node, password, why);  // a join raced this one
  if (!s.ok()) {
    *why = "cannot record the node password: " + s.ToString();
    return false;
  }
  return true;
}

}  // namespace kubit::apiserver

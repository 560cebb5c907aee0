#include "core/apiserver/api_server.h"

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "core/api/resources.h"
#include "core/apiserver/api_error.h"
#include "core/apiserver/request_info.h"
#include "core/apiserver/rest.h"
#include "net/http_server.h"

namespace kubit::apiserver {
namespace {

using api::Json;

struct User {
  std::string name;
  std::vector<std::string> groups;
};

void SendJson(net::HttpResponse& resp, int code, const Json& body) {
  resp.SetHeader("Content-Type", "application/json");
  resp.Send(code, body.dump());
}

void SendError(net::HttpResponse& resp, const ApiError& e) {
  resp.SetHeader("Content-Type", "application/json");
  resp.Send(e.code, e.ToJson());
}

// x509 client certificates: CN is the user, O values are groups.
bool Authenticate(const net::HttpRequest& req, User* user) {
  const net::PeerCertificate& peer = req.conn->peer();
  if (!peer.present || !peer.verified || peer.common_name.empty()) return false;
  user->name = peer.common_name;
  user->groups = peer.organizations;
  user->groups.push_back("system:authenticated");
  return true;
}

bool Authorized(const User& user) {
  for (const auto& g : user.groups)
    if (g == "system:masters") return true;
  return false;
}

Json ResourceList(const std::string& group, const std::string& version) {
  Json resources = Json::array();
  for (const auto& t : api::BuiltinTypes()) {
    if (t.group != group || t.version != version) continue;
    Json r = {{"name", t.plural},          {"singularName", t.singular},
              {"namespaced", t.namespaced}, {"kind", t.kind},
              {"verbs", t.verbs}};
    if (!t.short_names.empty()) r["shortNames"] = t.short_names;
    if (!t.categories.empty()) r["categories"] = t.categories;
    resources.push_back(r);
    if (t.has_status)
      resources.push_back({{"name", t.plural + "/status"}, {"singularName", ""},
                           {"namespaced", t.namespaced}, {"kind", t.kind},
                           {"verbs", {"get", "patch", "update"}}});
    if (t.has_scale)
      resources.push_back({{"name", t.plural + "/scale"}, {"singularName", ""},
                           {"namespaced", t.namespaced}, {"group", "autoscaling"},
                           {"version", "v1"}, {"kind", "Scale"},
                           {"verbs", {"get", "patch", "update"}}});
  }
  std::string gv = group.empty() ? version : group + "/" + version;
  return {{"kind", "APIResourceList"}, {"apiVersion", "v1"}, {"groupVersion", gv},
          {"resources", resources}};
}

Json GroupJson(const api::GroupVersions& g) {
  Json versions = Json::array();
  for (const auto& v : g.versions) versions.push_back({{"groupVersion", g.group + "/" + v}, {"version", v}});
  return {{"name", g.group}, {"versions", versions}, {"preferredVersion", versions[0]}};
}

}  // namespace

ApiServer::ApiServer(ApiServerOptions options, store::Store* state, const ClusterPKI* pki)
    : opts_(std::move(options)), state_(state), pki_(pki) {}

ApiServer::~ApiServer() { Stop(); }

bool ApiServer::Start(std::string* error) {
  Rest rest(state_);
  store::Status s = rest.EnsureDefaultNamespaces();
  if (!s.ok()) {
    *error = "cannot create the default namespaces: " + s.ToString();
    return false;
  }
  net::HttpServerOptions ho;
  ho.bind_address = opts_.bind_address;
  ho.port = opts_.port;
  ho.cert_pem = pki_->serving.cert_pem + pki_->ca.cert_pem;
  ho.key_pem = pki_->serving.key_pem;
  ho.client_ca_pem = pki_->ca.cert_pem;
  http_ = std::make_unique<net::HttpServer>(
      ho, [this](net::HttpRequest& req, net::HttpResponse& resp) { Handle(req, resp); });
  return http_->Start(error);
}

void ApiServer::Stop() {
  if (http_) http_->Stop();
}

int ApiServer::port() const { return http_ ? http_->port() : 0; }

void ApiServer::Handle(net::HttpRequest& req, net::HttpResponse& resp) {
  const std::string& path = req.path;
  // Health endpoints answer anyone, as upstream's default RBAC allows.
  if (path == "/healthz" || path == "/livez" || path == "/readyz") {
    resp.SetHeader("Content-Type", "text/plain; charset=utf-8");
    resp.Send(200, "ok");
    return;
  }
  User user;
  if (!Authenticate(req, &user)) return SendError(resp, ApiError::Unauthorized());
  if (path == "/version") {
    return SendJson(resp, 200,
                    {{"major", "1"}, {"minor", "32"}, {"gitVersion", "v1.32.0+kubit-" + opts_.version},
                     {"gitCommit", ""}, {"gitTreeState", "clean"}, {"buildDate", ""},
                     {"goVersion", "n/a"}, {"compiler", "g++"},
#if defined(__aarch64__)
                     {"platform", "linux/arm64"}});
#elif defined(__arm__)
                     {"platform", "linux/arm"}});
#else
                     {"platform", "linux/amd64"}});
#endif
  }
  if (!Authorized(user)) {
    return SendError(resp, ApiError::Forbidden("User \"" + user.name +
                                               "\" cannot access this resource: only "
                                               "system:masters is authorized so far"));
  }
  if (path == "/api" || path == "/api/") {
    return SendJson(resp, 200,
                    {{"kind", "APIVersions"},
                     {"versions", {"v1"}},
                     {"serverAddressByClientCIDRs",
                      {{{"clientCIDR", "0.0.0.0/0"},
                        {"serverAddress", ":" + std::to_string(port())}}}}});
  }
  if (path == "/api/v1" || path == "/api/v1/") return SendJson(resp, 200, ResourceList("", "v1"));
  if (path == "/apis" || path == "/apis/") {
    Json groups = Json::array();
    for (const auto& g : api::BuiltinGroups())
      if (!g.group.empty()) groups.push_back(GroupJson(g));
    return SendJson(resp, 200, {{"kind", "APIGroupList"}, {"apiVersion", "v1"}, {"groups", groups}});
  }
  if (path.rfind("/apis/", 0) == 0) {
    std::string rest = path.substr(6);
    if (!rest.empty() && rest.back() == '/') rest.pop_back();
    size_t slash = rest.find('/');
    for (const auto& g : api::BuiltinGroups()) {
      if (g.group.empty()) continue;
      if (slash == std::string::npos && rest == g.group) {
        Json j = GroupJson(g);
        j["kind"] = "APIGroup";
        j["apiVersion"] = "v1";
        return SendJson(resp, 200, j);
      }
      if (slash != std::string::npos && rest.find('/', slash + 1) == std::string::npos &&
          rest.substr(0, slash) == g.group) {
        std::string v = rest.substr(slash + 1);
        for (const auto& gv : g.versions)
          if (gv == v) return SendJson(resp, 200, ResourceList(g.group, v));
      }
    }
  }
  RequestInfo info;
  bool watch = req.Param("watch") == "true" || req.Param("watch") == "1";
  if (!ParseRequestInfo(req.method, path, watch, &info))
    return SendError(resp, ApiError::NotFoundPath());
  Rest(state_).Serve(info, req, resp);
}

}  // namespace kubit::apiserver

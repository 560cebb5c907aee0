#include "core/apiserver/api_server.h"

#include "core/api/selectors.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <map>

#include <nlohmann/json.hpp>

#include "core/api/custom_resources.h"
#include "core/api/openapi.h"
#include "core/api/resources.h"
#include "core/apiserver/api_error.h"
#include "core/apiserver/responses.h"
#include "core/apiserver/request_info.h"
#include "core/apiserver/rest.h"
#include "core/apiserver/reviews.h"
#include "net/http_server.h"
#include "net/pki.h"

namespace kubit::apiserver {
namespace {

using api::Json;

bool InGroup(const UserInfo& u, const std::string& g) {
  for (const auto& x : u.groups)
    if (x == g) return true;
  return false;
}

Json ResourceList(const std::string& group, const std::string& version) {
  Json resources = Json::array();
  for (const api::ResourceType* tp : api::ServedTypes()) {
    const api::ResourceType& t = *tp;
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
    if (t.kind == "Pod" && t.group.empty()) {
      resources.push_back({{"name", "pods/binding"}, {"singularName", ""}, {"namespaced", true},
                           {"kind", "Binding"}, {"verbs", {"create"}}});
      resources.push_back({{"name", "pods/eviction"}, {"singularName", ""}, {"namespaced", true},
                           {"group", "policy"}, {"version", "v1"}, {"kind", "Eviction"},
                           {"verbs", {"create"}}});
      resources.push_back({{"name", "pods/attach"}, {"singularName", ""}, {"namespaced", true},
                           {"kind", "PodAttachOptions"}, {"verbs", {"create", "get"}}});
      resources.push_back({{"name", "pods/exec"}, {"singularName", ""}, {"namespaced", true},
                           {"kind", "PodExecOptions"}, {"verbs", {"create", "get"}}});
      resources.push_back({{"name", "pods/log"}, {"singularName", ""}, {"namespaced", true},
                           {"kind", "Pod"}, {"verbs", {"get"}}});
      resources.push_back({{"name", "pods/portforward"}, {"singularName", ""}, {"namespaced", true},
                           {"kind", "PodPortForwardOptions"}, {"verbs", {"create", "get"}}});
    }
    if (t.kind == "Namespace" && t.group.empty())
      resources.push_back({{"name", "namespaces/finalize"}, {"singularName", ""},
                           {"namespaced", false}, {"kind", "Namespace"}, {"verbs", {"update"}}});
    if (t.kind == "ServiceAccount")
      resources.push_back({{"name", "serviceaccounts/token"}, {"singularName", ""},
                           {"namespaced", true}, {"group", "authentication.k8s.io"},
                           {"version", "v1"}, {"kind", "TokenRequest"}, {"verbs", {"create"}}});
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

// Aggregated discovery (apidiscovery.k8s.io v2 and v2beta1): every group,
// version and resource in one answer, which kubectl asks for first. Built
// from the legacy lists so that the two never disagree.
Json DiscoveryGroup(const std::string& group, const std::vector<std::string>& versions) {
  Json vs = Json::array();
  for (const auto& v : versions) {
    Json list = ResourceList(group, v);
    Json resources = Json::array();
    for (const auto& r : list["resources"]) {
      std::string name = r["name"];
      size_t slash = name.find('/');
      Json kind = {{"group", r.value("group", group)}, {"version", r.value("version", v)},
                   {"kind", r["kind"]}};
      if (slash == std::string::npos) {
        Json entry = {{"resource", name},
                      {"responseKind", kind},
                      {"scope", r["namespaced"].get<bool>() ? "Namespaced" : "Cluster"},
                      {"singularResource", r["singularName"]},
                      {"verbs", r["verbs"]}};
        if (r.contains("shortNames")) entry["shortNames"] = r["shortNames"];
        if (r.contains("categories")) entry["categories"] = r["categories"];
        resources.push_back(entry);
        continue;
      }
      std::string parent = name.substr(0, slash);
      for (auto& e : resources)
        if (e["resource"] == parent) {
          if (!e.contains("subresources")) e["subresources"] = Json::array();
          e["subresources"].push_back({{"subresource", name.substr(slash + 1)},
                                       {"responseKind", kind},
                                       {"verbs", r["verbs"]}});
        }
    }
    vs.push_back({{"version", v}, {"resources", resources}, {"freshness", "Current"}});
  }
  Json meta = {{"creationTimestamp", nullptr}};
  if (!group.empty()) meta["name"] = group;
  return {{"metadata", meta}, {"versions", vs}};
}

// The discovery version the Accept header asks for ("v2", "v2beta1"), or "".
std::string AggregatedDiscoveryVersion(const std::string& accept) {
  for (const char* v : {"v2", "v2beta1"}) {
    std::string want = std::string("g=apidiscovery.k8s.io;v=") + v + ";as=APIGroupDiscoveryList";
    size_t at = accept.find(want);
    if (at != std::string::npos) return v;
  }
  return "";
}

Json GroupJson(const api::GroupVersions& g) {
  Json versions = Json::array();
  for (const auto& v : g.versions) versions.push_back({{"groupVersion", g.group + "/" + v}, {"version", v}});
  return {{"name", g.group}, {"versions", versions}, {"preferredVersion", versions[0]}};
}

// Custom types by "apis/<group>/<version>".
std::map<std::string, std::vector<const api::ResourceType*>> CustomGroupVersions() {
  std::map<std::string, std::vector<const api::ResourceType*>> out;
  for (const api::ResourceType* t : api::ServedTypes())
    if (t->custom) out["apis/" + t->group + "/" + t->version].push_back(t);
  return out;
}

}  // namespace

ApiServer::ApiServer(ApiServerOptions options, store::Store* state, const ClusterPKI* pki)
    : opts_(std::move(options)),
      state_(state),
      pki_(pki),
      authn_(pki, state),
      rbac_(state),
      nodes_(state),
      reviews_(&authn_, &rbac_, [this](const Attributes& a) { return Authorize(a); }, state),
      crds_(state),
      rest_(state, opts_.rest),
      join_(pki, state, opts_.network),
      streams_(state, &tunnels_),
      metrics_api_(state, &tunnels_, opts_.metrics) {}

ApiServer::~ApiServer() { Stop(); }

bool ApiServer::Start(std::string* error) {
  store::Status s = rest_.EnsureDefaults();
  if (!s.ok()) {
    *error = "cannot create the default namespaces and services: " + s.ToString();
    return false;
  }
  s = crds_.Start();
  if (!s.ok()) {
    *error = "cannot start serving custom resources: " + s.ToString();
    return false;
  }
  s = rbac_.Start();
  if (!s.ok()) {
    *error = "cannot start RBAC: " + s.ToString();
    return false;
  }
  s = nodes_.Start();
  if (!s.ok()) {
    *error = "cannot start the node authorizer: " + s.ToString();
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
  if (!http_->Start(error)) return false;
  metrics_api_.Start();
  return true;
}

void ApiServer::Stop() {
  // Tunnels first: a scrape waiting on a silent node fails at once.
  tunnels_.Stop();
  metrics_api_.Stop();
  if (http_) http_->Stop();
  rbac_.Stop();
  nodes_.Stop();
  crds_.Stop();
}

// system:masters may do anything, as upstream's privileged-group authorizer
// says before RBAC is asked.
bool ApiServer::Authorize(const Attributes& a) const {
  if (InGroup(a.user, "system:masters")) return true;
  // Nodes get what the node authorizer gives them, nothing from RBAC.
  std::string node;
  if (NodeAuthorizer::IsNode(a.user, &node)) return nodes_.Authorize(node, a);
  return rbac_.Authorize(a);
}

// Impersonate-User / -Group / -Uid / -Extra-*: act as someone else, if the
// caller may impersonate each of them.
bool ApiServer::Impersonate(net::HttpRequest& req, net::HttpResponse& resp, UserInfo* user) const {
  std::string as = req.Header("impersonate-user");
  std::vector<std::string> groups;
  std::map<std::string, std::vector<std::string>> extra;
  for (const auto& [k, v] : req.headers) {
    if (k == "impersonate-group") groups.push_back(v);
    if (k.rfind("impersonate-extra-", 0) == 0) extra[net::PercentDecode(k.substr(18), false)].push_back(v);
  }
  if (as.empty()) {
    if (!groups.empty() || !extra.empty()) {
      SendError(resp, ApiError::BadRequest("requested [" + (groups.empty() ? std::string("extra") : "groups") +
                                           "] without impersonating a user"));
      return false;
    }
    return true;
  }
  auto check = [&](const std::string& resource, const std::string& ns, const std::string& name,
                   const std::string& group) {
    Attributes a;
    a.user = *user;
    a.verb = "impersonate";
    a.api_group = group;
    a.resource = resource;
    a.ns = ns;
    a.name = name;
    if (Authorize(a)) return true;
    SendError(resp, ApiError::Forbidden(ForbiddenMessage(a)));
    return false;
  };
  const std::string sa_prefix = "system:serviceaccount:";
  UserInfo next;
  next.name = as;
  if (as.rfind(sa_prefix, 0) == 0 && as.find(':', sa_prefix.size()) != std::string::npos) {
    std::string rest = as.substr(sa_prefix.size());
    std::string ns = rest.substr(0, rest.find(':')), name = rest.substr(rest.find(':') + 1);
    if (!check("serviceaccounts", ns, name, "")) return false;
    if (groups.empty()) groups = {"system:serviceaccounts", "system:serviceaccounts:" + ns};
  } else if (!check("users", "", as, "")) {
    return false;
  }
  for (const auto& g : groups)
    if (!check("groups", "", g, "")) return false;
  for (const auto& [k, vals] : extra)
    for (const auto& v : vals)
      if (!check("userextras", "", v, "authentication.k8s.io")) return false;
  next.uid = req.Header("impersonate-uid");
  next.groups = groups;
  if (as != "system:anonymous" && !InGroup(next, "system:authenticated"))
    next.groups.push_back("system:authenticated");
  next.extra = extra;
  *user = next;
  return true;
}

int ApiServer::port() const { return http_ ? http_->port() : 0; }

std::function<int(std::string*)> ApiServer::InProcessDialer(std::string user,
                                                            std::vector<std::string> groups) {
  net::PeerCertificate id;
  id.present = id.verified = true;
  id.common_name = std::move(user);
  id.organizations = std::move(groups);
  return [this, id](std::string* error) {
    if (!http_) {
      *error = "the API server is not started";
      return -1;
    }
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
      *error = std::string("socketpair: ") + strerror(errno);
      return -1;
    }
    http_->ServeConnection(sv[0], id);
    return sv[1];
  };
}

void ApiServer::Handle(net::HttpRequest& req, net::HttpResponse& resp) {
  auto start = std::chrono::steady_clock::now();
  RequestInfo info;
  Serve(req, resp, &info);
  static const std::map<std::string, std::string> kVerbs = {
      {"get", "GET"},   {"list", "LIST"},    {"watch", "WATCH"},   {"create", "POST"},
      {"update", "PUT"}, {"patch", "PATCH"}, {"delete", "DELETE"}, {"deletecollection", "DELETE"}};
  auto v = kVerbs.find(info.verb);
  std::string verb = v != kVerbs.end() ? v->second : req.method;
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  metrics_.Observe(verb, info.group, info.plural, resp.status(), secs);
}

void ApiServer::Serve(net::HttpRequest& req, net::HttpResponse& resp, RequestInfo* out_info) {
  const std::string& path = req.path;
  // Joining nodes prove themselves with the join token, not an identity.
  if (join_.Serve(req, resp)) return;
  UserInfo user;
  if (!authn_.Authenticate(req, &user)) return SendError(resp, ApiError::Unauthorized());
  if (!Impersonate(req, resp, &user)) return;

  RequestInfo& info = *out_info;
  bool watch = req.Param("watch") == "true" || req.Param("watch") == "1";
  bool resource = ParseRequestInfo(req.method, path, watch, &info);
  Attributes a;
  a.user = user;
  if (resource) {
    a.verb = info.verb;
    a.api_group = info.group;
    a.resource = info.plural;
    a.subresource = info.subresource;
    a.ns = info.ns;
    a.name = info.name;
    // A list or watch of one object by name is authorized as of that name.
    if ((info.verb == "list" || info.verb == "watch") && info.name.empty()) {
      api::FieldSelector fs;
      std::string ferr, only;
      if (api::FieldSelector::Parse(req.Param("fieldSelector"), &fs, &ferr) && fs.Exact("metadata.name", &only))
        a.name = only;
    }
    // A namespace's own namespace is itself, for RBAC.
    if (info.plural == "namespaces" && info.group.empty() && !info.name.empty()) a.ns = info.name;
  } else {
    a.resource_request = false;
    a.path = path;
    std::string m = req.method;
    a.verb = m == "GET" || m == "HEAD" ? "get" : m == "POST" ? "post" : m == "PUT" ? "put"
           : m == "PATCH" ? "patch" : m == "DELETE" ? "delete" : "";
  }
  if (!Authorize(a)) return SendError(resp, ApiError::Forbidden(ForbiddenMessage(a)));
  if (!resource && tunnels_.Serve(user, req, resp)) return;

  if (path == "/healthz" || path == "/livez" || path == "/readyz") {
    resp.SetHeader("Content-Type", "text/plain; charset=utf-8");
    resp.Send(200, "ok");
    return;
  }
  if (path == "/openapi/v3" || path == "/openapi/v3/") {
    Json root = Json::parse(api::OpenApiV3Root());
    for (const auto& [gv, types] : CustomGroupVersions()) {
      std::string hash = net::Sha256Hex(api::CustomOpenApiDocument(types));
      root["paths"][gv] = {{"serverRelativeURL", "/openapi/v3/" + gv + "?hash=" + hash}};
    }
    return SendJson(resp, 200, root);
  }
  if (path.rfind("/openapi/v3/", 0) == 0) {
    std::string doc, hash, gv = path.substr(12);
    auto custom = CustomGroupVersions();
    if (auto it = custom.find(gv); it != custom.end()) {
      doc = api::CustomOpenApiDocument(it->second);
      hash = net::Sha256Hex(doc);
    } else if (!api::OpenApiV3Document(gv, &doc, &hash)) {
      return SendError(resp, ApiError::NotFoundPath());
    }
    resp.SetHeader("Content-Type", "application/json");
    resp.SetHeader("Etag", "\"" + hash + "\"");
    resp.Send(200, doc);
    return;
  }
  if (path == "/metrics") {
    resp.SetHeader("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    resp.Send(200, metrics_.Render());
    return;
  }
  if (path == "/version") {
    return SendJson(resp, 200,
                    {{"major", "1"}, {"minor", "32"}, {"gitVersion", "v1.32.0+kubit-" + opts_.version.substr(opts_.version[0] == 'v')},
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
  if (path == "/api" || path == "/api/" || path == "/apis" || path == "/apis/") {
    std::string dv = AggregatedDiscoveryVersion(req.Header("accept"));
    if (!dv.empty()) {
      Json items = Json::array();
      bool legacy = path.rfind("/api/", 0) == 0 || path == "/api";
      for (const auto& g : api::ServedGroups())
        if (g.group.empty() == legacy) items.push_back(DiscoveryGroup(g.group, g.versions));
      if (!legacy && metrics_api_.enabled()) items.push_back(MetricsApi::AggregatedGroup());
      resp.SetHeader("Content-Type", "application/json;g=apidiscovery.k8s.io;v=" + dv +
                                         ";as=APIGroupDiscoveryList");
      resp.SetHeader("Vary", "Accept");
      Json list = {{"kind", "APIGroupDiscoveryList"}, {"apiVersion", "apidiscovery.k8s.io/" + dv},
                   {"metadata", Json::object()}, {"items", items}};
      resp.Send(200, list.dump());
      return;
    }
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
    for (const auto& g : api::ServedGroups())
      if (!g.group.empty()) groups.push_back(GroupJson(g));
    if (metrics_api_.enabled()) groups.push_back(MetricsApi::GroupEntry());
    return SendJson(resp, 200, {{"kind", "APIGroupList"}, {"apiVersion", "v1"}, {"groups", groups}});
  }
  if (metrics_api_.ServeDiscovery(path, resp)) return;
  if (path.rfind("/apis/", 0) == 0) {
    std::string rest = path.substr(6);
    if (!rest.empty() && rest.back() == '/') rest.pop_back();
    size_t slash = rest.find('/');
    for (const auto& g : api::ServedGroups()) {
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
  if (!resource) return SendError(resp, ApiError::NotFoundPath());
  if (info.group == kMetricsGroup && metrics_api_.enabled()) return metrics_api_.Serve(info, req, resp);
  if (info.type && info.type->kind == "ServiceAccount" && info.subresource == "token" &&
      info.verb == "create")
    return reviews_.ServeToken(info, req, resp);
  if (info.type && info.type->create_only) return reviews_.Serve(info, user, req, resp);
  if (info.type && info.type->kind == "Pod" && info.type->group.empty() && !info.name.empty() &&
      (info.subresource == "log" || info.subresource == "exec" || info.subresource == "attach" ||
       info.subresource == "portforward")) {
    if (info.subresource == "log" && info.verb != "get")
      return SendError(resp, ApiError::MethodNotAllowed("pods/log is read with GET"));
    // kubectl's WebSocket exec, attach and port-forward are GETs: they must also
    // be allowed to create the subresource, as upstream checks since 1.31.
    if (info.subresource != "log" && info.verb != "create") {
      a.verb = "create";
      if (!Authorize(a)) return SendError(resp, ApiError::Forbidden(ForbiddenMessage(a)));
    }
    return streams_.Serve(info, req, resp);
  }
  rest_.Serve(info, req, resp);
}

}  // namespace kubit::apiserver

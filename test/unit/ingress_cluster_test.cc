// Ingress against a real API server: the route table built from Ingresses,
// Services, EndpointSlices and Secrets; which Ingresses the class "kubit"
// takes; the Node authorizer's rule for their TLS Secrets; the status
// controller; and a node's IngressProxy end to end (proxy started while
// the class exists, requests routed to a local backend, stopped when the
// class goes).
#include <doctest/doctest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/controllers/ingress_status_controller.h"
#include "core/network/ingress_class.h"
#include "core/network/ingress_proxy.h"
#include "core/network/ingress_routes.h"
#include "net/base64.h"
#include "net/http_client.h"
#include "net/http_server.h"
#include "net/pki.h"
#include "test/unit/client_test_cluster.h"

namespace kubit::network {
namespace {

using client::Json;
using client::ObjectPtr;
using client::Resource;
using client::Status;

const Resource kIngresses{"networking.k8s.io", "v1", "ingresses"};
const Resource kIngressClasses{"networking.k8s.io", "v1", "ingressclasses"};
const Resource kServices{"", "v1", "services"};
const Resource kSlices{"discovery.k8s.io", "v1", "endpointslices"};
const Resource kSecrets{"", "v1", "secrets"};
const Resource kNodes{"", "v1", "nodes"};

bool Eventually(const std::function<bool()>& done) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return done();
}

ObjectPtr Ptr(Json j) { return std::make_shared<const Json>(std::move(j)); }

Json Service(const std::string& name, Json ports) {
  return {{"apiVersion", "v1"},
          {"kind", "Service"},
          {"metadata", {{"name", name}, {"namespace", "default"}}},
          {"spec", {{"ports", ports}}}};
}

Json Slice(const std::string& name, const std::string& svc, Json ports, Json endpoints) {
  return {{"apiVersion", "discovery.k8s.io/v1"},
          {"kind", "EndpointSlice"},
          {"metadata", {{"name", name}, {"namespace", "default"}, {"labels", {{"kubernetes.io/service-name", svc}}}}},
          {"addressType", "IPv4"},
          {"ports", ports},
          {"endpoints", endpoints}};
}

// Validation wants a rule or a default backend: every Ingress here has the latter.
Json Ingress(const std::string& name, Json spec) {
  if (!spec.contains("defaultBackend") && !spec.contains("rules"))
    spec["defaultBackend"] = {{"service", {{"name", "web"}, {"port", {{"number", 80}}}}}};
  return {{"apiVersion", "networking.k8s.io/v1"},
          {"kind", "Ingress"},
          {"metadata", {{"name", name}, {"namespace", "default"}}},
          {"spec", spec}};
}

Json PathTo(const std::string& path, const std::string& type, const std::string& svc, Json port) {
  return {{"path", path}, {"pathType", type}, {"backend", {{"service", {{"name", svc}, {"port", port}}}}}};
}

// IngressClass "kubit" as the bundled manifest (manifests/bundled.cc)
// makes it: the default class, kubit's controller.
bool CreateKubitClass(client::Client* c) {
  Json cls = {{"apiVersion", "networking.k8s.io/v1"},
              {"kind", "IngressClass"},
              {"metadata", {{"name", kIngressClass}, {"annotations", {{kDefaultClassAnnotation, "true"}}}}},
              {"spec", {{"controller", kIngressController}}}};
  return c->Create(kIngressClasses, "", cls).ok();
}

Json TlsSecret(const std::string& name, const std::string& cert, const std::string& key) {
  return {{"apiVersion", "v1"},
          {"kind", "Secret"},
          {"metadata", {{"name", name}, {"namespace", "default"}}},
          {"type", "kubernetes.io/tls"},
          {"data", {{"tls.crt", net::Base64Encode(cert)}, {"tls.key", net::Base64Encode(key)}}}};
}

TEST_CASE("ingress cluster: backends resolve to ready endpoints of the service port, by number or name") {
  Json svc = Service("web", {{{"name", "http"}, {"port", 80}, {"targetPort", 8080}},
                             {{"name", "admin"}, {"port", 9000}}});
  std::vector<ObjectPtr> slices = {
      Ptr(Slice("web-1", "web", {{{"name", "http"}, {"port", 8080}}, {{"name", "admin"}, {"port", 9090}}},
                {{{"addresses", {"10.1.0.2"}}, {"conditions", {{"ready", true}}}},
                 {{"addresses", {"10.1.0.3"}}, {"conditions", {{"ready", false}}}},
                 {{"addresses", {"10.1.0.4"}}}}))};
  std::string problem;
  CHECK(ServiceBackendEndpoints(svc, slices, {{"number", 80}}, &problem) ==
        std::vector<std::string>{"10.1.0.2:8080", "10.1.0.4:8080"});
  CHECK(ServiceBackendEndpoints(svc, slices, {{"name", "admin"}}, &problem) ==
        std::vector<std::string>{"10.1.0.2:9090", "10.1.0.4:9090"});
  CHECK(problem.empty());
  CHECK(ServiceBackendEndpoints(svc, slices, {{"number", 81}}, &problem).empty());
  CHECK(problem == "the service has no such port");
}

TEST_CASE("ingress cluster: the route table from Ingresses, oldest first, with TLS and default backend") {
  Json a = Ingress("a", {{"defaultBackend", {{"service", {{"name", "web"}, {"port", {{"number", 80}}}}}}},
                         {"tls", {{{"hosts", {"Secure.Test"}}, {"secretName", "cert"}}, {{"secretName", "missing"}}}},
                         {"rules",
                          {{{"host", "Secure.Test"},
                            {"http", {{"paths", {PathTo("/api", "Exact", "web", {{"name", "http"}})}}}}}}}});
  a["metadata"]["creationTimestamp"] = "2024-01-01T00:00:00Z";
  Json b = Ingress("b", {{"defaultBackend", {{"service", {{"name", "gone"}, {"port", {{"number", 80}}}}}}},
                         {"rules",
                          {{{"http",
                             {{"paths", {PathTo("/", "ImplementationSpecific", "web", {{"number", 80}})}}}}}}}});
  b["metadata"]["creationTimestamp"] = "2023-01-01T00:00:00Z";  // older: its default wins
  IngressObjects objs;
  objs.ingresses = {Ptr(a), Ptr(b)};
  objs.service = [](const std::string&, const std::string& name) {
    return name == "web" ? Ptr(Service("web", {{{"name", "http"}, {"port", 80}}})) : nullptr;
  };
  objs.endpoint_slices = [](const std::string&, const std::string& svc) {
    return std::vector<ObjectPtr>{Ptr(Slice("s", svc, {{{"name", "http"}, {"port", 8080}}}, {{{"addresses", {"10.9.0.1"}}}}))};
  };
  objs.secret = [](const std::string&, const std::string& name) {
    return name == "cert" ? Ptr(TlsSecret("cert", "CERT", "KEY")) : nullptr;
  };
  std::vector<std::string> problems;
  net::ProxyRouteTable t = BuildIngressRoutes(objs, &problems);
  REQUIRE(t.routes.size() == 2);
  CHECK(t.routes[0].host.empty());  // b's, the older Ingress, first
  CHECK(t.routes[0].type == net::ProxyPathType::kPrefix);
  CHECK(t.routes[1].host == "secure.test");
  CHECK(t.routes[1].type == net::ProxyPathType::kExact);
  CHECK(t.routes[1].backend.endpoints == std::vector<std::string>{"10.9.0.1:8080"});
  CHECK(t.has_default_backend);
  CHECK(t.default_backend.name == "default/gone:80");
  CHECK(t.default_backend.endpoints.empty());
  REQUIRE(t.certificates.size() == 1);
  CHECK(t.certificates[0].hosts == std::vector<std::string>{"secure.test"});
  CHECK(t.certificates[0].cert_pem == "CERT");
  CHECK(problems == std::vector<std::string>{"default/gone:80: service not found",
                                             "default/missing: TLS secret not found"});
}

TEST_CASE("ingress cluster: class kubit by name, annotation, or as the default class") {
  Json kubit_default = {{"metadata", {{"name", "kubit"}, {"annotations", {{kDefaultClassAnnotation, "true"}}}}}};
  Json kubit_plain = {{"metadata", {{"name", "kubit"}}}};
  Json named = {{"spec", {{"ingressClassName", "kubit"}}}};
  Json other = {{"spec", {{"ingressClassName", "nginx"}}}};
  Json annotated = {{"metadata", {{"annotations", {{"kubernetes.io/ingress.class", "kubit"}}}}}, {"spec", Json::object()}};
  Json none = {{"spec", Json::object()}};
  CHECK(ServedByKubit(named, &kubit_plain));
  CHECK(ServedByKubit(annotated, &kubit_plain));
  CHECK_FALSE(ServedByKubit(other, &kubit_default));
  CHECK(ServedByKubit(none, &kubit_default));
  CHECK_FALSE(ServedByKubit(none, &kubit_plain));
  CHECK_FALSE(ServedByKubit(named, nullptr));  // no class, no proxy
}

TEST_CASE("ingress cluster: a node gets only the TLS Secrets of Ingresses of class kubit") {
  test::TestCluster cluster;
  auto admin = cluster.InProcess();
  auto node = cluster.InProcess("system:node:n1", {"system:nodes"});
  REQUIRE(CreateKubitClass(admin.get()));
  for (const char* name : {"tls-kubit", "tls-other", "tls-default", "unrelated"})
    REQUIRE(admin->Create(kSecrets, "default", TlsSecret(name, "C", "K")).ok());
  Json named = Ingress("named", {{"ingressClassName", "kubit"}, {"tls", {{{"secretName", "tls-kubit"}}}}});
  Json other = Ingress("other", {{"ingressClassName", "nginx"}, {"tls", {{{"secretName", "tls-other"}}}}});
  Json unset = Ingress("unset", {{"tls", {{{"secretName", "tls-default"}}}}});
  for (const Json& i : {named, other, unset}) REQUIRE(admin->Create(kIngresses, "default", i).ok());
  Json out;
  CHECK(node->Get(kSecrets, "default", "tls-kubit", &out).ok());
  CHECK(node->Get(kSecrets, "default", "tls-default", &out).ok());  // kubit is the default class
  CHECK(node->Get(kSecrets, "default", "tls-other", &out).IsForbidden());
  CHECK(node->Get(kSecrets, "default", "unrelated", &out).IsForbidden());
  CHECK(node->List(kSecrets, "default", {}, &out).IsForbidden());
  // Once kubit is no longer the default, the classless Ingress is not kubit's.
  REQUIRE(admin->Patch(kIngressClasses, "", "kubit", client::PatchType::kMerge,
                       R"({"metadata":{"annotations":{"ingressclass.kubernetes.io/is-default-class":null}}})")
              .ok());
  CHECK(node->Get(kSecrets, "default", "tls-default", &out).IsForbidden());
  CHECK(node->Get(kSecrets, "default", "tls-kubit", &out).ok());
  // No class (--disable traefik): no proxy, no certificates for it.
  REQUIRE(admin->Delete(kIngressClasses, "", "kubit").ok());
  CHECK(node->Get(kSecrets, "default", "tls-kubit", &out).IsForbidden());
}

TEST_CASE("ingress cluster: the status controller lists the Ready nodes' InternalIPs") {
  test::TestCluster cluster;
  auto admin = cluster.InProcess();
  REQUIRE(CreateKubitClass(admin.get()));
  auto make_node = [&](const std::string& name, const std::string& ip, const std::string& ready) {
    Json n = {{"apiVersion", "v1"}, {"kind", "Node"}, {"metadata", {{"name", name}}}};
    Json created;
    REQUIRE(admin->Create(kNodes, "", n, &created).ok());
    created["status"] = {{"addresses", {{{"type", "InternalIP"}, {"address", ip}}, {{"type", "Hostname"}, {"address", name}}}},
                         {"conditions", {{{"type", "Ready"}, {"status", ready}}}}};
    REQUIRE(admin->UpdateStatus(kNodes, "", created).ok());
  };
  make_node("n2", "192.0.2.20", "True");
  make_node("n1", "192.0.2.10", "True");
  make_node("n3", "192.0.2.30", "False");
  REQUIRE(admin->Create(kIngresses, "default", Ingress("mine", {{"ingressClassName", "kubit"}})).ok());
  REQUIRE(admin->Create(kIngresses, "default", Ingress("theirs", {{"ingressClassName", "nginx"}})).ok());

  client::SharedInformerFactory informers(admin.get());
  controllers::IngressStatusController ctrl(admin.get(), &informers, nullptr);
  informers.Start();
  REQUIRE(informers.WaitForSync(std::chrono::seconds(10)));
  ctrl.Start();
  Json want = Json::array({{{"ip", "192.0.2.10"}}, {{"ip", "192.0.2.20"}}});
  Json got;
  CHECK(Eventually([&] {
    return admin->Get(kIngresses, "default", "mine", &got).ok() &&
           got["status"]["loadBalancer"].value("ingress", Json()) == want;
  }));
  // A node becoming Ready joins the list.
  Json n3;
  REQUIRE(admin->Get(kNodes, "", "n3", &n3).ok());
  n3["status"]["conditions"][0]["status"] = "True";
  REQUIRE(admin->UpdateStatus(kNodes, "", n3).ok());
  want.push_back({{"ip", "192.0.2.30"}});
  CHECK(Eventually([&] {
    return admin->Get(kIngresses, "default", "mine", &got).ok() &&
           got["status"]["loadBalancer"].value("ingress", Json()) == want;
  }));
  ctrl.Stop();
  informers.Stop();
  REQUIRE(admin->Get(kIngresses, "default", "theirs", &got).ok());
  CHECK_FALSE(got["status"]["loadBalancer"].contains("ingress"));
}

TEST_CASE("ingress cluster: a node's proxy serves while IngressClass kubit exists") {
  test::TestCluster cluster;
  auto admin = cluster.InProcess();
  auto node = cluster.InProcess("system:node:n1", {"system:nodes"});
  net::HttpServerOptions bo;
  bo.bind_address = "127.0.0.1";
  net::HttpServer backend(bo, [](net::HttpRequest& req, net::HttpResponse& res) {
    res.Send(200, "backend saw " + req.path + " for " + req.Header("x-forwarded-host"));
  });
  std::string error;
  REQUIRE_MESSAGE(backend.Start(&error), error);

  REQUIRE(admin->Create(kServices, "default", Service("web", {{{"name", "http"}, {"port", 80}}})).ok());
  REQUIRE(admin->Create(kSlices, "default",
                        Slice("web-x", "web", {{{"name", "http"}, {"port", backend.port()}}},
                              {{{"addresses", {"127.0.0.1"}}, {"conditions", {{"ready", true}}}}}))
              .ok());
  REQUIRE(admin->Create(kIngresses, "default",
                        Ingress("web", {{"rules",
                                         {{{"host", "web.test"},
                                           {"http", {{"paths", {PathTo("/app", "Prefix", "web", {{"name", "http"}})}}}}}}}}))
              .ok());
  IngressProxyOptions o;
  o.proxy.bind_address = "127.0.0.1";
  o.proxy.http_port = 0;
  o.proxy.https_port = 0;
  o.refresh = std::chrono::milliseconds(500);
  o.log = [](bool err, const std::string& m) {
    if (err) MESSAGE(m);
  };
  IngressProxy proxy(node.get(), o);
  proxy.Start();
  int http = 0, https = 0;
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  CHECK_FALSE(proxy.Serving(&http, &https));  // no class yet
  REQUIRE(CreateKubitClass(admin.get()));
  REQUIRE(Eventually([&] { return proxy.Serving(&http, &https); }));
  net::HttpClient c;
  auto get = [&](const std::string& host, const std::string& path) {
    net::HttpClientRequest req;
    req.url = "http://127.0.0.1:" + std::to_string(http) + path;
    req.headers = {{"Host", host}};
    net::HttpClientResponse resp;
    std::string err;
    if (!c.Do(req, &resp, &err)) return "error: " + err;
    return std::to_string(resp.status) + " " + resp.body;
  };
  CHECK(Eventually([&] { return get("web.test", "/app/x") == "200 backend saw /app/x for web.test"; }));
  CHECK(get("web.test", "/other") == "404 404 page not found\n");
  CHECK(get("nobody.test", "/app") == "404 404 page not found\n");
  // No ready endpoint: 503.
  Json slice;
  REQUIRE(admin->Get(kSlices, "default", "web-x", &slice).ok());
  slice["endpoints"][0]["conditions"]["ready"] = false;
  REQUIRE(admin->Update(kSlices, "default", slice).ok());
  CHECK(Eventually([&] { return get("web.test", "/app").rfind("503 ", 0) == 0; }));
  REQUIRE(admin->Delete(kIngressClasses, "", "kubit").ok());
  CHECK(Eventually([&] { return !proxy.Serving(&http, &https); }));
  proxy.Stop();
  backend.Stop();
}

}  // namespace
}  // namespace kubit::network

// The first controllers against the real API server through the
// in-process client: default ServiceAccounts, the kube-root-ca.crt
// ConfigMap, and namespace deletion (the deleter pass by pass, then the
// controller end to end).
#include <doctest/doctest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/client/discovery.h"
#include "core/controllers/controller_manager.h"
#include "core/controllers/namespace_deleter.h"
#include "test/unit/client_test_cluster.h"

namespace kubit::controllers {
namespace {

using client::Json;
using client::Resource;
using client::Status;

const Resource kNamespaces{"", "v1", "namespaces"};
const Resource kConfigMaps{"", "v1", "configmaps"};
const Resource kSecrets{"", "v1", "secrets"};
const Resource kServiceAccounts{"", "v1", "serviceaccounts"};
const Resource kCrds{"apiextensions.k8s.io", "v1", "customresourcedefinitions"};
const Resource kWidgets{"example.com", "v1", "widgets"};

// Polls `done` until it holds or a generous deadline passes (a deadline
// for a hung test, not a timing assertion).
bool Eventually(const std::function<bool()>& done) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return done();
}

Json Namespace(const std::string& name) {
  return {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", name}}}};
}

std::string Uid(const Json& o) { return o["metadata"].value("uid", ""); }

// A condition of a namespace's status as "Status Reason: Message".
std::string ConditionOf(const Json& ns, const std::string& type) {
  for (const Json& c : ns["status"].value("conditions", Json::array()))
    if (c.value("type", "") == type)
      return c.value("status", "") + " " + c.value("reason", "") + ": " + c.value("message", "");
  return "";
}

void CreateWidgetCrd(client::Client& c) {
  Json crd = {{"apiVersion", "apiextensions.k8s.io/v1"},
              {"kind", "CustomResourceDefinition"},
              {"metadata", {{"name", "widgets.example.com"}}},
              {"spec",
               {{"group", "example.com"},
                {"scope", "Namespaced"},
                {"names", {{"plural", "widgets"}, {"singular", "widget"}, {"kind", "Widget"}}},
                {"versions",
                 {{{"name", "v1"},
                   {"served", true},
                   {"storage", true},
                   {"schema",
                    {{"openAPIV3Schema",
                      {{"type", "object"}, {"x-kubernetes-preserve-unknown-fields", true}}}}}}}}}}};
  Status s = c.Create(kCrds, "", crd);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
}

Json Widget(const std::string& name) {
  return {{"apiVersion", "example.com/v1"}, {"kind", "Widget"}, {"metadata", {{"name", name}}}};
}

Logger TestLog() {
  return [](LogLevel level, const std::string& m) {
    if (level >= LogLevel::kWarn) MESSAGE(m);
  };
}

}  // namespace

TEST_CASE("client controllers: default ServiceAccount and kube-root-ca.crt in every namespace") {
  test::TestCluster cluster;
  auto c = cluster.InProcess("system:kube-controller-manager", {"system:masters"});
  ControllerManagerOptions o;
  o.ca_pem = cluster.pki.ca.cert_pem;
  o.log = TestLog();
  ControllerManager manager(c.get(), o);
  manager.Start();

  // Namespaces that exist at the start, and new ones.
  REQUIRE(c->Create(kNamespaces, "", Namespace("team")).ok());
  for (const char* ns : {"default", "kube-system", "team"}) {
    CAPTURE(ns);
    Json sa, cm;
    REQUIRE(Eventually([&] { return c->Get(kServiceAccounts, ns, "default", &sa).ok(); }));
    REQUIRE(Eventually([&] { return c->Get(kConfigMaps, ns, "kube-root-ca.crt", &cm).ok(); }));
    CHECK(cm["data"] == Json({{"ca.crt", cluster.pki.ca.cert_pem}}));
    CHECK_FALSE(cm["metadata"]["annotations"].value("kubernetes.io/description", "").empty());
  }

  // Deleted: made again.
  Json sa;
  REQUIRE(c->Get(kServiceAccounts, "team", "default", &sa).ok());
  REQUIRE(c->Delete(kServiceAccounts, "team", "default").ok());
  Json again;
  REQUIRE(Eventually([&] { return c->Get(kServiceAccounts, "team", "default", &again).ok() && Uid(again) != Uid(sa); }));
  REQUIRE(c->Delete(kConfigMaps, "team", "kube-root-ca.crt").ok());
  Json cm;
  REQUIRE(Eventually([&] { return c->Get(kConfigMaps, "team", "kube-root-ca.crt", &cm).ok(); }));
  // Changed: put back.
  REQUIRE(c->Patch(kConfigMaps, "team", "kube-root-ca.crt", client::PatchType::kMerge,
                   R"({"data":{"ca.crt":"forged","extra":"x"},"metadata":{"annotations":null}})")
              .ok());
  REQUIRE(Eventually([&] {
    return c->Get(kConfigMaps, "team", "kube-root-ca.crt", &cm).ok() &&
           cm["data"] == Json({{"ca.crt", cluster.pki.ca.cert_pem}}) && cm["metadata"].contains("annotations");
  }));
  manager.Stop();
}

TEST_CASE("client controllers: the namespace deleter, pass by pass") {
  test::TestCluster cluster;
  auto c = cluster.InProcess();
  CreateWidgetCrd(*c);
  REQUIRE(c->Create(kNamespaces, "", Namespace("doomed")).ok());
  REQUIRE(c->Create(kNamespaces, "", Namespace("bystander")).ok());
  REQUIRE(c->Create(kConfigMaps, "doomed", {{"metadata", {{"name", "plain"}}}}).ok());
  REQUIRE(c->Create(kConfigMaps, "doomed", {{"metadata", {{"name", "held"}, {"finalizers", {"example.com/hold"}}}}}).ok());
  REQUIRE(c->Create(kSecrets, "doomed", {{"metadata", {{"name", "s"}}}, {"stringData", {{"k", "v"}}}}).ok());
  REQUIRE(c->Create(kConfigMaps, "bystander", {{"metadata", {{"name", "safe"}}}}).ok());
  REQUIRE(Eventually([&] { return c->Create(kWidgets, "doomed", Widget("w1")).ok(); }));

  NamespaceDeleter deleter(c.get());
  int64_t remaining = -1;
  // Not being deleted: nothing happens.
  REQUIRE(deleter.Delete("doomed", &remaining).ok());
  CHECK(remaining == 0);
  Json list;
  REQUIRE(c->List(kConfigMaps, "doomed", {}, &list).ok());
  CHECK(list["items"].size() == 2);

  Json ns;
  REQUIRE(c->Delete(kNamespaces, "", "doomed", {}, &ns).ok());
  CHECK(ns["status"]["phase"] == "Terminating");
  // First pass: everything goes but what a finalizer holds.
  REQUIRE(deleter.Delete("doomed", &remaining).ok());
  CHECK(remaining == 15);
  REQUIRE(c->List(kConfigMaps, "doomed", {}, &list).ok());
  REQUIRE(list["items"].size() == 1);
  CHECK(list["items"][0]["metadata"]["name"] == "held");
  REQUIRE(c->List(kSecrets, "doomed", {}, &list).ok());
  CHECK(list["items"].empty());
  REQUIRE(c->List(kWidgets, "doomed", {}, &list).ok());
  CHECK(list["items"].empty());
  REQUIRE(c->List(kConfigMaps, "bystander", {}, &list).ok());
  CHECK(list["items"].size() == 1);
  Status got = c->Get(kNamespaces, "", "doomed", &ns);
  REQUIRE_MESSAGE(got.ok(), got.ToString());
  CHECK(ConditionOf(ns, "NamespaceContentRemaining") ==
        "True SomeResourcesRemain: Some resources are remaining: configmaps. has 1 resource instances");
  CHECK(ConditionOf(ns, "NamespaceFinalizersRemaining") ==
        "True SomeFinalizersRemain: Some content in the namespace has finalizers remaining: example.com/hold in 1 "
        "resource instances");
  CHECK(ConditionOf(ns, "NamespaceDeletionDiscoveryFailure") ==
        "False ResourcesDiscovered: All resources successfully discovered");
  CHECK(ConditionOf(ns, "NamespaceDeletionContentFailure") ==
        "False ContentDeleted: All content successfully deleted, may be waiting on finalization");
  CHECK(ConditionOf(ns, "NamespaceDeletionGroupVersionParsingFailure") ==
        "False ParsedGroupVersions: All legacy kube types successfully parsed");
  CHECK(ns["spec"]["finalizers"] == Json({"kubernetes"}));
  // Nothing new gets in meanwhile (the API server's rule).
  Status refused = c->Create(kConfigMaps, "doomed", {{"metadata", {{"name", "late"}}}});
  CHECK(refused.IsForbidden());

  // The finalizer's owner lets go; the next pass finishes.
  REQUIRE(c->Patch(kConfigMaps, "doomed", "held", client::PatchType::kMerge, R"({"metadata":{"finalizers":null}})")
              .ok());
  REQUIRE(deleter.Delete("doomed", &remaining).ok());
  CHECK(remaining == 0);
  CHECK(c->Get(kNamespaces, "", "doomed", &ns).IsNotFound());
  CHECK(c->Get(kNamespaces, "", "bystander", &ns).ok());
  // Gone already: a pass is a no-op.
  CHECK(deleter.Delete("doomed", &remaining).ok());
}

TEST_CASE("client controllers: kubectl delete namespace completes") {
  test::TestCluster cluster;
  auto c = cluster.InProcess("system:kube-controller-manager", {"system:masters"});
  ControllerManagerOptions o;
  o.ca_pem = cluster.pki.ca.cert_pem;
  o.log = TestLog();
  ControllerManager manager(c.get(), o);
  manager.Start();
  CreateWidgetCrd(*c);
  REQUIRE(c->Create(kNamespaces, "", Namespace("x")).ok());
  REQUIRE(c->Create(kConfigMaps, "x", {{"metadata", {{"name", "a"}}}}).ok());
  REQUIRE(Eventually([&] { return c->Create(kWidgets, "x", Widget("w")).ok(); }));
  Json sa;
  REQUIRE(Eventually([&] { return c->Get(kServiceAccounts, "x", "default", &sa).ok(); }));

  REQUIRE(c->Delete(kNamespaces, "", "x").ok());
  Json ns;
  REQUIRE(Eventually([&] { return c->Get(kNamespaces, "", "x", &ns).IsNotFound(); }));
  Json list;
  REQUIRE(c->List(kWidgets, "x", {}, &list).ok());
  CHECK(list["items"].empty());
  REQUIRE(c->List(kServiceAccounts, "x", {}, &list).ok());
  CHECK(list["items"].empty());  // not made again while it went away
  manager.Stop();
}

TEST_CASE("client controllers: discovery of preferred resources") {
  test::TestCluster cluster;
  auto c = cluster.InProcess();
  std::vector<client::ApiResource> types;
  std::map<std::string, std::string> failed;
  REQUIRE(client::ServerPreferredResources(*c, &types, &failed).ok());
  CHECK(failed.empty());
  bool pods = false, deployments = false, namespaces = false;
  for (const auto& t : types) {
    CHECK(t.resource.resource.find('/') == std::string::npos);
    if (t.resource.resource == "pods" && t.resource.group.empty()) pods = t.namespaced && t.Supports("deletecollection");
    if (t.resource.resource == "deployments") deployments = t.resource.group == "apps" && t.resource.version == "v1";
    if (t.resource.resource == "namespaces") namespaces = !t.namespaced;
  }
  CHECK(pods);
  CHECK(deployments);
  CHECK(namespaces);
}

}  // namespace kubit::controllers

// core/client against the real API server, over the in-process transport
// and over HTTPS with the admin kubeconfig: the same calls, the same
// answers.
#include <doctest/doctest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "core/client/client.h"
#include "test/unit/client_test_cluster.h"

namespace kubit::client {
namespace {

const Resource kConfigMaps{"", "v1", "configmaps"};
const Resource kServiceAccounts{"", "v1", "serviceaccounts"};
const Resource kNamespaces{"", "v1", "namespaces"};

Json ConfigMap(const std::string& name, const Json& data, const Json& labels = Json::object()) {
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", {{"name", name}, {"labels", labels}}},
          {"data", data}};
}

// Every call of a client, against a cluster whose "default" namespace it
// works in.
void Exercise(Client& c, const std::string& prefix) {
  const std::string ns = "default";
  const std::string name = prefix + "-cm";
  Json created;
  Status s = c.Create(kConfigMaps, ns, ConfigMap(name, {{"a", "1"}}), &created);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  CHECK(created["metadata"]["namespace"] == ns);
  CHECK_FALSE(created["metadata"].value("uid", "").empty());

  s = c.Create(kConfigMaps, ns, ConfigMap(name, {{"a", "1"}}));
  CHECK(s.IsAlreadyExists());
  CHECK_FALSE(s.IsConflict());
  CHECK(s.code() == 409);
  CHECK(s.message() == "configmaps \"" + name + "\" already exists");

  Json got;
  REQUIRE(c.Get(kConfigMaps, ns, name, &got).ok());
  CHECK(got["data"]["a"] == "1");
  s = c.Get(kConfigMaps, ns, "nope", &got);
  CHECK(s.IsNotFound());
  CHECK(s.code() == 404);
  CHECK(s.ToString() == "NotFound (404): configmaps \"nope\" not found");

  // Update; then an update carrying the old resourceVersion is a conflict.
  Json update = created;
  update["data"]["a"] = "2";
  Json updated;
  REQUIRE(c.Update(kConfigMaps, ns, update, &updated).ok());
  CHECK(updated["data"]["a"] == "2");
  update["data"]["a"] = "3";
  s = c.Update(kConfigMaps, ns, update);
  CHECK(s.IsConflict());
  CHECK_FALSE(s.IsAlreadyExists());

  Json patched;
  REQUIRE(c.Patch(kConfigMaps, ns, name, PatchType::kMerge, R"({"data":{"b":"x"}})", &patched).ok());
  CHECK(patched["data"] == Json({{"a", "2"}, {"b", "x"}}));
  REQUIRE(c.Patch(kConfigMaps, ns, name, PatchType::kStrategicMerge, R"({"data":{"c":"y"}})", &patched).ok());
  CHECK(patched["data"].size() == 3);
  REQUIRE(c.Patch(kConfigMaps, ns, name, PatchType::kJson, R"([{"op":"remove","path":"/data/c"}])", &patched)
              .ok());
  CHECK(patched["data"].size() == 2);
  PatchOptions apply;
  apply.field_manager = "tester";
  apply.force = true;
  std::string applied_cm = R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":")" + name +
                           R"("},"data":{"z":"applied"}})";
  REQUIRE(c.Patch(kConfigMaps, ns, name, PatchType::kApply, applied_cm, &patched, apply).ok());
  CHECK(patched["data"]["z"] == "applied");
  CHECK(c.Patch(kConfigMaps, ns, name, PatchType::kApply, applied_cm).IsBadRequest());
  CHECK(c.Patch(kConfigMaps, ns, name, PatchType::kMerge, "not json").IsBadRequest());

  // Lists: selectors, and paging done for the caller.
  for (int i = 0; i < 5; i++) {
    s = c.Create(kConfigMaps, ns, ConfigMap(prefix + "-page-" + std::to_string(i), {}, {{"set", prefix}}));
    REQUIRE_MESSAGE(s.ok(), s.ToString());
  }
  ListOptions lo;
  lo.label_selector = "set=" + prefix;
  lo.page_size = 2;
  Json list;
  REQUIRE(c.List(kConfigMaps, ns, lo, &list).ok());
  CHECK(list["kind"] == "ConfigMapList");
  CHECK(list["items"].size() == 5);
  CHECK_FALSE(list["metadata"].contains("continue"));
  CHECK_FALSE(list["metadata"].value("resourceVersion", "").empty());
  lo.field_selector = "metadata.name=" + prefix + "-page-3";
  REQUIRE(c.List(kConfigMaps, "", lo, &list).ok());
  REQUIRE(list["items"].size() == 1);
  CHECK(list["items"][0]["metadata"]["name"] == prefix + "-page-3");
  lo.label_selector = "set in (";
  CHECK(c.List(kConfigMaps, ns, lo, &list).IsBadRequest());

  // Delete with preconditions, then for real.
  DeleteOptions pre;
  pre.precondition_uid = "not-the-uid";
  s = c.Delete(kConfigMaps, ns, name, pre);
  CHECK(s.IsConflict());
  pre.precondition_uid = created["metadata"]["uid"];
  pre.propagation_policy = "Background";
  pre.grace_period_seconds = 0;
  REQUIRE(c.Delete(kConfigMaps, ns, name, pre).ok());
  CHECK(c.Get(kConfigMaps, ns, name, &got).IsNotFound());
  CHECK(c.Delete(kConfigMaps, ns, name).IsNotFound());
  ListOptions sel;
  sel.label_selector = "set=" + prefix;
  REQUIRE(c.DeleteCollection(kConfigMaps, ns, sel).ok());
  REQUIRE(c.List(kConfigMaps, ns, sel, &list).ok());
  CHECK(list["items"].empty());

  // Subresources: a token for a ServiceAccount, a namespace's status.
  Json sa = {{"metadata", {{"name", prefix + "-sa"}}}};
  REQUIRE(c.Create(kServiceAccounts, ns, sa).ok());
  Json token;
  s = c.CreateSubresource(kServiceAccounts, ns, prefix + "-sa", "token",
                          {{"apiVersion", "authentication.k8s.io/v1"}, {"kind", "TokenRequest"}, {"spec", Json::object()}},
                          &token);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  CHECK_FALSE(token["status"].value("token", "").empty());
  Json nsobj;
  REQUIRE(c.GetSubresource(kNamespaces, "", ns, "status", &nsobj).ok());
  CHECK(nsobj["status"]["phase"] == "Active");
  REQUIRE(c.UpdateStatus(kNamespaces, "", nsobj).ok());

  Json version;
  REQUIRE(c.Raw("GET", "/version", "", "", &version).ok());
  CHECK(version.contains("gitVersion"));
}

}  // namespace

TEST_CASE("client: CRUD, lists, patches, deletes and subresources in-process and over HTTPS") {
  test::TestCluster cluster;
  SUBCASE("in-process") { Exercise(*cluster.InProcess(), "inproc"); }
  SUBCASE("https") { Exercise(*cluster.Https(), "https"); }
}

TEST_CASE("client: the in-process identity is authorized like any other") {
  test::TestCluster cluster;
  auto bob = cluster.InProcess("bob", {"developers"});
  Json out;
  Status s = bob->List(kConfigMaps, "default", {}, &out);
  CHECK(s.IsForbidden());
  CHECK(s.message() ==
        "configmaps is forbidden: User \"bob\" cannot list resource \"configmaps\" in API group \"\" in the "
        "namespace \"default\"");
  auto admin = cluster.InProcess();
  CHECK(admin->List(kConfigMaps, "default", {}, &out).ok());
  // A dialer's errors reach the caller as transport errors.
  Config broken = InProcessConfig([](std::string* e) {
    *e = "no server here";
    return -1;
  });
  Client c(broken);
  s = c.Get(kConfigMaps, "default", "x", &out);
  CHECK(s.IsTransport());
  CHECK(s.message() == "GET http://kubit-apiserver/api/v1/namespaces/default/configmaps/x: no server here");
}

TEST_CASE("client: watch") {
  test::TestCluster cluster;
  auto c = cluster.InProcess();
  Json list;
  REQUIRE(c->List(kConfigMaps, "default", {}, &list).ok());
  ListOptions lo;
  lo.resource_version = list["metadata"]["resourceVersion"];
  lo.allow_watch_bookmarks = true;
  lo.label_selector = "watched=yes";
  std::unique_ptr<WatchStream> w;
  REQUIRE(c->Watch(kConfigMaps, "default", lo, &w).ok());
  REQUIRE(c->Create(kConfigMaps, "default", ConfigMap("ignored", {})).ok());
  Json made;
  REQUIRE(c->Create(kConfigMaps, "default", ConfigMap("w", {{"k", "1"}}, {{"watched", "yes"}}), &made).ok());
  REQUIRE(c->Patch(kConfigMaps, "default", "w", PatchType::kMerge, R"({"data":{"k":"2"}})").ok());
  REQUIRE(c->Delete(kConfigMaps, "default", "w").ok());
  WatchEvent ev;
  REQUIRE(w->Next(&ev));
  CHECK(ev.type == "ADDED");
  CHECK((*ev.object)["metadata"]["name"] == "w");
  CHECK((*ev.object)["metadata"]["resourceVersion"] == made["metadata"]["resourceVersion"]);
  REQUIRE(w->Next(&ev));
  CHECK(ev.type == "MODIFIED");
  CHECK((*ev.object)["data"]["k"] == "2");
  REQUIRE(w->Next(&ev));
  CHECK(ev.type == "DELETED");
  // Stop from another thread ends a blocked Next.
  std::thread stopper([&] { w->Stop(); });
  CHECK_FALSE(w->Next(&ev));
  stopper.join();
  CHECK(w->status().ok());

  // Over HTTPS: a watch the server ends on its timeout ends cleanly.
  auto https = cluster.Https();
  ListOptions short_watch;
  short_watch.resource_version = made["metadata"]["resourceVersion"];
  short_watch.timeout_seconds = 1;
  REQUIRE(https->Watch(kConfigMaps, "default", short_watch, &w).ok());
  int n = 0;
  while (w->Next(&ev)) n++;
  CHECK(n == 2);  // the MODIFIED and DELETED after the version asked for
  CHECK(w->status().ok());

  // A compacted resource version: 410 as the first event.
  REQUIRE(cluster.state->Compact(cluster.state->CurrentRevision()).ok());
  ListOptions old;
  old.resource_version = "1";
  REQUIRE(c->Watch(kConfigMaps, "default", old, &w).ok());
  REQUIRE(w->Next(&ev));
  CHECK(ev.type == "ERROR");
  Status gone = Status::FromStatusObject(*ev.object);
  CHECK(gone.IsGone());
  CHECK(gone.code() == 410);

  // Refused outright: the error comes back from Watch.
  auto bob = cluster.InProcess("bob", {});
  Status s = bob->Watch(kConfigMaps, "default", {}, &w);
  CHECK(s.IsForbidden());
}

TEST_CASE("client: pods/binding and pods/eviction") {
  test::TestCluster cluster;
  auto c = cluster.InProcess();
  const Resource pods{"", "v1", "pods"};
  Json pod = {{"apiVersion", "v1"},
              {"kind", "Pod"},
              {"metadata", {{"name", "p"}}},
              {"spec", {{"containers", {{{"name", "c"}, {"image", "busybox"}}}}}}};
  REQUIRE(c->Create(pods, "default", pod).ok());
  Json binding = {{"apiVersion", "v1"},
                  {"kind", "Binding"},
                  {"metadata", {{"name", "p"}}},
                  {"target", {{"apiVersion", "v1"}, {"kind", "Node"}, {"name", "board-1"}}}};
  Status s = c->CreateSubresource(pods, "default", "p", "binding", binding);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  Json got;
  REQUIRE(c->Get(pods, "default", "p", &got).ok());
  CHECK(got["spec"]["nodeName"] == "board-1");
  // A pod is bound once.
  CHECK(c->CreateSubresource(pods, "default", "p", "binding", binding).IsConflict());
  Json eviction = {{"apiVersion", "policy/v1"},
                   {"kind", "Eviction"},
                   {"metadata", {{"name", "p"}, {"namespace", "default"}}}};
  s = c->CreateSubresource(pods, "default", "p", "eviction", eviction);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  REQUIRE(c->Get(pods, "default", "p", &got).ok());
  CHECK(got["metadata"].contains("deletionTimestamp"));  // bound: graceful, its kubelet finishes it
}

TEST_CASE("client: kubeconfig files") {
  test::TempDir dir("kubit-kubeconfig");
  auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream(dir.File(name)) << text;
    return dir.File(name);
  };
  write("ca.crt", "CA PEM");
  write("token", "secret-token\n");
  std::string path = write("config", R"(apiVersion: v1
kind: Config
clusters:
- name: edge
  cluster:
    server: https://10.0.0.1:6443/
    certificate-authority: ca.crt
    tls-server-name: kubernetes
- name: other
  cluster:
    server: http://other
    insecure-skip-tls-verify: true
users:
- name: kubelet
  user:
    client-certificate-data: Q0VSVA==
    client-key-data: S0VZ
- name: sa
  user:
    tokenFile: token
contexts:
- name: node
  context: {cluster: edge, user: kubelet, namespace: kube-system}
- name: bot
  context: {cluster: other, user: sa}
- name: broken
  context: {cluster: nowhere, user: sa}
current-context: node
)");
  Config cfg;
  std::string error;
  REQUIRE_MESSAGE(LoadKubeconfig(path, "", &cfg, &error), error);
  CHECK(cfg.server == "https://10.0.0.1:6443");
  CHECK(cfg.tls.ca_pem == "CA PEM");
  CHECK(cfg.tls.server_name == "kubernetes");
  CHECK(cfg.tls.cert_pem == "CERT");
  CHECK(cfg.tls.key_pem == "KEY");
  CHECK(cfg.ns == "kube-system");
  CHECK(cfg.bearer_token.empty());

  REQUIRE_MESSAGE(LoadKubeconfig(path, "bot", &cfg, &error), error);
  CHECK(cfg.server == "http://other");
  CHECK(cfg.tls.insecure_skip_verify);
  CHECK(cfg.bearer_token == "secret-token");
  CHECK(cfg.ns == "default");

  CHECK_FALSE(LoadKubeconfig(path, "broken", &cfg, &error));
  CHECK(error == "kubeconfig " + path + ": no cluster \"nowhere\"");
  CHECK_FALSE(LoadKubeconfig(path, "missing", &cfg, &error));
  CHECK(error == "kubeconfig " + path + ": no context \"missing\"");
  CHECK_FALSE(LoadKubeconfig(dir.File("absent"), "", &cfg, &error));
  CHECK(error == "cannot read kubeconfig " + dir.File("absent"));
  std::string bad = write("bad", "clusters: [{name: a, cluster: {server: x, certificate-authority-data: '%%%'}}]\n"
                                 "contexts: [{name: c, context: {cluster: a}}]\ncurrent-context: c\n");
  CHECK_FALSE(LoadKubeconfig(bad, "", &cfg, &error));
  CHECK(error == "kubeconfig " + bad + ": bad server URL \"x\"");
}

TEST_CASE("client: Status decoding") {
  Status s = Status::FromResponse(
      404, R"({"kind":"Status","apiVersion":"v1","status":"Failure","message":"pods \"x\" not found","reason":"NotFound","code":404})");
  CHECK(s.IsNotFound());
  CHECK(s.message() == "pods \"x\" not found");
  s = Status::FromResponse(429, R"({"kind":"Status","reason":"TooManyRequests","message":"slow down","code":429,"details":{"retryAfterSeconds":3}})");
  CHECK(s.IsTooManyRequests());
  CHECK(s.retry_after_seconds() == 3);
  // No Status body: the code decides, the text is the message.
  s = Status::FromResponse(409, "conflict!\n");
  CHECK(s.IsConflict());
  CHECK(s.message() == "conflict!");
  s = Status::FromResponse(503, "");
  CHECK(s.message() == "the server responded with 503 Service Unavailable");
  CHECK_FALSE(s.IsNotFound());
  CHECK(Status().ok());
  CHECK_FALSE(Status().IsNotFound());
  CHECK(ResourcePath({"apps", "v1", "deployments"}, "web", "front", "scale") ==
        "/apis/apps/v1/namespaces/web/deployments/front/scale");
  CHECK(ResourcePath({"", "v1", "namespaces"}, "", "x", "finalize") == "/api/v1/namespaces/x/finalize");
  CHECK(QueryEscape("a=b,c in (d)") == "a%3Db%2Cc%20in%20%28d%29");
}

}  // namespace kubit::client

// metrics.k8s.io/v1beta1 served by the API server from scrapes of the
// kubelets' text (given here instead of read through tunnels), and the HPA
// controller's client of it.
#include <doctest/doctest.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/apiserver/api_server.h"
#include "core/apiserver/cluster_pki.h"
#include "core/client/client.h"
#include "core/controllers/hpa_metrics_client.h"
#include "runtime/kubelet/resource_metrics.h"
#include "store/store.h"
#include "test/unit/temp_dir.h"

namespace kubit::apiserver {
namespace {

using client::Json;
using client::Resource;

const Resource kNodes{"", "v1", "nodes"};
const Resource kPods{"", "v1", "pods"};
const Resource kNamespaces{"", "v1", "namespaces"};
const Resource kNodeMetrics{"metrics.k8s.io", "v1beta1", "nodes"};
const Resource kPodMetrics{"metrics.k8s.io", "v1beta1", "pods"};

bool Eventually(const std::function<bool()>& done) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return done();
}

// The k-th read of node n1's kubelet: one second after the one before,
// with "burn" using 7/8 of a core, "idle" 1/512, the node half a core
// (binary fractions, so that the rates come out exact).
std::string KubeletText(int k) {
  const int64_t ts = 1700000000000 + int64_t{k} * 1000;
  kubelet::ResourceUsage u;
  u.node = {true, 100 + k * 0.5, uint64_t{800} << 20, ts};
  u.containers.push_back({"default", "burn", "app", k * 0.875, 4 << 20, 1, ts});
  u.containers.push_back({"default", "idle", "c", 1 + k / 512.0, 1 << 20, 1, ts});
  u.containers.push_back({"other", "x", "c", 2 + k / 128.0, 3000, 1, ts});
  return kubelet::RenderResourceMetrics(u);
}

// An API server whose metrics come from KubeletText.
struct MetricsCluster {
  explicit MetricsCluster(bool enabled = true) {
    signal(SIGPIPE, SIG_IGN);
    store::Options so;
    so.path = dir.File("state.db");
    so.key_namespace = "/registry/";
    REQUIRE(store::Store::Open(so, &state).ok());
    PKIOptions po;
    po.data_dir = dir.path();
    std::string error;
    REQUIRE_MESSAGE(EnsureClusterPKI(po, &pki, &error), error);
    ApiServerOptions ao;
    ao.bind_address = "127.0.0.1";
    ao.port = 0;
    ao.metrics.enabled = enabled;
    ao.metrics.resolution = std::chrono::milliseconds(20);
    ao.metrics.scrape = [this](const std::string& node, std::string* text, std::string* error) {
      if (node != "n1") return *error = "no kubelet", false;
      *text = KubeletText(++reads);
      return true;
    };
    api = std::make_unique<ApiServer>(ao, state.get(), &pki);
    REQUIRE_MESSAGE(api->Start(&error), error);
    c = std::make_unique<client::Client>(client::InProcessConfig(api->InProcessDialer("admin", {"system:masters"})));
  }
  ~MetricsCluster() {
    api->Stop();
    state->Close();
  }

  void ReadyNode(const std::string& name) {
    Json n = {{"apiVersion", "v1"}, {"kind", "Node"}, {"metadata", {{"name", name}, {"labels", {{"zone", "a"}}}}}};
    Json created;
    REQUIRE(c->Create(kNodes, "", n, &created).ok());
    created["status"]["conditions"] = {{{"type", "Ready"}, {"status", "True"}}};
    REQUIRE(c->UpdateStatus(kNodes, "", created).ok());
  }
  void MakePod(const std::string& ns, const std::string& name, const std::string& app) {
    Json p = {{"apiVersion", "v1"}, {"kind", "Pod"}, {"metadata", {{"name", name}, {"labels", {{"app", app}}}}}};
    p["spec"]["schedulerName"] = "none";
    p["spec"]["containers"] = {{{"name", name == "x" || name == "idle" ? "c" : "app"}, {"image", "busybox"}}};
    REQUIRE(c->Create(kPods, ns, p).ok());
  }

  test::TempDir dir{"kubit-metrics"};
  std::unique_ptr<store::Store> state;
  ClusterPKI pki;
  std::unique_ptr<ApiServer> api;
  std::unique_ptr<client::Client> c;
  std::atomic<int> reads{0};
};

std::vector<std::string> Names(const Json& list) {
  std::vector<std::string> out;
  for (const Json& i : list["items"]) out.push_back(i["metadata"].value("namespace", "") + "/" + i["metadata"]["name"].get<std::string>());
  return out;
}

}  // namespace

TEST_CASE("metrics api: NodeMetrics and PodMetrics from the kubelets' usage") {
  MetricsCluster cluster;
  auto& c = *cluster.c;
  REQUIRE(c.Create(kNamespaces, "", {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", "other"}}}}).ok());
  cluster.ReadyNode("n1");
  cluster.ReadyNode("n2");  // its kubelet does not answer: no metrics for it
  cluster.MakePod("default", "burn", "burn");
  cluster.MakePod("default", "idle", "idle");
  cluster.MakePod("default", "nometrics", "idle");
  cluster.MakePod("other", "x", "burn");

  Json list;
  REQUIRE(Eventually([&] { return c.List(kNodeMetrics, "", {}, &list).ok() && list["items"].size() == 1; }));
  CHECK(list["kind"] == "NodeMetricsList");
  CHECK(list["apiVersion"] == "metrics.k8s.io/v1beta1");
  const Json node = list["items"][0];
  CHECK(node["metadata"]["name"] == "n1");
  CHECK(node["metadata"]["labels"]["zone"] == "a");
  CHECK(node["usage"] == Json({{"cpu", "500m"}, {"memory", "800Mi"}}));
  CHECK(node["window"] == "1s");
  const std::string ts = node["timestamp"];
  CHECK(ts.size() == 20);  // 2023-11-14T22:13:..Z
  CHECK(ts.rfind("2023-11-14T22:1", 0) == 0);

  Json one;
  REQUIRE(c.Get(kNodeMetrics, "", "n1", &one).ok());
  CHECK(one["kind"] == "NodeMetrics");
  client::Status s = c.Get(kNodeMetrics, "", "n2", &one);
  CHECK(s.code() == 404);
  CHECK(s.message() == "nodemetrics.metrics.k8s.io \"n2\" not found");
  s = c.Get(kNodeMetrics, "", "n3", &one);
  CHECK(s.code() == 404);
  CHECK(s.message() == "nodes \"n3\" not found");

  REQUIRE(Eventually([&] { return c.List(kPodMetrics, "", {}, &list).ok() && list["items"].size() == 3; }));
  CHECK(list["kind"] == "PodMetricsList");
  CHECK(Names(list) == std::vector<std::string>{"default/burn", "default/idle", "other/x"});

  REQUIRE(c.Get(kPodMetrics, "default", "burn", &one).ok());
  CHECK(one["kind"] == "PodMetrics");
  CHECK(one["metadata"]["namespace"] == "default");
  CHECK(one["metadata"]["labels"]["app"] == "burn");
  CHECK(one["window"] == "1s");
  CHECK(one["containers"] ==
        Json::parse(R"([{"name":"app","usage":{"cpu":"875m","memory":"4Mi"}}])"));
  REQUIRE(c.Get(kPodMetrics, "default", "idle", &one).ok());
  CHECK(one["containers"][0]["usage"]["cpu"] == "1953125n");
  REQUIRE(c.Get(kPodMetrics, "other", "x", &one).ok());
  CHECK(one["containers"][0]["usage"] == Json({{"cpu", "7812500n"}, {"memory", "3000"}}));

  s = c.Get(kPodMetrics, "default", "nometrics", &one);
  CHECK(s.code() == 404);
  CHECK(s.message() == "podmetrics.metrics.k8s.io \"default/nometrics\" not found");
  s = c.Get(kPodMetrics, "default", "nope", &one);
  CHECK(s.code() == 404);

  SUBCASE("selectors") {
    client::ListOptions o;
    o.label_selector = "app=burn";
    REQUIRE(c.List(kPodMetrics, "", o, &list).ok());
    CHECK(Names(list) == std::vector<std::string>{"default/burn", "other/x"});
    REQUIRE(c.List(kPodMetrics, "default", o, &list).ok());
    CHECK(Names(list) == std::vector<std::string>{"default/burn"});
    o.label_selector = "";
    o.field_selector = "metadata.name=idle";
    REQUIRE(c.List(kPodMetrics, "", o, &list).ok());
    CHECK(Names(list) == std::vector<std::string>{"default/idle"});
    o.field_selector = "metadata.namespace!=default";
    REQUIRE(c.List(kPodMetrics, "", o, &list).ok());
    CHECK(Names(list) == std::vector<std::string>{"other/x"});
    o.field_selector = "";
    o.label_selector = "zone=b";
    REQUIRE(c.List(kNodeMetrics, "", o, &list).ok());
    CHECK(list["items"].empty());
    o.label_selector = "app in (";
    s = c.List(kPodMetrics, "", o, &list);
    CHECK(s.code() == 400);
  }
  SUBCASE("discovery") {
    Json doc;
    REQUIRE(c.Raw("GET", "/apis", "", "", &doc).ok());
    bool listed = false;
    for (const Json& g : doc["groups"])
      if (g["name"] == "metrics.k8s.io") listed = g["preferredVersion"]["groupVersion"] == "metrics.k8s.io/v1beta1";
    CHECK(listed);
    REQUIRE(c.Raw("GET", "/apis/metrics.k8s.io/v1beta1", "", "", &doc).ok());
    CHECK(doc["kind"] == "APIResourceList");
    REQUIRE(doc["resources"].size() == 2);
    CHECK(doc["resources"][0]["name"] == "nodes");
    CHECK(doc["resources"][0]["namespaced"] == false);
    CHECK(doc["resources"][1]["kind"] == "PodMetrics");
    CHECK(doc["resources"][1]["verbs"] == Json({"get", "list"}));
  }
  SUBCASE("the HPA controller's client sums each pod's containers") {
    controllers::ResourceMetricsClient metrics(&c);
    std::map<std::string, int64_t> milli;
    REQUIRE(metrics.ResourceUsage("default", "app in (burn,idle)", "cpu", &milli).ok());
    CHECK(milli == std::map<std::string, int64_t>{{"burn", 875}, {"idle", 2}});
    milli.clear();
    REQUIRE(metrics.ResourceUsage("default", "app=burn", "memory", &milli).ok());
    CHECK(milli == std::map<std::string, int64_t>{{"burn", int64_t{4 << 20} * 1000}});
  }
  SUBCASE("RBAC: view reads PodMetrics, as upstream's aggregated-metrics-reader") {
    const Resource roles{"rbac.authorization.k8s.io", "v1", "clusterroles"};
    const Resource bindings{"rbac.authorization.k8s.io", "v1", "rolebindings"};
    Json role;
    REQUIRE(c.Get(roles, "", "system:aggregated-metrics-reader", &role).ok());
    CHECK(role["metadata"]["labels"]["rbac.authorization.k8s.io/aggregate-to-view"] == "true");
    CHECK(role["rules"][0]["apiGroups"] == Json({"metrics.k8s.io"}));
    Json b = {{"apiVersion", "rbac.authorization.k8s.io/v1"}, {"kind", "RoleBinding"},
              {"metadata", {{"name", "viewers"}}},
              {"roleRef", {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "ClusterRole"}, {"name", "view"}}},
              {"subjects", {{{"kind", "User"}, {"apiGroup", "rbac.authorization.k8s.io"}, {"name", "bob"}}}}};
    REQUIRE(c.Create(bindings, "default", b).ok());
    auto as = [&](const std::string& user) {
      return std::make_unique<client::Client>(
          client::InProcessConfig(cluster.api->InProcessDialer(user, {"system:authenticated"})));
    };
    auto bob = as("bob"), carol = as("carol");
    REQUIRE(Eventually([&] { return bob->List(kPodMetrics, "default", {}, &list).ok(); }));
    CHECK(Names(list) == std::vector<std::string>{"default/burn", "default/idle"});
    CHECK(bob->List(kNodeMetrics, "", {}, &list).code() == 403);
    CHECK(bob->List(kPodMetrics, "other", {}, &list).code() == 403);
    CHECK(carol->List(kPodMetrics, "default", {}, &list).code() == 403);
  }
  SUBCASE("writes are refused") {
    s = c.Create(kPodMetrics, "default", {{"apiVersion", "metrics.k8s.io/v1beta1"}, {"kind", "PodMetrics"},
                                          {"metadata", {{"name", "burn"}}}});
    CHECK(s.code() == 405);
  }
}

TEST_CASE("metrics api: disabled, the group is not served") {
  MetricsCluster cluster(false);
  auto& c = *cluster.c;
  Json doc;
  REQUIRE(c.Raw("GET", "/apis", "", "", &doc).ok());
  for (const Json& g : doc["groups"]) CHECK(g["name"] != "metrics.k8s.io");
  CHECK(c.Raw("GET", "/apis/metrics.k8s.io/v1beta1", "", "", &doc).code() == 404);
  CHECK(c.List(kNodeMetrics, "", {}, &doc).code() == 404);
  CHECK(cluster.reads == 0);
}

TEST_CASE("metrics api: the HPA client's sums from a PodMetricsList") {
  std::map<std::string, int64_t> milli;
  std::string error;
  Json list = Json::parse(R"({"items":[
    {"metadata":{"name":"a"},"containers":[{"name":"x","usage":{"cpu":"250m","memory":"1Ki"}},
                                           {"name":"y","usage":{"cpu":"1500001n","memory":"2"}}]},
    {"metadata":{"name":"b"},"containers":[{"name":"x","usage":{"memory":"1Ki"}}]},
    {"metadata":{"name":"c"},"containers":[]}]})");
  REQUIRE(controllers::PodUsageFromMetrics(list, "cpu", &milli, &error));
  CHECK(milli == std::map<std::string, int64_t>{{"a", 252}});  // 1.500001m rounds up, as resource.Quantity's MilliValue
  milli.clear();
  REQUIRE(controllers::PodUsageFromMetrics(list, "memory", &milli, &error));
  CHECK(milli == std::map<std::string, int64_t>{{"a", 1026000}, {"b", 1024000}});
  list["items"][0]["containers"][0]["usage"]["cpu"] = "lots";
  CHECK_FALSE(controllers::PodUsageFromMetrics(list, "cpu", &milli, &error));
  CHECK(error.find("pod a container x") != std::string::npos);
}

}  // namespace kubit::apiserver

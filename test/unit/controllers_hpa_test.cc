// The HorizontalPodAutoscaler: the replica formula and behavior rules on
// their own, then the controller against a real API server with a fake
// metrics source (and with none).
#include <doctest/doctest.h>

#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/client/informer.h"
#include "core/controllers/hpa_controller.h"
#include "test/unit/client_test_cluster.h"

namespace kubit::controllers {
namespace {

using client::Json;
using client::Resource;
using client::Status;

const Resource kHpas{"autoscaling", "v2", "horizontalpodautoscalers"};
const Resource kPods{"", "v1", "pods"};
const Resource kDeployments{"apps", "v1", "deployments"};

bool Eventually(const std::function<bool()>& done) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return done();
}

// Every pod uses the same amount.
struct FixedMetrics : PodMetricsSource {
  explicit FixedMetrics(client::Client* c, int64_t milli) : c(c), milli(milli) {}
  Status ResourceUsage(const std::string& ns, const std::string& selector, const std::string&,
                       std::map<std::string, int64_t>* out) override {
    Json list;
    client::ListOptions o;
    o.label_selector = selector;
    Status s = c->List(kPods, ns, o, &list);
    for (const Json& p : list["items"]) (*out)[p["metadata"]["name"]] = milli;
    return s;
  }
  client::Client* c;
  int64_t milli;
};

}  // namespace

TEST_CASE("controllers hpa: the replica formula") {
  CHECK(ReplicasForMetric(3, 3, 100, 50) == 6);
  CHECK(ReplicasForMetric(3, 3, 54, 50) == 3);  // within the 0.1 tolerance
  CHECK(ReplicasForMetric(3, 3, 44, 50) == 3);
  CHECK(ReplicasForMetric(4, 4, 20, 50) == 2);
  CHECK(ReplicasForMetric(3, 2, 75, 50) == 3);  // only the pods with metrics count
}

TEST_CASE("controllers hpa: behavior") {
  std::deque<Recommendation> recs;
  std::deque<ScaleEvent> up, down;
  // Scale up: 4 pods or 100% per 15 s, the larger.
  CHECK(NormalizeReplicas(Json(), 2, 20, 1, 100, 1000, &recs, up, down) == 6);
  CHECK(NormalizeReplicas(Json(), 10, 40, 1, 100, 1000, &recs, up, down) == 20);
  CHECK(NormalizeReplicas(Json(), 10, 40, 1, 30, 1000, &recs, up, down) == 20);
  CHECK(NormalizeReplicas(Json(), 10, 40, 1, 15, 1000, &recs, up, down) == 15);
  // Added 8 in the last 15 s: the limits count from where the period
  // started (2: at most 6), and never go below the current 10.
  up.push_back({8, 995});
  CHECK(NormalizeReplicas(Json(), 10, 40, 1, 100, 1000, &recs, up, down) == 10);
  up.clear();
  up.push_back({2, 995});
  CHECK(NormalizeReplicas(Json(), 10, 40, 1, 100, 1000, &recs, up, down) == 16);
  // Scale down waits for the 300 s window's highest recommendation.
  recs.clear();
  CHECK(NormalizeReplicas(Json(), 10, 10, 1, 100, 1000, &recs, {}, {}) == 10);
  CHECK(NormalizeReplicas(Json(), 10, 2, 1, 100, 1100, &recs, {}, {}) == 10);
  CHECK(NormalizeReplicas(Json(), 10, 2, 1, 100, 1301, &recs, {}, {}) == 2);
  // A behavior of our own: no window, at most 1 pod per minute down.
  recs.clear();
  Json b = Json::parse(R"({"scaleDown":{"stabilizationWindowSeconds":0,"policies":[{"type":"Pods","value":1,"periodSeconds":60}]}})");
  CHECK(NormalizeReplicas(b, 10, 2, 1, 100, 1000, &recs, {}, {}) == 9);
  CHECK(NormalizeReplicas(b, 9, 2, 1, 100, 1010, &recs, {}, {{1, 1000}}) == 9);
  // Never outside min/max.
  recs.clear();
  CHECK(NormalizeReplicas(b, 10, 2, 5, 100, 1000, &recs, {}, {}) == 9);
  CHECK(NormalizeReplicas(Json(), 12, 12, 1, 8, 1000, &recs, {}, {}) == 8);
}

TEST_CASE("controllers hpa: scales a Deployment by cpu utilization") {
  test::TestCluster cluster;
  auto c = cluster.InProcess("system:kube-controller-manager", {"system:masters"});
  Json d = {{"apiVersion", "apps/v1"}, {"kind", "Deployment"}, {"metadata", {{"name", "web"}}}};
  d["spec"]["replicas"] = 2;
  d["spec"]["selector"]["matchLabels"]["app"] = "web";
  d["spec"]["template"]["metadata"]["labels"]["app"] = "web";
  d["spec"]["template"]["spec"]["containers"] = {{{"name", "c"}, {"image", "busybox"}}};
  REQUIRE(c->Create(kDeployments, "default", d).ok());
  for (const char* name : {"web-a", "web-b"}) {
    Json p = {{"apiVersion", "v1"}, {"kind", "Pod"}, {"metadata", {{"name", name}, {"labels", {{"app", "web"}}}}}};
    p["spec"]["schedulerName"] = "none";
    p["spec"]["containers"] = {{{"name", "c"}, {"image", "busybox"}, {"resources", {{"requests", {{"cpu", "100m"}}}}}}};
    REQUIRE(c->Create(kPods, "default", p).ok());
  }
  auto hpa = [](const std::string& name) {
    Json h = {{"apiVersion", "autoscaling/v2"}, {"kind", "HorizontalPodAutoscaler"}, {"metadata", {{"name", name}}}};
    h["spec"]["scaleTargetRef"] = {{"apiVersion", "apps/v1"}, {"kind", "Deployment"}, {"name", "web"}};
    h["spec"]["minReplicas"] = 1;
    h["spec"]["maxReplicas"] = 10;
    h["spec"]["metrics"] = {{{"type", "Resource"},
                             {"resource", {{"name", "cpu"}, {"target", {{"type", "Utilization"}, {"averageUtilization", 50}}}}}}};
    return h;
  };

  SUBCASE("with metrics: 200% of requests against 50% scales up, within the policy") {
    FixedMetrics metrics(c.get(), 200);
    client::SharedInformerFactory informers(c.get());
    HorizontalPodAutoscalerController controller(c.get(), &informers, nullptr, &metrics);
    informers.Start();
    REQUIRE(informers.WaitForSync(std::chrono::seconds(10)));
    controller.Start();
    REQUIRE(c->Create(kHpas, "default", hpa("web")).ok());
    Json got;
    REQUIRE(Eventually([&] { return c->Get(kDeployments, "default", "web", &got).ok() && got["spec"]["replicas"] == 6; }));
    REQUIRE(Eventually([&] {
      c->Get(kHpas, "default", "web", &got);
      return got["status"].value("desiredReplicas", 0) == 6;
    }));
    CHECK(got["status"]["currentMetrics"][0]["resource"]["current"]["averageUtilization"] == 200);
    CHECK(got["status"].contains("lastScaleTime"));
    controller.Stop();
    informers.Stop();
  }
  SUBCASE("without a metrics source: ScalingActive False") {
    client::SharedInformerFactory informers(c.get());
    HorizontalPodAutoscalerController controller(c.get(), &informers, nullptr, nullptr);
    informers.Start();
    REQUIRE(informers.WaitForSync(std::chrono::seconds(10)));
    controller.Start();
    REQUIRE(c->Create(kHpas, "default", hpa("blind")).ok());
    Json got;
    REQUIRE(Eventually([&] {
      c->Get(kHpas, "default", "blind", &got);
      for (const Json& cond : got["status"].value("conditions", Json::array()))
        if (cond["type"] == "ScalingActive") return cond["reason"] == "FailedGetResourceMetric";
      return false;
    }));
    REQUIRE(c->Get(kDeployments, "default", "web", &got).ok());
    CHECK(got["spec"]["replicas"] == 2);
    controller.Stop();
    informers.Stop();
  }
}

}  // namespace kubit::controllers

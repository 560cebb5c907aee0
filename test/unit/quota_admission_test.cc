// ResourceQuota and LimitRange admission against a real API server, with
// the resource quota controller keeping status.used: upstream's Forbidden
// messages, concurrent creates never both taking the last slot, a
// deletion giving its slot back, and LimitRange defaults on new pods.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/client/informer.h"
#include "core/controllers/resourcequota_controller.h"
#include "test/unit/client_test_cluster.h"

namespace kubit::controllers {
namespace {

using client::Json;
using client::Resource;
using client::Status;

const Resource kQuotas{"", "v1", "resourcequotas"};
const Resource kLimitRanges{"", "v1", "limitranges"};
const Resource kPods{"", "v1", "pods"};
const Resource kConfigMaps{"", "v1", "configmaps"};
const Resource kServices{"", "v1", "services"};
const Resource kClaims{"", "v1", "persistentvolumeclaims"};
const Resource kDeployments{"apps", "v1", "deployments"};

bool Eventually(const std::function<bool()>& done) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return done();
}

Json PodNamed(const std::string& name, const Json& resources = nullptr) {
  Json c = {{"name", "app"}, {"image", "busybox"}};
  if (!resources.is_null()) c["resources"] = resources;
  return {{"apiVersion", "v1"}, {"kind", "Pod"}, {"metadata", {{"name", name}}},
          {"spec", {{"schedulerName", "none"}, {"containers", {c}}}}};
}

struct Fixture {
  Fixture() {
    c = cluster.InProcess("system:kube-controller-manager", {"system:masters"});
    informers = std::make_unique<client::SharedInformerFactory>(c.get());
    controller = std::make_unique<ResourceQuotaController>(c.get(), informers.get(), nullptr);
    informers->Start();
    REQUIRE(informers->WaitForSync(std::chrono::seconds(10)));
    controller->Start();
  }
  ~Fixture() {
    controller->Stop();
    informers->Stop();
  }
  // A quota whose status the controller has filled in.
  void AddQuota(const std::string& name, const Json& hard) {
    Json q = {{"apiVersion", "v1"}, {"kind", "ResourceQuota"}, {"metadata", {{"name", name}}}, {"spec", {{"hard", hard}}}};
    Status s = c->Create(kQuotas, "default", q);
    REQUIRE_MESSAGE(s.ok(), s.ToString());
    REQUIRE(Eventually([&] { return Used(name, hard.begin().key()) != ""; }));
  }
  std::string Used(const std::string& quota, const std::string& resource) {
    Json q;
    if (!c->Get(kQuotas, "default", quota, &q).ok()) return "";
    const Json used = q.value("status", Json::object()).value("used", Json::object());
    return used.value(resource, "");
  }

  test::TestCluster cluster;
  std::unique_ptr<client::Client> c;
  std::unique_ptr<client::SharedInformerFactory> informers;
  std::unique_ptr<ResourceQuotaController> controller;
};

TEST_CASE("quota admission: a full quota refuses with upstream's message; a deletion frees the slot") {
  Fixture f;
  f.AddQuota("pods", {{"pods", "2"}});
  CHECK(f.Used("pods", "pods") == "0");
  REQUIRE(f.c->Create(kPods, "default", PodNamed("a")).ok());
  REQUIRE(f.c->Create(kPods, "default", PodNamed("b")).ok());
  CHECK(f.Used("pods", "pods") == "2");
  Status s = f.c->Create(kPods, "default", PodNamed("c"));
  CHECK(s.IsForbidden());
  CHECK(s.message() == "pods \"c\" is forbidden: exceeded quota: pods, requested: pods=1, used: pods=2, limited: pods=2");
  // A dry run is judged the same and charges nothing.
  client::WriteOptions dry;
  dry.dry_run = true;
  REQUIRE(f.c->Delete(kPods, "default", "b", {}).ok());
  REQUIRE(Eventually([&] { return f.Used("pods", "pods") == "1"; }));
  REQUIRE(f.c->Create(kPods, "default", PodNamed("c"), nullptr, dry).ok());
  CHECK(f.Used("pods", "pods") == "1");
  CHECK(f.c->Create(kPods, "default", PodNamed("c")).ok());
  CHECK(f.Used("pods", "pods") == "2");
  // A new spec.hard reaches status.hard, which admission judges by.
  Json q;
  REQUIRE(f.c->Get(kQuotas, "default", "pods", &q).ok());
  q["spec"]["hard"]["pods"] = "3";
  REQUIRE(f.c->Update(kQuotas, "default", q).ok());
  REQUIRE(Eventually([&] {
    Json now;
    return f.c->Get(kQuotas, "default", "pods", &now).ok() && now["status"]["hard"]["pods"] == "3";
  }));
  CHECK(f.c->Create(kPods, "default", PodNamed("d")).ok());
  CHECK(f.Used("pods", "pods") == "3");
}

TEST_CASE("quota admission: concurrent creates never both take the last slot") {
  Fixture f;
  f.AddQuota("cms", {{"configmaps", "3"}});
  std::atomic<int> created{0}, refused{0};
  std::vector<std::thread> writers;
  for (int i = 0; i < 8; i++)
    writers.emplace_back([&, i] {
      auto own = f.cluster.InProcess();
      Json cm = {{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", "cm" + std::to_string(i)}}}};
      Status s = own->Create(kConfigMaps, "default", cm);
      if (s.ok()) created++;
      else if (s.IsForbidden()) refused++;
    });
  for (auto& t : writers) t.join();
  CHECK(created == 3);
  CHECK(refused == 5);
  CHECK(f.Used("cms", "configmaps") == "3");
}

TEST_CASE("quota admission: compute quotas need every container to state what they limit") {
  Fixture f;
  f.AddQuota("compute", {{"limits.cpu", "1"}, {"requests.memory", "1Gi"}});
  Status s = f.c->Create(kPods, "default", PodNamed("bare"));
  CHECK(s.IsForbidden());
  CHECK(s.message() ==
        "pods \"bare\" is forbidden: failed quota: compute: must specify limits.cpu for: app; requests.memory for: app");
  Json res = {{"limits", {{"cpu", "600m"}}}, {"requests", {{"memory", "512Mi"}}}};
  REQUIRE(f.c->Create(kPods, "default", PodNamed("one", res)).ok());
  CHECK(f.Used("compute", "limits.cpu") == "600m");
  CHECK(f.Used("compute", "requests.memory") == "512Mi");
  s = f.c->Create(kPods, "default", PodNamed("two", res));
  CHECK(s.message() == "pods \"two\" is forbidden: exceeded quota: compute, requested: limits.cpu=600m, "
                       "used: limits.cpu=600m, limited: limits.cpu=1");
  // A service update that adds node ports is charged for the difference.
  f.AddQuota("ports", {{"services.nodeports", "1"}});
  Json svc = {{"apiVersion", "v1"}, {"kind", "Service"}, {"metadata", {{"name", "web"}}},
              {"spec", {{"ports", {{{"name", "a"}, {"port", 80}}, {{"name", "b"}, {"port", 81}}}}}}};
  Json live;
  s = f.c->Create(kServices, "default", svc, &live);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  live["spec"]["type"] = "NodePort";
  s = f.c->Update(kServices, "default", live);
  CHECK(s.message() == "services \"web\" is forbidden: exceeded quota: ports, requested: services.nodeports=2, "
                       "used: services.nodeports=0, limited: services.nodeports=1");
}

TEST_CASE("quota admission: LimitRange defaults new pods and refuses what exceeds its max") {
  Fixture f;
  Json lr = {{"apiVersion", "v1"}, {"kind", "LimitRange"}, {"metadata", {{"name", "limits"}}},
             {"spec", {{"limits", {{{"type", "Container"}, {"max", {{"cpu", "500m"}}},
                                    {"default", {{"cpu", "200m"}, {"memory", "64Mi"}}}}}}}}};
  REQUIRE(f.c->Create(kLimitRanges, "default", lr).ok());
  Json pod;
  REQUIRE(f.c->Create(kPods, "default", PodNamed("defaulted"), &pod).ok());
  const Json& res = pod["spec"]["containers"][0]["resources"];
  CHECK(res["limits"] == Json({{"cpu", "200m"}, {"memory", "64Mi"}}));
  // defaultRequest defaults to default on the LimitRange itself.
  CHECK(res["requests"] == Json({{"cpu", "200m"}, {"memory", "64Mi"}}));
  CHECK(pod["status"]["qosClass"] == "Guaranteed");
  CHECK(pod["metadata"]["annotations"]["kubernetes.io/limit-ranger"] ==
        "LimitRanger plugin set: cpu, memory request for container app; cpu, memory limit for container app");
  Status s = f.c->Create(kPods, "default", PodNamed("big", {{"limits", {{"cpu", "1"}}}}));
  CHECK(s.IsForbidden());
  CHECK(s.message() == "pods \"big\" is forbidden: maximum cpu usage per Container is 500m, but limit is 1");
}

TEST_CASE("quota admission: object counts of any group are charged and given back") {
  Fixture f;
  // Two services: the `kubernetes` Service of "default" and one more.
  f.AddQuota("counts", {{"count/deployments.apps", "1"}, {"services", "2"}});
  Json d = {{"apiVersion", "apps/v1"}, {"kind", "Deployment"}, {"metadata", {{"name", "web"}}}};
  d["spec"]["replicas"] = 0;
  d["spec"]["selector"]["matchLabels"]["app"] = "web";
  d["spec"]["template"]["metadata"]["labels"]["app"] = "web";
  d["spec"]["template"]["spec"]["containers"] = {{{"name", "c"}, {"image", "busybox"}}};
  REQUIRE(f.c->Create(kDeployments, "default", d).ok());
  CHECK(f.Used("counts", "count/deployments.apps") == "1");
  d["metadata"]["name"] = "api";
  Status s = f.c->Create(kDeployments, "default", d);
  CHECK(s.message() == "deployments.apps \"api\" is forbidden: exceeded quota: counts, requested: "
                       "count/deployments.apps=1, used: count/deployments.apps=1, limited: count/deployments.apps=1");
  Json svc = {{"apiVersion", "v1"}, {"kind", "Service"}, {"metadata", {{"name", "a"}}},
              {"spec", {{"ports", {{{"port", 80}}}}}}};
  s = f.c->Create(kServices, "default", svc);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  svc["metadata"]["name"] = "b";
  CHECK(f.c->Create(kServices, "default", svc).IsForbidden());
  // The controller gives back what deleted objects used.
  REQUIRE(f.c->Delete(kServices, "default", "a").ok());
  REQUIRE(f.c->Delete(kDeployments, "default", "web").ok());
  REQUIRE(Eventually([&] { return f.Used("counts", "services") == "1"; }));
  CHECK(f.c->Create(kServices, "default", svc).ok());
}

TEST_CASE("quota admission: claims against LimitRange and storage quotas") {
  Fixture f;
  Json lr = {{"apiVersion", "v1"}, {"kind", "LimitRange"}, {"metadata", {{"name", "claims"}}},
             {"spec", {{"limits", {{{"type", "PersistentVolumeClaim"}, {"max", {{"storage", "2Gi"}}}}}}}}};
  REQUIRE(f.c->Create(kLimitRanges, "default", lr).ok());
  f.AddQuota("storage", {{"requests.storage", "3Gi"}});
  auto claim = [](const std::string& name, const std::string& size) {
    return Json{{"apiVersion", "v1"}, {"kind", "PersistentVolumeClaim"}, {"metadata", {{"name", name}}},
                {"spec", {{"accessModes", {"ReadWriteOnce"}}, {"resources", {{"requests", {{"storage", size}}}}}}}};
  };
  Status s = f.c->Create(kClaims, "default", claim("huge", "5Gi"));
  CHECK(s.message() == "persistentvolumeclaims \"huge\" is forbidden: maximum storage usage per "
                       "PersistentVolumeClaim is 2Gi, but request is 5Gi");
  REQUIRE(f.c->Create(kClaims, "default", claim("data", "2Gi")).ok());
  CHECK(f.Used("storage", "requests.storage") == "2Gi");
  s = f.c->Create(kClaims, "default", claim("more", "2Gi"));
  CHECK(s.message() == "persistentvolumeclaims \"more\" is forbidden: exceeded quota: storage, requested: "
                       "requests.storage=2Gi, used: requests.storage=2Gi, limited: requests.storage=3Gi");
}

}  // namespace
}  // namespace kubit::controllers

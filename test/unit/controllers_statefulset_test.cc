// The StatefulSet controller against a real API server: ordered creation
// with claims, stable names and hostnames, a partitioned rolling update,
// ordered scale-down, and Parallel pod management.
#include <doctest/doctest.h>

#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/client/informer.h"
#include "core/controllers/statefulset_controller.h"
#include "test/unit/client_test_cluster.h"

namespace kubit::controllers {
namespace {

using client::Json;
using client::Resource;
using client::Status;

const Resource kStatefulSets{"apps", "v1", "statefulsets"};
const Resource kPods{"", "v1", "pods"};
const Resource kClaims{"", "v1", "persistentvolumeclaims"};

bool Eventually(const std::function<bool()>& done) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return done();
}

Json StatefulSet(const std::string& name, int replicas) {
  Json set = {{"apiVersion", "apps/v1"}, {"kind", "StatefulSet"}, {"metadata", {{"name", name}}}};
  Json& spec = set["spec"];
  spec["replicas"] = replicas;
  spec["serviceName"] = name;
  spec["selector"]["matchLabels"]["app"] = name;
  spec["template"]["metadata"]["labels"]["app"] = name;
  spec["template"]["spec"]["schedulerName"] = "none";
  spec["template"]["spec"]["containers"] = {{{"name", "main"}, {"image", "busybox"}}};
  return set;
}

struct Fixture {
  Fixture() {
    c = cluster.InProcess("system:kube-controller-manager", {"system:masters"});
    informers = std::make_unique<client::SharedInformerFactory>(c.get());
    controller = std::make_unique<StatefulSetController>(c.get(), informers.get(), [](LogLevel l, const std::string& m) {
      if (l >= LogLevel::kWarn) MESSAGE(m);
    });
    informers->Start();
    REQUIRE(informers->WaitForSync(std::chrono::seconds(10)));
    controller->Start();
  }
  ~Fixture() {
    controller->Stop();
    informers->Stop();
  }
  bool Exists(const std::string& pod) {
    Json p;
    return c->Get(kPods, "default", pod, &p).ok() && !p["metadata"].contains("deletionTimestamp");
  }
  Json Pod(const std::string& name) {
    Json p;
    REQUIRE(c->Get(kPods, "default", name, &p).ok());
    return p;
  }
  void MakeReady(const std::string& name) {
    Json p = Pod(name);
    p["status"]["phase"] = "Running";
    p["status"]["conditions"] = {{{"type", "Ready"}, {"status", "True"}, {"lastTransitionTime", "2020-01-01T00:00:00Z"}}};
    Status s = c->UpdateStatus(kPods, "default", p);
    REQUIRE_MESSAGE(s.ok(), s.ToString());
  }
  Json Set(const std::string& name) {
    Json s;
    c->Get(kStatefulSets, "default", name, &s);
    return s;
  }

  test::TestCluster cluster;
  std::unique_ptr<client::Client> c;
  std::unique_ptr<client::SharedInformerFactory> informers;
  std::unique_ptr<StatefulSetController> controller;
};

}  // namespace

TEST_CASE("controllers statefulset: ordered pods with claims, partitioned update, scale-down") {
  Fixture f;
  Json set = StatefulSet("web", 2);
  set["spec"]["volumeClaimTemplates"] = {{{"metadata", {{"name", "www"}}},
                                          {"spec",
                                           {{"accessModes", {"ReadWriteOnce"}},
                                            {"resources", {{"requests", {{"storage", "1Gi"}}}}}}}}};
  set["spec"]["persistentVolumeClaimRetentionPolicy"] = {{"whenDeleted", "Delete"}, {"whenScaled", "Retain"}};
  REQUIRE(f.c->Create(kStatefulSets, "default", set).ok());
  REQUIRE(Eventually([&] { return f.Exists("web-0"); }));
  Json claim;
  REQUIRE(f.c->Get(kClaims, "default", "www-web-0", &claim).ok());
  CHECK(claim["metadata"]["labels"]["app"] == "web");
  CHECK(claim["metadata"]["ownerReferences"][0]["kind"] == "StatefulSet");
  Json pod = f.Pod("web-0");
  CHECK(pod["spec"]["hostname"] == "web-0");
  CHECK(pod["spec"]["subdomain"] == "web");
  CHECK(pod["metadata"]["labels"]["statefulset.kubernetes.io/pod-name"] == "web-0");
  CHECK(pod["metadata"]["labels"]["apps.kubernetes.io/pod-index"] == "0");
  CHECK(pod["spec"]["volumes"][0] == Json::parse(R"({"name":"www","persistentVolumeClaim":{"claimName":"www-web-0"}})"));
  const std::string first_revision = pod["metadata"]["labels"]["controller-revision-hash"];
  // web-1 waits for web-0 to be Running and Ready.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  CHECK_FALSE(f.Exists("web-1"));
  f.MakeReady("web-0");
  REQUIRE(Eventually([&] { return f.Exists("web-1"); }));
  Json claim1;
  CHECK(f.c->Get(kClaims, "default", "www-web-1", &claim1).ok());
  f.MakeReady("web-1");
  REQUIRE(Eventually([&] {
    Json st = f.Set("web")["status"];
    return st.value("readyReplicas", 0) == 2 && st.value("currentRevision", "") == first_revision;
  }));

  // A new template with partition 1: only web-1 moves to it.
  REQUIRE(f.c->Patch(kStatefulSets, "default", "web", client::PatchType::kMerge,
                     R"({"spec":{"updateStrategy":{"type":"RollingUpdate","rollingUpdate":{"partition":1}},)"
                     R"("template":{"metadata":{"labels":{"app":"web","v":"2"}}}}})")
              .ok());
  REQUIRE(Eventually([&] {
    Json p;
    return f.c->Get(kPods, "default", "web-1", &p).ok() && p["metadata"]["labels"].value("v", "") == "2";
  }));
  f.MakeReady("web-1");
  REQUIRE(Eventually([&] {
    Json st = f.Set("web")["status"];
    return st.value("updatedReplicas", 0) == 1 && st.value("readyReplicas", 0) == 2;
  }));
  Json st = f.Set("web")["status"];
  CHECK(st["currentRevision"] == first_revision);
  CHECK(st["updateRevision"] != first_revision);
  CHECK(f.Pod("web-0")["metadata"]["labels"]["controller-revision-hash"] == first_revision);

  // Scale down: the highest ordinal goes; its claim stays (whenScaled Retain).
  REQUIRE(f.c->Patch(kStatefulSets, "default", "web", client::PatchType::kMerge, R"({"spec":{"replicas":1}})").ok());
  REQUIRE(Eventually([&] { return !f.Exists("web-1"); }));
  CHECK(f.Exists("web-0"));
  CHECK(f.c->Get(kClaims, "default", "www-web-1", &claim1).ok());
}

TEST_CASE("controllers statefulset: an orphan pod of the right name is adopted, not made again") {
  Fixture f;
  // As after `kubectl delete statefulset --cascade=orphan` and a new set.
  Json orphan = {{"apiVersion", "v1"}, {"kind", "Pod"}, {"metadata", {{"name", "app-0"}, {"labels", {{"app", "app"}}}}}};
  orphan["spec"]["schedulerName"] = "none";
  orphan["spec"]["containers"] = {{{"name", "main"}, {"image", "busybox"}}};
  Json created;
  REQUIRE(f.c->Create(kPods, "default", orphan, &created).ok());
  REQUIRE(f.c->Create(kStatefulSets, "default", StatefulSet("app", 1)).ok());
  REQUIRE(Eventually([&] {
    Json p = f.Pod("app-0");
    return p["metadata"].contains("ownerReferences") && p["metadata"]["ownerReferences"][0]["kind"] == "StatefulSet";
  }));
  CHECK(f.Pod("app-0")["metadata"]["uid"] == created["metadata"]["uid"]);
}

TEST_CASE("controllers statefulset: Parallel pod management and ordinals.start") {
  Fixture f;
  Json set = StatefulSet("db", 3);
  set["spec"]["podManagementPolicy"] = "Parallel";
  set["spec"]["ordinals"]["start"] = 5;
  REQUIRE(f.c->Create(kStatefulSets, "default", set).ok());
  REQUIRE(Eventually([&] { return f.Exists("db-5") && f.Exists("db-6") && f.Exists("db-7"); }));
  CHECK_FALSE(f.Exists("db-0"));
  REQUIRE(Eventually([&] { return f.Set("db")["status"].value("replicas", 0) == 3; }));
}

}  // namespace kubit::controllers

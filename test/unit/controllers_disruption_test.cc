// The disruption controller against a real API server: PodDisruptionBudget
// status from minAvailable (int and percent) and maxUnavailable over the
// selected pods and their controllers' scale, the DisruptionAllowed
// condition, and expired disruptedPods entries.
#include <doctest/doctest.h>

#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/client/informer.h"
#include "core/controllers/disruption_controller.h"
#include "test/unit/client_test_cluster.h"

namespace kubit::controllers {
namespace {

using client::Json;
using client::Resource;
using client::Status;

const Resource kBudgets{"policy", "v1", "poddisruptionbudgets"};
const Resource kPods{"", "v1", "pods"};
const Resource kReplicaSets{"apps", "v1", "replicasets"};

bool Eventually(const std::function<bool()>& done) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return done();
}

struct Fixture {
  Fixture() {
    c = cluster.InProcess("system:kube-controller-manager", {"system:masters"});
    informers = std::make_unique<client::SharedInformerFactory>(c.get());
    controller = std::make_unique<DisruptionController>(c.get(), informers.get(), nullptr);
    informers->Start();
    REQUIRE(informers->WaitForSync(std::chrono::seconds(10)));
    controller->Start();
  }
  ~Fixture() {
    controller->Stop();
    informers->Stop();
  }
  // A pod labelled app=web, Ready or not, controlled by `owner` if given.
  void AddPod(const std::string& name, bool ready, const Json& owner = nullptr) {
    Json p = {{"apiVersion", "v1"}, {"kind", "Pod"}, {"metadata", {{"name", name}, {"labels", {{"app", "web"}}}}}};
    p["spec"]["schedulerName"] = "none";
    p["spec"]["containers"] = {{{"name", "c"}, {"image", "busybox"}}};
    if (!owner.is_null())
      p["metadata"]["ownerReferences"] = {{{"apiVersion", "apps/v1"}, {"kind", "ReplicaSet"}, {"name", owner["metadata"]["name"]},
                                           {"uid", owner["metadata"]["uid"]}, {"controller", true}}};
    Json created;
    REQUIRE(c->Create(kPods, "default", p, &created).ok());
    if (!ready) return;
    created["status"]["phase"] = "Running";
    created["status"]["conditions"] = {{{"type", "Ready"}, {"status", "True"}}};
    REQUIRE(c->UpdateStatus(kPods, "default", created).ok());
  }
  void AddBudget(const std::string& name, const Json& spec_extra) {
    Json b = {{"apiVersion", "policy/v1"}, {"kind", "PodDisruptionBudget"}, {"metadata", {{"name", name}}}};
    b["spec"] = spec_extra;
    b["spec"]["selector"]["matchLabels"]["app"] = "web";
    Status s = c->Create(kBudgets, "default", b);
    REQUIRE_MESSAGE(s.ok(), s.ToString());
  }
  // "healthy/desired/expected allowed reason"
  std::string Summary(const std::string& name) {
    Json b;
    c->Get(kBudgets, "default", name, &b);
    const Json st = b.value("status", Json::object());
    std::string reason;
    for (const Json& cond : st.value("conditions", Json::array()))
      if (cond["type"] == "DisruptionAllowed") reason = cond["reason"];
    return std::to_string(st.value("currentHealthy", -1)) + "/" + std::to_string(st.value("desiredHealthy", -1)) + "/" +
           std::to_string(st.value("expectedPods", -1)) + " " + std::to_string(st.value("disruptionsAllowed", -1)) + " " +
           reason;
  }

  test::TestCluster cluster;
  std::unique_ptr<client::Client> c;
  std::unique_ptr<client::SharedInformerFactory> informers;
  std::unique_ptr<DisruptionController> controller;
};

}  // namespace

TEST_CASE("controllers disruption: minAvailable over the selected pods") {
  Fixture f;
  f.AddPod("a", true);
  f.AddPod("b", true);
  f.AddPod("c", false);
  f.AddBudget("min2", {{"minAvailable", 2}});
  REQUIRE(Eventually([&] { return f.Summary("min2") == "2/2/3 0 InsufficientPods"; }));
  Json c;
  REQUIRE(f.c->Get(kPods, "default", "c", &c).ok());
  c["status"]["phase"] = "Running";
  c["status"]["conditions"] = {{{"type", "Ready"}, {"status", "True"}}};
  REQUIRE(f.c->UpdateStatus(kPods, "default", c).ok());
  REQUIRE(Eventually([&] { return f.Summary("min2") == "3/2/3 1 SufficientPods"; }));
  Json b;
  REQUIRE(f.c->Get(kBudgets, "default", "min2", &b).ok());
  CHECK(b["status"]["observedGeneration"] == b["metadata"]["generation"]);

  // An eviction recorded long ago is forgotten; the pod counts again.
  b["status"]["disruptedPods"] = {{"a", "2020-01-01T00:00:00Z"}};
  REQUIRE(f.c->UpdateStatus(kBudgets, "default", b).ok());
  REQUIRE(Eventually([&] {
    Json now;
    f.c->Get(kBudgets, "default", "min2", &now);
    return !now["status"].contains("disruptedPods") && now["status"]["currentHealthy"] == 3;
  }));
}

TEST_CASE("controllers disruption: maxUnavailable and percentages use the controllers' scale") {
  Fixture f;
  Json rs = {{"apiVersion", "apps/v1"}, {"kind", "ReplicaSet"}, {"metadata", {{"name", "web"}}}};
  rs["spec"]["replicas"] = 4;
  rs["spec"]["selector"]["matchLabels"]["app"] = "web";
  rs["spec"]["template"]["metadata"]["labels"]["app"] = "web";
  rs["spec"]["template"]["spec"]["containers"] = {{{"name", "c"}, {"image", "busybox"}}};
  Json created;
  REQUIRE(f.c->Create(kReplicaSets, "default", rs, &created).ok());
  for (const char* name : {"w1", "w2", "w3"}) f.AddPod(name, true, created);
  f.AddBudget("max1", {{"maxUnavailable", 1}});
  f.AddBudget("half", {{"minAvailable", "50%"}});
  REQUIRE(Eventually([&] { return f.Summary("max1") == "3/3/4 0 InsufficientPods"; }));
  REQUIRE(Eventually([&] { return f.Summary("half") == "3/2/4 1 SufficientPods"; }));
  // A pod no controller owns cannot be scaled: the budget fails to sync.
  f.AddPod("stray", true);
  REQUIRE(Eventually([&] { return f.Summary("max1") == "4/0/0 0 SyncFailed"; }));
}

}  // namespace kubit::controllers

// The node lifecycle controller: the taint and eviction rules on their own,
// then against a real API server with a short grace period: a node whose
// Lease stops is Unknown and tainted, its pods marked not Ready and evicted
// as their tolerations allow, and pods of a node that is gone deleted.
#include <doctest/doctest.h>

#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/api/meta.h"
#include "core/client/informer.h"
#include "core/controllers/node_lifecycle_controller.h"
#include "core/controllers/node_lifecycle_controller_taints.h"
#include "test/unit/client_test_cluster.h"

namespace kubit::controllers {
namespace {

using client::Resource;
using client::Status;

const Resource kNodes{"", "v1", "nodes"};
const Resource kLeases{"coordination.k8s.io", "v1", "leases"};
const Resource kPods{"", "v1", "pods"};

bool Eventually(const std::function<bool()>& done) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return done();
}

Json NodeWith(const std::string& ready) {
  Json n = {{"metadata", {{"name", "n"}}}, {"spec", Json::object()}};
  if (!ready.empty()) n["status"]["conditions"] = {{{"type", "Ready"}, {"status", ready}}};
  return n;
}

std::vector<std::string> Keys(const std::vector<Json>& taints) {
  std::vector<std::string> out;
  for (const Json& t : taints) out.push_back(t["key"].get<std::string>() + ":" + t["effect"].get<std::string>());
  return out;
}

Json Pod(const std::string& name, const std::string& node, const Json& tolerations = Json::array()) {
  Json p = {{"apiVersion", "v1"}, {"kind", "Pod"}, {"metadata", {{"name", name}}}};
  p["spec"]["nodeName"] = node;
  p["spec"]["containers"] = {{{"name", "c"}, {"image", "busybox"}}};
  if (!tolerations.empty()) p["spec"]["tolerations"] = tolerations;
  return p;
}

}  // namespace

TEST_CASE("controllers node lifecycle: taints from conditions") {
  CHECK(Keys(ConditionTaints(NodeWith("True"))).empty());
  CHECK(Keys(ConditionTaints(NodeWith(""))).empty());
  CHECK(Keys(ConditionTaints(NodeWith("False"))) ==
        std::vector<std::string>{"node.kubernetes.io/not-ready:NoExecute", "node.kubernetes.io/not-ready:NoSchedule"});
  CHECK(Keys(ConditionTaints(NodeWith("Unknown"))) ==
        std::vector<std::string>{"node.kubernetes.io/unreachable:NoExecute", "node.kubernetes.io/unreachable:NoSchedule"});
  Json n = NodeWith("True");
  n["spec"]["unschedulable"] = true;
  n["status"]["conditions"].push_back({{"type", "DiskPressure"}, {"status", "True"}});
  CHECK(Keys(ConditionTaints(n)) ==
        std::vector<std::string>{"node.kubernetes.io/disk-pressure:NoSchedule", "node.kubernetes.io/unschedulable:NoSchedule"});

  // The user's taints stay; the controller's come and go.
  Json current = Json::parse(R"([{"key":"dedicated","value":"db","effect":"NoSchedule"},
                                 {"key":"node.kubernetes.io/not-ready","effect":"NoExecute","timeAdded":"2026-01-01T00:00:00Z"}])");
  Json out;
  CHECK(ReconcileTaints(current, ConditionTaints(NodeWith("Unknown")), "2026-02-02T00:00:00Z", &out));
  CHECK(out == Json::parse(R"([{"key":"dedicated","value":"db","effect":"NoSchedule"},
                               {"key":"node.kubernetes.io/unreachable","effect":"NoExecute","timeAdded":"2026-02-02T00:00:00Z"},
                               {"key":"node.kubernetes.io/unreachable","effect":"NoSchedule"}])"));
  CHECK_FALSE(ReconcileTaints(out, ConditionTaints(NodeWith("Unknown")), "2026-03-03T00:00:00Z", &out));
}

TEST_CASE("controllers node lifecycle: when pods are evicted") {
  const std::string added = "2027-01-15T08:00:00Z";
  Json taints = {{{"key", "node.kubernetes.io/unreachable"}, {"effect", "NoExecute"}, {"timeAdded", added}}};
  auto pod = [](const Json& tolerations) { return Json{{"spec", {{"tolerations", tolerations}}}}; };
  // The timeAdded above in unix seconds.
  struct tm tm = {};
  strptime(added.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  const int64_t added_unix = timegm(&tm);
  // No toleration: upstream's default 300 s.
  CHECK(EvictionDelay(pod(Json::array()), taints, added_unix + 10) == 290);
  CHECK(EvictionDelay(pod(Json::array()), taints, added_unix + 400) == 0);
  // Its own toleration wins.
  Json tol60 = {{{"key", "node.kubernetes.io/unreachable"}, {"operator", "Exists"}, {"effect", "NoExecute"}, {"tolerationSeconds", 60}}};
  CHECK(EvictionDelay(pod(tol60), taints, added_unix + 10) == 50);
  Json forever = {{{"operator", "Exists"}}};
  CHECK(EvictionDelay(pod(forever), taints, added_unix + 100000) == -1);
  // A NoExecute taint it does not tolerate: at once.
  Json other = {{{"key", "dedicated"}, {"value", "x"}, {"effect", "NoExecute"}}};
  CHECK(EvictionDelay(pod(tol60), other, added_unix) == 0);
  Json tol_other = {{{"key", "dedicated"}, {"operator", "Equal"}, {"value", "x"}}};
  CHECK(EvictionDelay(pod(tol_other), other, added_unix) == -1);
  // NoSchedule taints never evict.
  CHECK(EvictionDelay(pod(Json::array()), Json::parse(R"([{"key":"k","effect":"NoSchedule"}])"), added_unix) == -1);
}

TEST_CASE("controllers node lifecycle: a node whose Lease stops") {
  test::TestCluster cluster;
  auto c = cluster.InProcess("system:kube-controller-manager", {"system:masters"});
  // A node that posted a Ready status once and has a Lease.
  Json node = {{"apiVersion", "v1"}, {"kind", "Node"}, {"metadata", {{"name", "edge"}}}};
  Json created;
  REQUIRE(c->Create(kNodes, "", node, &created).ok());
  created["status"]["conditions"] = {{{"type", "Ready"},
                                      {"status", "True"},
                                      {"reason", "KubeletReady"},
                                      {"lastHeartbeatTime", api::Now()},
                                      {"lastTransitionTime", api::Now()}}};
  REQUIRE(c->UpdateStatus(kNodes, "", created).ok());
  Json lease = {{"apiVersion", "coordination.k8s.io/v1"},
                {"kind", "Lease"},
                {"metadata", {{"name", "edge"}}},
                {"spec", {{"holderIdentity", "edge"}, {"renewTime", "2026-01-01T00:00:00.000000Z"}}}};
  Status s = c->Create(kLeases, "kube-node-lease", lease);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  Json quick = {{{"key", "node.kubernetes.io/unreachable"}, {"operator", "Exists"}, {"effect", "NoExecute"}, {"tolerationSeconds", 0}}};
  REQUIRE(c->Create(kPods, "default", Pod("quick", "edge", quick)).ok());
  REQUIRE(c->Create(kPods, "default", Pod("patient", "edge")).ok());
  REQUIRE(c->Create(kPods, "default", Pod("orphan", "nowhere")).ok());
  Json patient;
  REQUIRE(c->Get(kPods, "default", "patient", &patient).ok());
  patient["status"]["phase"] = "Running";
  patient["status"]["conditions"] = {{{"type", "Ready"}, {"status", "True"}}};
  REQUIRE(c->UpdateStatus(kPods, "default", patient).ok());

  client::SharedInformerFactory informers(c.get());
  NodeLifecycleController controller(c.get(), &informers, nullptr, std::chrono::milliseconds(500));
  informers.Start();
  REQUIRE(informers.WaitForSync(std::chrono::seconds(10)));
  controller.Start();

  Json got;
  REQUIRE(Eventually([&] {
    c->Get(kNodes, "", "edge", &got);
    for (const Json& cond : got["status"]["conditions"])
      if (cond["type"] == "Ready") return cond["status"] == "Unknown";
    return false;
  }));
  for (const Json& cond : got["status"]["conditions"])
    if (cond["type"] == "Ready") {
      CHECK(cond["reason"] == "NodeStatusUnknown");
      CHECK(cond["message"] == "Kubelet stopped posting node status.");
    }
  REQUIRE(Eventually([&] {
    c->Get(kNodes, "", "edge", &got);
    return got["spec"].value("taints", Json::array()).size() == 2;
  }));
  CHECK(got["spec"]["taints"][0]["key"] == "node.kubernetes.io/unreachable");
  // Tolerating for 0 s: evicted (deleted gracefully: its kubelet would
  // confirm); with upstream's default 300 s: stays, not Ready.
  bool evicted = Eventually([&] { return c->Get(kPods, "default", "quick", &got).ok() && got["metadata"].contains("deletionTimestamp"); });
  if (!evicted) { Json n; c->Get(kNodes, "", "edge", &n); MESSAGE(got.dump()); MESSAGE(n.dump()); }
  REQUIRE(evicted);
  bool disruption = false;
  for (const Json& cond : got["status"]["conditions"])
    disruption = disruption || (cond["type"] == "DisruptionTarget" && cond["reason"] == "DeletionByTaintManager");
  CHECK(disruption);
  REQUIRE(Eventually([&] {
    c->Get(kPods, "default", "patient", &got);
    for (const Json& cond : got["status"]["conditions"])
      if (cond["type"] == "Ready") return cond["status"] == "False";
    return false;
  }));
  CHECK_FALSE(got["metadata"].contains("deletionTimestamp"));
  // A pod bound to a node that does not exist is deleted.
  REQUIRE(Eventually([&] { return c->Get(kPods, "default", "orphan", &got).IsNotFound(); }));
  controller.Stop();
  informers.Stop();
}

}  // namespace kubit::controllers

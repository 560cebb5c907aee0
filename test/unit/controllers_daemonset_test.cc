// The DaemonSet controller against a real API server: one pinned pod per
// eligible node (taints, nodeSelector, the daemon tolerations), revisions
// and the hash label, a template change rolled out, failed pods and pods of
// removed nodes replaced or deleted; and node eligibility on its own.
#include <doctest/doctest.h>

#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "core/client/informer.h"
#include "core/controllers/daemonset_controller.h"
#include "core/controllers/daemonset_controller_nodes.h"
#include "test/unit/client_test_cluster.h"

namespace kubit::controllers {
namespace {

using client::Resource;
using client::Status;

const Resource kDaemonSets{"apps", "v1", "daemonsets"};
const Resource kPods{"", "v1", "pods"};
const Resource kNodes{"", "v1", "nodes"};
const Resource kRevisions{"apps", "v1", "controllerrevisions"};

bool Eventually(const std::function<bool()>& done) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return done();
}

Json Node(const std::string& name, Json labels = Json::object(), const Json& taints = Json::array()) {
  Json n = {{"apiVersion", "v1"}, {"kind", "Node"}, {"metadata", {{"name", name}}}};
  labels["kubernetes.io/hostname"] = name;
  n["metadata"]["labels"] = labels;
  if (!taints.empty()) n["spec"]["taints"] = taints;
  return n;
}

Json DaemonSet(const std::string& name) {
  Json ds = {{"apiVersion", "apps/v1"}, {"kind", "DaemonSet"}, {"metadata", {{"name", name}}}};
  ds["spec"]["selector"]["matchLabels"]["app"] = name;
  ds["spec"]["template"]["metadata"]["labels"]["app"] = name;
  ds["spec"]["template"]["spec"]["schedulerName"] = "none";
  ds["spec"]["template"]["spec"]["containers"] = {{{"name", "agent"}, {"image", "busybox"}}};
  return ds;
}

struct Fixture {
  Fixture() {
    c = cluster.InProcess("system:kube-controller-manager", {"system:masters"});
    informers = std::make_unique<client::SharedInformerFactory>(c.get());
    controller = std::make_unique<DaemonSetController>(c.get(), informers.get(), [](LogLevel l, const std::string& m) {
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
  // node name -> pods of the set there (not being deleted)
  std::map<std::string, std::vector<Json>> PodsByNode() {
    Json list;
    c->List(kPods, "default", {}, &list);
    std::map<std::string, std::vector<Json>> out;
    for (const Json& p : list["items"])
      if (!p["metadata"].contains("deletionTimestamp")) out[TargetNodeName(p)].push_back(p);
    return out;
  }
  std::set<std::string> Nodes() {
    std::set<std::string> out;
    for (auto& [n, pods] : PodsByNode())
      if (pods.size() == 1) out.insert(n);
    return out;
  }

  test::TestCluster cluster;
  std::unique_ptr<client::Client> c;
  std::unique_ptr<client::SharedInformerFactory> informers;
  std::unique_ptr<DaemonSetController> controller;
};

}  // namespace

TEST_CASE("controllers daemonset: a pod per eligible node, rolled on change") {
  Fixture f;
  REQUIRE(f.c->Create(kNodes, "", Node("n1")).ok());
  REQUIRE(f.c->Create(kNodes, "", Node("n2", {{"role", "edge"}})).ok());
  REQUIRE(f.c->Create(kNodes, "", Node("n3", {}, {{{"key", "dedicated"}, {"value", "db"}, {"effect", "NoSchedule"}}})).ok());
  // Tolerated automatically: pods go there too.
  REQUIRE(f.c->Create(kNodes, "", Node("n4", {}, {{{"key", "node.kubernetes.io/unschedulable"}, {"effect", "NoSchedule"}}})).ok());
  REQUIRE(f.c->Create(kDaemonSets, "default", DaemonSet("agent")).ok());
  REQUIRE(Eventually([&] { return f.Nodes() == std::set<std::string>{"n1", "n2", "n4"}; }));
  Json pod = f.PodsByNode()["n1"][0];
  CHECK(pod["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"] ==
        Json::parse(R"([{"matchFields":[{"key":"metadata.name","operator":"In","values":["n1"]}]}])"));
  CHECK(pod["metadata"]["ownerReferences"][0]["kind"] == "DaemonSet");
  CHECK(pod["metadata"]["generateName"] == "agent-");
  std::set<std::string> tolerated;
  for (const Json& t : pod["spec"]["tolerations"]) tolerated.insert(t["key"].get<std::string>() + ":" + t["effect"].get<std::string>());
  CHECK(tolerated == std::set<std::string>{"node.kubernetes.io/not-ready:NoExecute", "node.kubernetes.io/unreachable:NoExecute",
                                           "node.kubernetes.io/disk-pressure:NoSchedule", "node.kubernetes.io/memory-pressure:NoSchedule",
                                           "node.kubernetes.io/pid-pressure:NoSchedule", "node.kubernetes.io/unschedulable:NoSchedule"});
  const std::string hash = pod["metadata"]["labels"]["controller-revision-hash"];
  Json rev;
  REQUIRE(f.c->Get(kRevisions, "default", "agent-" + hash, &rev).ok());
  CHECK(rev["revision"] == 1);
  Json ds;
  REQUIRE(Eventually([&] {
    f.c->Get(kDaemonSets, "default", "agent", &ds);
    return ds["status"].value("desiredNumberScheduled", 0) == 3 && ds["status"].value("currentNumberScheduled", 0) == 3 &&
           ds["status"].value("updatedNumberScheduled", 0) == 3;
  }));
  CHECK(ds["status"]["numberReady"] == 0);
  CHECK(ds["status"]["numberUnavailable"] == 3);
  CHECK(ds["status"]["observedGeneration"] == ds["metadata"]["generation"]);

  // A failed pod is replaced.
  Json failed = pod;
  failed["status"]["phase"] = "Failed";
  REQUIRE(f.c->UpdateStatus(kPods, "default", failed).ok());
  REQUIRE(Eventually([&] {
    auto pods = f.PodsByNode()["n1"];
    return pods.size() == 1 && pods[0]["metadata"]["uid"] != pod["metadata"]["uid"];
  }));

  // Only edge nodes now: the others' pods go, the edge node's pod is
  // replaced by one of the new template.
  REQUIRE(f.c->Patch(kDaemonSets, "default", "agent", client::PatchType::kMerge,
                     R"({"spec":{"template":{"spec":{"nodeSelector":{"role":"edge"}}}}})")
              .ok());
  REQUIRE(Eventually([&] {
    auto by_node = f.PodsByNode();
    return by_node.size() == 1 && by_node["n2"].size() == 1 &&
           by_node["n2"][0]["metadata"]["labels"]["controller-revision-hash"] != hash;
  }));
  Json revs;
  REQUIRE(f.c->List(kRevisions, "default", {}, &revs).ok());
  CHECK(revs["items"].size() == 2);

  // The node goes: so does its pod.
  REQUIRE(f.c->Delete(kNodes, "", "n2").ok());
  REQUIRE(Eventually([&] { return f.PodsByNode().empty(); }));
}

TEST_CASE("controllers daemonset: an orphan pod on a node is adopted, not doubled") {
  Fixture f;
  REQUIRE(f.c->Create(kNodes, "", Node("n1")).ok());
  // As left by `kubectl delete daemonset --cascade=orphan`: the same
  // template, as the API server defaults it (a dry run shows it).
  Json ds = DaemonSet("agent");
  client::WriteOptions dry;
  dry.dry_run = true;
  REQUIRE(f.c->Create(kDaemonSets, "default", DaemonSet("agent"), &ds, dry).ok());
  Json orphan = {{"apiVersion", "v1"}, {"kind", "Pod"}, {"metadata", {{"name", "agent-old"}}}, {"spec", ds["spec"]["template"]["spec"]}};
  orphan["metadata"]["labels"] = {{"app", "agent"}, {"controller-revision-hash", TemplateHash(ds["spec"]["template"], 0)}};
  PinToNode(&orphan["spec"], "n1");
  Json created;
  REQUIRE(f.c->Create(kPods, "default", orphan, &created).ok());
  REQUIRE(f.c->Create(kDaemonSets, "default", DaemonSet("agent")).ok());
  REQUIRE(Eventually([&] {
    Json p;
    return f.c->Get(kPods, "default", "agent-old", &p).ok() && p["metadata"].contains("ownerReferences") &&
           p["metadata"]["ownerReferences"][0]["kind"] == "DaemonSet";
  }));
  Json ds_now;
  REQUIRE(Eventually([&] {
    f.c->Get(kDaemonSets, "default", "agent", &ds_now);
    return ds_now["status"].value("currentNumberScheduled", 0) == 1;
  }));
  CHECK(f.PodsByNode()["n1"].size() == 1);
}

TEST_CASE("controllers daemonset: node eligibility") {
  Json ds = DaemonSet("x");
  Json tmpl = DaemonPodTemplate(ds);
  auto run = [&](const Json& node) {
    Placement p = NodeShouldRunDaemonPod(node, tmpl);
    return std::string(p.should_run ? "run" : "-") + "/" + (p.should_continue ? "stay" : "go");
  };
  CHECK(run(Node("a")) == "run/stay");
  CHECK(run(Node("a", {}, {{{"key", "k"}, {"effect", "NoSchedule"}}})) == "-/stay");
  CHECK(run(Node("a", {}, {{{"key", "k"}, {"effect", "NoExecute"}}})) == "-/go");
  CHECK(run(Node("a", {}, {{{"key", "k"}, {"effect", "PreferNoSchedule"}}})) == "run/stay");
  CHECK(run(Node("a", {}, {{{"key", "node.kubernetes.io/not-ready"}, {"effect", "NoExecute"}}})) == "run/stay");
  ds["spec"]["template"]["spec"]["nodeSelector"]["disk"] = "ssd";
  tmpl = DaemonPodTemplate(ds);
  CHECK(run(Node("a")) == "-/go");
  CHECK(run(Node("a", {{"disk", "ssd"}})) == "run/stay");
  ds["spec"]["template"]["spec"]["nodeName"] = "b";
  tmpl = DaemonPodTemplate(ds);
  CHECK(run(Node("a", {{"disk", "ssd"}})) == "-/go");
  // Host-network pods also tolerate network-unavailable.
  Json hn = DaemonSet("h");
  hn["spec"]["template"]["spec"]["hostNetwork"] = true;
  CHECK(NodeShouldRunDaemonPod(Node("a", {}, {{{"key", "node.kubernetes.io/network-unavailable"}, {"effect", "NoSchedule"}}}),
                               DaemonPodTemplate(hn))
            .should_run);
  CHECK(TemplateHash(ds["spec"]["template"], 0) != TemplateHash(ds["spec"]["template"], 1));
  CHECK(TemplateHash(ds["spec"]["template"], 0) == TemplateHash(ds["spec"]["template"], 0));
}

}  // namespace kubit::controllers

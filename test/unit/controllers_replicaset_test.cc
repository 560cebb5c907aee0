// The ReplicaSet controller against the real API server (no scheduler or
// kubelet: pod status is set by the test), and the scale-down ranking.
#include <doctest/doctest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/api/meta.h"
#include "core/client/informer.h"
#include "core/controllers/pod_state.h"
#include "core/controllers/replicaset_controller.h"
#include "core/controllers/replicaset_pod_ranking.h"
#include "test/unit/client_test_cluster.h"

namespace kubit::controllers {
namespace {

using client::Json;
using client::ObjectPtr;
using client::Resource;
using client::Status;

const Resource kReplicaSets{"apps", "v1", "replicasets"};
const Resource kPods{"", "v1", "pods"};
const Resource kEvents{"", "v1", "events"};

bool Eventually(const std::function<bool()>& done) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return done();
}

Json PodSpec() { return {{"containers", {{{"name", "c"}, {"image", "busybox"}}}}}; }

Json ReplicaSet(const std::string& name, int replicas, int min_ready = 0) {
  return {{"apiVersion", "apps/v1"},
          {"kind", "ReplicaSet"},
          {"metadata", {{"name", name}}},
          {"spec",
           {{"replicas", replicas},
            {"minReadySeconds", min_ready},
            {"selector", {{"matchLabels", {{"app", name}}}}},
            {"template", {{"metadata", {{"labels", {{"app", name}, {"tier", "web"}}}}}, {"spec", PodSpec()}}}}}};
}

std::vector<Json> PodsOf(client::Client& c, const std::string& app) {
  Json list;
  client::ListOptions o;
  o.label_selector = "app=" + app;
  REQUIRE(c.List(kPods, "default", o, &list).ok());
  std::vector<Json> out;
  for (const Json& p : list["items"])
    if (!p["metadata"].contains("deletionTimestamp")) out.push_back(p);
  return out;
}

Json Fetch(client::Client& c, const Resource& r, const std::string& name) {
  Json out;
  Status s = c.Get(r, "default", name, &out);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  return out;
}

void MarkReady(client::Client& c, const Json& pod, const std::string& since) {
  Json patch = {{"status",
                 {{"phase", "Running"},
                  {"conditions", {{{"type", "Ready"}, {"status", "True"}, {"lastTransitionTime", since}}}}}}};
  Status s = c.Patch(kPods, "default", pod["metadata"]["name"], client::PatchType::kMerge, patch.dump(), nullptr, {},
                     "status");
  REQUIRE_MESSAGE(s.ok(), s.ToString());
}

int64_t StatusField(client::Client& c, const std::string& rs, const char* f) {
  return Fetch(c, kReplicaSets, rs)["status"].value(f, int64_t{0});
}

struct Running {
  explicit Running(client::Client* c) : informers(c), rs(c, &informers, nullptr) {
    informers.Start();
    REQUIRE(informers.WaitForSync(std::chrono::seconds(10)));
    rs.Start();
  }
  client::SharedInformerFactory informers;
  ReplicaSetController rs;
};

TEST_CASE("replicaset: creates the missing pods with a controller reference, scales down, reports status") {
  test::TestCluster cluster;
  auto c = cluster.InProcess();
  Running ctl(c.get());
  Json rs;
  REQUIRE(c->Create(kReplicaSets, "default", ReplicaSet("web", 3), &rs).ok());
  REQUIRE(Eventually([&] { return PodsOf(*c, "web").size() == 3; }));
  for (const Json& p : PodsOf(*c, "web")) {
    CHECK(p["metadata"]["name"].get<std::string>().rfind("web-", 0) == 0);
    Json ref = p["metadata"]["ownerReferences"][0];
    CHECK(ref["kind"] == "ReplicaSet");
    CHECK(ref["uid"] == rs["metadata"]["uid"]);
    CHECK(ref["controller"] == true);
    CHECK(ref["blockOwnerDeletion"] == true);
    CHECK(p["metadata"]["labels"]["tier"] == "web");
  }
  CHECK(Eventually([&] {
    return StatusField(*c, "web", "replicas") == 3 && StatusField(*c, "web", "fullyLabeledReplicas") == 3 &&
           StatusField(*c, "web", "observedGeneration") == 1;
  }));
  Json events;
  REQUIRE(c->List(kEvents, "default", {}, &events).ok());
  int created = 0;
  for (const Json& e : events["items"])
    if (e["reason"] == "SuccessfulCreate" && e["message"].get<std::string>().rfind("Created pod: web-", 0) == 0)
      created++;
  CHECK(created == 3);

  // Ready pods count as ready; a pod deleted by someone is replaced.
  std::vector<Json> pods = PodsOf(*c, "web");
  for (const Json& p : pods) MarkReady(*c, p, api::Now());
  CHECK(Eventually([&] {
    return StatusField(*c, "web", "readyReplicas") == 3 && StatusField(*c, "web", "availableReplicas") == 3;
  }));
  REQUIRE(c->Delete(kPods, "default", pods[0]["metadata"]["name"]).ok());
  CHECK(Eventually([&] { return PodsOf(*c, "web").size() == 3; }));

  // Scale down to 1: the pod that is not ready goes first.
  Json scale = {{"spec", {{"replicas", 1}}}};
  REQUIRE(c->Patch(kReplicaSets, "default", "web", client::PatchType::kMerge, scale.dump()).ok());
  REQUIRE(Eventually([&] { return PodsOf(*c, "web").size() == 1; }));
  CHECK(PodsOf(*c, "web")[0]["status"].value("phase", "") == "Running");
  CHECK(Eventually([&] { return StatusField(*c, "web", "replicas") == 1; }));
}

TEST_CASE("replicaset: adopts matching orphans and releases pods that stop matching") {
  test::TestCluster cluster;
  auto c = cluster.InProcess();
  Json orphan = {{"apiVersion", "v1"},
                 {"kind", "Pod"},
                 {"metadata", {{"name", "stray"}, {"labels", {{"app", "adopt"}}}}},
                 {"spec", PodSpec()}};
  REQUIRE(c->Create(kPods, "default", orphan).ok());
  Running ctl(c.get());
  REQUIRE(c->Create(kReplicaSets, "default", ReplicaSet("adopt", 2)).ok());
  REQUIRE(Eventually([&] { return PodsOf(*c, "adopt").size() == 2; }));
  Json stray = Fetch(*c, kPods, "stray");
  REQUIRE(stray["metadata"].contains("ownerReferences"));
  CHECK(stray["metadata"]["ownerReferences"][0]["name"] == "adopt");

  Json relabel = {{"metadata", {{"labels", {{"app", "elsewhere"}}}}}};
  REQUIRE(c->Patch(kPods, "default", "stray", client::PatchType::kMerge, relabel.dump()).ok());
  CHECK(Eventually([&] { return !Fetch(*c, kPods, "stray")["metadata"].contains("ownerReferences"); }));
  CHECK(Eventually([&] { return PodsOf(*c, "adopt").size() == 2; }));
}

TEST_CASE("replicaset: minReadySeconds decides availability") {
  test::TestCluster cluster;
  auto c = cluster.InProcess();
  Running ctl(c.get());
  REQUIRE(c->Create(kReplicaSets, "default", ReplicaSet("slow", 2, 3600)).ok());
  REQUIRE(Eventually([&] { return PodsOf(*c, "slow").size() == 2; }));
  std::vector<Json> pods = PodsOf(*c, "slow");
  MarkReady(*c, pods[0], "2020-01-01T00:00:00Z");  // ready long ago: available
  MarkReady(*c, pods[1], api::Now());              // just now: not yet
  CHECK(Eventually([&] {
    return StatusField(*c, "slow", "readyReplicas") == 2 && StatusField(*c, "slow", "availableReplicas") == 1;
  }));
}

TEST_CASE("replicaset: a refused create is a FailedCreate event and the ReplicaFailure condition") {
  test::TestCluster cluster;
  auto admin = cluster.InProcess();
  // The controller's user may do everything it needs but create pods.
  Json role = {{"apiVersion", "rbac.authorization.k8s.io/v1"},
               {"kind", "Role"},
               {"metadata", {{"name", "no-pods"}}},
               {"rules",
                {{{"apiGroups", {"apps"}}, {"resources", {"replicasets", "replicasets/status"}}, {"verbs", {"get", "list", "watch", "update"}}},
                 {{"apiGroups", {""}}, {"resources", {"pods"}}, {"verbs", {"get", "list", "watch"}}},
                 {{"apiGroups", {""}}, {"resources", {"events"}}, {"verbs", {"create", "patch"}}}}}};
  Json binding = {{"apiVersion", "rbac.authorization.k8s.io/v1"},
                  {"kind", "RoleBinding"},
                  {"metadata", {{"name", "no-pods"}}},
                  {"roleRef", {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "Role"}, {"name", "no-pods"}}},
                  {"subjects", {{{"kind", "User"}, {"name", "rs-test"}, {"apiGroup", "rbac.authorization.k8s.io"}}}}};
  REQUIRE(admin->Create({"rbac.authorization.k8s.io", "v1", "roles"}, "default", role).ok());
  REQUIRE(admin->Create({"rbac.authorization.k8s.io", "v1", "rolebindings"}, "default", binding).ok());
  auto restricted = cluster.InProcess("rs-test", {"system:authenticated"});
  client::SharedInformerFactory informers(admin.get());
  ReplicaSetController rs(restricted.get(), &informers, nullptr);
  informers.Start();
  REQUIRE(informers.WaitForSync(std::chrono::seconds(10)));
  rs.Start();
  REQUIRE(admin->Create(kReplicaSets, "default", ReplicaSet("refused", 2)).ok());
  REQUIRE(Eventually([&] {
    Json st = Fetch(*admin, kReplicaSets, "refused")["status"];
    for (const Json& c : st.value("conditions", Json::array()))
      if (c["type"] == "ReplicaFailure" && c["status"] == "True" && c["reason"] == "FailedCreate") return true;
    return false;
  }));
  Json events;
  REQUIRE(admin->List(kEvents, "default", {}, &events).ok());
  bool failed = false;
  for (const Json& e : events["items"])
    failed = failed || (e["reason"] == "FailedCreate" && e["type"] == "Warning" &&
                        e["message"].get<std::string>().rfind("Error creating: ", 0) == 0);
  CHECK(failed);
  CHECK(PodsOf(*admin, "refused").empty());
}

ObjectPtr TestPod(const std::string& name, const std::string& node, const std::string& phase, bool ready,
                  const std::string& created, int restarts = 0, const std::string& cost = "") {
  Json p = {{"metadata", {{"name", name}, {"namespace", "default"}, {"creationTimestamp", created}}},
            {"spec", {{"nodeName", node}}},
            {"status",
             {{"phase", phase},
              {"conditions",
               {{{"type", "Ready"}, {"status", ready ? "True" : "False"}, {"lastTransitionTime", created}}}},
              {"containerStatuses", {{{"name", "c"}, {"restartCount", restarts}}}}}}};
  if (!cost.empty()) p["metadata"]["annotations"] = {{"controller.kubernetes.io/pod-deletion-cost", cost}};
  return std::make_shared<const Json>(p);
}

std::vector<std::string> Names(const std::vector<ObjectPtr>& pods) {
  std::vector<std::string> out;
  for (const ObjectPtr& p : pods) out.push_back((*p)["metadata"]["name"]);
  return out;
}

TEST_CASE("replicaset: scale-down ranking as upstream's ActivePodsWithRanks") {
  const int64_t kNow = ParseTime("2026-11-22T00:00:00Z");
  const std::string old_t = "2026-01-01T00:00:00Z", new_t = "2026-06-01T00:00:00Z";
  std::vector<ObjectPtr> pods = {
      TestPod("running-ready-old", "n1", "Running", true, old_t),
      TestPod("unscheduled", "", "Pending", false, old_t),
      TestPod("pending", "n1", "Pending", false, old_t),
      TestPod("running-not-ready", "n1", "Running", false, old_t),
      TestPod("running-ready-new", "n1", "Running", true, new_t),
  };
  CHECK(Names(RankPodsForDeletion(pods, pods, kNow)) ==
        std::vector<std::string>{"unscheduled", "pending", "running-not-ready", "running-ready-new",
                                 "running-ready-old"});

  // Deletion cost beats doubling up; doubling up beats age; restarts beat age.
  std::vector<ObjectPtr> ranked = {
      TestPod("alone", "n2", "Running", true, old_t),
      TestPod("doubled-a", "n1", "Running", true, old_t),
      TestPod("doubled-b", "n1", "Running", true, old_t, 0, "100"),
  };
  CHECK(Names(RankPodsForDeletion(ranked, ranked, kNow)) == std::vector<std::string>{"doubled-a", "alone", "doubled-b"});
  std::vector<ObjectPtr> restarts = {TestPod("new", "n1", "Running", true, old_t),
                                     TestPod("crashy", "n2", "Running", true, old_t, 5)};
  CHECK(Names(RankPodsForDeletion(restarts, restarts, kNow)) == std::vector<std::string>{"crashy", "new"});

  // Ages in the same power-of-two bucket (2^54 ns is about 208 days): the
  // uid decides, not which is a little newer.
  auto with_uid = [](ObjectPtr p, const std::string& uid) {
    Json j = *p;
    j["metadata"]["uid"] = uid;
    return std::make_shared<const Json>(j);
  };
  std::vector<ObjectPtr> bucket = {
      with_uid(TestPod("newer", "n1", "Pending", false, "2026-02-01T00:00:00Z"), "b"),
      with_uid(TestPod("older", "n1", "Pending", false, "2026-01-01T00:00:00Z"), "a"),
  };
  CHECK(Names(RankPodsForDeletion(bucket, bucket, kNow)) == std::vector<std::string>{"older", "newer"});
}

}  // namespace
}  // namespace kubit::controllers

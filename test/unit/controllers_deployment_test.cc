// The Deployment controller with the ReplicaSet controller against the
// real API server (the test plays kubelet: it marks pods ready), and the
// deployment arithmetic alone.
#include <doctest/doctest.h>

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/api/meta.h"
#include "core/client/informer.h"
#include "core/controllers/deployment_controller.h"
#include "core/controllers/deployment_util.h"
#include "core/controllers/replicaset_controller.h"
#include "test/unit/client_test_cluster.h"

namespace kubit::controllers {
namespace {

using client::Json;
using client::Resource;
using client::Status;

const Resource kDeployments{"apps", "v1", "deployments"};
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

Json Deployment(const std::string& name, int replicas, const std::string& image) {
  return {{"apiVersion", "apps/v1"},
          {"kind", "Deployment"},
          {"metadata", {{"name", name}}},
          {"spec",
           {{"replicas", replicas},
            {"selector", {{"matchLabels", {{"app", name}}}}},
            {"template",
             {{"metadata", {{"labels", {{"app", name}}}}},
              {"spec", {{"containers", {{{"name", "c"}, {"image", image}}}}}}}}}}};
}

Json Fetch(client::Client& c, const Resource& r, const std::string& name) {
  Json out;
  Status s = c.Get(r, "default", name, &out);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  return out;
}

std::vector<Json> Items(client::Client& c, const Resource& r, const std::string& selector) {
  Json list;
  client::ListOptions o;
  o.label_selector = selector;
  REQUIRE(c.List(r, "default", o, &list).ok());
  std::vector<Json> out;
  for (const Json& i : list["items"])
    if (!i["metadata"].contains("deletionTimestamp")) out.push_back(i);
  return out;
}

// Plays kubelet: every pod of the app not yet ready becomes Running and Ready.
void ReadyAll(client::Client& c, const std::string& app) {
  for (const Json& p : Items(c, kPods, "app=" + app)) {
    if (p.value("status", Json::object()).value("phase", "") == "Running") continue;
    Json patch = {{"status",
                   {{"phase", "Running"},
                    {"conditions", {{{"type", "Ready"}, {"status", "True"}, {"lastTransitionTime", api::Now()}}}}}}};
    c.Patch(kPods, "default", p["metadata"]["name"], client::PatchType::kMerge, patch.dump(), nullptr, {}, "status");
  }
}

std::string Condition(const Json& d, const std::string& type) {
  Json c = GetCondition(d.value("status", Json::object()), type);
  return c.is_null() ? "" : c.value("status", "") + " " + c.value("reason", "");
}

bool RolledOut(client::Client& c, const std::string& name, int replicas) {
  Json d = Fetch(c, kDeployments, name);
  const Json s = d.value("status", Json::object());
  return s.value("observedGeneration", 0) >= d["metadata"].value("generation", 0) &&
         s.value("updatedReplicas", 0) == replicas && s.value("replicas", 0) == replicas &&
         s.value("availableReplicas", 0) == replicas &&
         Condition(d, "Progressing") == "True NewReplicaSetAvailable";
}

// Drives pods ready until the rollout completes (as `kubectl rollout status` waits).
bool RollOut(client::Client& c, const std::string& name, int replicas) {
  return Eventually([&] {
    ReadyAll(c, name);
    return RolledOut(c, name, replicas);
  });
}

struct Running {
  explicit Running(client::Client* c) : informers(c), rs(c, &informers, nullptr), deploy(c, &informers, nullptr) {
    informers.Start();
    REQUIRE(informers.WaitForSync(std::chrono::seconds(10)));
    rs.Start();
    deploy.Start();
  }
  client::SharedInformerFactory informers;
  ReplicaSetController rs;
  DeploymentController deploy;
};

void Patch(client::Client& c, const std::string& name, const Json& patch) {
  Status s = c.Patch(kDeployments, "default", name, client::PatchType::kStrategicMerge, patch.dump());
  REQUIRE_MESSAGE(s.ok(), s.ToString());
}

Json ImagePatch(const std::string& image) {
  return {{"spec", {{"template", {{"spec", {{"containers", {{{"name", "c"}, {"image", image}}}}}}}}}}};
}

TEST_CASE("deployment: rollout, rolling update, rollback, revision history") {
  test::TestCluster cluster;
  auto c = cluster.InProcess();
  Running ctl(c.get());
  Json d;
  REQUIRE(c->Create(kDeployments, "default", Deployment("web", 3, "nginx:1"), &d).ok());
  REQUIRE(RollOut(*c, "web", 3));
  std::vector<Json> rss = Items(*c, kReplicaSets, "app=web");
  REQUIRE(rss.size() == 1);
  Json rs1 = rss[0];
  const std::string hash = rs1["metadata"]["labels"][kPodTemplateHashLabel];
  CHECK(rs1["metadata"]["name"] == "web-" + hash);
  CHECK(rs1["spec"]["selector"]["matchLabels"][kPodTemplateHashLabel] == hash);
  CHECK(rs1["metadata"]["annotations"][kRevisionAnnotation] == "1");
  CHECK(rs1["metadata"]["annotations"][kDesiredReplicasAnnotation] == "3");
  CHECK(rs1["metadata"]["ownerReferences"][0]["uid"] == d["metadata"]["uid"]);
  CHECK(rs1["metadata"]["ownerReferences"][0]["controller"] == true);
  Json web = Fetch(*c, kDeployments, "web");
  CHECK(web["metadata"]["annotations"][kRevisionAnnotation] == "1");
  CHECK(Condition(web, "Available") == "True MinimumReplicasAvailable");
  Json events;
  REQUIRE(c->List(kEvents, "default", {}, &events).ok());
  bool scaled_up = false;
  for (const Json& e : events["items"])
    scaled_up = scaled_up || (e["reason"] == "ScalingReplicaSet" &&
                              e["message"] == "Scaled up replica set web-" + hash + " from 0 to 3");
  CHECK(scaled_up);

  // A new template: a new ReplicaSet takes over, the old one ends at zero.
  Patch(*c, "web", ImagePatch("nginx:2"));
  REQUIRE(RollOut(*c, "web", 3));
  rss = Items(*c, kReplicaSets, "app=web");
  REQUIRE(rss.size() == 2);
  for (const Json& rs : rss) {
    if (rs["metadata"]["name"] == rs1["metadata"]["name"]) {
      CHECK(rs["spec"]["replicas"] == 0);
    } else {
      CHECK(rs["spec"]["replicas"] == 3);
      CHECK(rs["metadata"]["annotations"][kRevisionAnnotation] == "2");
    }
  }
  CHECK(Fetch(*c, kDeployments, "web")["metadata"]["annotations"][kRevisionAnnotation] == "2");

  // Back to the first template (what `kubectl rollout undo` does): the
  // first ReplicaSet comes back as revision 3, remembering revision 1.
  Patch(*c, "web", ImagePatch("nginx:1"));
  REQUIRE(RollOut(*c, "web", 3));
  Json back = Fetch(*c, kReplicaSets, rs1["metadata"]["name"]);
  CHECK(back["spec"]["replicas"] == 3);
  CHECK(back["metadata"]["annotations"][kRevisionAnnotation] == "3");
  CHECK(back["metadata"]["annotations"][kRevisionHistoryAnnotation] == "1");
  CHECK(Items(*c, kPods, "app=web").size() == 3);
}

TEST_CASE("deployment: revisionHistoryLimit deletes the oldest empty ReplicaSets") {
  test::TestCluster cluster;
  auto c = cluster.InProcess();
  Running ctl(c.get());
  Json d = Deployment("hist", 1, "nginx:1");
  d["spec"]["revisionHistoryLimit"] = 1;
  REQUIRE(c->Create(kDeployments, "default", d).ok());
  REQUIRE(RollOut(*c, "hist", 1));
  for (const char* image : {"nginx:2", "nginx:3"}) {
    Patch(*c, "hist", ImagePatch(image));
    REQUIRE(RollOut(*c, "hist", 1));
  }
  // The new one and one old one are left.
  CHECK(Eventually([&] { return Items(*c, kReplicaSets, "app=hist").size() == 2; }));
}

TEST_CASE("deployment: Recreate empties the old ReplicaSet before making the new one") {
  test::TestCluster cluster;
  auto c = cluster.InProcess();
  Running ctl(c.get());
  Json d = Deployment("rec", 2, "nginx:1");
  d["spec"]["strategy"] = {{"type", "Recreate"}};
  REQUIRE(c->Create(kDeployments, "default", d).ok());
  REQUIRE(RollOut(*c, "rec", 2));
  Patch(*c, "rec", ImagePatch("nginx:2"));
  // Whenever there are two ReplicaSets, the old one is already at zero.
  bool overlapped = false;
  REQUIRE(Eventually([&] {
    std::vector<Json> rss = Items(*c, kReplicaSets, "app=rec");
    if (rss.size() == 2) {
      int with_replicas = 0;
      for (const Json& rs : rss) with_replicas += rs["spec"]["replicas"].get<int>() > 0;
      overlapped = overlapped || with_replicas > 1;
    }
    ReadyAll(*c, "rec");
    return rss.size() == 2 && RolledOut(*c, "rec", 2);
  }));
  CHECK_FALSE(overlapped);
}

TEST_CASE("deployment: paused only scales; resumed rolls out") {
  test::TestCluster cluster;
  auto c = cluster.InProcess();
  Running ctl(c.get());
  REQUIRE(c->Create(kDeployments, "default", Deployment("p", 1, "nginx:1")).ok());
  REQUIRE(RollOut(*c, "p", 1));
  Patch(*c, "p", {{"spec", {{"paused", true}}}});
  REQUIRE(Eventually([&] { return Condition(Fetch(*c, kDeployments, "p"), "Progressing") == "Unknown DeploymentPaused"; }));
  Patch(*c, "p", ImagePatch("nginx:2"));
  Patch(*c, "p", {{"spec", {{"replicas", 2}}}});
  REQUIRE(Eventually([&] { return Items(*c, kPods, "app=p").size() == 2; }));
  CHECK(Items(*c, kReplicaSets, "app=p").size() == 1);
  Patch(*c, "p", {{"spec", {{"paused", false}}}});
  REQUIRE(RollOut(*c, "p", 2));
  CHECK(Items(*c, kReplicaSets, "app=p").size() == 2);
}

TEST_CASE("deployment: progressDeadlineSeconds passes without progress") {
  test::TestCluster cluster;
  auto c = cluster.InProcess();
  Running ctl(c.get());
  Json d = Deployment("stuck", 1, "nginx:1");
  d["spec"]["progressDeadlineSeconds"] = 1;
  REQUIRE(c->Create(kDeployments, "default", d).ok());  // its pod never becomes ready
  CHECK(Eventually([&] {
    Json now = Fetch(*c, kDeployments, "stuck");
    return Condition(now, "Progressing") == "False ProgressDeadlineExceeded" &&
           Condition(now, "Available") == "False MinimumReplicasUnavailable";
  }));
}

TEST_CASE("deployment: a resize mid-rollout is spread over the ReplicaSets in proportion") {
  test::TestCluster cluster;
  auto c = cluster.InProcess();
  Running ctl(c.get());
  Json d = Deployment("prop", 10, "nginx:1");
  d["spec"]["strategy"] = {{"type", "RollingUpdate"}, {"rollingUpdate", {{"maxSurge", 3}, {"maxUnavailable", 0}}}};
  REQUIRE(c->Create(kDeployments, "default", d).ok());
  REQUIRE(RollOut(*c, "prop", 10));
  Patch(*c, "prop", ImagePatch("nginx:2"));  // new pods never become ready: the rollout stays at 10 + 3
  auto sizes = [&] {
    std::map<std::string, int> out;  // image -> spec.replicas
    for (const Json& rs : Items(*c, kReplicaSets, "app=prop"))
      out[rs["spec"]["template"]["spec"]["containers"][0]["image"]] = rs["spec"]["replicas"];
    return out;
  };
  REQUIRE(Eventually([&] { return sizes() == std::map<std::string, int>{{"nginx:1", 10}, {"nginx:2", 3}}; }));
  // 20 replicas + 3 surge = 23 where there were 13: the old ReplicaSet
  // gets round(10*23/13)-10 = 8 more, the new one the 2 left.
  Patch(*c, "prop", {{"spec", {{"replicas", 20}}}});
  CHECK(Eventually([&] { return sizes() == std::map<std::string, int>{{"nginx:1", 18}, {"nginx:2", 5}}; }));
}

TEST_CASE("deployment util: fenceposts, hash, annotations, proportions") {
  Json d = Deployment("x", 10, "i");
  d["spec"]["strategy"] = {{"type", "RollingUpdate"}, {"rollingUpdate", {{"maxSurge", "25%"}, {"maxUnavailable", "25%"}}}};
  CHECK(MaxSurge(d) == 3);        // 2.5 rounds up
  CHECK(MaxUnavailable(d) == 2);  // 2.5 rounds down
  d["spec"]["strategy"]["rollingUpdate"] = {{"maxSurge", 0}, {"maxUnavailable", "0%"}};
  CHECK(MaxUnavailable(d) == 1);  // never both zero
  d["spec"]["strategy"] = {{"type", "Recreate"}};
  CHECK(MaxSurge(d) == 0);
  CHECK(MaxUnavailable(d) == 0);

  Json tmpl = d["spec"]["template"];
  const std::string h = ComputeHash(tmpl, 0);
  CHECK(h == ComputeHash(tmpl, 0));
  CHECK(h != ComputeHash(tmpl, 1));
  CHECK(h.find_first_not_of("bcdfghjklmnpqrstvwxz2456789") == std::string::npos);
  Json hashed = tmpl;
  hashed["metadata"]["labels"][kPodTemplateHashLabel] = h;
  CHECK(EqualIgnoreHash(tmpl, hashed));

  Json owner = Deployment("x", 4, "i");
  owner["metadata"]["annotations"] = {{"team", "a"}, {"kubectl.kubernetes.io/last-applied-configuration", "{}"}};
  Json rs = {{"metadata", {{"name", "x-1"}}}, {"spec", {{"replicas", 0}}}};
  CHECK(SetNewReplicaSetAnnotations(owner, &rs, 1, false));
  CHECK(rs["metadata"]["annotations"]["team"] == "a");
  CHECK_FALSE(rs["metadata"]["annotations"].contains("kubectl.kubernetes.io/last-applied-configuration"));
  CHECK(rs["metadata"]["annotations"][kRevisionAnnotation] == "1");
  CHECK(rs["metadata"]["annotations"][kMaxReplicasAnnotation] == "5");  // 4 + 25% surge
  CHECK_FALSE(SetNewReplicaSetAnnotations(owner, &rs, 1, true));
  CHECK(SetNewReplicaSetAnnotations(owner, &rs, 4, true));  // rolled back to
  CHECK(rs["metadata"]["annotations"][kRevisionHistoryAnnotation] == "1");

  // Resizing 10 -> 15 mid-rollout (max-replicas 13 = 10 + surge 3): a
  // ReplicaSet holding 6 of them gets 15+4=19 * 6/13 rounded, minus 6.
  Json big = Deployment("x", 15, "i");
  Json part = {{"metadata", {{"annotations", {{kMaxReplicasAnnotation, "13"}}}}}, {"spec", {{"replicas", 6}}}};
  CHECK(ReplicaSetProportion(part, big, 6, 0) == 3);  // round(6*19/13)=9, +3 (within the 6 to add)
  CHECK(ReplicaSetProportion(part, big, 2, 0) == 2);  // capped by what is left to add
}

}  // namespace
}  // namespace kubit::controllers

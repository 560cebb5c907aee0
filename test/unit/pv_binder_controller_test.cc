// The PersistentVolume binder and the local-path provisioner against the
// real API server: binding both sides, phases, reclaim, the protection
// finalizers, the default class and the hand-off to the provisioner.
#include <doctest/doctest.h>

#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/client/informer.h"
#include "core/controllers/local_path_provisioner.h"
#include "core/controllers/pv_binder_controller.h"
#include "core/controllers/pv_binder_match.h"
#include "test/unit/client_test_cluster.h"

namespace kubit::controllers {
namespace {

using client::Json;
using client::Resource;

const Resource kVolumes{"", "v1", "persistentvolumes"};
const Resource kClaims{"", "v1", "persistentvolumeclaims"};
const Resource kClasses{"storage.k8s.io", "v1", "storageclasses"};
const Resource kPods{"", "v1", "pods"};
const Resource kNodes{"", "v1", "nodes"};

bool Eventually(const std::function<bool()>& done) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return done();
}

struct Running {
  explicit Running(client::Client* c)
      : informers(c), binder(c, &informers, nullptr), provisioner(c, &informers, nullptr) {
    informers.Start();
    REQUIRE(informers.WaitForSync(std::chrono::seconds(10)));
    binder.Start();
    provisioner.Start();
  }
  ~Running() {
    provisioner.Stop();
    binder.Stop();
    informers.Stop();
  }
  client::SharedInformerFactory informers;
  PersistentVolumeBinderController binder;
  LocalPathProvisioner provisioner;
};

Json Volume(const std::string& name, const std::string& size, const std::string& policy) {
  return {{"apiVersion", "v1"},
          {"kind", "PersistentVolume"},
          {"metadata", {{"name", name}}},
          {"spec",
           {{"capacity", {{"storage", size}}},
            {"accessModes", {"ReadWriteOnce"}},
            {"persistentVolumeReclaimPolicy", policy},
            {"storageClassName", "manual"},
            {"hostPath", {{"path", "/tmp/" + name}}}}}};
}

Json Claim(const std::string& name, const std::string& size, const Json& cls = "manual") {
  Json c = {{"apiVersion", "v1"},
            {"kind", "PersistentVolumeClaim"},
            {"metadata", {{"name", name}}},
            {"spec", {{"accessModes", {"ReadWriteOnce"}}, {"resources", {{"requests", {{"storage", size}}}}}}}};
  if (!cls.is_null()) c["spec"]["storageClassName"] = cls;
  return c;
}

Json Get(client::Client& c, const Resource& r, const std::string& ns, const std::string& name) {
  Json out;
  return c.Get(r, ns, name, &out).ok() ? out : Json();
}

std::string Phase(const Json& o) { return o.is_object() ? o["status"].value("phase", "") : ""; }

TEST_CASE("pv binder: a claim binds to the smallest matching volume; Retain releases, Delete without a provisioner fails") {
  test::TestCluster cluster;
  auto c = cluster.InProcess();
  Running r(c.get());
  REQUIRE(c->Create(kVolumes, "", Volume("big", "10Gi", "Retain")).ok());
  REQUIRE(c->Create(kVolumes, "", Volume("small", "2Gi", "Retain")).ok());
  REQUIRE(c->Create(kVolumes, "", Volume("tiny", "500Mi", "Delete")).ok());
  REQUIRE(c->Create(kClaims, "default", Claim("data", "1Gi")).ok());
  REQUIRE(Eventually([&] { return Phase(Get(*c, kClaims, "default", "data")) == "Bound"; }));
  Json claim = Get(*c, kClaims, "default", "data");
  CHECK(claim["spec"]["volumeName"] == "small");
  CHECK(claim["metadata"]["annotations"][kAnnBindCompleted] == "yes");
  CHECK(claim["metadata"]["annotations"][kAnnBoundByController] == "yes");
  CHECK(claim["status"]["capacity"]["storage"] == "2Gi");
  CHECK(claim["metadata"]["finalizers"] == Json::array({kPVCProtectionFinalizer}));
  REQUIRE(Eventually([&] { return Phase(Get(*c, kVolumes, "", "small")) == "Bound"; }));
  Json pv = Get(*c, kVolumes, "", "small");
  CHECK(pv["spec"]["claimRef"]["name"] == "data");
  CHECK(pv["spec"]["claimRef"]["uid"] == claim["metadata"]["uid"]);
  CHECK(pv["metadata"]["annotations"][kAnnBoundByController] == "yes");
  CHECK(pv["metadata"]["finalizers"] == Json::array({kPVProtectionFinalizer}));
  REQUIRE(Eventually([&] { return Phase(Get(*c, kVolumes, "", "big")) == "Available"; }));

  // Retain: the volume stays, Released, still naming the claim.
  REQUIRE(c->Delete(kClaims, "default", "data").ok());
  REQUIRE(Eventually([&] { return Phase(Get(*c, kVolumes, "", "small")) == "Released"; }));
  CHECK(Get(*c, kClaims, "default", "data").is_null());
  CHECK(Get(*c, kVolumes, "", "small")["spec"]["claimRef"]["name"] == "data");
  // A released volume is never bound again.
  REQUIRE(c->Create(kClaims, "default", Claim("again", "1Gi")).ok());
  REQUIRE(Eventually([&] { return Phase(Get(*c, kClaims, "default", "again")) == "Bound"; }));
  CHECK(Get(*c, kClaims, "default", "again")["spec"]["volumeName"] == "big");

  // Delete on a volume no provisioner made: Failed, as upstream says it.
  Json pre = Claim("pre", "100Mi");
  pre["spec"]["volumeName"] = "tiny";
  REQUIRE(c->Create(kClaims, "default", pre).ok());
  REQUIRE(Eventually([&] { return Phase(Get(*c, kVolumes, "", "tiny")) == "Bound"; }));
  REQUIRE(c->Delete(kClaims, "default", "pre").ok());
  REQUIRE(Eventually([&] { return Phase(Get(*c, kVolumes, "", "tiny")) == "Failed"; }));
  CHECK(Get(*c, kVolumes, "", "tiny")["status"]["message"] ==
        "error getting deleter volume plugin for volume \"tiny\": no deletable volume plugin matched");
}

TEST_CASE("pv binder: a bound claim whose volume is gone is Lost; a volume asked for by name that does not fit stays apart") {
  test::TestCluster cluster;
  auto c = cluster.InProcess();
  Running r(c.get());
  REQUIRE(c->Create(kVolumes, "", Volume("v1", "1Gi", "Retain")).ok());
  REQUIRE(c->Create(kClaims, "default", Claim("data", "1Gi")).ok());
  REQUIRE(Eventually([&] { return Phase(Get(*c, kVolumes, "", "v1")) == "Bound"; }));
  // pv-protection holds a bound volume...
  REQUIRE(c->Delete(kVolumes, "", "v1").ok());
  Json pv = Get(*c, kVolumes, "", "v1");
  REQUIRE(pv.is_object());
  CHECK(pv["metadata"].contains("deletionTimestamp"));
  // ... until someone takes the finalizer away by hand.
  REQUIRE(c->Patch(kVolumes, "", "v1", client::PatchType::kMerge, R"({"metadata":{"finalizers":null}})").ok());
  REQUIRE(Eventually([&] { return Phase(Get(*c, kClaims, "default", "data")) == "Lost"; }));

  REQUIRE(c->Create(kVolumes, "", Volume("small", "1Gi", "Retain")).ok());
  Json want = Claim("want", "5Gi");
  want["spec"]["volumeName"] = "small";
  REQUIRE(c->Create(kClaims, "default", want).ok());
  REQUIRE(Eventually([&] { return Phase(Get(*c, kClaims, "default", "want")) == "Pending"; }));
  REQUIRE(Eventually([&] { return Phase(Get(*c, kVolumes, "", "small")) == "Available"; }));
  CHECK_FALSE(Get(*c, kVolumes, "", "small")["spec"].contains("claimRef"));
}

TEST_CASE("pv binder: a claim a pod uses is removed only after the pod has finished") {
  test::TestCluster cluster;
  auto c = cluster.InProcess();
  Running r(c.get());
  REQUIRE(c->Create(kVolumes, "", Volume("v1", "1Gi", "Retain")).ok());
  REQUIRE(c->Create(kClaims, "default", Claim("data", "1Gi")).ok());
  REQUIRE(Eventually([&] { return Phase(Get(*c, kClaims, "default", "data")) == "Bound"; }));
  Json pod = {{"apiVersion", "v1"},
              {"kind", "Pod"},
              {"metadata", {{"name", "user"}}},
              {"spec",
               {{"containers", {{{"name", "c"}, {"image", "busybox"}}}},
                {"volumes", {{{"name", "d"}, {"persistentVolumeClaim", {{"claimName", "data"}}}}}}}}};
  REQUIRE(c->Create(kPods, "default", pod).ok());
  REQUIRE(c->Delete(kClaims, "default", "data").ok());
  // Let the binder see the deletion: the claim stays while the pod may run.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  Json claim = Get(*c, kClaims, "default", "data");
  REQUIRE(claim.is_object());
  CHECK(claim["metadata"]["finalizers"] == Json::array({kPVCProtectionFinalizer}));
  Json status = {{"status", {{"phase", "Succeeded"}}}};
  REQUIRE(c->Patch(kPods, "default", "user", client::PatchType::kMerge, status.dump(), nullptr, {}, "status").ok());
  REQUIRE(Eventually([&] { return Get(*c, kClaims, "default", "data").is_null(); }));
  REQUIRE(Eventually([&] { return Phase(Get(*c, kVolumes, "", "v1")) == "Released"; }));
}

TEST_CASE("pv local-path: default class, first consumer, provisioning on the selected node, Delete reclaim") {
  test::TestCluster cluster;
  auto c = cluster.InProcess();
  Running r(c.get());
  Json cls = {{"apiVersion", "storage.k8s.io/v1"},
              {"kind", "StorageClass"},
              {"metadata", {{"name", "local-path"}, {"annotations", {{kAnnDefaultClass, "true"}}}}},
              {"provisioner", kLocalPathProvisioner},
              {"reclaimPolicy", "Delete"},
              {"volumeBindingMode", "WaitForFirstConsumer"}};
  REQUIRE(c->Create(kClasses, "", cls).ok());
  Json node = {{"apiVersion", "v1"},
               {"kind", "Node"},
               {"metadata", {{"name", "board1"}, {"annotations", {{kAnnLocalPathDir, "/data/storage"}}}}}};
  REQUIRE(c->Create(kNodes, "", node).ok());
  REQUIRE(c->Create(kClaims, "default", Claim("db", "64Mi", nullptr)).ok());
  REQUIRE(Eventually([&] {
    return Get(*c, kClaims, "default", "db")["spec"].value("storageClassName", "") == "local-path";
  }));
  // No node yet: Pending, and nothing provisioned.
  REQUIRE(Eventually([&] { return Phase(Get(*c, kClaims, "default", "db")) == "Pending"; }));
  Json claim = Get(*c, kClaims, "default", "db");
  std::string uid = claim["metadata"]["uid"];
  CHECK_FALSE(claim["metadata"].value("annotations", Json::object()).contains(kAnnStorageProvisioner));
  // A pod using it, not scheduled yet: the claim says it waits for that pod.
  Json pod = {{"apiVersion", "v1"},
              {"kind", "Pod"},
              {"metadata", {{"name", "user"}}},
              {"spec",
               {{"containers", {{{"name", "c"}, {"image", "busybox"}}}},
                {"volumes", {{{"name", "d"}, {"persistentVolumeClaim", {{"claimName", "db"}}}}}}}}};
  REQUIRE(c->Create(kPods, "default", pod).ok());
  CHECK(Eventually([&] {
    Json events;
    client::ListOptions o;
    o.field_selector = "involvedObject.name=db";
    if (!c->List({"", "v1", "events"}, "default", o, &events).ok()) return false;
    for (const Json& e : events["items"])
      if (e["reason"] == "WaitForPodScheduled" && e["message"] == "waiting for pod user to be scheduled") return true;
    return false;
  }));
  client::DeleteOptions now;
  now.grace_period_seconds = 0;
  REQUIRE(c->Delete(kPods, "default", "user", now).ok());
  // The scheduler's choice hands the claim to the provisioner.
  Json pick = {{"metadata", {{"annotations", {{kAnnSelectedNode, "board1"}}}}}};
  REQUIRE(c->Patch(kClaims, "default", "db", client::PatchType::kMerge, pick.dump()).ok());
  REQUIRE(Eventually([&] { return Phase(Get(*c, kClaims, "default", "db")) == "Bound"; }));
  claim = Get(*c, kClaims, "default", "db");
  CHECK(claim["spec"]["volumeName"] == "pvc-" + uid);
  CHECK(claim["metadata"]["annotations"][kAnnStorageProvisioner] == kLocalPathProvisioner);
  Json pv = Get(*c, kVolumes, "", "pvc-" + uid);
  // Pre-bound by the provisioner: the binder did not take the volume on its own.
  CHECK_FALSE(pv["metadata"]["annotations"].contains(kAnnBoundByController));
  CHECK(pv["metadata"]["annotations"][kAnnProvisionedBy] == kLocalPathProvisioner);
  CHECK(pv["spec"]["hostPath"]["path"] == "/data/storage/pvc-" + uid + "_default_db");
  CHECK(pv["spec"]["nodeAffinity"]["required"]["nodeSelectorTerms"][0]["matchExpressions"][0]["values"][0] == "board1");
  REQUIRE(Eventually([&] { return Phase(Get(*c, kVolumes, "", "pvc-" + uid)) == "Bound"; }));
  // Delete: the claim goes, then the volume.
  REQUIRE(c->Delete(kClaims, "default", "db").ok());
  REQUIRE(Eventually([&] { return Get(*c, kVolumes, "", "pvc-" + uid).is_null(); }));
}

}  // namespace
}  // namespace kubit::controllers

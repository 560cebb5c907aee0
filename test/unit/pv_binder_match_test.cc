// The PersistentVolume binder's matching rules, and the local-path
// provisioner's volume, without a cluster.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "core/controllers/local_path_provisioner.h"
#include "core/controllers/pv_binder_match.h"

namespace kubit::controllers {
namespace {

using Json = nlohmann::json;

Json Volume(const std::string& name, const std::string& size, const std::string& cls = "manual",
            Json modes = Json::array({"ReadWriteOnce"})) {
  return {{"metadata", {{"name", name}, {"labels", {{"tier", "fast"}}}}},
          {"spec", {{"capacity", {{"storage", size}}}, {"accessModes", modes}, {"storageClassName", cls},
                    {"hostPath", {{"path", "/tmp/" + name}}}}}};
}

Json Claim(const std::string& size, const std::string& cls = "manual", Json modes = Json::array({"ReadWriteOnce"})) {
  return {{"metadata", {{"name", "data"}, {"namespace", "ns1"}, {"uid", "u-1"}}},
          {"spec", {{"accessModes", modes}, {"storageClassName", cls},
                    {"resources", {{"requests", {{"storage", size}}}}}}}};
}

TEST_CASE("pv binder: a volume satisfies a claim by class, mode, access modes, capacity and selector") {
  std::string why;
  CHECK(VolumeSatisfiesClaim(Volume("a", "1Gi"), Claim("1Gi")));
  CHECK(VolumeSatisfiesClaim(Volume("a", "2Gi"), Claim("1500Mi")));
  CHECK_FALSE(VolumeSatisfiesClaim(Volume("a", "1Gi"), Claim("2Gi"), &why));
  CHECK(why == "capacity is too small");
  CHECK_FALSE(VolumeSatisfiesClaim(Volume("a", "1Gi", "other"), Claim("1Gi"), &why));
  CHECK(why == "storageClassName does not match");
  CHECK_FALSE(VolumeSatisfiesClaim(Volume("a", "1Gi"), Claim("1Gi", "manual", {"ReadWriteMany"}), &why));
  CHECK(why.find("access mode") == 0);
  // Every mode asked for must be offered; offering more is fine.
  CHECK(VolumeSatisfiesClaim(Volume("a", "1Gi", "manual", {"ReadWriteOnce", "ReadOnlyMany"}),
                             Claim("1Gi", "manual", {"ReadOnlyMany"})));
  Json block = Claim("1Gi");
  block["spec"]["volumeMode"] = "Block";
  CHECK_FALSE(VolumeSatisfiesClaim(Volume("a", "1Gi"), block, &why));
  CHECK(why == "volumeMode does not match");
  Json sel = Claim("1Gi");
  sel["spec"]["selector"] = {{"matchLabels", {{"tier", "fast"}}}};
  CHECK(VolumeSatisfiesClaim(Volume("a", "1Gi"), sel));
  sel["spec"]["selector"] = {{"matchLabels", {{"tier", "slow"}}}};
  CHECK_FALSE(VolumeSatisfiesClaim(Volume("a", "1Gi"), sel, &why));
  CHECK(why == "selector does not match");
  // The beta annotation names the class when the field does not.
  Json beta = Claim("1Gi", "");
  beta["spec"].erase("storageClassName");
  beta["metadata"]["annotations"] = {{"volume.beta.kubernetes.io/storage-class", "manual"}};
  CHECK(ClaimClassName(beta) == "manual");
  CHECK(VolumeSatisfiesClaim(Volume("a", "1Gi"), beta));
}

TEST_CASE("pv binder: the smallest free volume wins; a pre-bound one first; bound, released and deleting ones never") {
  Json big = Volume("big", "10Gi"), small = Volume("small", "2Gi"), tiny = Volume("tiny", "500Mi");
  std::vector<const Json*> all = {&big, &small, &tiny};
  const Json* got = FindMatchingVolume(Claim("1Gi"), all);
  REQUIRE(got);
  CHECK((*got)["metadata"]["name"] == "small");
  CHECK(FindMatchingVolume(Claim("20Gi"), all) == nullptr);

  // A volume whose claimRef names the claim (by name, or by uid too) is taken.
  Json pre = Volume("pre", "10Gi");
  pre["spec"]["claimRef"] = {{"namespace", "ns1"}, {"name", "data"}};
  std::vector<const Json*> with_pre = {&small, &pre};
  got = FindMatchingVolume(Claim("1Gi"), with_pre);
  REQUIRE(got);
  CHECK((*got)["metadata"]["name"] == "pre");
  // ... but not one reserved for another claim, or another uid of this name.
  pre["spec"]["claimRef"]["uid"] = "u-other";
  got = FindMatchingVolume(Claim("1Gi"), with_pre);
  REQUIRE(got);
  CHECK((*got)["metadata"]["name"] == "small");

  Json released = Volume("released", "1Gi");
  released["status"]["phase"] = "Released";
  Json deleting = Volume("deleting", "1Gi");
  deleting["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z";
  std::vector<const Json*> gone = {&released, &deleting};
  CHECK(FindMatchingVolume(Claim("1Gi"), gone) == nullptr);
}

TEST_CASE("pv binder: a volume's hostname affinity decides the nodes that reach it") {
  Json v = Volume("a", "1Gi");
  CHECK(VolumeReachableFrom(v, "n1"));
  v["spec"]["nodeAffinity"]["required"]["nodeSelectorTerms"] = Json::array(
      {{{"matchExpressions", Json::array({{{"key", "kubernetes.io/hostname"}, {"operator", "In"}, {"values", {"n1"}}}})}}});
  CHECK(VolumeReachableFrom(v, "n1"));
  CHECK_FALSE(VolumeReachableFrom(v, "n2"));
  CHECK(QuantityBytes("1Ki") == 1024);
  CHECK(QuantityBytes("1k") == 1000);
  CHECK(QuantityBytes("x") < 0);
}

TEST_CASE("pv local-path: the provisioned volume is a hostPath on the node's storage dir, pinned to the node") {
  Json claim = Claim("128Mi", "local-path");
  Json cls = {{"metadata", {{"name", "local-path"}}}, {"provisioner", kLocalPathProvisioner},
              {"reclaimPolicy", "Retain"}, {"volumeBindingMode", "WaitForFirstConsumer"}};
  Json pv = LocalPathVolume(claim, cls, "board1", "/data/storage");
  CHECK(pv["metadata"]["name"] == "pvc-u-1");
  CHECK(pv["metadata"]["annotations"][kAnnProvisionedBy] == kLocalPathProvisioner);
  CHECK(pv["spec"]["hostPath"]["path"] == "/data/storage/pvc-u-1_ns1_data");
  CHECK(pv["spec"]["hostPath"]["type"] == "DirectoryOrCreate");
  CHECK(pv["spec"]["persistentVolumeReclaimPolicy"] == "Retain");
  CHECK(pv["spec"]["capacity"]["storage"] == "128Mi");
  CHECK(pv["spec"]["claimRef"]["uid"] == "u-1");
  CHECK(VolumeReachableFrom(pv, "board1"));
  CHECK_FALSE(VolumeReachableFrom(pv, "board2"));
  // Pre-bound to the claim, so the binder takes it for that claim alone.
  std::vector<const Json*> all = {&pv};
  CHECK(FindMatchingVolume(claim, all) == &pv);
  cls.erase("reclaimPolicy");
  CHECK(LocalPathVolume(claim, cls, "board1", "/d")["spec"]["persistentVolumeReclaimPolicy"] == "Delete");
}

}  // namespace
}  // namespace kubit::controllers

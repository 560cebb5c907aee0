// The node's and the scheduler's sides of PersistentVolumes: a pod's claim
// mounted from its bound volume, the directories of deleted local volumes
// removed, the VolumeBinding filter, and what the Node authorizer lets a
// node read of volumes.
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/scheduler/volume_binding.h"
#include "runtime/kubelet/volumes.h"
#include "runtime/kubelet/volumes_local_path.h"
#include "test/unit/client_test_cluster.h"
#include "test/unit/scheduler_test_objects.h"
#include "test/unit/temp_dir.h"

namespace {

using Json = nlohmann::json;
using namespace kubit::kubelet;

ObjectSource Objects(std::map<std::string, Json> objects) {
  return [objects](const std::string& r, const std::string& ns, const std::string& n, Json* out, std::string*) {
    auto it = objects.find(r + "/" + ns + "/" + n);
    if (it == objects.end()) return Lookup::kNotFound;
    *out = it->second;
    return Lookup::kFound;
  };
}

Json PodWithClaim(const std::string& claim, bool read_only = false) {
  return {{"metadata", {{"name", "p"}, {"namespace", "ns"}, {"uid", "pod-1"}}},
          {"spec",
           {{"containers", {{{"name", "c"}}}},
            {"volumes", {{{"name", "data"}, {"persistentVolumeClaim", {{"claimName", claim}, {"readOnly", read_only}}}}}}}}};
}

TEST_CASE("pv kubelet: a claim's volume is its bound PV's directory, made as its hostPath type says") {
  kubit::test::TempDir tmp("kubit-pv");
  std::string path = tmp.path() + "/storage/pvc-u1_ns_data";
  Json claim = {{"metadata", {{"name", "data"}, {"uid", "u1"}}}, {"spec", {{"volumeName", "pvc-u1"}}}};
  Json pv = {{"metadata", {{"name", "pvc-u1"}, {"annotations", {{"pv.kubernetes.io/provisioned-by", "rancher.io/local-path"}}}}},
             {"spec", {{"hostPath", {{"path", path}, {"type", "DirectoryOrCreate"}}}, {"claimRef", {{"uid", "u1"}}}}}};
  Json pending = {{"metadata", {{"name", "later"}, {"uid", "u2"}}}, {"spec", Json::object()}};
  Json stolen = {{"metadata", {{"name", "stolen"}, {"uid", "u3"}}}, {"spec", {{"volumeName", "pvc-u1"}}}};
  Json local_claim = {{"metadata", {{"name", "local"}, {"uid", "u4"}}}, {"spec", {{"volumeName", "disk"}}}};
  Json local_pv = {{"metadata", {{"name", "disk"}}},
                   {"spec", {{"local", {{"path", tmp.path() + "/absent"}}}, {"claimRef", {{"uid", "u4"}}}}}};
  VolumeEnv env;
  env.data_dir = tmp.path() + "/data";
  env.objects = Objects({{"persistentvolumeclaims/ns/data", claim},
                         {"persistentvolumeclaims/ns/later", pending},
                         {"persistentvolumeclaims/ns/stolen", stolen},
                         {"persistentvolumeclaims/ns/local", local_claim},
                         {"persistentvolumes//pvc-u1", pv},
                         {"persistentvolumes//disk", local_pv}});
  VolumePaths paths;
  std::string error;
  REQUIRE_MESSAGE(SetUpVolumes(PodWithClaim("data", true), env, &paths, &error), error);
  CHECK(paths["data"].path == path);
  CHECK(paths["data"].read_only);
  struct stat st;
  REQUIRE(stat(path.c_str(), &st) == 0);
  CHECK(S_ISDIR(st.st_mode));
  CHECK((st.st_mode & 07777) == 0777);  // as k3s's helper makes them
  CHECK_FALSE(SetUpVolumes(PodWithClaim("later"), env, &paths, &error));
  CHECK(error == "persistentvolumeclaim \"later\" is not bound");
  CHECK_FALSE(SetUpVolumes(PodWithClaim("gone"), env, &paths, &error));
  CHECK(error == "persistentvolumeclaim \"gone\" not found");
  CHECK_FALSE(SetUpVolumes(PodWithClaim("stolen"), env, &paths, &error));
  CHECK(error == "persistentvolume \"pvc-u1\" is not bound to claim \"stolen\"");
  CHECK_FALSE(SetUpVolumes(PodWithClaim("local"), env, &paths, &error));
  CHECK(error.find("local volume \"disk\": " + tmp.path() + "/absent") == 0);
}

TEST_CASE("pv kubelet: a deleted local volume's directory is removed without following links") {
  kubit::test::TempDir tmp("kubit-pv");
  std::string outside = tmp.path() + "/outside";
  REQUIRE(mkdir(outside.c_str(), 0755) == 0);
  std::ofstream(outside + "/keep") << "x";
  std::string dir = tmp.path() + "/pvc-1_ns_data";
  REQUIRE(mkdir(dir.c_str(), 0777) == 0);
  REQUIRE(mkdir((dir + "/sub").c_str(), 0755) == 0);
  std::ofstream(dir + "/sub/file") << "data";
  REQUIRE(symlink(outside.c_str(), (dir + "/link").c_str()) == 0);
  std::string error;
  REQUIRE_MESSAGE(RemoveLocalVolumeDir(dir, &error), error);
  CHECK(access(dir.c_str(), F_OK) != 0);
  CHECK(access((outside + "/keep").c_str(), F_OK) == 0);
  CHECK(RemoveLocalVolumeDir(dir, &error));  // gone already: nothing to do
}

TEST_CASE("pv kubelet: the node publishes its storage directory and removes the directories of deleted volumes only") {
  kubit::test::TestCluster cluster;
  auto admin = cluster.InProcess();
  auto node = cluster.InProcess("system:node:n1", {"system:nodes"});
  const kubit::client::Resource pvs{"", "v1", "persistentvolumes"}, nodes{"", "v1", "nodes"};
  REQUIRE(admin->Create(nodes, "", {{"apiVersion", "v1"}, {"kind", "Node"}, {"metadata", {{"name", "n1"}}}}).ok());
  for (const auto& [name, on] : {std::pair<std::string, std::string>{"pvc-kept", "n1"}, {"pvc-other", "n2"}})
    REQUIRE(admin->Create(pvs, "", {{"apiVersion", "v1"},
                                    {"kind", "PersistentVolume"},
                                    {"metadata", {{"name", name}, {"annotations", {{"local.path.provisioner/selected-node", on}}}}},
                                    {"spec",
                                     {{"capacity", {{"storage", "1Gi"}}},
                                      {"accessModes", {"ReadWriteOnce"}},
                                      {"hostPath", {{"path", "/tmp/" + name}}}}}}).ok());
  kubit::test::TempDir data("kubit-pv");
  std::string storage = data.path() + "/storage";
  REQUIRE(mkdir(storage.c_str(), 0755) == 0);
  for (const char* d : {"pvc-gone_ns_a", "pvc-kept_ns_b", "pvc-other_ns_c", "lost+found"})
    REQUIRE(mkdir((storage + "/" + d).c_str(), 0777) == 0);
  std::ofstream(storage + "/pvc-gone_ns_a/file") << "data";
  LocalPathVolumes volumes(node.get(), "n1", data.path(), nullptr);
  CHECK(volumes.dir() == storage);
  volumes.Sync();
  Json got;
  REQUIRE(admin->Get(nodes, "", "n1", &got).ok());
  CHECK(got["metadata"]["annotations"]["kubit.io/local-path-dir"] == storage);
  CHECK(access((storage + "/pvc-gone_ns_a").c_str(), F_OK) != 0);
  CHECK(access((storage + "/pvc-kept_ns_b").c_str(), F_OK) == 0);   // its volume is there
  CHECK(access((storage + "/pvc-other_ns_c").c_str(), F_OK) == 0);  // refused: kept
  CHECK(access((storage + "/lost+found").c_str(), F_OK) == 0);      // not a volume's
}

TEST_CASE("pv scheduler: VolumeBinding keeps the nodes every bound volume's affinity allows") {
  using namespace kubit::scheduler;
  auto n1 = testing::NodeWith(testing::Node("n1"));
  auto n2 = testing::NodeWith(testing::Node("n2"));
  VolumeState st;
  CHECK(FilterVolumeBinding(st, *n1).ok());
  st.volume_affinities.push_back({NodeSelectorTerm{{{"kubernetes.io/hostname", "In", {"n1"}}}, {}}});
  CHECK(FilterVolumeBinding(st, *n1).ok());
  Status s = FilterVolumeBinding(st, *n2);
  CHECK(s.code == Code::kUnresolvable);
  CHECK(s.reasons == std::vector<std::string>{kReasonVolumeNodeConflict});
  st.missing_volume = true;
  CHECK(FilterVolumeBinding(st, *n1).reasons == std::vector<std::string>{kReasonVolumeMissing});
  st.unresolvable = "persistentvolumeclaim \"x\" not found";
  CHECK(FilterVolumeBinding(st, *n1).reasons == std::vector<std::string>{"persistentvolumeclaim \"x\" not found"});
}

TEST_CASE("pv scheduler: VolumeBinding reads a pod's claims, names the node on delayed ones and waits for their binding") {
  using namespace kubit::scheduler;
  kubit::test::TestCluster cluster;
  auto c = cluster.InProcess();
  const kubit::client::Resource claims{"", "v1", "persistentvolumeclaims"}, pvs{"", "v1", "persistentvolumes"},
      classes{"storage.k8s.io", "v1", "storageclasses"};
  auto cls = [](const std::string& name, const std::string& mode) {
    return Json{{"apiVersion", "storage.k8s.io/v1"}, {"kind", "StorageClass"}, {"metadata", {{"name", name}}},
                {"provisioner", "rancher.io/local-path"}, {"volumeBindingMode", mode}};
  };
  auto claim = [](const std::string& name, const std::string& cls) {
    return Json{{"apiVersion", "v1"}, {"kind", "PersistentVolumeClaim"}, {"metadata", {{"name", name}}},
                {"spec", {{"storageClassName", cls}, {"accessModes", {"ReadWriteOnce"}},
                          {"resources", {{"requests", {{"storage", "1Gi"}}}}}}}};
  };
  REQUIRE(c->Create(classes, "", cls("later", "WaitForFirstConsumer")).ok());
  REQUIRE(c->Create(classes, "", cls("now", "Immediate")).ok());
  Json none = cls("static", "WaitForFirstConsumer");
  none["provisioner"] = "kubernetes.io/no-provisioner";
  REQUIRE(c->Create(classes, "", none).ok());
  REQUIRE(c->Create(claims, "default", claim("st", "static")).ok());
  Json big = claim("st-big", "static");
  big["spec"]["resources"]["requests"]["storage"] = "5Gi";
  REQUIRE(c->Create(claims, "default", big).ok());
  REQUIRE(c->Create(claims, "default", claim("delayed", "later")).ok());
  REQUIRE(c->Create(claims, "default", claim("delayed2", "later")).ok());
  REQUIRE(c->Create(claims, "default", claim("immediate", "now")).ok());
  Json bound = claim("bound", "later");
  bound["spec"]["volumeName"] = "pv1";
  REQUIRE(c->Create(claims, "default", bound).ok());
  REQUIRE(c->Create(pvs, "", {{"apiVersion", "v1"}, {"kind", "PersistentVolume"}, {"metadata", {{"name", "pv1"}}},
                             {"spec", {{"capacity", {{"storage", "1Gi"}}}, {"accessModes", {"ReadWriteOnce"}},
                                       {"storageClassName", "static"}, {"hostPath", {{"path", "/tmp/pv1"}}},
                                       {"nodeAffinity", {{"required", {{"nodeSelectorTerms", {{{"matchExpressions",
                                           {{{"key", "kubernetes.io/hostname"}, {"operator", "In"}, {"values", {"n1"}}}}}}}}}}}}}}}).ok());
  kubit::client::SharedInformerFactory informers(c.get());
  std::atomic<int> changes{0};
  VolumeBinding binding(c.get(), &informers, [&] { changes++; });
  informers.Start();
  REQUIRE(informers.WaitForSync(std::chrono::seconds(10)));
  auto pod = [](std::vector<std::string> names) {
    Json vols = Json::array();
    for (const auto& n : names) vols.push_back({{"name", n}, {"persistentVolumeClaim", {{"claimName", n}}}});
    return Json{{"metadata", {{"name", "p"}, {"namespace", "default"}}}, {"spec", {{"volumes", vols}}}};
  };
  VolumeState st = binding.PreFilter(pod({"delayed", "bound"}));
  CHECK(st.unresolvable.empty());
  REQUIRE(st.volume_affinities.size() == 1);
  CHECK(FilterVolumeBinding(st, *testing::NodeWith(testing::Node("n1"))).ok());
  CHECK_FALSE(FilterVolumeBinding(st, *testing::NodeWith(testing::Node("n2"))).ok());
  CHECK(binding.PreFilter(pod({"immediate"})).unresolvable == kReasonUnboundImmediate);
  // A class without a provisioner: only nodes that reach a free volume that fits.
  VolumeState fixed = binding.PreFilter(pod({"st"}));
  REQUIRE(fixed.static_candidates.size() == 1);
  CHECK(FilterVolumeBinding(fixed, *testing::NodeWith(testing::Node("n1"))).ok());
  CHECK(FilterVolumeBinding(fixed, *testing::NodeWith(testing::Node("n2"))).reasons ==
        std::vector<std::string>{kReasonBindConflict});
  CHECK(FilterVolumeBinding(binding.PreFilter(pod({"st-big"})), *testing::NodeWith(testing::Node("n1"))).reasons ==
        std::vector<std::string>{kReasonBindConflict});
  CHECK(binding.PreFilter(pod({"nope"})).unresolvable == "persistentvolumeclaim \"nope\" not found");

  // PreBind names n1 on the delayed claim, then waits until a binder binds it.
  bool ok = false;
  std::string error;
  std::thread prebind([&] { ok = binding.PreBind(pod({"delayed", "bound"}), "n1", [] { return false; }, &error); });
  Json got;
  bool named = false;
  for (int i = 0; i < 200 && !named; i++) {
    REQUIRE(c->Get(claims, "default", "delayed", &got).ok());
    named = got["metadata"].value("annotations", Json::object()).value("volume.kubernetes.io/selected-node", "") == "n1";
    if (!named) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  CHECK(named);
  got["spec"]["volumeName"] = "pv2";
  REQUIRE(c->Update(claims, "default", got, &got).ok());
  got["status"]["phase"] = "Bound";
  REQUIRE(c->UpdateStatus(claims, "default", got).ok());
  prebind.join();
  CHECK_MESSAGE(ok, error);
  CHECK(changes > 0);
  // An unbound claim of an Immediate class is not the scheduler's to place.
  CHECK_FALSE(binding.PreBind(pod({"immediate"}), "n1", [] { return false; }, &error));
  CHECK(error == kReasonUnboundImmediate);
  // A stop ends the wait.
  CHECK_FALSE(binding.PreBind(pod({"delayed2"}), "n1", [] { return true; }, &error));
  CHECK(error == "binding volumes: timed out waiting for the condition");
  informers.Stop();
}

TEST_CASE("pv node authorizer: a node gets its own local-path volumes and learns of gone ones, not others'") {
  kubit::test::TestCluster cluster;
  auto admin = cluster.InProcess();
  auto n1 = cluster.InProcess("system:node:n1", {"system:nodes"});
  const kubit::client::Resource pvs{"", "v1", "persistentvolumes"};
  auto volume = [](const std::string& name, const std::string& node) {
    return Json{{"apiVersion", "v1"},
                {"kind", "PersistentVolume"},
                {"metadata", {{"name", name}, {"annotations", {{"local.path.provisioner/selected-node", node}}}}},
                {"spec",
                 {{"capacity", {{"storage", "1Gi"}}},
                  {"accessModes", {"ReadWriteOnce"}},
                  {"hostPath", {{"path", "/tmp/" + name}}}}}};
  };
  REQUIRE(admin->Create(pvs, "", volume("mine", "n1")).ok());
  REQUIRE(admin->Create(pvs, "", volume("theirs", "n2")).ok());
  Json got;
  CHECK(n1->Get(pvs, "", "mine", &got).ok());
  CHECK(n1->Get(pvs, "", "theirs", &got).IsForbidden());
  CHECK(n1->Get(pvs, "", "gone", &got).IsNotFound());
  Json list;
  CHECK(n1->List(pvs, "", {}, &list).IsForbidden());
  CHECK(n1->Delete(pvs, "", "mine").IsForbidden());
}

}  // namespace

// Unit tests of pod volumes (runtime/kubelet/volumes.h) and the
// AtomicWriter (atomic_writer.h), in a temporary directory.
#include "runtime/kubelet/volumes.h"

#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "runtime/kubelet/atomic_writer.h"

namespace {

using Json = nlohmann::json;
using namespace kubit::kubelet;

std::string TempDir() {
  char t[] = "/tmp/kubelet-vol-XXXXXX";
  REQUIRE(mkdtemp(t));
  return t;
}

std::string Read(const std::string& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string Link(const std::string& p) {
  char buf[512];
  ssize_t n = readlink(p.c_str(), buf, sizeof(buf));
  return n > 0 ? std::string(buf, size_t(n)) : "";
}

TEST_CASE("kubelet atomic writer: ..data swap, per-name links, stale names removed") {
  std::string dir = TempDir() + "/vol";
  bool changed = false;
  std::string error;
  REQUIRE(WriteAtomic(dir, {{"a", {"1", 0644}}, {"sub/b", {"2", 0400}}}, &changed, &error));
  CHECK(changed);
  CHECK(Link(dir + "/a") == "..data/a");
  CHECK(Link(dir + "/sub") == "..data/sub");
  std::string v1 = Link(dir + "/..data");
  CHECK(v1.rfind("..", 0) == 0);
  CHECK(Read(dir + "/a") == "1");
  CHECK(Read(dir + "/sub/b") == "2");
  struct stat st;
  REQUIRE(stat((dir + "/sub/b").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0400);

  REQUIRE(WriteAtomic(dir, {{"a", {"1", 0644}}, {"sub/b", {"2", 0400}}}, &changed, &error));
  CHECK_FALSE(changed);  // same payload: nothing written
  CHECK(Link(dir + "/..data") == v1);

  REQUIRE(WriteAtomic(dir, {{"a", {"one", 0644}}, {"c", {"3", 0644}}}, &changed, &error));
  CHECK(changed);
  CHECK(Read(dir + "/a") == "one");
  CHECK(Read(dir + "/c") == "3");
  CHECK(access((dir + "/sub").c_str(), F_OK) != 0);       // no longer in the payload
  CHECK(access((dir + "/" + v1).c_str(), F_OK) != 0);     // old version removed
  CHECK_FALSE(WriteAtomic(dir, {{"../x", {"", 0644}}}, &changed, &error));
  CHECK(error == "invalid path in volume payload: \"../x\"");
  CHECK_FALSE(ValidPayloadPath("/abs"));
  CHECK_FALSE(ValidPayloadPath("a/../b"));
  CHECK_FALSE(ValidPayloadPath("..data"));
  CHECK(ValidPayloadPath("a/b.txt"));
}

ObjectSource Fake(std::map<std::string, Json> objects) {
  return [objects](const std::string& r, const std::string& ns, const std::string& n, Json* out,
                   std::string*) {
    auto it = objects.find(r + "/" + ns + "/" + n);
    if (it == objects.end()) return Lookup::kNotFound;
    *out = it->second;
    return Lookup::kFound;
  };
}

TEST_CASE("kubelet volumes: configMap items and modes, secret, downwardAPI, projected, errors") {
  Json pod = Json::parse(R"j({"metadata":{"name":"p","namespace":"ns","uid":"u1","labels":{"a":"b"}},
    "spec":{"containers":[{"name":"c","resources":{"limits":{"memory":"2Mi"}}}]}})j");
  VolumeEnv env;
  env.objects = Fake({{"configmaps/ns/cfg", Json::parse(R"j({"data":{"k1":"v1","k2":"v2"}})j")},
                      {"secrets/ns/s", Json::parse(R"j({"data":{"pw":"aGk="}})j")}});
  env.tokens = [](const Json&, const std::string& aud, int64_t exp, std::string* t, std::string*) {
    *t = "token-for-" + aud + "-" + std::to_string(exp);
    return true;
  };
  Payload p;
  std::string error;
  REQUIRE(VolumePayload(pod, Json::parse(R"j({"configMap":{"name":"cfg","defaultMode":384,
      "items":[{"key":"k2","path":"dir/two","mode":256}]}})j"), env, &p, &error));
  CHECK(p.size() == 1);
  CHECK(p["dir/two"].data == "v2");
  CHECK(p["dir/two"].mode == 0400);
  p.clear();
  REQUIRE(VolumePayload(pod, Json::parse(R"j({"secret":{"secretName":"s"}})j"), env, &p, &error));
  CHECK(p["pw"].data == "hi");
  p.clear();
  REQUIRE(VolumePayload(pod, Json::parse(R"j({"projected":{"defaultMode":420,"sources":[
      {"serviceAccountToken":{"audience":"vault","expirationSeconds":600,"path":"tok"}},
      {"downwardAPI":{"items":[{"path":"labels","fieldRef":{"fieldPath":"metadata.labels"}},
        {"path":"mem","resourceFieldRef":{"containerName":"c","resource":"limits.memory","divisor":"1Ki"}}]}},
      {"configMap":{"name":"cfg","items":[{"key":"k1","path":"k1"}]}}]}})j"), env, &p, &error));
  CHECK(p["tok"].data == "token-for-vault-600");
  CHECK(p["labels"].data == "a=\"b\"");
  CHECK(p["mem"].data == "2048");
  CHECK(p["k1"].data == "v1");
  CHECK_FALSE(VolumePayload(pod, Json::parse(R"j({"configMap":{"name":"gone"}})j"), env, &p, &error));
  CHECK(error == "configmap \"gone\" not found");
  CHECK(VolumePayload(pod, Json::parse(R"j({"configMap":{"name":"gone","optional":true}})j"), env, &p, &error));
  CHECK_FALSE(VolumePayload(pod, Json::parse(R"j({"configMap":{"name":"cfg","items":[{"key":"zz","path":"z"}]}})j"), env, &p, &error));
  CHECK(error == "configmap references non-existent config key: zz");
}

TEST_CASE("kubelet volumes: hostPath types and volume mounts with subPath") {
  std::string dir = TempDir();
  std::string error;
  CHECK(CheckHostPath(dir + "/new/dir", "DirectoryOrCreate", &error));
  CHECK(CheckHostPath(dir + "/new/dir", "Directory", &error));
  CHECK_FALSE(CheckHostPath(dir + "/new/dir", "File", &error));
  CHECK(error == "hostPath type check failed: " + dir + "/new/dir is not a file");
  CHECK(CheckHostPath(dir + "/f/file", "FileOrCreate", &error));
  CHECK(CheckHostPath(dir + "/f/file", "File", &error));
  CHECK_FALSE(CheckHostPath(dir + "/f/file", "Socket", &error));
  CHECK_FALSE(CheckHostPath(dir + "/missing", "Directory", &error));
  CHECK(CheckHostPath("/dev/null", "CharDevice", &error));

  VolumePaths vols = {{"data", {dir + "/new", false}}, {"cfg", {dir + "/cfg", true}}};
  Json c = Json::parse(R"j({"name":"c","volumeMounts":[{"name":"data","mountPath":"/data","subPathExpr":"$(POD)"},
      {"name":"cfg","mountPath":"/etc/cfg"}]})j");
  std::vector<kubit::runtime::container::Mount> mounts;
  REQUIRE(ContainerMounts(c, vols, {{"POD", "p1"}}, &mounts, &error));
  REQUIRE(mounts.size() == 2);
  CHECK(mounts[0].source == dir + "/new/p1");
  CHECK(access((dir + "/new/p1").c_str(), F_OK) == 0);  // made for the subPath
  CHECK_FALSE(mounts[0].read_only);
  CHECK(mounts[1].read_only);
  Json bad = Json::parse(R"j({"name":"c","volumeMounts":[{"name":"nope","mountPath":"/x"}]})j");
  CHECK_FALSE(ContainerMounts(bad, vols, {}, &mounts, &error));
  CHECK(error == "cannot find volume \"nope\" to mount into container \"c\"");
  Json escape = Json::parse(R"j({"name":"c","volumeMounts":[{"name":"data","mountPath":"/x","subPath":"../etc"}]})j");
  CHECK_FALSE(ContainerMounts(escape, vols, {}, &mounts, &error));
}

TEST_CASE("kubelet volumes: set up under the pod's directory, torn down whole") {
  std::string data = TempDir();
  Json pod = Json::parse(R"j({"metadata":{"name":"p","namespace":"ns","uid":"u9"},
    "spec":{"volumes":[{"name":"scratch","emptyDir":{}},{"name":"info","downwardAPI":{"items":[
      {"path":"name","fieldRef":{"fieldPath":"metadata.name"}}]}}],"containers":[{"name":"c"}]}})j");
  VolumeEnv env;
  env.data_dir = data;
  env.objects = Fake({});
  VolumePaths paths;
  std::string error;
  REQUIRE(SetUpVolumes(pod, env, &paths, &error));
  CHECK(paths["scratch"].path == data + "/agent/pods/u9/volumes/scratch");
  CHECK_FALSE(paths["scratch"].read_only);
  CHECK(paths["info"].read_only);
  CHECK(Read(paths["info"].path + "/name") == "p");
  struct stat st;
  REQUIRE(stat(paths["scratch"].path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0777);
  REQUIRE(TearDownVolumes(data, "u9", &error));
  CHECK(access((data + "/agent/pods/u9").c_str(), F_OK) != 0);
}

}  // namespace

namespace {

TEST_CASE("kubelet volumes: emptyDir medium Memory is a tmpfs of sizeLimit, unmounted at teardown") {
  std::string data = TempDir();
  Json pod = Json::parse(R"j({"metadata":{"name":"p","namespace":"ns","uid":"u10"},
    "spec":{"volumes":[{"name":"ram","emptyDir":{"medium":"Memory","sizeLimit":"4Mi"}}],"containers":[{"name":"c"}]}})j");
  VolumeEnv env;
  env.data_dir = data;
  env.objects = Fake({});
  VolumePaths paths;
  std::string error;
  REQUIRE(SetUpVolumes(pod, env, &paths, &error));
  std::string dir = paths["ram"].path;
  std::ifstream mounts("/proc/self/mountinfo");
  std::string line, found;
  while (std::getline(mounts, line))
    if (line.find(" " + dir + " ") != std::string::npos) found = line;
  CHECK(found.find(" - tmpfs ") != std::string::npos);
  CHECK(found.find("size=4096k") != std::string::npos);
  REQUIRE(SetUpVolumes(pod, env, &paths, &error));  // again: not mounted twice
  REQUIRE(TearDownVolumes(data, "u10", &error));
  CHECK(access(dir.c_str(), F_OK) != 0);
}

}  // namespace

// Unit tests of the auto-deploy directory's parts that need no server:
// reading a manifest file into objects in applying order, Addon names made
// of file names, Addon objects both ways.
#include <doctest/doctest.h>

#include <sys/stat.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "manifests/addon.h"
#include "manifests/apply.h"
#include "manifests/bundled.h"
#include "test/unit/temp_dir.h"

namespace {

using kubit::manifests::AddonFrom;
using kubit::manifests::AddonName;
using kubit::manifests::AddonObject;
using kubit::manifests::ParseManifest;
using Json = nlohmann::json;

TEST_CASE("manifests: documents in applying order, lists expanded, empty documents skipped") {
  std::vector<Json> objects;
  std::string error;
  REQUIRE(ParseManifest(R"(apiVersion: v1
kind: ConfigMap
metadata: {name: a}
---
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
---
apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: Secret, metadata: {name: s}}
- {apiVersion: v1, kind: Namespace, metadata: {name: ns1}}
)",
                        &objects, &error));
  REQUIRE(objects.size() == 4);
  CHECK(objects[0]["kind"] == "Namespace");
  CHECK(objects[1]["kind"] == "CustomResourceDefinition");
  CHECK(objects[2]["metadata"]["name"] == "a");  // file order among the rest
  CHECK(objects[3]["metadata"]["name"] == "s");
}

TEST_CASE("manifests: JSON files are read as YAML is") {
  std::vector<Json> objects;
  std::string error;
  REQUIRE(ParseManifest(R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"j"}})", &objects, &error));
  REQUIRE(objects.size() == 1);
  CHECK(objects[0]["metadata"]["name"] == "j");
}

TEST_CASE("manifests: what cannot be applied is refused with the document's number") {
  std::vector<Json> objects;
  std::string error;
  CHECK_FALSE(ParseManifest("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\nkind: Secret\nmetadata: {name: b}\n",
                            &objects, &error));
  CHECK(error == "document 2: apiVersion not set");
  CHECK_FALSE(ParseManifest("apiVersion: v1\nmetadata: {name: a}\n", &objects, &error));
  CHECK(error == "document 1: kind not set");
  CHECK_FALSE(ParseManifest("apiVersion: v1\nkind: Pod\nmetadata: {generateName: p-}\n", &objects, &error));
  CHECK(error.find("metadata.name not set") != std::string::npos);
  CHECK_FALSE(ParseManifest("- 1\n- 2\n", &objects, &error));
  CHECK(error == "document 1: not an object");
  CHECK_FALSE(ParseManifest("a: [b\n", &objects, &error));
  CHECK(error.find("error converting YAML to JSON") == 0);
}

TEST_CASE("manifests: Addon names from file names") {
  CHECK(AddonName("coredns.yaml") == "coredns");
  CHECK(AddonName("My_App.v2.yml") == "my-app.v2");
  CHECK(AddonName("_x_.json") == "x");
  CHECK(AddonName("___.yaml") == "");
}

TEST_CASE("manifests: an Addon object and back") {
  kubit::manifests::Addon a{"web", "/d/web.yaml", "abc", {{"v1", "ConfigMap", "default", "c"}, {"v1", "Namespace", "", "n"}}};
  Json obj = AddonObject(a);
  CHECK(obj["apiVersion"] == "k3s.cattle.io/v1");
  CHECK(obj["metadata"]["namespace"] == "kube-system");
  CHECK(obj["spec"]["checksum"] == "abc");
  CHECK_FALSE(obj["status"]["objects"][1].contains("namespace"));
  kubit::manifests::Addon back = AddonFrom(obj);
  CHECK(back.name == "web");
  CHECK(back.source == "/d/web.yaml");
  CHECK(back.checksum == "abc");
  CHECK(back.objects == a.objects);
  a.checksum.clear();
  CHECK_FALSE(AddonObject(a)["spec"].contains("checksum"));
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST_CASE("manifests: the bundled manifests are written, removed when disabled, left alone beside a .skip") {
  kubit::test::TempDir dir;
  std::string m = dir.File("manifests"), error;
  REQUIRE(kubit::manifests::WriteBundledManifests(m, {}, &error));
  std::string traefik = Slurp(m + "/traefik.yaml");
  CHECK(traefik.find("kind: IngressClass") != std::string::npos);
  std::vector<Json> objects;
  REQUIRE(ParseManifest(traefik, &objects, &error));  // every bundled file is a good manifest
  for (const auto& b : kubit::manifests::BundledManifests()) CHECK(ParseManifest(b.text, &objects, &error));
  // Unchanged: not written again.
  struct stat before, after;
  REQUIRE(stat((m + "/traefik.yaml").c_str(), &before) == 0);
  REQUIRE(kubit::manifests::WriteBundledManifests(m, {}, &error));
  REQUIRE(stat((m + "/traefik.yaml").c_str(), &after) == 0);
  CHECK(before.st_ino == after.st_ino);
  // A user's edit beside a .skip stays; without one, it is put back.
  std::ofstream(m + "/traefik.yaml") << "# mine\n";
  std::ofstream(m + "/traefik.yaml.skip");
  REQUIRE(kubit::manifests::WriteBundledManifests(m, {}, &error));
  CHECK(Slurp(m + "/traefik.yaml") == "# mine\n");
  REQUIRE(unlink((m + "/traefik.yaml.skip").c_str()) == 0);
  REQUIRE(kubit::manifests::WriteBundledManifests(m, {}, &error));
  CHECK(Slurp(m + "/traefik.yaml") == traefik);
  // --disable traefik: the file goes (and the deployer deletes its objects).
  REQUIRE(kubit::manifests::WriteBundledManifests(m, {"traefik"}, &error));
  CHECK(access((m + "/traefik.yaml").c_str(), F_OK) != 0);
}

}  // namespace

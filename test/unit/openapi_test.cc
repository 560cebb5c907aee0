// Unit tests of kubit::api's OpenAPI v3 documents: the root, the documents
// of the group versions, what kubectl reads from them.
#include "core/api/openapi.h"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/api/resources.h"

namespace {

using Json = nlohmann::json;
using kubit::api::OpenApiV3Document;
using kubit::api::OpenApiV3Root;

Json Document(const std::string& path, std::string* hash = nullptr) {
  std::string json, h;
  REQUIRE(OpenApiV3Document(path, &json, &h));
  if (hash) *hash = h;
  return Json::parse(json);
}

const Json& Schema(const Json& doc, const std::string& name) {
  const Json& schemas = doc["components"]["schemas"];
  INFO(name);
  REQUIRE(schemas.contains(name));
  return schemas[name];
}

// Follows {"allOf":[{"$ref":...}]} or {"$ref":...} to the schema's name.
std::string RefName(const Json& s) {
  const Json& r = s.contains("allOf") ? s["allOf"][0] : s;
  std::string ref = r.value("$ref", "");
  const std::string prefix = "#/components/schemas/";
  REQUIRE(ref.rfind(prefix, 0) == 0);
  return ref.substr(prefix.size());
}

bool HasParam(const Json& op, const std::string& name) {
  for (const Json& p : op.value("parameters", Json::array()))
    if (p.value("name", "") == name) return true;
  return false;
}

TEST_CASE("openapi: the root lists every group version with its document's hash") {
  Json root = Json::parse(OpenApiV3Root());
  REQUIRE(root["paths"].is_object());
  std::set<std::string> want;
  for (const auto& g : kubit::api::BuiltinGroups())
    for (const auto& v : g.versions) want.insert(g.group.empty() ? "api/" + v : "apis/" + g.group + "/" + v);
  CHECK(want.count("api/v1"));
  CHECK(want.count("apis/apps/v1"));
  std::set<std::string> have;
  for (auto it = root["paths"].begin(); it != root["paths"].end(); ++it) {
    have.insert(it.key());
    std::string hash;
    Document(it.key(), &hash);
    CHECK(hash.size() == 128);
    CHECK(it.value()["serverRelativeURL"] == "/openapi/v3/" + it.key() + "?hash=" + hash);
  }
  CHECK(have == want);
  std::string json;
  CHECK_FALSE(OpenApiV3Document("apis/nosuch.example.com/v1", &json, nullptr));
  CHECK_FALSE(OpenApiV3Document("api/v2", &json, nullptr));
  // The same every time.
  CHECK(OpenApiV3Root() == root.dump());
}

TEST_CASE("openapi: api/v1 has the operations kubectl looks for") {
  Json doc = Document("api/v1");
  CHECK(doc["openapi"] == "3.0.0");
  CHECK(doc["info"]["title"] == "Kubernetes");
  const Json& paths = doc["paths"];
  REQUIRE(paths.contains("/api/v1/namespaces/{namespace}/configmaps/{name}"));
  const Json& item = paths["/api/v1/namespaces/{namespace}/configmaps/{name}"];
  REQUIRE(item.contains("patch"));
  const Json& patch = item["patch"];
  CHECK(HasParam(patch, "fieldValidation"));
  CHECK(HasParam(patch, "fieldManager"));
  CHECK(HasParam(patch, "dryRun"));
  CHECK(HasParam(patch, "force"));
  CHECK(patch["x-kubernetes-action"] == "patch");
  CHECK(patch["x-kubernetes-group-version-kind"] ==
        Json::parse(R"({"group":"","kind":"ConfigMap","version":"v1"})"));
  CHECK(patch["requestBody"]["content"].contains("application/strategic-merge-patch+json"));
  for (const char* verb : {"get", "put", "delete"}) CHECK(item.contains(verb));
  CHECK(item["put"]["x-kubernetes-action"] == "put");
  CHECK(HasParam(item["put"], "fieldValidation"));
  CHECK(item["delete"]["x-kubernetes-action"] == "delete");
  CHECK(HasParam(item, "name"));
  CHECK(HasParam(item, "namespace"));

  const Json& coll = paths["/api/v1/namespaces/{namespace}/configmaps"];
  CHECK(coll["get"]["x-kubernetes-action"] == "list");
  CHECK(HasParam(coll["get"], "labelSelector"));
  CHECK(coll["post"]["x-kubernetes-action"] == "post");
  CHECK(HasParam(coll["post"], "fieldValidation"));
  CHECK(coll["delete"]["x-kubernetes-action"] == "deletecollection");
  CHECK(RefName(coll["get"]["responses"]["200"]["content"]["application/json"]["schema"]) ==
        "io.k8s.api.core.v1.ConfigMapList");
  CHECK(paths.contains("/api/v1/configmaps"));
  CHECK(paths.contains("/api/v1/watch/namespaces/{namespace}/configmaps/{name}"));

  // Cluster-scoped types, status subresources.
  CHECK(paths.contains("/api/v1/nodes/{name}"));
  CHECK_FALSE(paths.contains("/api/v1/namespaces/{namespace}/nodes"));
  CHECK(paths["/api/v1/namespaces/{namespace}/pods/{name}/status"].contains("patch"));
  CHECK_FALSE(paths.contains("/api/v1/namespaces/{namespace}/configmaps/{name}/status"));
  // Services have no deletecollection.
  CHECK_FALSE(paths["/api/v1/namespaces/{namespace}/services"].contains("delete"));
}

TEST_CASE("openapi: schemas carry types and the patch extensions") {
  Json doc = Document("api/v1");
  const Json& spec = Schema(doc, "io.k8s.api.core.v1.PodSpec");
  const Json& containers = spec["properties"]["containers"];
  CHECK(containers["type"] == "array");
  CHECK(containers["x-kubernetes-patch-merge-key"] == "name");
  CHECK(containers["x-kubernetes-patch-strategy"] == "merge");
  CHECK(containers["x-kubernetes-list-type"] == "map");
  CHECK(containers["x-kubernetes-list-map-keys"] == Json::array({"name"}));
  CHECK(RefName(containers["items"]) == "io.k8s.api.core.v1.Container");
  CHECK(spec["properties"]["volumes"]["x-kubernetes-patch-strategy"] == "merge,retainKeys");
  CHECK(spec["properties"]["tolerations"]["x-kubernetes-list-type"] == "atomic");
  CHECK_FALSE(spec["properties"]["tolerations"].contains("x-kubernetes-patch-strategy"));
  CHECK(spec["properties"]["nodeSelector"]["type"] == "object");
  CHECK(spec["properties"]["nodeSelector"]["additionalProperties"]["type"] == "string");
  CHECK(spec["properties"]["nodeSelector"]["x-kubernetes-map-type"] == "atomic");
  CHECK(spec["properties"]["hostNetwork"]["type"] == "boolean");
  CHECK(spec["properties"]["activeDeadlineSeconds"] ==
        Json::parse(R"({"type":"integer","format":"int64"})"));
  CHECK(spec["required"] == Json::array({"containers"}));

  const Json& container = Schema(doc, "io.k8s.api.core.v1.Container");
  const Json& ports = container["properties"]["ports"];
  CHECK(ports["x-kubernetes-patch-merge-key"] == "containerPort");
  CHECK(ports["x-kubernetes-list-map-keys"] == Json::array({"containerPort", "protocol"}));
  CHECK(container["properties"]["args"] ==
        Json::parse(R"({"type":"array","items":{"type":"string","default":""},
                        "x-kubernetes-list-type":"atomic"})"));
  CHECK(container["properties"]["name"] == Json::parse(R"({"type":"string","default":""})"));
  CHECK(container["required"] == Json::array({"name"}));
  const Json& port = Schema(doc, "io.k8s.api.core.v1.ContainerPort");
  CHECK(port["properties"]["containerPort"] ==
        Json::parse(R"({"type":"integer","format":"int32","default":0})"));

  // Volume inlines VolumeSource.
  const Json& volume = Schema(doc, "io.k8s.api.core.v1.Volume");
  CHECK(volume["properties"].contains("configMap"));
  CHECK(volume["properties"].contains("name"));
  CHECK_FALSE(volume["properties"].contains("volumeSource"));

  // Kinds: apiVersion, kind, metadata and their group-version-kind.
  const Json& pod = Schema(doc, "io.k8s.api.core.v1.Pod");
  CHECK(pod["type"] == "object");
  CHECK(pod["properties"]["apiVersion"]["type"] == "string");
  CHECK(pod["properties"]["kind"]["type"] == "string");
  CHECK(pod["properties"]["metadata"] ==
        Json::parse(R"({"allOf":[{"$ref":"#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}],
                        "default":{}})"));
  CHECK(pod["x-kubernetes-group-version-kind"] ==
        Json::parse(R"([{"group":"","kind":"Pod","version":"v1"}])"));

  const Json& meta = Schema(doc, "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta");
  CHECK(meta["properties"]["finalizers"]["x-kubernetes-patch-strategy"] == "merge");
  CHECK(meta["properties"]["finalizers"]["x-kubernetes-list-type"] == "set");
  CHECK(meta["properties"]["ownerReferences"]["x-kubernetes-patch-merge-key"] == "uid");
  CHECK(meta["properties"]["creationTimestamp"]["allOf"][0]["$ref"] ==
        "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.Time");
  CHECK(Schema(doc, "io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference")["x-kubernetes-map-type"] ==
        "atomic");

  // Special values as upstream shows them.
  CHECK(Schema(doc, "io.k8s.apimachinery.pkg.apis.meta.v1.Time") ==
        Json::parse(R"({"type":"string","format":"date-time"})"));
  CHECK(Schema(doc, "io.k8s.apimachinery.pkg.api.resource.Quantity") ==
        Json::parse(R"({"oneOf":[{"type":"string"},{"type":"number"}]})"));
  CHECK(Schema(doc, "io.k8s.apimachinery.pkg.util.intstr.IntOrString") ==
        Json::parse(R"({"format":"int-or-string","oneOf":[{"type":"integer"},{"type":"string"}]})"));
  const Json& limits = Schema(doc, "io.k8s.api.core.v1.ResourceRequirements")["properties"]["limits"];
  CHECK(RefName(limits["additionalProperties"]) == "io.k8s.apimachinery.pkg.api.resource.Quantity");
  const Json& secret = Schema(doc, "io.k8s.api.core.v1.Secret");
  CHECK(secret["properties"]["data"]["additionalProperties"] ==
        Json::parse(R"({"type":"string","format":"byte"})"));

  // The options kinds belong to every group version.
  const Json& del = Schema(doc, "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions");
  bool core = false, apps = false;
  for (const Json& g : del["x-kubernetes-group-version-kind"]) {
    core = core || g == Json::parse(R"({"group":"","kind":"DeleteOptions","version":"v1"})");
    apps = apps || g == Json::parse(R"({"group":"apps","kind":"DeleteOptions","version":"v1"})");
  }
  CHECK(core);
  CHECK(apps);

  // Every reference resolves.
  std::vector<const Json*> pending = {&doc};
  while (!pending.empty()) {
    const Json* j = pending.back();
    pending.pop_back();
    if (j->is_object()) {
      if (j->contains("$ref")) Schema(doc, RefName(*j));
      for (const auto& v : j->items()) pending.push_back(&v.value());
    } else if (j->is_array()) {
      for (const Json& v : *j) pending.push_back(&v);
    }
  }
}

TEST_CASE("openapi: apps/v1 has scale subresources and the deployment strategy") {
  Json doc = Document("apis/apps/v1");
  const Json& paths = doc["paths"];
  REQUIRE(paths.contains("/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale"));
  const Json& scale = paths["/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale"];
  CHECK(scale["patch"]["x-kubernetes-group-version-kind"] ==
        Json::parse(R"({"group":"autoscaling","kind":"Scale","version":"v1"})"));
  CHECK(HasParam(scale["patch"], "fieldValidation"));
  CHECK(Schema(doc, "io.k8s.api.autoscaling.v1.Scale")["x-kubernetes-group-version-kind"] ==
        Json::parse(R"([{"group":"autoscaling","kind":"Scale","version":"v1"}])"));
  CHECK(paths.contains("/apis/apps/v1/"));
  CHECK(paths["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"]["operationId"] ==
        "patchAppsV1NamespacedDeployment");
  const Json& spec = Schema(doc, "io.k8s.api.apps.v1.DeploymentSpec");
  CHECK(spec["properties"]["strategy"]["x-kubernetes-patch-strategy"] == "retainKeys");
  CHECK(Schema(doc, "io.k8s.api.apps.v1.Deployment")["x-kubernetes-group-version-kind"] ==
        Json::parse(R"([{"group":"apps","kind":"Deployment","version":"v1"}])"));
  CHECK(Schema(doc, "io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector")["x-kubernetes-map-type"] ==
        "atomic");
  // Only what the group version needs.
  CHECK_FALSE(doc["components"]["schemas"].contains("io.k8s.api.batch.v1.Job"));
}

TEST_CASE("openapi: documents are made once, safely from many threads") {
  std::vector<std::thread> threads;
  std::vector<std::string> hashes(8);
  for (int i = 0; i < 8; i++)
    threads.emplace_back([i, &hashes] {
      std::string json;
      OpenApiV3Document(i % 2 ? "apis/batch/v1" : "apis/rbac.authorization.k8s.io/v1", &json,
                        &hashes[i]);
    });
  for (auto& t : threads) t.join();
  for (int i = 2; i < 8; i++) CHECK(hashes[i] == hashes[i % 2]);
  CHECK(hashes[0] != hashes[1]);
}

}  // namespace

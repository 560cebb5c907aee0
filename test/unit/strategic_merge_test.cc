// Unit tests of kubit::api::StrategicMerge: the patches kubectl apply and
// kubectl patch send, merged by the patch strategies and merge keys of the
// built-in schema. The expected results are those of upstream's
// strategicpatch package (kubectl 1.32's `patch --local`) on the same input.
#include "core/api/strategic_merge.h"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "core/api/schema.h"

namespace {

using Json = nlohmann::json;
using kubit::api::StrategicMerge;

const char* kDeployment = R"({
  "apiVersion": "apps/v1", "kind": "Deployment",
  "metadata": {"name": "web", "finalizers": ["a", "b"], "labels": {"app": "web", "tier": "fe"}},
  "spec": {
    "replicas": 2,
    "selector": {"matchLabels": {"app": "web"}},
    "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
    "template": {"metadata": {"labels": {"app": "web"}}, "spec": {
      "containers": [
        {"name": "a", "image": "nginx", "args": ["x", "y"],
         "env": [{"name": "X", "value": "1"}, {"name": "Y", "value": "2"}, {"name": "Z", "value": "3"}],
         "ports": [{"containerPort": 80, "protocol": "TCP"}, {"containerPort": 443, "name": "https"}]},
        {"name": "b", "image": "busybox"},
        {"name": "c", "image": "alpine"}],
      "tolerations": [{"key": "k1", "operator": "Exists"}, {"key": "k2", "operator": "Exists"}],
      "volumes": [{"name": "data", "emptyDir": {}}, {"name": "cfg", "configMap": {"name": "cm"}}]}}}})";

const char* kService = R"({
  "apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
  "spec": {"ports": [{"port": 80, "targetPort": 8080, "name": "http"}, {"port": 443, "name": "https"}],
           "selector": {"app": "web"}}})";

const char* kPod = R"({
  "apiVersion": "v1", "kind": "Pod",
  "metadata": {"name": "p", "ownerReferences": [{"apiVersion": "v1", "kind": "X", "name": "x", "uid": "u1"}]},
  "spec": {"containers": [{"name": "a", "image": "i"}],
           "volumes": [{"name": "v", "secret": {"secretName": "s", "defaultMode": 420}}]},
  "status": {"conditions": [{"type": "Ready", "status": "False"}, {"type": "Initialized", "status": "True"}]}})";

Json Merge(const char* original, const std::string& patch) {
  Json o = Json::parse(original), out;
  std::string error;
  bool ok = StrategicMerge(o.value("apiVersion", ""), o.value("kind", ""), o, Json::parse(patch),
                           &out, &error);
  INFO(error);
  REQUIRE(ok);
  return out;
}

std::string MergeError(const char* original, const std::string& patch) {
  Json o = Json::parse(original), out;
  std::string error;
  CHECK_FALSE(StrategicMerge(o.value("apiVersion", ""), o.value("kind", ""), o,
                             Json::parse(patch), &out, &error));
  return error;
}

Json PodTemplateSpec(const Json& deployment) { return deployment["spec"]["template"]["spec"]; }
Json Containers(const Json& deployment) { return PodTemplateSpec(deployment)["containers"]; }

std::vector<std::string> Names(const Json& list, const char* key = "name") {
  std::vector<std::string> names;
  for (const Json& e : list) names.push_back(e.value(key, ""));
  return names;
}

using Names_ = std::vector<std::string>;

TEST_CASE("strategic merge: removing a container with $patch: delete, as kubectl apply does") {
  Json out = Merge(kDeployment, R"({"spec":{"template":{"spec":{
      "$setElementOrder/containers":[{"name":"a"},{"name":"c"}],
      "containers":[{"$patch":"delete","name":"b"}]}}}})");
  CHECK(Names(Containers(out)) == Names_{"a", "c"});
  CHECK(Containers(out)[0]["image"] == "nginx");
  // Without the order list, and for an element that is not there.
  CHECK(Names(Containers(Merge(kDeployment, R"({"spec":{"template":{"spec":{
      "containers":[{"name":"b","$patch":"delete"}]}}}})"))) == Names_{"a", "c"});
  CHECK(Names(Containers(Merge(kDeployment, R"({"spec":{"template":{"spec":{
      "containers":[{"name":"zz","$patch":"delete"}]}}}})"))) == Names_{"a", "b", "c"});
  // A delete must name the merge key.
  CHECK(MergeError(kDeployment, R"({"spec":{"template":{"spec":{
      "containers":[{"$patch":"delete"}]}}}})") ==
        "map: map[$patch:delete] does not contain declared merge key: name");
}

TEST_CASE("strategic merge: $setElementOrder puts the list in order") {
  Json out = Merge(kDeployment, R"({"spec":{"template":{"spec":{
      "$setElementOrder/containers":[{"name":"c"},{"name":"a"},{"name":"b"}]}}}})");
  CHECK(Names(Containers(out)) == Names_{"c", "a", "b"});
  // Items the order leaves out keep their place among the others.
  out = Merge(kDeployment, R"({"spec":{"template":{"spec":{
      "$setElementOrder/containers":[{"name":"c"},{"name":"a"}]}}}})");
  CHECK(Names(Containers(out)) == Names_{"b", "c", "a"});
  // A container added in front.
  out = Merge(kDeployment, R"({"spec":{"template":{"spec":{
      "$setElementOrder/containers":[{"name":"d"},{"name":"a"},{"name":"b"},{"name":"c"}],
      "containers":[{"name":"d","image":"d"}]}}}})");
  CHECK(Names(Containers(out)) == Names_{"d", "a", "b", "c"});
  // Without an order list, the patch's items come in the patch's order,
  // server-only items staying in front of those that follow them.
  out = Merge(kDeployment, R"({"spec":{"template":{"spec":{
      "containers":[{"name":"c","image":"cc"},{"name":"d","image":"d"},{"name":"a","image":"aa"}]}}}})");
  CHECK(Names(Containers(out)) == Names_{"b", "c", "d", "a"});
  CHECK(Containers(out)[3]["image"] == "aa");
  CHECK(Containers(out)[3]["env"].size() == 3);
  // Deleting one container and adding another: upstream's merge fills the
  // deleted item's place in the live order with the new one.
  const char* two = R"({"apiVersion":"apps/v1","kind":"Deployment","spec":{"template":{"spec":{
      "containers":[{"name":"b","image":"x"},{"name":"d","image":"y"}]}}}})";
  out = Merge(two, R"({"spec":{"template":{"spec":{
      "$setElementOrder/containers":[{"name":"c"},{"name":"d"}],
      "containers":[{"name":"c","image":"y"},{"name":"d","$patch":"delete"}]}}}})");
  CHECK(Names(Containers(out)) == Names_{"b", "c"});
  // The patch's list must follow the order list.
  CHECK(MergeError(kDeployment, R"({"spec":{"template":{"spec":{
      "$setElementOrder/containers":[{"name":"b"},{"name":"a"}],
      "containers":[{"name":"a","image":"q"},{"name":"b","image":"r"}]}}}})") ==
        "The order in patch list:\n[map[image:q name:a] map[image:r name:b]]\n doesn't match "
        "$setElementOrder list:\n[map[name:b] map[name:a]]\n");
}

TEST_CASE("strategic merge: env vars merge by name") {
  Json out = Merge(kDeployment, R"({"spec":{"template":{"spec":{
      "$setElementOrder/containers":[{"name":"a"},{"name":"b"},{"name":"c"}],
      "containers":[{"name":"a","$setElementOrder/env":[{"name":"X"},{"name":"Y"},{"name":"Z"}],
                     "env":[{"name":"Y","value":"22"}]}]}}}})");
  CHECK(Containers(out)[0]["env"] == Json::parse(
            R"([{"name":"X","value":"1"},{"name":"Y","value":"22"},{"name":"Z","value":"3"}])"));
  // A null removes a field of the element.
  out = Merge(kDeployment, R"({"spec":{"template":{"spec":{
      "containers":[{"name":"a","env":[{"name":"Y","value":null}]}]}}}})");
  CHECK(Containers(out)[0]["env"][1] == Json::parse(R"({"name":"Y"})"));
  // Deleted and added in one patch.
  out = Merge(kDeployment, R"({"spec":{"template":{"spec":{
      "containers":[{"name":"a","env":[{"name":"Y","$patch":"delete"},{"name":"W","value":"w"}]}]}}}})");
  CHECK(Containers(out)[0]["env"] == Json::parse(
            R"([{"name":"W","value":"w"},{"name":"X","value":"1"},{"name":"Z","value":"3"}])"));
}

TEST_CASE("strategic merge: container ports merge by containerPort, Service ports by port") {
  Json out = Merge(kDeployment, R"({"spec":{"template":{"spec":{
      "containers":[{"name":"a","ports":[{"containerPort":443,"name":"tls"}]}]}}}})");
  CHECK(Containers(out)[0]["ports"] ==
        Json::parse(R"([{"containerPort":80,"protocol":"TCP"},{"containerPort":443,"name":"tls"}])"));
  out = Merge(kService, R"({"spec":{"$setElementOrder/ports":[{"port":443},{"port":80}],
                               "ports":[{"port":443,"targetPort":8443}]}})");
  CHECK(out["spec"]["ports"] ==
        Json::parse(R"([{"name":"https","port":443,"targetPort":8443},
                        {"name":"http","port":80,"targetPort":8080}])"));
  CHECK(MergeError(kService, R"({"spec":{"ports":[{"targetPort":8443}]}})") ==
        "map: map[targetPort:8443] does not contain declared merge key: port");
}

TEST_CASE("strategic merge: lists without a strategy are replaced") {
  Json out = Merge(kDeployment, R"({"spec":{"template":{"spec":{
      "tolerations":[{"key":"k3","operator":"Exists"}]}}}})");
  CHECK(PodTemplateSpec(out)["tolerations"] == Json::parse(R"([{"key":"k3","operator":"Exists"}])"));
  out = Merge(kDeployment, R"({"spec":{"template":{"spec":{"containers":[{"name":"a","args":["z"]}]}}}})");
  CHECK(Containers(out)[0]["args"] == Json::parse(R"(["z"])"));
  // As upstream, the patch's list is taken as it is, directives and all.
  out = Merge(kDeployment, R"({"spec":{"template":{"spec":{
      "tolerations":[{"key":"k3","$patch":"delete"}]}}}})");
  CHECK(PodTemplateSpec(out)["tolerations"] == Json::parse(R"([{"$patch":"delete","key":"k3"}])"));
}

TEST_CASE("strategic merge: retainKeys on volume sources and the deployment strategy") {
  Json out = Merge(kDeployment, R"({"spec":{"template":{"spec":{
      "volumes":[{"name":"data","$retainKeys":["name","hostPath"],"hostPath":{"path":"/x"}}]}}}})");
  CHECK(PodTemplateSpec(out)["volumes"] == Json::parse(
            R"([{"hostPath":{"path":"/x"},"name":"data"},{"configMap":{"name":"cm"},"name":"cfg"}])"));
  out = Merge(kPod, R"({"spec":{"volumes":[{"name":"v","$retainKeys":["configMap","name"],
                                            "configMap":{"name":"c"}}]}})");
  CHECK(out["spec"]["volumes"] == Json::parse(R"([{"configMap":{"name":"c"},"name":"v"}])"));
  // Every field the patch sets must be retained.
  CHECK(MergeError(kDeployment, R"({"spec":{"template":{"spec":{
      "volumes":[{"name":"data","$retainKeys":["name"],"hostPath":{"path":"/x"}}]}}}})") ==
        "invalid patch format of retainKeys");

  out = Merge(kDeployment, R"({"spec":{"strategy":{"$retainKeys":["type"],"type":"Recreate"}}})");
  CHECK(out["spec"]["strategy"] == Json::parse(R"({"type":"Recreate"})"));
  out = Merge(kDeployment, R"({"spec":{"strategy":{"type":"Recreate"}}})");
  CHECK(out["spec"]["strategy"] ==
        Json::parse(R"({"rollingUpdate":{"maxSurge":1,"maxUnavailable":0},"type":"Recreate"})"));
  CHECK(MergeError(kDeployment, R"({"spec":{"strategy":{"$retainKeys":"type"}}})") ==
        "invalid patch format of retainKeys");
}

TEST_CASE("strategic merge: finalizers merge as a set, $deleteFromPrimitiveList removes") {
  Json out = Merge(kDeployment, R"({"metadata":{"finalizers":["c","a"]}})");
  CHECK(out["metadata"]["finalizers"] == Json::parse(R"(["c","a","b"])"));
  out = Merge(kDeployment, R"({"metadata":{"$deleteFromPrimitiveList/finalizers":["a"]}})");
  CHECK(out["metadata"]["finalizers"] == Json::parse(R"(["b"])"));
  // kubectl apply replacing "a" by "c".
  out = Merge(kDeployment, R"({"metadata":{"$setElementOrder/finalizers":["b","c"],
      "finalizers":["c"],"$deleteFromPrimitiveList/finalizers":["a"]}})");
  CHECK(out["metadata"]["finalizers"] == Json::parse(R"(["b","c"])"));
  out = Merge(kDeployment, R"({"metadata":{"finalizers":null}})");
  CHECK_FALSE(out["metadata"].contains("finalizers"));
  CHECK(MergeError(kDeployment, R"({"metadata":{"$deleteFromPrimitiveList":["a"]}})") ==
        "invalid patch format of primitive list");
  CHECK(MergeError(kDeployment, R"({"metadata":{"finalizers":[1]}})") ==
        "list element types are not identical: [[a b] [1]]");
  // Node podCIDRs merge the same way.
  const char* node = R"({"apiVersion":"v1","kind":"Node","metadata":{"name":"n"},
                         "spec":{"podCIDRs":["10.0.0.0/24"]}})";
  CHECK(Merge(node, R"({"spec":{"podCIDRs":["10.0.1.0/24"]}})")["spec"]["podCIDRs"] ==
        Json::parse(R"(["10.0.1.0/24","10.0.0.0/24"])"));
}

TEST_CASE("strategic merge: conditions by type, owner references by uid, maps") {
  Json out = Merge(kPod, R"({"status":{"conditions":[{"type":"Ready","status":"True"},
                                                     {"type":"PodScheduled","status":"True"}]}})");
  CHECK(out["status"]["conditions"] ==
        Json::parse(R"([{"status":"True","type":"Ready"},{"status":"True","type":"PodScheduled"},
                        {"status":"True","type":"Initialized"}])"));
  out = Merge(kPod, R"({"metadata":{"ownerReferences":[{"uid":"u1","name":"y"}]}})");
  CHECK(out["metadata"]["ownerReferences"] ==
        Json::parse(R"([{"apiVersion":"v1","kind":"X","name":"y","uid":"u1"}])"));
  out = Merge(kDeployment, R"({"metadata":{"labels":{"tier":null,"new":"v"}}})");
  CHECK(out["metadata"]["labels"] == Json::parse(R"({"app":"web","new":"v"})"));
}

TEST_CASE("strategic merge: $patch directives on maps and lists") {
  Json out = Merge(kDeployment, R"({"spec":{"template":{"spec":{
      "containers":[{"name":"z","image":"z"},{"$patch":"replace"}]}}}})");
  CHECK(Containers(out) == Json::parse(R"([{"image":"z","name":"z"}])"));
  out = Merge(kDeployment, R"({"spec":{"strategy":{"$patch":"replace","type":"Recreate"}}})");
  CHECK(out["spec"]["strategy"] == Json::parse(R"({"type":"Recreate"})"));
  // A deleted map that was there is left empty; one that was not stays out.
  out = Merge(kDeployment, R"({"spec":{"strategy":{"$patch":"delete"}}})");
  CHECK(out["spec"]["strategy"] == Json::object());
  out = Merge(kService, R"({"status":{"$patch":"delete"}})");
  CHECK_FALSE(out.contains("status"));
  CHECK(MergeError(kDeployment, R"({"spec":{"strategy":{"$patch":"merge"}}})") ==
        "unknown patch type: merge in map: map[$patch:merge]");
  CHECK(MergeError(kDeployment, R"({"spec":{"template":{"spec":{
      "containers":[{"name":"a","$patch":"merge"}]}}}})") ==
        "merging lists cannot yet be specified in the patch");
}

TEST_CASE("strategic merge: kinds without a schema merge by field names") {
  const char* cr = R"({"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w",
      "finalizers":["a"]},"spec":{"containers":[{"name":"a","image":"x"}],"items":[1,2]}})";
  Json out = Merge(cr, R"({"metadata":{"finalizers":["b"]},
      "spec":{"containers":[{"name":"b","image":"y"}],"items":[3]}})");
  CHECK(out["metadata"]["finalizers"] == Json::parse(R"(["b","a"])"));
  CHECK(Names(out["spec"]["containers"]) == Names_{"b", "a"});
  CHECK(out["spec"]["items"] == Json::parse("[3]"));
  // A custom group that looks like a built-in one is still custom.
  const char* lookalike = R"({"apiVersion":"apps.example.com/v1","kind":"Deployment",
      "spec":{"conditions":[{"type":"a"}]}})";
  out = Merge(lookalike, R"({"spec":{"conditions":[{"type":"b"}]}})");
  CHECK(out["spec"]["conditions"] == Json::parse(R"([{"type":"b"},{"type":"a"}])"));
  // apps/v1's DeploymentSpec has no conditions: not merged.
  const char* deployment = R"({"apiVersion":"apps/v1","kind":"Deployment",
      "spec":{"conditions":[{"type":"a"}]}})";
  out = Merge(deployment, R"({"spec":{"conditions":[{"type":"b"}]}})");
  CHECK(out["spec"]["conditions"] == Json::parse(R"([{"type":"b"}])"));
}

TEST_CASE("strategic merge: the schema's patch metadata") {
  namespace schema = kubit::api::schema;
  const schema::Message* pod_spec = schema::FindMessage("k8s.io.api.core.v1.PodSpec");
  REQUIRE(pod_spec);
  const schema::Field* containers = pod_spec->FieldByName("containers");
  REQUIRE(containers);
  CHECK(containers->patch_strategy() == "merge");
  CHECK(containers->patch_merge_key == "name");
  CHECK(containers->list_type == schema::ListType::kMap);
  const schema::Field* volumes = pod_spec->FieldByName("volumes");
  REQUIRE(volumes);
  CHECK(volumes->patch_strategy() == "merge,retainKeys");
  const schema::Field* tolerations = pod_spec->FieldByName("tolerations");
  REQUIRE(tolerations);
  CHECK(tolerations->patch_strategy().empty());
  CHECK(tolerations->list_type == schema::ListType::kAtomic);
  const schema::Field* node_selector = pod_spec->FieldByName("nodeSelector");
  REQUIRE(node_selector);
  CHECK(node_selector->map_type == schema::MapType::kAtomic);

  const schema::Message* container = schema::FindMessage("k8s.io.api.core.v1.Container");
  REQUIRE(container);
  const schema::Field* ports = container->FieldByName("ports");
  REQUIRE(ports);
  CHECK(ports->patch_merge_key == "containerPort");
  REQUIRE(ports->list_map_keys.size() == 2);
  CHECK(ports->list_map_keys[0] == "containerPort");
  CHECK(ports->list_map_keys[1] == "protocol");
  CHECK(container->FieldByName("name")->required);
  CHECK_FALSE(container->FieldByName("image")->required);

  const schema::Message* meta =
      schema::FindMessage("k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta");
  REQUIRE(meta);
  CHECK(meta->FieldByName("finalizers")->patch_strategy() == "merge");
  CHECK(meta->FieldByName("finalizers")->list_type == schema::ListType::kSet);
  CHECK(meta->FieldByName("ownerReferences")->patch_merge_key == "uid");

  const schema::Message* strategy = schema::FindMessage("k8s.io.api.apps.v1.DeploymentSpec");
  REQUIRE(strategy);
  CHECK(strategy->FieldByName("strategy")->patch_strategy() == "retainKeys");
  const schema::Message* pdb = schema::FindMessage("k8s.io.api.policy.v1.PodDisruptionBudgetSpec");
  REQUIRE(pdb);
  CHECK(pdb->FieldByName("selector")->patch_strategy() == "replace");

  const schema::Message* selector =
      schema::FindMessage("k8s.io.apimachinery.pkg.apis.meta.v1.LabelSelector");
  REQUIRE(selector);
  CHECK(selector->struct_type == schema::MapType::kAtomic);
  const schema::Message* pv = schema::FindMessage("k8s.io.api.core.v1.PersistentVolumeSpec");
  REQUIRE(pv);
  CHECK(pv->FieldByName("claimRef")->map_type == schema::MapType::kGranular);
}

}  // namespace

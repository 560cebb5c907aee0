// Unit tests of kubit::api::schema: lookups over the built-in schema and the
// unknown-field check of strict decoding.
#include "core/api/schema.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace {

using Json = nlohmann::json;
namespace schema = kubit::api::schema;
using schema::Kind;
using schema::Shape;

std::vector<std::string> Unknown(const char* api_version, const char* kind, const Json& obj) {
  const schema::Message* m = schema::MessageForKind(api_version, kind);
  REQUIRE(m);
  std::vector<std::string> paths;
  schema::UnknownFields(*m, obj, &paths);
  return paths;
}

TEST_CASE("schema: the table is complete") {
  CHECK(schema::MessageCount() > 400);
  CHECK(schema::FieldCount() > 1500);
  // Every message field refers to a message.
  for (const char* name : {"k8s.io.api.core.v1.Pod", "k8s.io.api.apps.v1.Deployment",
                           "k8s.io.api.batch.v1.CronJob", "k8s.io.api.rbac.v1.ClusterRole"}) {
    const schema::Message* m = schema::FindMessage(name);
    REQUIRE(m);
    for (const schema::Field& f : m->fields)
      if (f.kind == Kind::kMessage) CHECK(f.message != nullptr);
  }
}

TEST_CASE("schema: messages by name and by kind") {
  const schema::Message* cm = schema::FindMessage("k8s.io.api.core.v1.ConfigMap");
  REQUIRE(cm);
  CHECK(cm->full_name == "k8s.io.api.core.v1.ConfigMap");
  CHECK(cm->name() == "ConfigMap");
  CHECK(cm->is_kind);
  CHECK(schema::FindMessage("k8s.io.api.core.v1.NoSuchThing") == nullptr);
  CHECK(schema::FindMessage("ConfigMap") == nullptr);

  CHECK(schema::MessageForKind("v1", "ConfigMap") == cm);
  struct Case {
    const char* api_version;
    const char* kind;
    const char* full_name;
  };
  for (const Case& c : {
           Case{"apps/v1", "Deployment", "k8s.io.api.apps.v1.Deployment"},
           Case{"batch/v1", "CronJob", "k8s.io.api.batch.v1.CronJob"},
           Case{"autoscaling/v1", "Scale", "k8s.io.api.autoscaling.v1.Scale"},
           Case{"autoscaling/v2", "HorizontalPodAutoscaler",
                "k8s.io.api.autoscaling.v2.HorizontalPodAutoscaler"},
           Case{"rbac.authorization.k8s.io/v1", "ClusterRoleBinding",
                "k8s.io.api.rbac.v1.ClusterRoleBinding"},
           Case{"networking.k8s.io/v1", "Ingress", "k8s.io.api.networking.v1.Ingress"},
           Case{"coordination.k8s.io/v1", "Lease", "k8s.io.api.coordination.v1.Lease"},
           Case{"scheduling.k8s.io/v1", "PriorityClass", "k8s.io.api.scheduling.v1.PriorityClass"},
           Case{"storage.k8s.io/v1", "StorageClass", "k8s.io.api.storage.v1.StorageClass"},
           Case{"discovery.k8s.io/v1", "EndpointSlice", "k8s.io.api.discovery.v1.EndpointSlice"},
           Case{"events.k8s.io/v1", "Event", "k8s.io.api.events.v1.Event"},
           Case{"authentication.k8s.io/v1", "TokenRequest",
                "k8s.io.api.authentication.v1.TokenRequest"},
           Case{"authorization.k8s.io/v1", "SelfSubjectAccessReview",
                "k8s.io.api.authorization.v1.SelfSubjectAccessReview"},
           Case{"certificates.k8s.io/v1", "CertificateSigningRequest",
                "k8s.io.api.certificates.v1.CertificateSigningRequest"},
           Case{"policy/v1", "PodDisruptionBudget", "k8s.io.api.policy.v1.PodDisruptionBudget"},
           Case{"v1", "Event", "k8s.io.api.core.v1.Event"},
           Case{"apps/v1", "DeleteOptions", "k8s.io.apimachinery.pkg.apis.meta.v1.DeleteOptions"},
           Case{"v1", "Status", "k8s.io.apimachinery.pkg.apis.meta.v1.Status"},
           Case{"meta.k8s.io/v1", "PartialObjectMetadata",
                "k8s.io.apimachinery.pkg.apis.meta.v1.PartialObjectMetadata"},
       }) {
    std::string what = std::string(c.api_version) + " " + c.kind;
    INFO(what);
    const schema::Message* m = schema::MessageForKind(c.api_version, c.kind);
    REQUIRE(m);
    CHECK(m->full_name == c.full_name);
  }
  CHECK(schema::MessageForKind("apps/v1", "ConfigMap") == nullptr);
  CHECK(schema::MessageForKind("v2", "ConfigMap") == nullptr);
  CHECK(schema::MessageForKind("", "ConfigMap") == nullptr);
  CHECK(schema::MessageForKind("v1", "") == nullptr);
  CHECK(schema::MessageForKind("apps/v1/x", "Deployment") == nullptr);
  CHECK(schema::ProtoPackage("rbac.authorization.k8s.io/v1") == "k8s.io.api.rbac.v1");
  CHECK(schema::ProtoPackage("v1") == "k8s.io.api.core.v1");
  // Custom groups (a CRD's group has a dot) are not built in.
  CHECK(schema::ProtoPackage("apps.example.com/v1").empty());
  CHECK(schema::MessageForKind("apps.example.com/v1", "Deployment") == nullptr);
  CHECK(schema::MessageForKind("apps.example.com/v1", "DeleteOptions") == nullptr);
  CHECK(schema::ProtoPackage("k8s.io/v1").empty());
}

TEST_CASE("schema: fields by name and by number") {
  const schema::Message* d = schema::FindMessage("k8s.io.api.apps.v1.DeploymentSpec");
  REQUIRE(d);
  const schema::Field* replicas = d->FieldByName("replicas");
  REQUIRE(replicas);
  CHECK(replicas->number == 1);
  CHECK(replicas->kind == Kind::kInt32);
  CHECK(replicas->pointer);
  CHECK(d->FieldByNumber(1) == replicas);
  CHECK(d->FieldByNumber(8) == nullptr);
  const schema::Field* tmpl = d->FieldByName("template");
  REQUIRE(tmpl);
  CHECK(tmpl->kind == Kind::kMessage);
  CHECK(tmpl->message->full_name == "k8s.io.api.core.v1.PodTemplateSpec");

  const schema::Message* meta =
      schema::FindMessage("k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta");
  REQUIRE(meta);
  const schema::Field* labels = meta->FieldByName("labels");
  REQUIRE(labels);
  CHECK(labels->is_map());
  CHECK(labels->map_key == Kind::kString);
  CHECK(labels->map_value == Kind::kString);
  CHECK(labels->number == 11);
  const schema::Field* ts = meta->FieldByName("creationTimestamp");
  REQUIRE(ts);
  CHECK(ts->message->shape == Shape::kTime);
  CHECK(meta->FieldByName("finalizers")->repeated);

  const schema::Message* secret = schema::FindMessage("k8s.io.api.core.v1.Secret");
  REQUIRE(secret);
  CHECK(secret->FieldByName("data")->map_value == Kind::kBytes);

  const schema::Message* limits = schema::FindMessage("k8s.io.api.core.v1.ResourceRequirements");
  REQUIRE(limits);
  CHECK(limits->FieldByName("limits")->map_value == Kind::kMessage);
  CHECK(limits->FieldByName("limits")->message->shape == Shape::kQuantity);

  // Inlined messages: the JSON name reaches into them.
  const schema::Message* vol = schema::FindMessage("k8s.io.api.core.v1.Volume");
  REQUIRE(vol);
  CHECK(vol->FieldByNumber(2)->inlined);
  REQUIRE(vol->FieldByName("configMap"));
  CHECK(vol->FieldByName("configMap")->message->full_name ==
        "k8s.io.api.core.v1.ConfigMapVolumeSource");
  CHECK(vol->FieldByName("volumeSource") == nullptr);

  for (const char* name :
       {"k8s.io.api.authentication.v1.ExtraValue", "k8s.io.api.authorization.v1.ExtraValue",
        "k8s.io.api.certificates.v1.ExtraValue", "k8s.io.apimachinery.pkg.apis.meta.v1.Verbs"}) {
    std::string what = name;
    INFO(what);
    REQUIRE(schema::FindMessage(name));
    CHECK(schema::FindMessage(name)->shape == Shape::kStringList);
  }
  CHECK(schema::FindMessage("k8s.io.apimachinery.pkg.util.intstr.IntOrString")->shape ==
        Shape::kIntOrString);
  CHECK(schema::FindMessage("k8s.io.apimachinery.pkg.runtime.RawExtension")->shape ==
        Shape::kRawExtension);
}

const char* kDeployment = R"({
  "apiVersion": "apps/v1",
  "kind": "Deployment",
  "metadata": {"name": "web", "labels": {"app": "web"}, "creationTimestamp": null,
               "managedFields": [{"manager": "kubectl", "fieldsV1": {"f:spec": {"f:x": {}}}}]},
  "spec": {
    "replicas": 2,
    "selector": {"matchLabels": {"app": "web"}},
    "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 1}},
    "template": {
      "metadata": {"labels": {"app": "web"}},
      "spec": {
        "volumes": [{"name": "cfg", "configMap": {"name": "c", "items": [{"key": "a", "path": "a"}]}}],
        "containers": [{
          "name": "nginx", "image": "nginx",
          "ports": [{"containerPort": 80}],
          "env": [{"name": "P", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}],
          "resources": {"limits": {"cpu": "1"}},
          "livenessProbe": {"httpGet": {"path": "/", "port": "http"}, "periodSeconds": 3}
        }]
      }
    }
  },
  "status": {}
})";

TEST_CASE("schema: UnknownFields accepts a valid Deployment") {
  CHECK(Unknown("apps/v1", "Deployment", Json::parse(kDeployment)).empty());
}

TEST_CASE("schema: UnknownFields names the unknown fields") {
  Json d = Json::parse(kDeployment);
  d["spec"]["foo"] = 1;
  d["spec"]["template"]["spec"]["containers"][0]["bar"] = "x";
  d["spec"]["template"]["spec"]["containers"].push_back({{"name", "b"}, {"baz", true}});
  d["metadata"]["labelz"] = Json::object();
  d["spec"]["template"]["spec"]["volumes"][0]["configMap"]["items"][0]["mode2"] = 1;
  std::vector<std::string> paths = Unknown("apps/v1", "Deployment", d);
  std::vector<std::string> want = {
      "metadata.labelz",
      "spec.foo",
      "spec.template.spec.containers[0].bar",
      "spec.template.spec.containers[1].baz",
      "spec.template.spec.volumes[0].configMap.items[0].mode2",
  };
  std::sort(paths.begin(), paths.end());
  CHECK(paths == want);
}

TEST_CASE("schema: UnknownFields and apiVersion/kind") {
  // At the top and in every kind (here the items of a list).
  Json list = {{"apiVersion", "v1"},
               {"kind", "ConfigMapList"},
               {"metadata", Json::object()},
               {"items", {{{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"data", {{"a", "b"}}}}}}};
  CHECK(Unknown("v1", "ConfigMapList", list).empty());
  // Not in a pod template, which is not a kind.
  Json d = {{"spec", {{"template", {{"kind", "Pod"}}}}}};
  CHECK(Unknown("apps/v1", "Deployment", d) == std::vector<std::string>{"spec.template.kind"});
}

TEST_CASE("schema: UnknownFields walks maps of messages, not special values") {
  Json sar = {{"spec", {{"extra", {{"scopes", {"a", "b"}}}}, {"user", "u"}}}};
  CHECK(Unknown("authorization.k8s.io/v1", "SubjectAccessReview", sar).empty());
  Json cr = {{"data", {{"anything", {{"goes", 1}}}}}, {"revision", 1}};
  CHECK(Unknown("apps/v1", "ControllerRevision", cr).empty());
  // Wrong JSON types are not this check's business.
  Json odd = {{"spec", "not an object"}, {"metadata", {{"labels", 3}}}};
  CHECK(Unknown("apps/v1", "Deployment", odd).empty());
  Json np = {{"spec",
              {{"podSelector", Json::object()},
               {"ingress", {{{"from", {{{"ipBlock", {{"cidr", "10.0.0.0/8"}, {"x", 1}}}}}}}}}}}};
  CHECK(Unknown("networking.k8s.io/v1", "NetworkPolicy", np) ==
        std::vector<std::string>{"spec.ingress[0].from[0].ipBlock.x"});
}

TEST_CASE("schema: PruneUnknownFields removes what UnknownFields reports") {
  const schema::Message* m = schema::MessageForKind("apps/v1", "Deployment");
  REQUIRE(m);
  Json valid = Json::parse(kDeployment);
  Json d = valid;
  schema::PruneUnknownFields(*m, &d);
  CHECK(d == valid);

  d["spec"]["foo"] = 1;
  d["spec"]["template"]["spec"]["containers"][0]["bar"] = "x";
  d["metadata"]["labelz"] = Json::object();
  d["spec"]["template"]["spec"]["volumes"][0]["configMap"]["items"][0]["mode2"] = 1;
  d["spec"]["template"]["kind"] = "Pod";  // not a kind: unknown there
  schema::PruneUnknownFields(*m, &d);
  CHECK(d == valid);
  std::vector<std::string> paths;
  schema::UnknownFields(*m, d, &paths);
  CHECK(paths.empty());

  // apiVersion and kind stay at the top and in kinds; maps of messages are
  // walked; special values and values of the wrong type are left alone.
  Json list = {{"apiVersion", "v1"},
               {"kind", "ConfigMapList"},
               {"extra", 1},
               {"items", {{{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"x", 2}, {"data", {{"a", "b"}}}}}}};
  schema::PruneUnknownFields(*schema::MessageForKind("v1", "ConfigMapList"), &list);
  CHECK(list == Json{{"apiVersion", "v1"},
                     {"kind", "ConfigMapList"},
                     {"items", {{{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"data", {{"a", "b"}}}}}}});
  Json cr = {{"data", {{"anything", {{"goes", 1}}}}}, {"revision", 1}, {"y", 1}};
  schema::PruneUnknownFields(*schema::MessageForKind("apps/v1", "ControllerRevision"), &cr);
  CHECK(cr == Json{{"data", {{"anything", {{"goes", 1}}}}}, {"revision", 1}});
  Json odd = {{"spec", "not an object"}, {"metadata", {{"labels", 3}}}};
  Json odd_before = odd;
  schema::PruneUnknownFields(*m, &odd);
  CHECK(odd == odd_before);
  Json pv = {{"spec", {{"capacity", {{"storage", "1Gi"}}}, {"claimRef", {{"name", "c"}, {"q", 1}}}}}};
  schema::PruneUnknownFields(*schema::MessageForKind("v1", "PersistentVolume"), &pv);
  CHECK(pv == Json{{"spec", {{"capacity", {{"storage", "1Gi"}}}, {"claimRef", {{"name", "c"}}}}}});
  Json scalar = 3;
  schema::PruneUnknownFields(*m, &scalar);
  CHECK(scalar == 3);
}

}  // namespace

TEST_CASE("schema: TypeError names the first value Go's decoder cannot take") {
  const schema::Message* m = schema::MessageForKind("apps/v1", "Deployment");
  REQUIRE(m);
  Json d = Json::parse(kDeployment);
  CHECK(schema::TypeError(*m, d) == "");
  auto with = [&](const std::function<void(Json&)>& change) {
    Json x = d;
    change(x);
    return schema::TypeError(*m, x);
  };
  // null fits every field; Quantity and IntOrString take their own forms.
  CHECK(with([](Json& x) { x["spec"]["replicas"] = nullptr; }) == "");
  CHECK(with([](Json& x) { x["spec"]["strategy"] = {{"rollingUpdate", {{"maxSurge", "25%"}, {"maxUnavailable", 1}}}}; }) == "");
  CHECK(with([](Json& x) {
          x["spec"]["template"]["spec"]["containers"][0]["resources"] = {{"limits", {{"cpu", 1}, {"memory", "1Gi"}}}};
        }) == "");
  CHECK(with([](Json& x) {
          x["spec"]["template"]["spec"]["containers"][0]["readinessProbe"] = {{"exec", {{"command", {true}}}}};
        }) ==
        "json: cannot unmarshal bool into Go struct field ExecAction.spec.template.spec.containers."
        "readinessProbe.exec.command of type string");
  CHECK(with([](Json& x) { x["spec"]["replicas"] = "3"; }) ==
        "json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32");
  CHECK(with([](Json& x) { x["spec"]["replicas"] = 1.5; }) ==
        "json: cannot unmarshal number 1.5 into Go struct field DeploymentSpec.spec.replicas of type int32");
  CHECK(with([](Json& x) { x["spec"]["replicas"] = 4294967296LL; }) ==
        "json: cannot unmarshal number 4294967296 into Go struct field DeploymentSpec.spec.replicas of type int32");
  CHECK(with([](Json& x) { x["spec"]["template"]["spec"]["containers"] = Json::object(); }) ==
        "json: cannot unmarshal object into Go struct field PodSpec.spec.template.spec.containers of type "
        "[]v1.Container");
  CHECK(with([](Json& x) { x["spec"]["selector"] = "app=x"; }) ==
        "json: cannot unmarshal string into Go struct field DeploymentSpec.spec.selector of type v1.LabelSelector");
  CHECK(with([](Json& x) { x["metadata"]["labels"] = {{"app", 1}}; }) ==
        "json: cannot unmarshal number into Go struct field ObjectMeta.metadata.labels of type string");
  CHECK(with([](Json& x) { x["metadata"]["labels"] = Json::array(); }) ==
        "json: cannot unmarshal array into Go struct field ObjectMeta.metadata.labels of type map[string]string");
}

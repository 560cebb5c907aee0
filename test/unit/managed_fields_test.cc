// Unit tests of kubit::api server-side apply and managedFields: field sets
// and FieldsV1, apply by several managers (ownership, conflicts, force,
// removal of fields no longer applied), map-lists, sets, maps, custom
// resources, and the tracking of ordinary writes. The expected FieldsV1 and
// messages are upstream's (structured-merge-diff and the field manager of
// k8s.io/apimachinery, as a v1.32 API server shows them).
#include "core/api/managed_fields.h"

#include <doctest/doctest.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "core/api/resources.h"
#include "core/api/yaml.h"

namespace {

using Json = nlohmann::json;
using namespace kubit::api;

const char* kNow = "2024-01-02T03:04:05Z";
const char* kLater = "2024-01-02T04:00:00Z";

const ResourceType& Deployments() {
  const ResourceType* t = FindType("apps", "v1", "deployments");
  REQUIRE(t != nullptr);
  return *t;
}

const ResourceType& ConfigMaps() {
  const ResourceType* t = FindType("", "v1", "configmaps");
  REQUIRE(t != nullptr);
  return *t;
}

Json Y(const std::string& text) {
  Json out;
  std::string err;
  bool ok = ParseYaml(text, &out, &err);
  INFO(err);
  REQUIRE(ok);
  return out;
}

ManagedFieldsOptions At(const char* now) {
  ManagedFieldsOptions o;
  o.now = now;
  return o;
}

Json Apply(const ResourceType& t, const Json& live, const Json& cfg, const std::string& manager,
           bool force = false, const char* now = kNow) {
  Json out;
  ApplyError err;
  bool ok = ServerSideApply(t, live, cfg, manager, force, &out, &err, At(now));
  INFO(err.message);
  REQUIRE(ok);
  return out;
}

ApplyError ApplyFails(const ResourceType& t, const Json& live, const Json& cfg, const std::string& manager) {
  Json out;
  ApplyError err;
  CHECK_FALSE(ServerSideApply(t, live, cfg, manager, false, &out, &err, At(kNow)));
  return err;
}

// The entry of `manager` (and operation) in obj's managedFields, or null.
Json Entry(const Json& obj, const std::string& manager, const std::string& op = "") {
  for (const Json& e : obj["metadata"]["managedFields"])
    if (e.value("manager", "") == manager && (op.empty() || e["operation"] == op)) return e;
  return Json();
}

Json Fields(const Json& obj, const std::string& manager, const std::string& op = "") {
  return Entry(obj, manager, op)["fieldsV1"];
}

const char* kDeployment = R"(apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: default
  labels: {app: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: nginx
        ports: [{containerPort: 80}]
)";

TEST_CASE("managed fields: FieldsV1 round trip and paths") {
  Json f = Json::parse(R"({"f:metadata":{"f:labels":{"f:app":{}}},
    "f:spec":{"f:containers":{"k:{\"name\":\"web\"}":{".":{},"f:image":{}}},
              "f:finalizers":{"v:\"a\"":{}},"f:ports":{"k:{\"port\":443}":{},"k:{\"port\":80}":{}}}})");
  FieldSet s;
  std::string err;
  REQUIRE(FieldSet::FromFieldsV1(f, &s, &err));
  CHECK(s.ToFieldsV1() == f);
  std::vector<std::string> paths;
  for (const FieldPath& p : s.Paths()) paths.push_back(PathString(p));
  CHECK(paths == std::vector<std::string>{
                     ".metadata.labels.app",
                     ".spec.containers[name=\"web\"]",
                     ".spec.containers[name=\"web\"].image",
                     ".spec.finalizers[=\"a\"]",
                     ".spec.ports[port=80]",  // keys compare as values: 80 before 443
                     ".spec.ports[port=443]",
                 });
  FieldPath image{PathElement::Field("spec"), PathElement::Field("containers"),
                  PathElement::Key({{"name", "web"}}), PathElement::Field("image")};
  CHECK(s.Has(image));
  CHECK_FALSE(s.Has({PathElement::Field("spec")}));
  FieldSet other;
  other.Insert(image);
  FieldSet diff = s.Difference(other);
  CHECK_FALSE(diff.Has(image));
  CHECK(diff.Has({PathElement::Field("spec"), PathElement::Field("containers"), PathElement::Key({{"name", "web"}})}));
  CHECK(s.Intersection(other) == other);
  CHECK(diff.Union(other) == s);
  FieldSet spec;
  spec.Insert({PathElement::Field("spec")});
  CHECK(s.RecursiveDifference(spec).Paths().size() == 1);
  CHECK(PathElement::Key({{"protocol", "TCP"}, {"containerPort", 80}}).Serialize() ==
        "k:{\"containerPort\":80,\"protocol\":\"TCP\"}");
  CHECK(PathElement::Value("<a&b>").Serialize() == "v:\"\\u003ca\\u0026b\\u003e\"");
  CHECK_FALSE(FieldSet::FromFieldsV1(Json::parse(R"({"k:{bad":{}})"), &s, &err));
}

TEST_CASE("managed fields: the field set of an applied Deployment") {
  FieldSet s(Deployments(), Y(kDeployment));
  Json expected = Json::parse(R"({
    "f:apiVersion":{}, "f:kind":{},
    "f:metadata":{"f:labels":{"f:app":{}},"f:name":{},"f:namespace":{}},
    "f:spec":{"f:replicas":{},"f:selector":{},
      "f:template":{"f:metadata":{"f:labels":{"f:app":{}}},
        "f:spec":{"f:containers":{"k:{\"name\":\"web\"}":{".":{},"f:image":{},"f:name":{},
          "f:ports":{"k:{\"containerPort\":80,\"protocol\":\"TCP\"}":{".":{},"f:containerPort":{}}}}}}}}})");
  // LabelSelector is an atomic struct (+structType=atomic): a leaf.
  CHECK(s.ToFieldsV1() == expected);
}

TEST_CASE("managed fields: a Deployment created by kubectl create, as upstream records it") {
  // The object as stored (defaulted) after `kubectl create deployment nginx
  // --image=nginx`, and the entry a v1.32 API server gives it.
  Json obj = Json::parse(R"({
    "apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {"name": "nginx", "namespace": "default", "labels": {"app": "nginx"}, "uid": "u1",
                 "generation": 1, "creationTimestamp": "2024-01-02T03:04:05Z", "resourceVersion": "5"},
    "spec": {"progressDeadlineSeconds": 600, "replicas": 1, "revisionHistoryLimit": 10,
      "selector": {"matchLabels": {"app": "nginx"}},
      "strategy": {"rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}, "type": "RollingUpdate"},
      "template": {"metadata": {"creationTimestamp": null, "labels": {"app": "nginx"}},
        "spec": {"containers": [{"image": "nginx", "imagePullPolicy": "Always", "name": "nginx", "resources": {},
                                 "terminationMessagePath": "/dev/termination-log",
                                 "terminationMessagePolicy": "File"}],
                 "dnsPolicy": "ClusterFirst", "restartPolicy": "Always", "schedulerName": "default-scheduler",
                 "securityContext": {}, "terminationGracePeriodSeconds": 30}}},
    "status": {}})");
  TrackUpdate(Deployments(), nullptr, &obj, "kubectl-create", "", At(kNow));
  REQUIRE(obj["metadata"]["managedFields"].size() == 1);
  CHECK(obj["metadata"]["managedFields"][0] == Json::parse(R"({
    "manager": "kubectl-create", "operation": "Update", "apiVersion": "apps/v1",
    "time": "2024-01-02T03:04:05Z", "fieldsType": "FieldsV1",
    "fieldsV1": {"f:metadata": {"f:labels": {".": {}, "f:app": {}}},
      "f:spec": {"f:progressDeadlineSeconds": {}, "f:replicas": {}, "f:revisionHistoryLimit": {}, "f:selector": {},
        "f:strategy": {"f:rollingUpdate": {".": {}, "f:maxSurge": {}, "f:maxUnavailable": {}}, "f:type": {}},
        "f:template": {"f:metadata": {"f:labels": {".": {}, "f:app": {}}},
          "f:spec": {"f:containers": {"k:{\"name\":\"nginx\"}": {".": {}, "f:image": {}, "f:imagePullPolicy": {},
              "f:name": {}, "f:resources": {}, "f:terminationMessagePath": {}, "f:terminationMessagePolicy": {}}},
            "f:dnsPolicy": {}, "f:restartPolicy": {}, "f:schedulerName": {}, "f:securityContext": {},
            "f:terminationGracePeriodSeconds": {}}}}}})"));
}

TEST_CASE("managed fields: apply creates the object with an Apply entry") {
  Json obj = Apply(Deployments(), Json(), Y(kDeployment), "kubectl");
  CHECK(obj["spec"]["replicas"] == 2);
  CHECK_FALSE(obj.contains("status"));  // nothing of the empty object the apply started from
  CHECK_FALSE(obj["spec"].contains("strategy"));
  CHECK_FALSE(obj["spec"]["template"]["metadata"].contains("creationTimestamp"));
  CHECK(obj["metadata"]["name"] == "web");
  REQUIRE(obj["metadata"]["managedFields"].size() == 1);
  Json e = obj["metadata"]["managedFields"][0];
  CHECK(e["manager"] == "kubectl");
  CHECK(e["operation"] == "Apply");
  CHECK(e["apiVersion"] == "apps/v1");
  CHECK(e["time"] == kNow);
  CHECK(e["fieldsType"] == "FieldsV1");
  CHECK_FALSE(e.contains("subresource"));
  // apiVersion, kind, name and namespace are never owned.
  CHECK_FALSE(e["fieldsV1"].contains("f:apiVersion"));
  CHECK(e["fieldsV1"]["f:metadata"] == Json::parse(R"({"f:labels":{"f:app":{}}})"));
  CHECK(e["fieldsV1"]["f:spec"]["f:replicas"] == Json::object());

  // Applying the same again changes nothing, not even the time.
  Json again = Apply(Deployments(), obj, Y(kDeployment), "kubectl", false, kLater);
  CHECK(again == obj);
}

TEST_CASE("managed fields: apply by two managers, ownership, conflicts and force") {
  const ResourceType& t = Deployments();
  Json obj = Apply(t, Json(), Y(kDeployment), "alice");

  // Bob applies the same replicas: shared ownership, no conflict.
  Json bob_cfg = Y("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: default}\n"
                   "spec: {replicas: 2}\n");
  obj = Apply(t, obj, bob_cfg, "bob");
  CHECK(Fields(obj, "alice").contains("f:spec"));
  CHECK(Fields(obj, "bob")["f:spec"]["f:replicas"] == Json::object());
  CHECK(Fields(obj, "alice")["f:spec"].contains("f:replicas"));

  // Bob wants 3 replicas: alice owns them too.
  bob_cfg["spec"]["replicas"] = 3;
  ApplyError err = ApplyFails(t, obj, bob_cfg, "bob");
  CHECK(err.code == 409);
  CHECK(err.reason == "Conflict");
  CHECK(err.message == "Apply failed with 1 conflict: conflict with \"alice\": .spec.replicas");
  REQUIRE(err.causes.size() == 1);
  CHECK(err.causes[0] == Json{{"reason", "FieldManagerConflict"},
                              {"message", "conflict with \"alice\""},
                              {"field", ".spec.replicas"}});
  // The message-only form.
  Json unused;
  std::string msg;
  CHECK_FALSE(ServerSideApply(t, obj, bob_cfg, "bob", false, &unused, &msg));
  CHECK(msg == err.message);

  // Forced: bob takes replicas over.
  obj = Apply(t, obj, bob_cfg, "bob", true);
  CHECK(obj["spec"]["replicas"] == 3);
  CHECK_FALSE(Fields(obj, "alice")["f:spec"].contains("f:replicas"));
  CHECK(Fields(obj, "bob")["f:spec"]["f:replicas"] == Json::object());

  // Alice applies without replicas: bob still owns them, they stay.
  Json alice_cfg = Y(kDeployment);
  alice_cfg["spec"].erase("replicas");
  obj = Apply(t, obj, alice_cfg, "alice");
  CHECK(obj["spec"]["replicas"] == 3);

  // Alice stops applying her label: no one else owns it, it goes.
  alice_cfg["metadata"].erase("labels");
  obj = Apply(t, obj, alice_cfg, "alice");
  CHECK_FALSE(obj["metadata"].contains("labels"));
  CHECK(obj["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx");

  // Bob stops applying replicas: they go too.
  obj = Apply(t, obj, Y("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: default}\n"
                        "spec: {paused: true}\n"),
              "bob");
  CHECK_FALSE(obj["spec"].contains("replicas"));
  CHECK(obj["spec"]["paused"] == true);
}

TEST_CASE("managed fields: conflicts with an Update manager name its apiVersion") {
  const ResourceType& t = Deployments();
  Json obj = Y(kDeployment);
  obj["metadata"]["uid"] = "u1";
  TrackUpdate(t, nullptr, &obj, "kubectl-client-side-apply", "", At(kNow));
  Json e = Entry(obj, "kubectl-client-side-apply");
  CHECK(e["operation"] == "Update");
  CHECK(e["apiVersion"] == "apps/v1");
  CHECK(e["time"] == kNow);
  CHECK(e["fieldsV1"]["f:spec"]["f:template"]["f:spec"]["f:containers"]["k:{\"name\":\"web\"}"]["f:image"] ==
        Json::object());

  Json cfg = Y(kDeployment);
  cfg["spec"]["replicas"] = 5;
  ApplyError err = ApplyFails(t, obj, cfg, "ci");
  CHECK(err.message ==
        "Apply failed with 1 conflict: conflict with \"kubectl-client-side-apply\" using apps/v1: .spec.replicas");
  CHECK(err.causes[0]["message"] == "conflict with \"kubectl-client-side-apply\" using apps/v1");

  cfg["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:2";
  err = ApplyFails(t, obj, cfg, "ci");
  CHECK(err.message ==
        "Apply failed with 2 conflicts: conflicts with \"kubectl-client-side-apply\" using apps/v1:\n"
        "- .spec.replicas\n"
        "- .spec.template.spec.containers[name=\"web\"].image");
  CHECK(err.causes.size() == 2);

  // A second manager: grouped by manager.
  Json scaled = obj;
  scaled["spec"]["replicas"] = 4;
  TrackUpdate(t, &obj, &scaled, "kubectl-scale", "scale", At(kLater));
  CHECK(Entry(scaled, "kubectl-scale")["subresource"] == "scale");
  cfg["metadata"]["labels"]["app"] = "other";
  err = ApplyFails(t, scaled, cfg, "ci");
  CHECK(err.message ==
        "Apply failed with 3 conflicts: conflicts with \"kubectl-client-side-apply\" using apps/v1:\n"
        "- .metadata.labels.app\n"
        "- .spec.template.spec.containers[name=\"web\"].image\n"
        "conflicts with \"kubectl-scale\" with subresource \"scale\" using apps/v1:\n"
        "- .spec.replicas");
}

TEST_CASE("managed fields: containers merged by name, in upstream's order") {
  const ResourceType& t = Deployments();
  Json obj = Apply(t, Json(), Y(R"(apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers:
      - {name: a, image: a:1}
      - {name: b, image: b:1}
)"),
                   "one");
  obj = Apply(t, obj, Y(R"(apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers:
      - {name: c, image: c:1}
      - {name: a, env: [{name: X, value: "1"}]}
)"),
              "two");
  const Json& cs = obj["spec"]["template"]["spec"]["containers"];
  REQUIRE(cs.size() == 3);
  CHECK(cs[0]["name"] == "c");
  CHECK(cs[1]["name"] == "a");
  CHECK(cs[1]["image"] == "a:1");
  CHECK(cs[1]["env"][0]["value"] == "1");
  CHECK(cs[2]["name"] == "b");
  Json two = Fields(obj, "two")["f:spec"]["f:template"]["f:spec"]["f:containers"];
  CHECK(two["k:{\"name\":\"a\"}"] ==
        Json::parse(R"({".":{},"f:env":{"k:{\"name\":\"X\"}":{".":{},"f:name":{},"f:value":{}}},"f:name":{}})"));
  CHECK(two.contains("k:{\"name\":\"c\"}"));

  // "two" drops container c: it goes; a's env goes, a stays (one owns it).
  obj = Apply(t, obj, Y("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {paused: true}\n"),
              "two");
  const Json& after = obj["spec"]["template"]["spec"]["containers"];
  REQUIRE(after.size() == 2);
  CHECK(after[0]["name"] == "a");
  CHECK_FALSE(after[0].contains("env"));
  CHECK(after[1]["name"] == "b");

  // A container without its key is refused, as upstream's typed conversion.
  ApplyError err = ApplyFails(
      t, obj,
      Y("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n"
        "spec: {template: {spec: {containers: [{image: x}]}}}\n"),
      "two");
  CHECK(err.code == 500);
  CHECK(err.message ==
        "failed to create typed patch object (/web; apps/v1, Kind=Deployment): .spec.template.spec.containers: "
        "element 0: associative list with keys has an element that omits key field \"name\" (and doesn't have "
        "default value)");
}

TEST_CASE("managed fields: finalizers are a set") {
  const ResourceType& t = ConfigMaps();
  Json obj = Y("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, uid: u, finalizers: [x]}\n");
  TrackUpdate(t, nullptr, &obj, "controller", "", At(kNow));
  CHECK(Fields(obj, "controller")["f:metadata"]["f:finalizers"] == Json::parse(R"({".":{},"v:\"x\"":{}})"));
  obj = Apply(t, obj, Y("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, finalizers: [z]}\n"), "me");
  CHECK(obj["metadata"]["finalizers"] == Json{"x", "z"});
  CHECK(Fields(obj, "me")["f:metadata"]["f:finalizers"] == Json::parse(R"({"v:\"z\"":{}})"));
  obj = Apply(t, obj, Y("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: b}\n"), "me");
  CHECK(obj["metadata"]["finalizers"] == Json{"x"});
}

TEST_CASE("managed fields: annotations are a map of fields") {
  const ResourceType& t = ConfigMaps();
  Json obj = Apply(t, Json(), Y("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  annotations: {a: \"1\", b: \"2\"}\n"),
                   "me");
  CHECK(Fields(obj, "me")["f:metadata"]["f:annotations"] == Json::parse(R"({"f:a":{},"f:b":{}})"));
  obj = Apply(t, obj, Y("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  annotations: {a: \"1\"}\n"), "me");
  CHECK(obj["metadata"]["annotations"] == Json{{"a", "1"}});
  // Someone else's annotation survives.
  Json edited = obj;
  edited["metadata"]["annotations"]["z"] = "9";
  TrackUpdate(t, &obj, &edited, "kubectl-annotate", "", At(kLater));
  Json after = Apply(t, edited, Y("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n"), "me");
  CHECK(after["metadata"]["annotations"] == Json{{"z", "9"}});
}

TEST_CASE("managed fields: a custom resource with x-kubernetes-list-type map") {
  ResourceType t;
  t.group = "example.com";
  t.version = "v1";
  t.kind = "Widget";
  t.plural = "widgets";
  t.custom = true;
  t.schema = std::make_shared<const Json>(Json::parse(R"({
    "type": "object",
    "properties": {
      "spec": {"type": "object", "properties": {
        "ports": {"type": "array", "x-kubernetes-list-type": "map",
                  "x-kubernetes-list-map-keys": ["port", "protocol"],
                  "items": {"type": "object", "properties": {
                    "port": {"type": "integer"}, "protocol": {"type": "string", "default": "TCP"},
                    "name": {"type": "string"}}}},
        "tags": {"type": "array", "x-kubernetes-list-type": "set", "items": {"type": "string"}},
        "args": {"type": "array", "items": {"type": "string"}},
        "selector": {"type": "object", "x-kubernetes-map-type": "atomic",
                     "additionalProperties": {"type": "string"}},
        "extra": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}}})"));
  Json obj = Apply(t, Json(), Y(R"(apiVersion: example.com/v1
kind: Widget
metadata: {name: w, labels: {a: b}}
spec:
  ports: [{port: 80, name: http}]
  tags: [x]
  args: [a, b]
  selector: {k: v}
  extra: {deep: {x: 1}}
)"),
                   "one");
  Json one = Fields(obj, "one");
  CHECK(one["f:metadata"] == Json::parse(R"({"f:labels":{"f:a":{}}})"));
  CHECK(one["f:spec"]["f:ports"] ==
        Json::parse(R"({"k:{\"port\":80,\"protocol\":\"TCP\"}":{".":{},"f:name":{},"f:port":{}}})"));
  CHECK(one["f:spec"]["f:tags"] == Json::parse(R"({"v:\"x\"":{}})"));
  CHECK(one["f:spec"]["f:args"] == Json::object());
  CHECK(one["f:spec"]["f:selector"] == Json::object());
  CHECK(one["f:spec"]["f:extra"] == Json::parse(R"({"f:deep":{".":{},"f:x":{}}})"));

  obj = Apply(t, obj, Y(R"(apiVersion: example.com/v1
kind: Widget
metadata: {name: w}
spec:
  ports: [{port: 443, name: https}]
  tags: [z]
  args: [c]
  selector: {k2: v2}
)"),
              "two", true);
  CHECK(obj["spec"]["ports"] == Json::parse(R"([{"port":80,"name":"http"},{"port":443,"name":"https"}])"));
  CHECK(obj["spec"]["tags"] == Json{"x", "z"});
  CHECK(obj["spec"]["args"] == Json{"c"});                  // atomic: replaced
  CHECK(obj["spec"]["selector"] == Json{{"k2", "v2"}});     // atomic map: replaced
  CHECK_FALSE(Fields(obj, "one")["f:spec"].contains("f:args"));  // taken over by force

  // A conflict on an item field of the map-list.
  ApplyError err = ApplyFails(t, obj, Y(R"(apiVersion: example.com/v1
kind: Widget
metadata: {name: w}
spec:
  ports: [{port: 80, name: web}]
)"),
                              "two");
  CHECK(err.message == "Apply failed with 1 conflict: conflict with \"one\": .spec.ports[port=80,protocol=\"TCP\"].name");
}

TEST_CASE("managed fields: updates move ownership and merge per manager") {
  const ResourceType& t = Deployments();
  Json v1 = Y(kDeployment);
  v1["metadata"]["uid"] = "u1";
  v1["metadata"]["resourceVersion"] = "1";
  v1["status"] = {{"replicas", 2}};
  TrackUpdate(t, nullptr, &v1, "kubectl-create", "", At(kNow));
  REQUIRE(v1["metadata"]["managedFields"].size() == 1);
  Json f = Fields(v1, "kubectl-create");
  CHECK_FALSE(f.contains("f:status"));  // reset by the main resource
  CHECK(f["f:metadata"] == Json::parse(R"({"f:labels":{".":{},"f:app":{}}})"));

  // kubectl-edit changes the image: it is now theirs.
  Json v2 = v1;
  v2["metadata"]["resourceVersion"] = "2";
  v2["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:2";
  TrackUpdate(t, &v1, &v2, "kubectl-edit", "", At(kLater));
  Json created = Fields(v2, "kubectl-create");
  Json edited = Fields(v2, "kubectl-edit");
  CHECK_FALSE(created["f:spec"]["f:template"]["f:spec"]["f:containers"]["k:{\"name\":\"web\"}"].contains("f:image"));
  CHECK(edited == Json::parse(R"({"f:spec":{"f:template":{"f:spec":{"f:containers":{
      "k:{\"name\":\"web\"}":{"f:image":{}}}}}}})"));
  CHECK(Entry(v2, "kubectl-edit")["time"] == kLater);
  CHECK(Entry(v2, "kubectl-create")["time"] == kNow);
  // Sorted by operation, then time.
  CHECK(v2["metadata"]["managedFields"][0]["manager"] == "kubectl-create");

  // Another edit by the same manager merges into its entry.
  Json v3 = v2;
  v3["spec"]["replicas"] = 7;
  TrackUpdate(t, &v2, &v3, "kubectl-edit", "", At(kLater));
  CHECK(v3["metadata"]["managedFields"].size() == 2);
  CHECK(Fields(v3, "kubectl-edit")["f:spec"].contains("f:replicas"));
  CHECK(Fields(v3, "kubectl-edit")["f:spec"].contains("f:template"));

  // A write that changes nothing leaves the entries alone.
  Json v4 = v3;
  v4["metadata"]["resourceVersion"] = "9";
  TrackUpdate(t, &v3, &v4, "someone", "", At("2030-01-01T00:00:00Z"));
  CHECK(v4["metadata"]["managedFields"] == v3["metadata"]["managedFields"]);

  // Status writes are tracked with their subresource; spec is reset there.
  Json v5 = v4;
  v5["status"]["replicas"] = 3;
  TrackUpdate(t, &v4, &v5, "kube-controller-manager", "status", At(kLater));
  Json st = Entry(v5, "kube-controller-manager");
  CHECK(st["subresource"] == "status");
  CHECK(st["fieldsV1"] == Json::parse(R"({"f:status":{"f:replicas":{}}})"));

  // The request's managedFields: [] resets them; an existing object without
  // any stays untracked.
  Json v6 = v5;
  v6["metadata"]["managedFields"] = Json::array();
  TrackUpdate(t, &v5, &v6, "reset", "", At(kLater));
  CHECK_FALSE(v6["metadata"].contains("managedFields"));
  Json v7 = v6;
  v7["spec"]["replicas"] = 1;
  TrackUpdate(t, &v6, &v7, "later", "", At(kLater));
  CHECK_FALSE(v7["metadata"].contains("managedFields"));
  // Without managedFields in the request, the old object's are kept.
  Json v8 = v5;
  v8["metadata"].erase("managedFields");
  v8["spec"]["paused"] = true;
  TrackUpdate(t, &v5, &v8, "kubectl-patch", "", At(kLater));
  CHECK(v8["metadata"]["managedFields"].size() == 4);
}

TEST_CASE("managed fields: at most 10 Update entries") {
  const ResourceType& t = ConfigMaps();
  Json obj = Y("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, uid: u}\ndata: {}\n");
  TrackUpdate(t, nullptr, &obj, "m0", "", At("2024-01-01T00:00:00Z"));
  for (int i = 1; i <= 11; i++) {
    Json next = obj;
    next["data"]["k" + std::to_string(i)] = "v";
    char when[32];
    snprintf(when, sizeof(when), "2024-01-01T00:%02d:00Z", i);
    TrackUpdate(t, &obj, &next, "m" + std::to_string(i), "", At(when));
    obj = next;
  }
  const Json& mf = obj["metadata"]["managedFields"];
  CHECK(mf.size() == 10);
  Json ancient = Entry(obj, "ancient-changes");
  REQUIRE_FALSE(ancient.is_null());
  CHECK(ancient["fieldsV1"]["f:data"].contains("f:k1"));
  CHECK(ancient["fieldsV1"]["f:data"].contains("f:k2"));
}

TEST_CASE("managed fields: before-first-apply owns what was there") {
  const ResourceType& t = Deployments();
  Json live = Y(kDeployment);
  live["metadata"]["uid"] = "u1";
  Json cfg = Y(kDeployment);
  cfg["spec"]["replicas"] = 9;
  ApplyError err = ApplyFails(t, live, cfg, "me");
  CHECK(err.message ==
        "Apply failed with 1 conflict: conflict with \"before-first-apply\" using apps/v1: .spec.replicas");
  Json obj = Apply(t, live, cfg, "me", true);
  CHECK(obj["spec"]["replicas"] == 9);
  CHECK(Entry(obj, "before-first-apply", "Update")["time"] == kNow);
}

TEST_CASE("managed fields: kubectl's upgrade from client-side apply") {
  const ResourceType& t = Deployments();
  Json cfg = Y(kDeployment);
  Json live = cfg;
  live["metadata"]["uid"] = "u1";
  live["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"] = GoJson(cfg) + "\n";
  TrackUpdate(t, nullptr, &live, "kubectl-client-side-apply", "", At(kNow));

  Json next = cfg;
  next["spec"]["replicas"] = 4;
  // Other managers conflict...
  CHECK(ApplyFails(t, live, next, "someone").message.find("kubectl-client-side-apply") != std::string::npos);
  // ...kubectl takes over what its last client-side apply set.
  Json obj = Apply(t, live, next, "kubectl");
  CHECK(obj["spec"]["replicas"] == 4);
  CHECK(Fields(obj, "kubectl", "Apply")["f:spec"].contains("f:replicas"));
  std::string ann = obj["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"];
  CHECK(Json::parse(ann)["spec"]["replicas"] == 4);
  CHECK(ann.back() == '\n');
  // But not fields it did not apply client-side.
  Json scaled = live;
  scaled["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:2";
  Json scaled2 = scaled;
  TrackUpdate(t, &live, &scaled2, "kubectl-edit", "", At(kLater));
  ApplyError err = ApplyFails(t, scaled2, next, "kubectl");
  CHECK(err.message == "Apply failed with 1 conflict: conflict with \"kubectl-edit\" using apps/v1: "
                       ".spec.template.spec.containers[name=\"web\"].image");
}

TEST_CASE("managed fields: status in an apply of the main resource is no one's") {
  const ResourceType& t = Deployments();
  Json cfg = Y(kDeployment);
  cfg["status"] = {{"replicas", 5}};
  Json obj = Apply(t, Json(), cfg, "me");
  CHECK_FALSE(Fields(obj, "me").contains("f:status"));
  ManagedFieldsOptions o = At(kNow);
  o.subresource = "status";
  Json out;
  ApplyError err;
  Json st = Y("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nstatus: {replicas: 2}\n");
  REQUIRE(ServerSideApply(t, obj, st, "ctrl", false, &out, &err, o));
  Json e = Entry(out, "ctrl");
  CHECK(e["subresource"] == "status");
  CHECK(e["fieldsV1"] == Json::parse(R"({"f:status":{"f:replicas":{}}})"));
}

TEST_CASE("managed fields: apply errors") {
  const ResourceType& t = Deployments();
  Json cfg = Y(kDeployment);
  cfg["kind"] = "StatefulSet";
  ApplyError err = ApplyFails(t, Json(), cfg, "me");
  CHECK(err.code == 400);
  CHECK(err.message == "invalid object type: apps/v1, Kind=StatefulSet");
  cfg = Y(kDeployment);
  cfg["metadata"]["managedFields"] = Json::array();
  CHECK(ApplyFails(t, Json(), cfg, "me").message == "metadata.managedFields must be nil");
  cfg = Y(kDeployment);
  cfg["spec"]["foo"] = 1;
  err = ApplyFails(t, Json(), cfg, "me");
  CHECK(err.code == 500);
  CHECK(err.message == "failed to create typed patch object (default/web; apps/v1, Kind=Deployment): "
                       ".spec.foo: field not declared in schema");
  cfg = Y(kDeployment);
  cfg["spec"]["template"]["spec"]["containers"].push_back(cfg["spec"]["template"]["spec"]["containers"][0]);
  err = ApplyFails(t, Json(), cfg, "me");
  CHECK(err.message.find(".spec.template.spec.containers: duplicate entries for key [name=\"web\"]") !=
        std::string::npos);
}

TEST_CASE("managed fields: null in an applied configuration is owned, not stored") {
  const ResourceType& t = Deployments();
  Json cfg = Y(kDeployment);
  cfg["spec"]["replicas"] = nullptr;
  Json obj = Apply(t, Json(), cfg, "me");
  CHECK_FALSE(obj["spec"].contains("replicas"));
  CHECK(Fields(obj, "me")["f:spec"]["f:replicas"] == Json::object());
}

TEST_CASE("managed fields: the manager from the User-Agent") {
  CHECK(FieldManagerFromUserAgent("kubectl/v1.32.0 (linux/amd64) kubernetes/abc1234") == "kubectl");
  CHECK(FieldManagerFromUserAgent("kube-controller-manager/v1.32.0") == "kube-controller-manager");
  CHECK(FieldManagerFromUserAgent("curl") == "curl");
  CHECK(FieldManagerFromUserAgent("a\tb\x01/x") == "ab");
  CHECK(FieldManagerFromUserAgent(std::string(300, 'x')).size() == 128);
  CHECK(RequestFieldManager("kubectl-edit", "kubectl/v1.32.0") == "kubectl-edit");
  CHECK(RequestFieldManager("", "kubectl/v1.32.0") == "kubectl");
}

}  // namespace

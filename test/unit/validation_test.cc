// Unit tests of kubit::api::ValidateObject: upstream's validation per kind,
// with its field paths, error types and messages, on defaulted objects.
#include "core/api/validation.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/api/defaults.h"
#include "core/api/resources.h"

namespace {

using Json = nlohmann::json;

const kubit::api::ResourceType& Type(const char* group, const char* version, const char* plural) {
  const kubit::api::ResourceType* t = kubit::api::FindType(group, version, plural);
  REQUIRE(t);
  return *t;
}

// Defaults `obj` (and `old`) like the API server, validates, and returns the
// errors as upstream prints them.
std::vector<std::string> Errors(const char* group, const char* version, const char* plural, Json obj,
                                const Json* old = nullptr) {
  const auto& t = Type(group, version, plural);
  kubit::api::ApplyDefaults(t, &obj);
  Json old_obj;
  if (old) {
    old_obj = *old;
    kubit::api::ApplyDefaults(t, &old_obj);
  }
  std::vector<kubit::api::FieldError> errs;
  kubit::api::ValidateObject(t, obj, old ? &old_obj : nullptr, &errs);
  std::vector<std::string> out;
  for (const auto& e : errs) out.push_back(e.ToString());
  return out;
}

bool Contains(const std::vector<std::string>& errs, const std::string& want) {
  return std::find(errs.begin(), errs.end(), want) != errs.end();
}

std::string Joined(const std::vector<std::string>& errs) {
  std::string s;
  for (const auto& e : errs) s += "\n  " + e;
  return s;
}

#define CHECK_ERR(errs, want)                   \
  do {                                          \
    auto e_ = (errs);                           \
    std::string got_ = Joined(e_);              \
    CAPTURE(got_);                              \
    CHECK(Contains(e_, want));                  \
  } while (0)

#define CHECK_VALID(errs)          \
  do {                             \
    auto e_ = (errs);              \
    std::string got_ = Joined(e_); \
    CAPTURE(got_);                 \
    CHECK(e_.empty());             \
  } while (0)

Json Container(const char* name = "c", const char* image = "nginx:1.25") { return {{"name", name}, {"image", image}}; }

Json Pod(Json spec) { return {{"metadata", {{"name", "p"}, {"namespace", "default"}}}, {"spec", spec}}; }

Json Workload(Json selector_labels, Json template_labels, Json pod_spec = {{"containers", {Container()}}}) {
  Json spec = {{"template", {{"metadata", {{"labels", template_labels}}}, {"spec", pod_spec}}}};
  if (!selector_labels.is_null()) spec["selector"] = {{"matchLabels", selector_labels}};
  return {{"metadata", {{"name", "w"}, {"namespace", "default"}}}, {"spec", spec}};
}

const char kLabelMsg[] =
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start "
    "and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')";

TEST_CASE("validation: pod containers") {
  CHECK_ERR(Errors("", "v1", "pods", Pod({{"containers", Json::array()}})), "spec.containers: Required value");
  CHECK_ERR(Errors("", "v1", "pods", Pod(Json::object())), "spec.containers: Required value");
  auto dup = Errors("", "v1", "pods", Pod({{"containers", {Container("a"), Container("a")}}}));
  CHECK_ERR(dup, "spec.containers[1].name: Duplicate value: \"a\"");
  CHECK(dup.size() == 1);
  CHECK_ERR(Errors("", "v1", "pods", Pod({{"containers", {{{"image", "nginx"}}}}})), "spec.containers[0].name: Required value");
  CHECK_ERR(Errors("", "v1", "pods", Pod({{"containers", {{{"name", "c"}}}}})), "spec.containers[0].image: Required value");
  CHECK_ERR(Errors("", "v1", "pods", Pod({{"containers", {Container("Web_1")}}})),
            std::string("spec.containers[0].name: Invalid value: \"Web_1\": ") + kLabelMsg);
  CHECK_ERR(Errors("", "v1", "pods", Pod({{"containers", {Container("a.b")}}})),
            "spec.containers[0].name: Invalid value: \"a.b\": must not contain dots");
  CHECK_ERR(Errors("", "v1", "pods", Pod({{"containers", {Container(), Container("d")}}, {"initContainers", {Container("d")}}})),
            "spec.initContainers[0].name: Duplicate value: \"d\"");
}

TEST_CASE("validation: container ports, env and mounts") {
  Json c = Container();
  c["ports"] = {{{"containerPort", 70000}}, {{"containerPort", 80}, {"protocol", "FOO"}}, {{"name", "http"}, {"containerPort", 81}},
                {{"name", "http"}, {"containerPort", 82}}, {{"containerPort", 0}, {"name", "BAD"}}};
  c["env"] = {{{"name", ""}, {"value", "x"}}, {{"name", "A=B"}}, {{"name", "X"}, {"valueFrom", {{"fieldRef", {{"fieldPath", "metadata.labels"}}}}}}};
  c["volumeMounts"] = {{{"name", "missing"}, {"mountPath", "/data"}}};
  auto errs = Errors("", "v1", "pods", Pod({{"containers", {c}}}));
  CHECK_ERR(errs, "spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive");
  CHECK_ERR(errs, "spec.containers[0].ports[1].protocol: Unsupported value: \"FOO\": supported values: \"SCTP\", \"TCP\", \"UDP\"");
  CHECK_ERR(errs, "spec.containers[0].ports[3].name: Duplicate value: \"http\"");
  CHECK_ERR(errs, "spec.containers[0].ports[4].containerPort: Required value");
  CHECK_ERR(errs, "spec.containers[0].ports[4].name: Invalid value: \"BAD\": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)");
  CHECK_ERR(errs, "spec.containers[0].env[0].name: Required value");
  CHECK_ERR(errs, "spec.containers[0].env[1].name: Invalid value: \"A=B\": a valid environment variable name must consist only of printable ASCII characters other than '='");
  CHECK_ERR(errs,
            "spec.containers[0].env[2].valueFrom.fieldRef.fieldPath: Unsupported value: \"metadata.labels\": supported values: "
            "\"metadata.name\", \"metadata.namespace\", \"metadata.uid\", \"spec.nodeName\", \"spec.serviceAccountName\", "
            "\"status.hostIP\", \"status.hostIPs\", \"status.podIP\", \"status.podIPs\"");
  CHECK_ERR(errs, "spec.containers[0].volumeMounts[0].name: Not found: \"missing\"");
}

TEST_CASE("validation: pod spec fields") {
  CHECK_ERR(Errors("", "v1", "pods", Pod({{"containers", {Container()}}, {"restartPolicy", "Sometimes"}})),
            "spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", \"OnFailure\", \"Never\"");
  CHECK_ERR(Errors("", "v1", "pods", Pod({{"containers", {Container()}}, {"dnsPolicy", "Bogus"}})),
            "spec.dnsPolicy: Unsupported value: \"Bogus\": supported values: \"ClusterFirstWithHostNet\", \"ClusterFirst\", \"Default\", \"None\"");
  Json c = Container();
  c["imagePullPolicy"] = "Sometimes";
  c["resources"] = {{"limits", {{"cpu", "500m"}}}, {"requests", {{"cpu", "1"}}}};
  c["livenessProbe"] = {{"httpGet", {{"port", 0}}}, {"successThreshold", 2}};
  c["readinessProbe"] = {{"periodSeconds", 5}};
  auto errs = Errors("", "v1", "pods", Pod({{"containers", {c}}}));
  CHECK_ERR(errs, "spec.containers[0].imagePullPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", \"IfNotPresent\", \"Never\"");
  CHECK_ERR(errs, "spec.containers[0].resources.requests: Invalid value: \"1\": must be less than or equal to cpu limit of 500m");
  CHECK_ERR(errs, "spec.containers[0].livenessProbe.httpGet.port: Invalid value: 0: must be between 1 and 65535, inclusive");
  CHECK_ERR(errs, "spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1");
  CHECK_ERR(errs, "spec.containers[0].readinessProbe: Required value: must specify a handler type");
  Json tol = {{"containers", {Container()}}, {"tolerations", {{{"key", "k"}, {"operator", "Exists"}, {"value", "v"}}}}};
  CHECK_ERR(Errors("", "v1", "pods", Pod(tol)),
            "spec.tolerations[0].operator: Invalid value: \"v\": value must be empty when `operator` is 'Exists'");
  CHECK_ERR(Errors("", "v1", "pods", Pod({{"containers", {Container()}}, {"ephemeralContainers", {Container("e")}}})),
            "spec.ephemeralContainers: Forbidden: cannot be set on create");
}

TEST_CASE("validation: volumes") {
  Json vols = {{{"name", "s"}, {"secret", {{"secretName", "x"}, {"defaultMode", 1000}}}},
               {{"name", "cm"}, {"configMap", Json::object()}},
               {{"name", "two"}, {"emptyDir", Json::object()}, {"hostPath", {{"path", "/x"}}}},
               {{"name", "ok"}, {"emptyDir", Json::object()}},
               {{"name", "h"}, {"hostPath", {{"path", "/x"}, {"type", "Bogus"}}}},
               {{"name", "ok"}, {"emptyDir", Json::object()}},
               // A volume with errors is not remembered: no duplicate here.
               {{"name", "s"}, {"emptyDir", Json::object()}}};
  auto errs = Errors("", "v1", "pods", Pod({{"containers", {Container()}}, {"volumes", vols}}));
  CHECK_ERR(errs, "spec.volumes[0].secret.defaultMode: Invalid value: 1000: must be a number between 0 and 0777 (octal), both inclusive");
  CHECK_ERR(errs, "spec.volumes[1].configMap.name: Required value");
  CHECK_ERR(errs, "spec.volumes[2].hostPath: Forbidden: may not specify more than 1 volume type");
  CHECK_ERR(errs, "spec.volumes[5].name: Duplicate value: \"ok\"");
  CHECK_FALSE(Contains(errs, "spec.volumes[6].name: Duplicate value: \"s\""));
  CHECK_ERR(errs,
            "spec.volumes[4].hostPath.type: Unsupported value: \"Bogus\": supported values: \"\", \"BlockDevice\", \"CharDevice\", "
            "\"Directory\", \"DirectoryOrCreate\", \"File\", \"FileOrCreate\", \"Socket\"");
  Json c = Container();
  c["volumeMounts"] = {{{"name", "data"}, {"mountPath", "/data"}}};
  CHECK_VALID(Errors("", "v1", "pods",
                     Pod({{"containers", {c}},
                          {"volumes", {{{"name", "data"}, {"persistentVolumeClaim", {{"claimName", "pvc"}}}}}}})));
}

TEST_CASE("validation: valid pods and templates pass") {
  Json c = Container("web", "nginx");
  c["ports"] = {{{"containerPort", 80}, {"name", "http"}}};
  c["env"] = {{{"name", "POD_NAME"}, {"valueFrom", {{"fieldRef", {{"fieldPath", "metadata.name"}}}}}},
              {{"name", "KEY"}, {"valueFrom", {{"secretKeyRef", {{"name", "s"}, {"key", "k"}}}}}}};
  c["resources"] = {{"limits", {{"cpu", "500m"}, {"memory", "128Mi"}}}};
  c["livenessProbe"] = {{"httpGet", {{"path", "/healthz"}, {"port", "http"}}}, {"initialDelaySeconds", 3}};
  c["readinessProbe"] = {{"exec", {{"command", {"cat", "/tmp/healthy"}}}}};
  c["volumeMounts"] = {{{"name", "config"}, {"mountPath", "/etc/config"}}, {{"name", "cache"}, {"mountPath", "/cache"}}};
  c["securityContext"] = {{"runAsUser", 1000}, {"allowPrivilegeEscalation", false}};
  Json spec = {{"containers", {c}},
               {"initContainers", {{{"name", "init"}, {"image", "busybox"}, {"command", {"sh", "-c", "true"}}}}},
               {"volumes", {{{"name", "config"}, {"configMap", {{"name", "cfg"}}}}, {{"name", "cache"}, {"emptyDir", Json::object()}}}},
               {"nodeSelector", {{"disktype", "ssd"}}},
               {"tolerations", {{{"key", "k"}, {"operator", "Equal"}, {"value", "v"}, {"effect", "NoSchedule"}}}},
               {"securityContext", {{"fsGroup", 2000}}}};
  CHECK_VALID(Errors("", "v1", "pods", Pod(spec)));
  CHECK_VALID(Errors("apps", "v1", "deployments", Workload({{"app", "x"}}, {{"app", "x"}}, spec)));
}

TEST_CASE("validation: Deployment") {
  CHECK_VALID(Errors("apps", "v1", "deployments", Workload({{"app", "x"}}, {{"app", "x"}})));
  auto none = Errors("apps", "v1", "deployments", Workload(nullptr, {{"app", "x"}}));
  CHECK_ERR(none, "spec.selector: Required value");
  CHECK_ERR(none, "spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"x\"}: `selector` does not match template `labels`");
  CHECK_ERR(Errors("apps", "v1", "deployments", Workload({{"app", "y"}}, {{"app", "x"}})),
            "spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"x\"}: `selector` does not match template `labels`");
  Json neg = Workload({{"app", "x"}}, {{"app", "x"}});
  neg["spec"]["replicas"] = -1;
  CHECK_ERR(Errors("apps", "v1", "deployments", neg), "spec.replicas: Invalid value: -1: must be greater than or equal to 0");
  Json empty = Workload({{"app", "x"}}, {{"app", "x"}});
  empty["spec"]["selector"] = Json::object();
  CHECK_ERR(Errors("apps", "v1", "deployments", empty),
            "spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), "
            "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for deployment");
  Json job_policy = Workload({{"app", "x"}}, {{"app", "x"}}, {{"containers", {Container()}}, {"restartPolicy", "Never"}});
  CHECK_ERR(Errors("apps", "v1", "deployments", job_policy),
            "spec.template.spec.restartPolicy: Unsupported value: \"Never\": supported values: \"Always\"");
  Json bad_surge = Workload({{"app", "x"}}, {{"app", "x"}});
  bad_surge["spec"]["strategy"] = {{"rollingUpdate", {{"maxSurge", "abc"}, {"maxUnavailable", 0}}}};
  CHECK_ERR(Errors("apps", "v1", "deployments", bad_surge),
            "spec.strategy.rollingUpdate.maxSurge: Invalid value: intstr.IntOrString{Type:1, IntVal:0, StrVal:\"abc\"}: a valid "
            "percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation "
            "is '[0-9]+%')");
  // On update the selector may not change.
  Json old = Workload({{"app", "x"}}, {{"app", "x"}});
  Json changed = Workload({{"app", "y"}}, {{"app", "y"}});
  CHECK_ERR(Errors("apps", "v1", "deployments", changed, &old),
            "spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{\"app\":\"y\"}, "
            "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable");
  Json scaled = old;
  scaled["spec"]["replicas"] = 5;
  CHECK_VALID(Errors("apps", "v1", "deployments", scaled, &old));
}

TEST_CASE("validation: ReplicaSet, StatefulSet and DaemonSet") {
  CHECK_VALID(Errors("apps", "v1", "replicasets", Workload({{"app", "x"}}, {{"app", "x"}})));
  CHECK_ERR(Errors("apps", "v1", "replicasets", Workload(nullptr, {{"app", "x"}})), "spec.selector: Required value");

  Json sts = Workload({{"app", "x"}}, {{"app", "x"}});
  sts["spec"]["serviceName"] = "web";
  CHECK_VALID(Errors("apps", "v1", "statefulsets", sts));
  CHECK_ERR(Errors("apps", "v1", "statefulsets", Workload(nullptr, {{"app", "x"}})), "spec.selector: Required value");
  Json sts2 = sts;
  sts2["spec"]["serviceName"] = "other";
  CHECK_ERR(Errors("apps", "v1", "statefulsets", sts2, &sts),
            "spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', "
            "'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden");
  Json sts3 = sts;
  sts3["spec"]["replicas"] = 3;
  CHECK_VALID(Errors("apps", "v1", "statefulsets", sts3, &sts));

  CHECK_VALID(Errors("apps", "v1", "daemonsets", Workload({{"app", "x"}}, {{"app", "x"}})));
  CHECK_ERR(Errors("apps", "v1", "daemonsets", Workload({{"app", "y"}}, {{"app", "x"}})),
            "spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"x\"}: `selector` does not match template `labels`");
  Json ds = Workload({{"app", "x"}}, {{"app", "x"}});
  ds["spec"]["updateStrategy"] = {{"rollingUpdate", {{"maxSurge", 1}, {"maxUnavailable", 1}}}};
  CHECK_ERR(Errors("apps", "v1", "daemonsets", ds),
            "spec.updateStrategy.rollingUpdate.maxSurge: Invalid value: intstr.IntOrString{Type:0, IntVal:1, StrVal:\"\"}: may "
            "not be set when maxUnavailable is non-zero");
  Json old = Workload({{"app", "x"}}, {{"app", "x"}});
  CHECK_ERR(Errors("apps", "v1", "daemonsets", Workload({{"app", "z"}}, {{"app", "z"}}), &old),
            "spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{\"app\":\"z\"}, "
            "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable");
}

TEST_CASE("validation: Job and CronJob") {
  Json never = Workload(nullptr, {{"app", "pi"}}, {{"containers", {Container()}}, {"restartPolicy", "Never"}});
  CHECK_VALID(Errors("batch", "v1", "jobs", never));
  Json unset = Workload(nullptr, {{"app", "pi"}});
  CHECK_ERR(Errors("batch", "v1", "jobs", unset),
            "spec.template.spec.restartPolicy: Required value: valid values: \"OnFailure\", \"Never\"");
  Json always = Workload(nullptr, {{"app", "pi"}}, {{"containers", {Container()}}, {"restartPolicy", "Always"}});
  CHECK_ERR(Errors("batch", "v1", "jobs", always),
            "spec.template.spec.restartPolicy: Required value: valid values: \"OnFailure\", \"Never\"");
  Json neg = never;
  neg["spec"]["backoffLimit"] = -1;
  CHECK_ERR(Errors("batch", "v1", "jobs", neg), "spec.backoffLimit: Invalid value: -1: must be greater than or equal to 0");
  // Updates: the selector and the template are immutable.
  Json old = never;
  old["spec"]["selector"] = {{"matchLabels", {{"batch.kubernetes.io/controller-uid", "u1"}}}};
  old["spec"]["template"]["metadata"]["labels"]["batch.kubernetes.io/controller-uid"] = "u1";
  Json sel = old;
  sel["spec"]["selector"]["matchLabels"]["batch.kubernetes.io/controller-uid"] = "u2";
  sel["spec"]["template"]["metadata"]["labels"]["batch.kubernetes.io/controller-uid"] = "u2";
  auto errs = Errors("batch", "v1", "jobs", sel, &old);
  CHECK_ERR(errs,
            "spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{\"batch.kubernetes.io/controller-uid\":\"u2\"}, "
            "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable");
  Json tmpl = old;
  tmpl["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:2";
  auto terrs = Errors("batch", "v1", "jobs", tmpl, &old);
  CHECK(std::any_of(terrs.begin(), terrs.end(), [](const std::string& e) {
    return e.rfind("spec.template: Invalid value: core.PodTemplateSpec{", 0) == 0 && e.find(": field is immutable") != std::string::npos;
  }));
  Json suspend = old;
  suspend["spec"]["suspend"] = true;
  CHECK_VALID(Errors("batch", "v1", "jobs", suspend, &old));

  auto cron = [](const char* schedule) {
    Json spec = {{"jobTemplate", {{"spec", {{"template", {{"spec", {{"containers", {Container()}}, {"restartPolicy", "OnFailure"}}}}}}}}}};
    if (schedule) spec["schedule"] = schedule;
    return Errors("batch", "v1", "cronjobs", {{"metadata", {{"name", "hello"}}}, {"spec", spec}});
  };
  for (const char* ok : {"*/5 * * * *", "0 0 * * 0", "@hourly", "@every 1h30m", "0 9-17 * * mon-fri", "15,45 * 1 jan,jul *"}) {
    CAPTURE(ok);
    CHECK_VALID(cron(ok));
  }
  CHECK_ERR(cron(nullptr), "spec.schedule: Required value");
  CHECK_ERR(cron("foo"), "spec.schedule: Invalid value: \"foo\": expected exactly 5 fields, found 1: [foo]");
  CHECK_ERR(cron("61 * * * *"), "spec.schedule: Invalid value: \"61 * * * *\": end of range (61) above maximum (59): 61");
  CHECK_ERR(cron("* * * * 8"), "spec.schedule: Invalid value: \"* * * * 8\": end of range (8) above maximum (6): 8");
  CHECK_ERR(cron("x * * * *"),
            "spec.schedule: Invalid value: \"x * * * *\": failed to parse int from x: strconv.Atoi: parsing \"x\": invalid syntax");
  CHECK_ERR(cron("@weekdays"), "spec.schedule: Invalid value: \"@weekdays\": unrecognized descriptor: @weekdays");
  CHECK_ERR(cron("CRON_TZ=UTC 0 * * * *"),
            "spec.schedule: Invalid value: \"CRON_TZ=UTC 0 * * * *\": cannot use TZ or CRON_TZ in schedule, use timeZone field instead");
  Json manual = {{"schedule", "* * * * *"},
                 {"concurrencyPolicy", "Sometimes"},
                 {"jobTemplate", {{"spec", {{"template", {{"spec", {{"containers", {Container()}}}}}}}}}}};
  auto cerrs = Errors("batch", "v1", "cronjobs", {{"metadata", {{"name", "hello"}}}, {"spec", manual}});
  CHECK_ERR(cerrs, "spec.concurrencyPolicy: Unsupported value: \"Sometimes\": supported values: \"Allow\", \"Forbid\", \"Replace\"");
  CHECK_ERR(cerrs, "spec.jobTemplate.spec.template.spec.restartPolicy: Required value: valid values: \"OnFailure\", \"Never\"");
}

TEST_CASE("validation: Service") {
  auto svc = [](Json spec) { return Json{{"metadata", {{"name", "s"}, {"namespace", "default"}}}, {"spec", spec}}; };
  CHECK_VALID(Errors("", "v1", "services", svc({{"selector", {{"app", "x"}}}, {"ports", {{{"port", 80}, {"targetPort", 8080}}}}})));
  CHECK_ERR(Errors("", "v1", "services", svc({{"selector", {{"app", "x"}}}})), "spec.ports: Required value");
  CHECK_VALID(Errors("", "v1", "services", svc({{"clusterIP", "None"}, {"selector", {{"app", "x"}}}})));
  CHECK_VALID(Errors("", "v1", "services", svc({{"type", "ExternalName"}, {"externalName", "my.database.example.com"}})));
  auto errs = Errors("", "v1", "services",
                     svc({{"type", "NodePort"},
                          {"ports", {{{"port", 80}, {"nodePort", 80}}, {{"port", 0}, {"name", "b"}}, {{"port", 80}, {"name", "B"}}}}}));
  CHECK_ERR(errs, "spec.ports[0].name: Required value");
  CHECK_ERR(errs, "spec.ports[1].port: Invalid value: 0: must be between 1 and 65535, inclusive");
  CHECK_ERR(errs, std::string("spec.ports[2].name: Invalid value: \"B\": ") + kLabelMsg);
  CHECK_ERR(errs, "spec.ports[0].nodePort: Invalid value: 80: provided port is not in the valid range. The range of valid ports is 30000-32767");
  CHECK_ERR(errs,
            "spec.ports[2]: Duplicate value: core.ServicePort{Name:\"\", Protocol:\"TCP\", AppProtocol:(*string)(nil), Port:80, "
            "TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:\"\"}, NodePort:0}");
  CHECK_ERR(Errors("", "v1", "services", svc({{"ports", {{{"port", 80}, {"name", "a"}}, {{"port", 81}, {"name", "a"}}}}})),
            "spec.ports[1].name: Duplicate value: \"a\"");
  CHECK_ERR(Errors("", "v1", "services", svc({{"type", "Foo"}, {"ports", {{{"port", 80}}}}})),
            "spec.type: Unsupported value: \"Foo\": supported values: \"ClusterIP\", \"ExternalName\", \"LoadBalancer\", \"NodePort\"");
  CHECK_ERR(Errors("", "v1", "services", svc({{"ports", {{{"port", 80}, {"nodePort", 30001}}}}})),
            "spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'");
  Json old = svc({{"clusterIP", "10.96.0.10"}, {"ports", {{{"port", 80}}}}});
  CHECK_ERR(Errors("", "v1", "services", svc({{"clusterIP", "10.96.0.11"}, {"ports", {{{"port", 80}}}}}), &old),
            "spec.clusterIPs[0]: Invalid value: []string{\"10.96.0.11\"}: may not change once set");
  CHECK_VALID(Errors("", "v1", "services", svc({{"clusterIP", "10.96.0.10"}, {"ports", {{{"port", 81}}}}}), &old));
}

TEST_CASE("validation: ConfigMap and Secret") {
  auto cm = [](Json data, bool immutable = false) {
    Json o = {{"metadata", {{"name", "c"}, {"namespace", "default"}}}, {"data", data}};
    if (immutable) o["immutable"] = true;
    return o;
  };
  CHECK_VALID(Errors("", "v1", "configmaps", cm({{"game.properties", "x"}, {"UI_COLOR", "red"}})));
  CHECK_ERR(Errors("", "v1", "configmaps", cm({{"bad key", "x"}})),
            "data[bad key]: Invalid value: \"bad key\": a valid config key must consist of alphanumeric characters, '-', '_' or "
            "'.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')");
  CHECK_ERR(Errors("", "v1", "configmaps", cm({{"..", "x"}})), "data[..]: Invalid value: \"..\": must not be '..'");
  Json old = cm({{"a", "1"}}, true);
  CHECK_ERR(Errors("", "v1", "configmaps", cm({{"a", "2"}}, true), &old), "data: Forbidden: field is immutable when `immutable` is set");
  CHECK_ERR(Errors("", "v1", "configmaps", cm({{"a", "1"}}, false), &old), "immutable: Forbidden: field is immutable when `immutable` is set");
  CHECK_VALID(Errors("", "v1", "configmaps", cm({{"a", "1"}}, true), &old));

  Json secret = {{"metadata", {{"name", "s"}, {"namespace", "default"}}}, {"stringData", {{"password", "x"}}}};
  CHECK_VALID(Errors("", "v1", "secrets", secret));
  Json tls = {{"metadata", {{"name", "s"}}}, {"type", "kubernetes.io/tls"}, {"data", {{"tls.crt", "YQ=="}}}};
  CHECK_ERR(Errors("", "v1", "secrets", tls), "data[tls.key]: Required value");
  Json old_secret = {{"metadata", {{"name", "s"}}}, {"data", {{"tls.crt", "YQ=="}, {"tls.key", "YQ=="}}}};
  Json retyped = old_secret;
  retyped["type"] = "kubernetes.io/tls";
  CHECK_ERR(Errors("", "v1", "secrets", retyped, &old_secret), "type: Invalid value: \"kubernetes.io/tls\": field is immutable");
  CHECK_ERR(Errors("", "v1", "secrets", {{"data", {{"a b", "YQ=="}}}}), "data[a b]: Invalid value: \"a b\": a valid config key must "
            "consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for "
            "validation is '[-._a-zA-Z0-9]+')");
}

TEST_CASE("validation: volumes and claims") {
  auto pvc = [](Json spec) { return Json{{"metadata", {{"name", "c"}, {"namespace", "default"}}}, {"spec", spec}}; };
  Json good = {{"accessModes", {"ReadWriteOnce"}}, {"resources", {{"requests", {{"storage", "1Gi"}}}}}};
  CHECK_VALID(Errors("", "v1", "persistentvolumeclaims", pvc(good)));
  auto errs = Errors("", "v1", "persistentvolumeclaims", pvc(Json::object()));
  CHECK_ERR(errs, "spec.accessModes: Required value: at least 1 access mode is required");
  CHECK_ERR(errs, "spec.resources[storage]: Required value");
  CHECK_ERR(Errors("", "v1", "persistentvolumeclaims", pvc({{"accessModes", {"ReadWriteSometimes"}}, {"resources", {{"requests", {{"storage", "1Gi"}}}}}})),
            "spec.accessModes: Unsupported value: \"ReadWriteSometimes\": supported values: \"ReadOnlyMany\", \"ReadWriteMany\", "
            "\"ReadWriteOnce\", \"ReadWriteOncePod\"");
  Json grown = good;
  grown["resources"]["requests"]["storage"] = "2Gi";
  Json old = pvc(good);
  auto gerrs = Errors("", "v1", "persistentvolumeclaims", pvc(grown), &old);
  CHECK(std::any_of(gerrs.begin(), gerrs.end(), [](const std::string& e) {
    return e.rfind("spec: Forbidden: spec is immutable after creation except resources.requests", 0) == 0;
  }));
  Json bound_old = pvc(good);
  bound_old["status"] = {{"phase", "Bound"}};
  Json bound_new = pvc(grown);
  bound_new["status"] = {{"phase", "Bound"}};
  CHECK_VALID(Errors("", "v1", "persistentvolumeclaims", bound_new, &bound_old));

  Json pv = {{"metadata", {{"name", "pv"}}},
             {"spec", {{"capacity", {{"storage", "10Gi"}}}, {"accessModes", {"ReadWriteOnce"}}, {"hostPath", {{"path", "/mnt/data"}}}}}};
  CHECK_VALID(Errors("", "v1", "persistentvolumes", pv));
  CHECK_ERR(Errors("", "v1", "persistentvolumes", {{"spec", {{"capacity", {{"storage", "1Gi"}}}, {"accessModes", {"ReadWriteOnce"}}}}}),
            "spec: Required value: must specify a volume type");
}

TEST_CASE("validation: Ingress, NetworkPolicy and EndpointSlice") {
  auto ing = [](Json path) {
    return Json{{"metadata", {{"name", "i"}, {"namespace", "default"}}},
                {"spec", {{"rules", {{{"host", "foo.example.com"}, {"http", {{"paths", {path}}}}}}}}}};
  };
  Json backend = {{"service", {{"name", "web"}, {"port", {{"number", 80}}}}}};
  CHECK_VALID(Errors("networking.k8s.io", "v1", "ingresses", ing({{"path", "/"}, {"pathType", "Prefix"}, {"backend", backend}})));
  CHECK_ERR(Errors("networking.k8s.io", "v1", "ingresses", ing({{"path", "/"}, {"backend", backend}})),
            "spec.rules[0].http.paths[0].pathType: Required value: pathType must be specified");
  CHECK_ERR(Errors("networking.k8s.io", "v1", "ingresses", ing({{"path", "/"}, {"pathType", "Regex"}, {"backend", backend}})),
            "spec.rules[0].http.paths[0].pathType: Unsupported value: \"Regex\": supported values: \"Exact\", "
            "\"ImplementationSpecific\", \"Prefix\"");
  CHECK_ERR(Errors("networking.k8s.io", "v1", "ingresses", ing({{"path", "foo"}, {"pathType", "Exact"}, {"backend", backend}})),
            "spec.rules[0].http.paths[0].path: Invalid value: \"foo\": must be an absolute path");
  CHECK_ERR(Errors("networking.k8s.io", "v1", "ingresses", {{"spec", Json::object()}}),
            "spec: Invalid value: []networking.IngressRule(nil): either `defaultBackend` or `rules` must be specified");

  Json np = {{"metadata", {{"name", "n"}, {"namespace", "default"}}},
             {"spec",
              {{"podSelector", {{"matchLabels", {{"role", "db"}}}}},
               {"ingress", {{{"from", {{{"ipBlock", {{"cidr", "172.17.0.0/16"}, {"except", {"172.17.1.0/24"}}}}}}},
                             {"ports", {{{"protocol", "TCP"}, {"port", 6379}}}}}}}}}};
  CHECK_VALID(Errors("networking.k8s.io", "v1", "networkpolicies", np));
  np["spec"]["ingress"][0]["from"][0]["ipBlock"]["except"] = {"10.0.0.0/8"};
  CHECK_ERR(Errors("networking.k8s.io", "v1", "networkpolicies", np),
            "spec.ingress[0].from[0].ipBlock.except[0]: Invalid value: \"10.0.0.0/8\": must be a strict subset of `cidr`");

  Json es = {{"metadata", {{"name", "e"}, {"namespace", "default"}}},
             {"addressType", "IPv4"},
             {"endpoints", {{{"addresses", {"10.1.2.3"}}}}},
             {"ports", {{{"name", "http"}, {"port", 80}}}}};
  CHECK_VALID(Errors("discovery.k8s.io", "v1", "endpointslices", es));
  es["addressType"] = "IPv5";
  CHECK_ERR(Errors("discovery.k8s.io", "v1", "endpointslices", es),
            "addressType: Unsupported value: \"IPv5\": supported values: \"FQDN\", \"IPv4\", \"IPv6\"");
}

TEST_CASE("validation: RBAC") {
  Json role = {{"metadata", {{"name", "r"}, {"namespace", "default"}}},
               {"rules", {{{"apiGroups", {""}}, {"resources", {"pods"}}, {"verbs", {"get", "list"}}}}}};
  CHECK_VALID(Errors("rbac.authorization.k8s.io", "v1", "roles", role));
  role["rules"][0].erase("verbs");
  CHECK_ERR(Errors("rbac.authorization.k8s.io", "v1", "roles", role), "rules[0].verbs: Required value: verbs must contain at least one value");
  Json cr = {{"metadata", {{"name", "system:test"}}}, {"rules", {{{"nonResourceURLs", {"/healthz"}}, {"verbs", {"get"}}}}}};
  CHECK_VALID(Errors("rbac.authorization.k8s.io", "v1", "clusterroles", cr));
  Json nr = {{"rules", {{{"nonResourceURLs", {"/healthz"}}, {"verbs", {"get"}}}}}};
  CHECK_ERR(Errors("rbac.authorization.k8s.io", "v1", "roles", nr),
            "rules[0].nonResourceURLs: Invalid value: []string{\"/healthz\"}: namespaced rules cannot apply to non-resource URLs");

  Json rb = {{"metadata", {{"name", "b"}, {"namespace", "default"}}},
             {"roleRef", {{"kind", "Role"}, {"name", "r"}}},
             {"subjects", {{{"kind", "User"}, {"name", "jane"}}, {{"kind", "ServiceAccount"}, {"name", "default"}, {"namespace", "default"}}}}};
  CHECK_VALID(Errors("rbac.authorization.k8s.io", "v1", "rolebindings", rb));
  Json crb = rb;
  CHECK_ERR(Errors("rbac.authorization.k8s.io", "v1", "clusterrolebindings", crb),
            "roleRef.kind: Unsupported value: \"Role\": supported values: \"ClusterRole\"");
  Json bad = rb;
  bad["subjects"][0]["kind"] = "Robot";
  CHECK_ERR(Errors("rbac.authorization.k8s.io", "v1", "rolebindings", bad),
            "subjects[0].kind: Unsupported value: \"Robot\": supported values: \"ServiceAccount\", \"User\", \"Group\"");
  Json moved = rb;
  moved["roleRef"]["name"] = "other";
  CHECK_ERR(Errors("rbac.authorization.k8s.io", "v1", "rolebindings", moved, &rb),
            "roleRef: Invalid value: rbac.RoleRef{APIGroup:\"rbac.authorization.k8s.io\", Kind:\"Role\", Name:\"other\"}: cannot change roleRef");
}

TEST_CASE("validation: the other kinds") {
  CHECK_VALID(Errors("coordination.k8s.io", "v1", "leases", {{"spec", {{"holderIdentity", "a"}, {"leaseDurationSeconds", 15}}}}));
  CHECK_ERR(Errors("coordination.k8s.io", "v1", "leases", {{"spec", {{"leaseDurationSeconds", 0}}}}),
            "spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0");

  CHECK_VALID(Errors("scheduling.k8s.io", "v1", "priorityclasses", {{"metadata", {{"name", "high"}}}, {"value", 1000000}}));
  CHECK_ERR(Errors("scheduling.k8s.io", "v1", "priorityclasses", {{"metadata", {{"name", "high"}}}, {"value", 2000000000}}),
            "value: Forbidden: maximum allowed value of a user defined priority is 1000000000");
  Json pc_old = {{"metadata", {{"name", "high"}}}, {"value", 1000}};
  CHECK_ERR(Errors("scheduling.k8s.io", "v1", "priorityclasses", {{"metadata", {{"name", "high"}}}, {"value", 2000}}, &pc_old),
            "value: Forbidden: may not be changed in an update.");

  CHECK_VALID(Errors("storage.k8s.io", "v1", "storageclasses", {{"metadata", {{"name", "sc"}}}, {"provisioner", "rancher.io/local-path"}}));
  CHECK_ERR(Errors("storage.k8s.io", "v1", "storageclasses", {{"metadata", {{"name", "sc"}}}}), "provisioner: Required value");

  CHECK_VALID(Errors("policy", "v1", "poddisruptionbudgets",
                     {{"spec", {{"minAvailable", "50%"}, {"selector", {{"matchLabels", {{"app", "x"}}}}}}}}));
  CHECK_ERR(Errors("policy", "v1", "poddisruptionbudgets", {{"spec", {{"minAvailable", "150%"}}}}),
            "spec.minAvailable: Invalid value: intstr.IntOrString{Type:1, IntVal:0, StrVal:\"150%\"}: must not be greater than 100%");

  Json hpa = {{"spec", {{"scaleTargetRef", {{"apiVersion", "apps/v1"}, {"kind", "Deployment"}, {"name", "d"}}}, {"maxReplicas", 10}}}};
  CHECK_VALID(Errors("autoscaling", "v2", "horizontalpodautoscalers", hpa));
  hpa["spec"]["maxReplicas"] = 0;
  CHECK_ERR(Errors("autoscaling", "v2", "horizontalpodautoscalers", hpa), "spec.maxReplicas: Invalid value: 0: must be greater than 0");

  CHECK_VALID(Errors("", "v1", "namespaces", {{"metadata", {{"name", "dev"}}}}));
  CHECK_ERR(Errors("", "v1", "namespaces", {{"metadata", {{"name", "dev"}}}, {"spec", {{"finalizers", {"foo"}}}}}),
            "spec.finalizers: Invalid value: \"foo\": name is neither a standard finalizer name nor is it fully qualified");

  CHECK_VALID(Errors("", "v1", "serviceaccounts", {{"metadata", {{"name", "sa"}}}}));
  CHECK_VALID(Errors("", "v1", "resourcequotas", {{"spec", {{"hard", {{"pods", "10"}, {"requests.cpu", "4"}}}}}}));
  CHECK_ERR(Errors("", "v1", "resourcequotas", {{"spec", {{"hard", {{"pods", "1.5"}}}}}}),
            "spec.hard[pods]: Invalid value: resource.Quantity{i:resource.int64Amount{value:1500, scale:-3}, "
            "d:resource.infDecAmount{Dec:(*inf.Dec)(nil)}, s:\"\", Format:\"DecimalSI\"}: must be an integer");
  CHECK_VALID(Errors("", "v1", "limitranges",
                     {{"spec", {{"limits", {{{"type", "Container"}, {"default", {{"cpu", "500m"}}}, {"max", {{"cpu", "1"}}}}}}}}}));
  CHECK_VALID(Errors("", "v1", "events",
                     {{"metadata", {{"name", "e"}, {"namespace", "default"}}},
                      {"involvedObject", {{"kind", "Pod"}, {"name", "p"}, {"namespace", "default"}}},
                      {"reason", "Started"}}));
  CHECK_ERR(Errors("", "v1", "events",
                   {{"metadata", {{"name", "e"}, {"namespace", "default"}}}, {"involvedObject", {{"namespace", "other"}}}}),
            "involvedObject.namespace: Invalid value: \"other\": does not match event.namespace");
  CHECK_VALID(Errors("", "v1", "nodes", {{"metadata", {{"name", "n"}}}, {"spec", {{"taints", {{{"key", "k"}, {"effect", "NoSchedule"}}}}}}}));
}

TEST_CASE("validation: names by kind") {
  using kubit::api::ValidateNameForKind;
  CHECK(ValidateNameForKind(Type("", "v1", "configmaps"), "my.config").empty());
  CHECK(ValidateNameForKind(Type("", "v1", "services"), "my.svc") ==
        std::vector<std::string>{"a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
                                 "alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', "
                                 "regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"});
  CHECK_FALSE(ValidateNameForKind(Type("", "v1", "services"), "1svc").empty());
  CHECK(ValidateNameForKind(Type("", "v1", "namespaces"), "a.b") == std::vector<std::string>{"must not contain dots"});
  CHECK(ValidateNameForKind(Type("rbac.authorization.k8s.io", "v1", "clusterroles"), "system:aggregate-to-admin").empty());
  CHECK(ValidateNameForKind(Type("rbac.authorization.k8s.io", "v1", "clusterroles"), "a/b") ==
        std::vector<std::string>{"may not contain '/'"});
  CHECK_FALSE(ValidateNameForKind(Type("apps", "v1", "statefulsets"), "web.v1").empty());
  CHECK(ValidateNameForKind(Type("apps", "v1", "deployments"), "web.v1").empty());
}

TEST_CASE("validation: kinds without rules add nothing") {
  std::vector<kubit::api::FieldError> errs;
  kubit::api::ValidateObject(Type("authorization.k8s.io", "v1", "selfsubjectaccessreviews"), Json{{"spec", 1}}, nullptr, &errs);
  CHECK(errs.empty());
  kubit::api::ValidateObject(Type("", "v1", "pods"), Json("not an object"), nullptr, &errs);
  CHECK(errs.empty());
}

}  // namespace

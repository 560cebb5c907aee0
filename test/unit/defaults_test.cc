// Unit tests of kubit::api::ApplyDefaults: upstream's defaulting per kind
// and the shape objects take through upstream's Go types.
#include "core/api/defaults.h"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "core/api/defaults_quantity.h"
#include "core/api/resources.h"

namespace {

using Json = nlohmann::json;
using kubit::api::ApplyDefaults;

const kubit::api::ResourceType& Type(const char* group, const char* version, const char* plural) {
  const kubit::api::ResourceType* t = kubit::api::FindType(group, version, plural);
  REQUIRE(t);
  return *t;
}

Json Defaulted(const char* group, const char* version, const char* plural, Json obj) {
  ApplyDefaults(Type(group, version, plural), &obj);
  return obj;
}

Json Pod(Json spec) {
  return {{"apiVersion", "v1"}, {"kind", "Pod"}, {"metadata", {{"name", "p"}}}, {"spec", spec}};
}

Json Template(Json spec, Json labels = {{"app", "x"}}) {
  return {{"metadata", {{"labels", labels}}}, {"spec", spec}};
}

const Json kOneContainer = {{"containers", {{{"name", "c"}, {"image", "nginx:1.25"}}}}};

TEST_CASE("defaults: pod spec and container") {
  Json p = Defaulted("", "v1", "pods",
                     Pod({{"containers", {{{"name", "c"}, {"image", "nginx"}, {"ports", {{{"containerPort", 80}}}}}}}}));
  const Json& s = p["spec"];
  CHECK(s["restartPolicy"] == "Always");
  CHECK(s["terminationGracePeriodSeconds"] == 30);
  CHECK(s["dnsPolicy"] == "ClusterFirst");
  CHECK(s["schedulerName"] == "default-scheduler");
  CHECK(s["securityContext"] == Json::object());
  CHECK(s["enableServiceLinks"] == true);
  const Json& c = s["containers"][0];
  CHECK(c["terminationMessagePath"] == "/dev/termination-log");
  CHECK(c["terminationMessagePolicy"] == "File");
  CHECK(c["imagePullPolicy"] == "Always");
  CHECK(c["resources"] == Json::object());
  CHECK(c["ports"][0] == Json{{"containerPort", 80}, {"protocol", "TCP"}});
  // Go always writes these structs.
  CHECK(p["status"] == Json::object());
  CHECK(p["metadata"].contains("creationTimestamp"));
  CHECK(p["metadata"]["creationTimestamp"].is_null());
}

TEST_CASE("defaults: imagePullPolicy follows the tag") {
  struct Case {
    const char* image;
    const char* policy;
  } cases[] = {
      {"nginx", "Always"},
      {"nginx:latest", "Always"},
      {"nginx:1.25", "IfNotPresent"},
      {"registry.k8s.io/pause:3.9", "IfNotPresent"},
      {"localhost:5000/app", "Always"},
      {"localhost:5000/app:v1", "IfNotPresent"},
      {"busybox@sha256:abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789", "IfNotPresent"},
  };
  for (const Case& k : cases) {
    CAPTURE(k.image);
    Json p = Defaulted("", "v1", "pods", Pod({{"containers", {{{"name", "c"}, {"image", k.image}}}}}));
    CHECK(p["spec"]["containers"][0]["imagePullPolicy"] == k.policy);
  }
  Json p = Defaulted("", "v1", "pods",
                     Pod({{"containers", {{{"name", "c"}, {"image", "nginx"}, {"imagePullPolicy", "Never"}}}}}));
  CHECK(p["spec"]["containers"][0]["imagePullPolicy"] == "Never");
}

TEST_CASE("defaults: requests from limits, in pods only") {
  Json c = {{"name", "c"},
            {"image", "nginx"},
            {"resources", {{"limits", {{"cpu", "500m"}, {"memory", "128Mi"}}}, {"requests", {{"cpu", "250m"}}}}}};
  Json p = Defaulted("", "v1", "pods", Pod({{"containers", {c}}}));
  CHECK(p["spec"]["containers"][0]["resources"]["requests"] ==
        Json{{"cpu", "250m"}, {"memory", "128Mi"}});
  Json d = Defaulted("apps", "v1", "deployments",
                     {{"spec", {{"selector", {{"matchLabels", {{"app", "x"}}}}}, {"template", Template({{"containers", {c}}})}}}});
  CHECK(d["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"] == Json{{"cpu", "250m"}});
  CHECK_FALSE(d["spec"]["template"]["spec"].contains("enableServiceLinks"));
}

TEST_CASE("defaults: probes, lifecycle, env and host network") {
  Json c = {{"name", "c"},
            {"image", "nginx"},
            {"livenessProbe", {{"httpGet", {{"port", 8080}}}}},
            {"readinessProbe", {{"tcpSocket", {{"port", 80}}}, {"periodSeconds", 5}}},
            {"startupProbe", {{"grpc", {{"port", 9000}}}}},
            {"lifecycle", {{"preStop", {{"httpGet", {{"port", 80}, {"path", "/stop"}}}}}}},
            {"env",
             {{{"name", "POD"}, {"valueFrom", {{"fieldRef", {{"fieldPath", "metadata.name"}}}}}},
              {{"name", "CPU"}, {"valueFrom", {{"resourceFieldRef", {{"resource", "limits.cpu"}}}}}}}},
            {"ports", {{{"containerPort", 8080}}}}};
  Json p = Defaulted("", "v1", "pods", Pod({{"hostNetwork", true}, {"containers", {c}}}));
  const Json& got = p["spec"]["containers"][0];
  CHECK(got["livenessProbe"] == Json{{"httpGet", {{"port", 8080}, {"path", "/"}, {"scheme", "HTTP"}}},
                                     {"timeoutSeconds", 1},
                                     {"periodSeconds", 10},
                                     {"successThreshold", 1},
                                     {"failureThreshold", 3}});
  CHECK(got["readinessProbe"]["periodSeconds"] == 5);
  CHECK(got["startupProbe"]["grpc"]["service"] == "");
  CHECK(got["lifecycle"]["preStop"]["httpGet"] == Json{{"port", 80}, {"path", "/stop"}, {"scheme", "HTTP"}});
  CHECK(got["env"][0]["valueFrom"]["fieldRef"]["apiVersion"] == "v1");
  CHECK(got["env"][1]["valueFrom"]["resourceFieldRef"]["divisor"] == "0");
  CHECK(got["ports"][0]["hostPort"] == 8080);
}

TEST_CASE("defaults: volumes") {
  Json vols = {{{"name", "a"}, {"secret", {{"secretName", "s"}}}},
               {{"name", "b"}, {"configMap", {{"name", "cm"}}}},
               {{"name", "c"}},
               {{"name", "d"}, {"hostPath", {{"path", "/data"}}}},
               {{"name", "e"}, {"downwardAPI", {{"items", {{{"path", "l"}, {"fieldRef", {{"fieldPath", "metadata.labels"}}}}}}}}},
               {{"name", "f"}, {"projected", {{"sources", {{{"serviceAccountToken", {{"path", "t"}}}}}}}}},
               {{"name", "g"}, {"emptyDir", {{"sizeLimit", "1Gi"}}}}};
  Json p = Defaulted("", "v1", "pods", Pod({{"containers", kOneContainer["containers"]}, {"volumes", vols}}));
  const Json& v = p["spec"]["volumes"];
  CHECK(v[0]["secret"]["defaultMode"] == 420);
  CHECK(v[1]["configMap"]["defaultMode"] == 420);
  CHECK(v[2]["emptyDir"] == Json::object());
  CHECK(v[3]["hostPath"] == Json{{"path", "/data"}, {"type", ""}});
  CHECK(v[4]["downwardAPI"]["defaultMode"] == 420);
  CHECK(v[4]["downwardAPI"]["items"][0]["fieldRef"]["apiVersion"] == "v1");
  CHECK(v[5]["projected"]["defaultMode"] == 420);
  CHECK(v[5]["projected"]["sources"][0]["serviceAccountToken"]["expirationSeconds"] == 3600);
  CHECK(v[6]["emptyDir"]["sizeLimit"] == "1Gi");
}

TEST_CASE("defaults: Service") {
  Json s = Defaulted("", "v1", "services",
                     {{"metadata", {{"name", "s"}}},
                      {"spec", {{"selector", {{"app", "x"}}}, {"ports", {{{"port", 80}}, {{"port", 443}, {"targetPort", "https"}}}}}}});
  const Json& sp = s["spec"];
  CHECK(sp["type"] == "ClusterIP");
  CHECK(sp["sessionAffinity"] == "None");
  CHECK(sp["internalTrafficPolicy"] == "Cluster");
  CHECK(sp["ipFamilyPolicy"] == "SingleStack");
  CHECK(sp["ipFamilies"] == Json::array({"IPv4"}));
  CHECK(sp["ports"][0] == Json{{"port", 80}, {"protocol", "TCP"}, {"targetPort", 80}});
  CHECK(sp["ports"][1]["targetPort"] == "https");
  CHECK_FALSE(sp.contains("externalTrafficPolicy"));
  CHECK_FALSE(sp.contains("clusterIP"));
  CHECK(s["status"] == Json{{"loadBalancer", Json::object()}});

  Json np = Defaulted("", "v1", "services",
                      {{"spec", {{"type", "NodePort"}, {"ports", {{{"port", 80}, {"nodePort", 30080}}}}}}});
  CHECK(np["spec"]["externalTrafficPolicy"] == "Cluster");
  Json lb = Defaulted("", "v1", "services", {{"spec", {{"type", "LoadBalancer"}, {"ports", {{{"port", 80}}}}}}});
  CHECK(lb["spec"]["allocateLoadBalancerNodePorts"] == true);

  Json headless = Defaulted("", "v1", "services", {{"spec", {{"clusterIP", "None"}, {"ports", {{{"port", 80}}}}}}});
  CHECK(headless["spec"]["clusterIPs"] == Json::array({"None"}));
  CHECK(headless["spec"]["ipFamilyPolicy"] == "RequireDualStack");
  CHECK(headless["spec"]["ipFamilies"] == Json::array({"IPv4", "IPv6"}));

  Json ext = Defaulted("", "v1", "services", {{"spec", {{"type", "ExternalName"}, {"externalName", "example.com"}}}});
  CHECK_FALSE(ext["spec"].contains("ipFamilyPolicy"));
  CHECK_FALSE(ext["spec"].contains("internalTrafficPolicy"));

  Json client = Defaulted("", "v1", "services",
                          {{"spec", {{"sessionAffinity", "ClientIP"}, {"ports", {{{"port", 80}}}}}}});
  CHECK(client["spec"]["sessionAffinityConfig"] == Json{{"clientIP", {{"timeoutSeconds", 10800}}}});
}

TEST_CASE("defaults: Deployment") {
  Json d = Defaulted("apps", "v1", "deployments",
                     {{"metadata", {{"name", "d"}}},
                      {"spec", {{"selector", {{"matchLabels", {{"app", "x"}}}}}, {"template", Template(kOneContainer)}}}});
  const Json& s = d["spec"];
  CHECK(s["replicas"] == 1);
  CHECK(s["strategy"] == Json{{"type", "RollingUpdate"}, {"rollingUpdate", {{"maxSurge", "25%"}, {"maxUnavailable", "25%"}}}});
  CHECK(s["revisionHistoryLimit"] == 10);
  CHECK(s["progressDeadlineSeconds"] == 600);
  CHECK(s["template"]["metadata"]["creationTimestamp"].is_null());
  const Json& ps = s["template"]["spec"];
  CHECK(ps["restartPolicy"] == "Always");
  CHECK(ps["dnsPolicy"] == "ClusterFirst");
  CHECK(ps["containers"][0]["imagePullPolicy"] == "IfNotPresent");
  CHECK(d["status"] == Json::object());

  Json recreate = Defaulted("apps", "v1", "deployments", {{"spec", {{"strategy", {{"type", "Recreate"}}}, {"replicas", 0}}}});
  CHECK(recreate["spec"]["strategy"] == Json{{"type", "Recreate"}});
  CHECK(recreate["spec"]["replicas"] == 0);
}

TEST_CASE("defaults: ReplicaSet, StatefulSet and DaemonSet") {
  Json rs = Defaulted("apps", "v1", "replicasets", {{"spec", {{"template", Template(kOneContainer)}}}});
  CHECK(rs["spec"]["replicas"] == 1);
  CHECK(rs["spec"]["template"]["spec"]["schedulerName"] == "default-scheduler");

  Json sts = Defaulted(
      "apps", "v1", "statefulsets",
      {{"spec",
        {{"serviceName", "web"},
         {"template", Template(kOneContainer)},
         {"volumeClaimTemplates",
          {{{"metadata", {{"name", "www"}}},
            {"spec", {{"accessModes", {"ReadWriteOnce"}}, {"resources", {{"requests", {{"storage", "1Gi"}}}}}}}}}}}}});
  const Json& s = sts["spec"];
  CHECK(s["replicas"] == 1);
  CHECK(s["podManagementPolicy"] == "OrderedReady");
  CHECK(s["updateStrategy"] == Json{{"type", "RollingUpdate"}, {"rollingUpdate", {{"partition", 0}}}});
  CHECK(s["revisionHistoryLimit"] == 10);
  CHECK(s["persistentVolumeClaimRetentionPolicy"] == Json{{"whenDeleted", "Retain"}, {"whenScaled", "Retain"}});
  const Json& vct = s["volumeClaimTemplates"][0];
  CHECK(vct["apiVersion"] == "v1");
  CHECK(vct["kind"] == "PersistentVolumeClaim");
  CHECK(vct["spec"]["volumeMode"] == "Filesystem");
  CHECK(vct["status"] == Json{{"phase", "Pending"}});
  CHECK(vct["metadata"]["creationTimestamp"].is_null());
  CHECK(sts["status"]["replicas"] == 0);

  Json ondelete = Defaulted("apps", "v1", "statefulsets", {{"spec", {{"updateStrategy", {{"type", "OnDelete"}}}}}});
  CHECK(ondelete["spec"]["updateStrategy"] == Json{{"type", "OnDelete"}});

  Json ds = Defaulted("apps", "v1", "daemonsets", {{"spec", {{"template", Template(kOneContainer)}}}});
  CHECK(ds["spec"]["updateStrategy"] ==
        Json{{"type", "RollingUpdate"}, {"rollingUpdate", {{"maxSurge", 0}, {"maxUnavailable", 1}}}});
  CHECK(ds["spec"]["revisionHistoryLimit"] == 10);
}

TEST_CASE("defaults: Job and CronJob") {
  Json tmpl = Template({{"containers", kOneContainer["containers"]}, {"restartPolicy", "Never"}}, {{"app", "pi"}});
  Json job = Defaulted("batch", "v1", "jobs", {{"metadata", {{"name", "pi"}}}, {"spec", {{"template", tmpl}}}});
  const Json& s = job["spec"];
  CHECK(s["completions"] == 1);
  CHECK(s["parallelism"] == 1);
  CHECK(s["backoffLimit"] == 6);
  CHECK(s["completionMode"] == "NonIndexed");
  CHECK(s["suspend"] == false);
  CHECK(s["podReplacementPolicy"] == "TerminatingOrFailed");
  CHECK(job["metadata"]["labels"] == Json{{"app", "pi"}});
  CHECK(s["template"]["spec"]["restartPolicy"] == "Never");

  Json parallel = Defaulted("batch", "v1", "jobs", {{"spec", {{"parallelism", 3}, {"template", Template(kOneContainer)}}}});
  CHECK_FALSE(parallel["spec"].contains("completions"));
  CHECK(parallel["spec"]["parallelism"] == 3);
  // The template's restartPolicy has no default: it is required.
  CHECK_FALSE(parallel["spec"]["template"]["spec"].contains("restartPolicy"));
  CHECK(parallel["spec"]["template"]["spec"]["dnsPolicy"] == "ClusterFirst");

  Json cj = Defaulted("batch", "v1", "cronjobs",
                      {{"spec", {{"schedule", "*/1 * * * *"}, {"jobTemplate", {{"spec", {{"template", tmpl}}}}}}}});
  const Json& c = cj["spec"];
  CHECK(c["concurrencyPolicy"] == "Allow");
  CHECK(c["suspend"] == false);
  CHECK(c["successfulJobsHistoryLimit"] == 3);
  CHECK(c["failedJobsHistoryLimit"] == 1);
  CHECK(c["jobTemplate"]["metadata"]["creationTimestamp"].is_null());
  CHECK_FALSE(c["jobTemplate"]["spec"].contains("backoffLimit"));
  CHECK(c["jobTemplate"]["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] == 30);
}

TEST_CASE("defaults: Secret, claims, volumes, namespaces and nodes") {
  Json secret = Defaulted("", "v1", "secrets",
                          {{"data", {{"a", "YQ=="}}}, {"stringData", {{"b", "hello"}, {"a", "xyz"}}}});
  CHECK(secret["type"] == "Opaque");
  CHECK(secret["data"] == Json{{"a", "eHl6"}, {"b", "aGVsbG8="}});
  CHECK_FALSE(secret.contains("stringData"));

  Json pvc = Defaulted("", "v1", "persistentvolumeclaims",
                       {{"spec", {{"accessModes", {"ReadWriteOnce"}}, {"resources", {{"requests", {{"storage", "1Gi"}}}}}}}});
  CHECK(pvc["spec"]["volumeMode"] == "Filesystem");
  CHECK(pvc["status"] == Json{{"phase", "Pending"}});

  Json pv = Defaulted("", "v1", "persistentvolumes",
                      {{"spec", {{"capacity", {{"storage", "10Gi"}}}, {"hostPath", {{"path", "/mnt"}}}, {"accessModes", {"ReadWriteOnce"}}}}});
  CHECK(pv["spec"]["persistentVolumeReclaimPolicy"] == "Retain");
  CHECK(pv["spec"]["volumeMode"] == "Filesystem");
  CHECK(pv["spec"]["hostPath"]["type"] == "");
  CHECK(pv["status"]["phase"] == "Pending");

  Json ns = Defaulted("", "v1", "namespaces", {{"metadata", {{"name", "dev"}}}});
  CHECK(ns["status"]["phase"] == "Active");
  CHECK(ns["metadata"]["labels"]["kubernetes.io/metadata.name"] == "dev");
  CHECK(ns["spec"] == Json::object());

  Json node = Defaulted("", "v1", "nodes", {{"metadata", {{"name", "n"}}}, {"status", {{"capacity", {{"cpu", "4"}}}}}});
  CHECK(node["status"]["allocatable"] == Json{{"cpu", "4"}});
  CHECK(node["status"]["daemonEndpoints"] == Json{{"kubeletEndpoint", {{"Port", 0}}}});

  Json ep = Defaulted("", "v1", "endpoints", {{"subsets", {{{"addresses", {{{"ip", "10.0.0.1"}}}}, {"ports", {{{"port", 80}}}}}}}});
  CHECK(ep["subsets"][0]["ports"][0]["protocol"] == "TCP");

  Json lr = Defaulted("", "v1", "limitranges",
                      {{"spec", {{"limits", {{{"type", "Container"}, {"max", {{"cpu", "1"}}}, {"min", {{"memory", "64Mi"}}}}}}}}});
  const Json& item = lr["spec"]["limits"][0];
  CHECK(item["default"] == Json{{"cpu", "1"}});
  CHECK(item["defaultRequest"] == Json{{"cpu", "1"}, {"memory", "64Mi"}});

  Json ev = Defaulted("", "v1", "events", {{"metadata", {{"name", "e"}}}, {"reason", "Started"}});
  CHECK(ev["reportingComponent"] == "");
  CHECK(ev["reportingInstance"] == "");
  CHECK(ev["source"] == Json::object());
  CHECK(ev["involvedObject"] == Json::object());
  CHECK(ev["eventTime"].is_null());
  CHECK(ev["firstTimestamp"].is_null());
}

TEST_CASE("defaults: the other groups") {
  Json sc = Defaulted("storage.k8s.io", "v1", "storageclasses", {{"provisioner", "rancher.io/local-path"}});
  CHECK(sc["reclaimPolicy"] == "Delete");
  CHECK(sc["volumeBindingMode"] == "Immediate");

  Json pc = Defaulted("scheduling.k8s.io", "v1", "priorityclasses", {{"value", 1000}});
  CHECK(pc["preemptionPolicy"] == "PreemptLowerPriority");
  Json pc0 = Defaulted("scheduling.k8s.io", "v1", "priorityclasses", Json::object());
  CHECK(pc0["value"] == 0);

  Json np = Defaulted("networking.k8s.io", "v1", "networkpolicies",
                      {{"spec", {{"podSelector", Json::object()}, {"egress", {{{"ports", {{{"port", 53}}}}}}}}}});
  CHECK(np["spec"]["policyTypes"] == Json::array({"Ingress", "Egress"}));
  CHECK(np["spec"]["egress"][0]["ports"][0]["protocol"] == "TCP");
  Json np2 = Defaulted("networking.k8s.io", "v1", "networkpolicies", {{"spec", {{"podSelector", Json::object()}}}});
  CHECK(np2["spec"]["policyTypes"] == Json::array({"Ingress"}));

  Json hpa = Defaulted("autoscaling", "v2", "horizontalpodautoscalers",
                       {{"spec",
                         {{"scaleTargetRef", {{"apiVersion", "apps/v1"}, {"kind", "Deployment"}, {"name", "d"}}},
                          {"maxReplicas", 5},
                          {"behavior", {{"scaleDown", {{"stabilizationWindowSeconds", 300}}}}}}}});
  const Json& hs = hpa["spec"];
  CHECK(hs["minReplicas"] == 1);
  CHECK(hs["metrics"][0] == Json{{"type", "Resource"},
                                 {"resource", {{"name", "cpu"}, {"target", {{"type", "Utilization"}, {"averageUtilization", 80}}}}}});
  CHECK(hs["behavior"]["scaleDown"] ==
        Json{{"stabilizationWindowSeconds", 300},
             {"selectPolicy", "Max"},
             {"policies", {{{"type", "Percent"}, {"value", 100}, {"periodSeconds", 15}}}}});
  CHECK(hs["behavior"]["scaleUp"]["stabilizationWindowSeconds"] == 0);
  CHECK(hs["behavior"]["scaleUp"]["policies"].size() == 2);
  Json hpa_nobehavior = Defaulted("autoscaling", "v2", "horizontalpodautoscalers", {{"spec", {{"maxReplicas", 3}}}});
  CHECK_FALSE(hpa_nobehavior["spec"].contains("behavior"));

  Json rb = Defaulted("rbac.authorization.k8s.io", "v1", "rolebindings",
                      {{"roleRef", {{"kind", "Role"}, {"name", "r"}}},
                       {"subjects", {{{"kind", "User"}, {"name", "jane"}}, {{"kind", "ServiceAccount"}, {"name", "sa"}}}}});
  CHECK(rb["roleRef"]["apiGroup"] == "rbac.authorization.k8s.io");
  CHECK(rb["subjects"][0]["apiGroup"] == "rbac.authorization.k8s.io");
  CHECK_FALSE(rb["subjects"][1].contains("apiGroup"));

  Json role = Defaulted("rbac.authorization.k8s.io", "v1", "clusterroles", {{"metadata", {{"name", "r"}}}});
  CHECK(role.contains("rules"));
  CHECK(role["rules"].is_null());

  Json slice = Defaulted("discovery.k8s.io", "v1", "endpointslices",
                         {{"addressType", "IPv4"}, {"ports", {{{"port", 80}}}}});
  CHECK(slice["ports"][0] == Json{{"name", ""}, {"port", 80}, {"protocol", "TCP"}});

  Json pdb = Defaulted("policy", "v1", "poddisruptionbudgets", {{"spec", {{"minAvailable", 1}}}});
  CHECK(pdb["spec"] == Json{{"minAvailable", 1}});
}

TEST_CASE("defaults: Go's encoding of the types") {
  Json p = Defaulted("", "v1", "pods",
                     Pod({{"hostNetwork", false},
                          {"nodeName", ""},
                          {"nodeSelector", Json::object()},
                          {"tolerations", Json::array()},
                          {"activeDeadlineSeconds", nullptr},
                          {"automountServiceAccountToken", false},
                          {"bogus", 1},
                          {"containers", {{{"name", "c"}, {"image", "nginx"}, {"args", Json::array()}, {"imagePullPolicy", ""}}}}}));
  const Json& s = p["spec"];
  CHECK_FALSE(s.contains("hostNetwork"));
  CHECK_FALSE(s.contains("nodeName"));
  CHECK_FALSE(s.contains("nodeSelector"));
  CHECK_FALSE(s.contains("tolerations"));
  CHECK_FALSE(s.contains("activeDeadlineSeconds"));
  CHECK_FALSE(s.contains("bogus"));
  CHECK(s["automountServiceAccountToken"] == false);
  CHECK_FALSE(s["containers"][0].contains("args"));
  CHECK(s["containers"][0]["imagePullPolicy"] == "Always");
  CHECK(p["apiVersion"] == "v1");
  CHECK(p["kind"] == "Pod");
}

TEST_CASE("defaults: quantities are canonical") {
  struct Case {
    const char* in;
    const char* out;
  } cases[] = {
      {"0.5", "500m"},   {"1000m", "1"},   {"1000", "1k"},      {"1.5Gi", "1536Mi"},
      {"100Mi", "100Mi"}, {"0.1", "100m"},  {"1e3", "1e3"},      {"128974848", "128974848"},
      {"2Gi", "2Gi"},     {"1.5", "1500m"}, {"0", "0"},          {"+1", "1"},
      {"512Ki", "512Ki"}, {"0.5Ki", "512"}, {"1G", "1G"},        {"1000M", "1G"},
      {"12e6", "12e6"},   {"-1", "-1"},     {"1.0001", "1000100u"}, {"0.0000000001", "1n"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.in);
    auto q = kubit::api::ParseQuantity(c.in);
    REQUIRE(q);
    CHECK(q->String() == c.out);
  }
  CHECK_FALSE(kubit::api::ParseQuantity("abc"));
  CHECK_FALSE(kubit::api::ParseQuantity("1Gb"));
  CHECK_FALSE(kubit::api::ParseQuantity(""));
  // Resource lists round up to milli; numbers are read as quantities.
  Json c = {{"name", "c"}, {"image", "nginx"}, {"resources", {{"limits", {{"cpu", 0.5}, {"memory", "1.5Gi"}}}, {"requests", {{"cpu", "0.0001"}}}}}};
  Json p = Defaulted("", "v1", "pods", Pod({{"containers", {c}}}));
  const Json& r = p["spec"]["containers"][0]["resources"];
  CHECK(r["limits"] == Json{{"cpu", "500m"}, {"memory", "1536Mi"}});
  CHECK(r["requests"] == Json{{"cpu", "1m"}, {"memory", "1536Mi"}});
}

}  // namespace

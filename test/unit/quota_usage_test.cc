// Unit tests of core/api/quota_usage.h: quantity sums, what pods,
// services, claims and other objects use of quota resources, scopes, the
// resources a quota makes pods state, and a quota's usage over a namespace.
#include "core/api/quota_usage.h"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

namespace kubit::api {
namespace {

using Json = nlohmann::json;

std::string Sum(const char* a, const char* b) { return AddQuantity(*ParseQuantity(a), *ParseQuantity(b)).String(); }

Json Container(const std::string& name, const Json& requests, const Json& limits) {
  Json c = {{"name", name}, {"image", "busybox"}};
  if (!requests.is_null()) c["resources"]["requests"] = requests;
  if (!limits.is_null()) c["resources"]["limits"] = limits;
  return c;
}

Json Pod(Json containers) {
  return {{"metadata", {{"name", "p"}, {"namespace", "q"}}}, {"spec", {{"containers", std::move(containers)}}}};
}

std::string Usage(const GroupResource& gr, const Json& obj) { return PrettyPrintResources(QuotaUsage(gr, obj, 1000)); }

const GroupResource kPods{"", "pods"};

TEST_CASE("quota usage: exact sums of quantities keep a useful format") {
  CHECK(Sum("100m", "900m") == "1");
  CHECK(Sum("128Mi", "128Mi") == "256Mi");
  CHECK(Sum("1", "500m") == "1500m");
  CHECK(Sum("0", "64Mi") == "64Mi");
  CHECK(Sum("2", "-3") == "-1");
  ResourceList used = ResourceListFromJson({{"pods", "3"}, {"cpu", "1"}});
  ResourceList old = ResourceListFromJson({{"pods", "5"}, {"cpu", "250m"}});
  CHECK(PrettyPrintResources(SubtractNonNegative(used, old)) == "cpu=750m,pods=0");
  CHECK(ExceededResources(used, ResourceListFromJson({{"pods", "2"}, {"cpu", "1"}})) == std::vector<std::string>{"pods"});
}

TEST_CASE("quota usage: a pod's requests, limits and counts; finished pods only count") {
  Json pod = Pod({Container("a", {{"cpu", "250m"}, {"memory", "64Mi"}}, {{"cpu", "500m"}}),
                  Container("b", {{"cpu", "250m"}}, nullptr)});
  // An init container asks for more cpu than the app containers together.
  pod["spec"]["initContainers"] = {Container("init", {{"cpu", "1"}}, nullptr)};
  CHECK(Usage(kPods, pod) ==
        "count/pods=1,cpu=1,limits.cpu=500m,memory=64Mi,pods=1,requests.cpu=1,requests.memory=64Mi");
  // A sidecar adds to the app containers and runs beside later init containers.
  pod["spec"]["initContainers"] = {Container("side", {{"cpu", "600m"}}, nullptr),
                                   Container("init", {{"cpu", "1"}}, nullptr)};
  pod["spec"]["initContainers"][0]["restartPolicy"] = "Always";
  CHECK(PrettyPrintResources(MaskResources(QuotaUsage(kPods, pod, 0), {"requests.cpu"})) == "requests.cpu=1600m");
  pod["status"]["phase"] = "Succeeded";
  CHECK(Usage(kPods, pod) == "count/pods=1");
  pod["status"]["phase"] = "Running";
  // Deleted, and the grace period is over.
  pod["metadata"]["deletionTimestamp"] = "1970-01-01T00:00:10Z";
  pod["metadata"]["deletionGracePeriodSeconds"] = 30;
  CHECK(Usage(kPods, pod) == "count/pods=1");
}

TEST_CASE("quota usage: services count node ports and load balancers; claims their storage and class") {
  Json svc = {{"spec", {{"type", "NodePort"}, {"ports", {{{"port", 80}}, {{"port", 443}}}}}}};
  CHECK(Usage({"", "services"}, svc) ==
        "count/services=1,services=1,services.loadbalancers=0,services.nodeports=2");
  svc["spec"]["type"] = "LoadBalancer";
  svc["spec"]["allocateLoadBalancerNodePorts"] = false;
  svc["spec"]["ports"][0]["nodePort"] = 30080;
  CHECK(Usage({"", "services"}, svc) ==
        "count/services=1,services=1,services.loadbalancers=1,services.nodeports=1");
  Json pvc = {{"spec", {{"storageClassName", "fast"}, {"resources", {{"requests", {{"storage", "1500m"}}}}}}}};
  CHECK(Usage({"", "persistentvolumeclaims"}, pvc) ==
        "count/persistentvolumeclaims=1,fast.storageclass.storage.k8s.io/persistentvolumeclaims=1,"
        "fast.storageclass.storage.k8s.io/requests.storage=2,persistentvolumeclaims=1,requests.storage=2");
  CHECK(Usage({"", "configmaps"}, Json::object()) == "configmaps=1,count/configmaps=1");
  CHECK(Usage({"apps", "deployments"}, Json::object()) == "count/deployments.apps=1");
}

TEST_CASE("quota usage: which quota resources each kind uses, and which kinds a quota tracks") {
  std::set<std::string> hard = {"pods", "limits.cpu", "services.nodeports", "requests.storage",
                                "count/deployments.apps", "secrets", "example.com/thing"};
  CHECK(QuotaMatchingResources(kPods, hard) == std::set<std::string>{"limits.cpu", "pods"});
  CHECK(QuotaMatchingResources({"", "services"}, hard) == std::set<std::string>{"services.nodeports"});
  CHECK(QuotaMatchingResources({"apps", "deployments"}, hard) == std::set<std::string>{"count/deployments.apps"});
  CHECK(QuotaMatchingResources({"", "secrets"}, hard) == std::set<std::string>{"secrets"});
  CHECK(QuotaMatchingResources({"", "configmaps"}, hard).empty());
  std::vector<GroupResource> tracked = QuotaTrackedResources(hard);
  CHECK(tracked == std::vector<GroupResource>{{"", "persistentvolumeclaims"}, {"", "pods"}, {"", "secrets"},
                                              {"", "services"}, {"apps", "deployments"}});
}

TEST_CASE("quota usage: scopes select pods by deadline, QoS and priority class, and no other kind") {
  Json best_effort = Pod({Container("a", nullptr, nullptr)});
  Json burstable = Pod({Container("a", {{"memory", "1Mi"}}, nullptr)});
  burstable["spec"]["activeDeadlineSeconds"] = 60;
  burstable["spec"]["priorityClassName"] = "high";
  auto quota = [](const Json& scopes, const Json& selector) {
    Json q = {{"spec", {{"hard", {{"pods", "1"}}}}}, {"status", {{"hard", {{"pods", "1"}}}}}};
    if (!scopes.is_null()) q["spec"]["scopes"] = scopes;
    if (!selector.is_null()) q["spec"]["scopeSelector"]["matchExpressions"] = selector;
    return q;
  };
  Json be = quota({"BestEffort", "NotTerminating"}, nullptr);
  CHECK(QuotaMatches(kPods, be, best_effort));
  CHECK_FALSE(QuotaMatches(kPods, be, burstable));
  Json term = quota({"Terminating", "NotBestEffort"}, nullptr);
  CHECK(QuotaMatches(kPods, term, burstable));
  CHECK_FALSE(QuotaMatches(kPods, term, best_effort));
  Json high = quota(nullptr, {{{"scopeName", "PriorityClass"}, {"operator", "In"}, {"values", {"high", "top"}}}});
  CHECK(QuotaMatches(kPods, high, burstable));
  CHECK_FALSE(QuotaMatches(kPods, high, best_effort));
  Json any = quota(nullptr, {{{"scopeName", "PriorityClass"}, {"operator", "Exists"}}});
  CHECK(QuotaMatches(kPods, any, burstable));
  CHECK_FALSE(QuotaMatches(kPods, any, best_effort));
  // A scoped quota leaves services alone, and an unscoped one without a
  // service resource too.
  Json svc_quota = {{"status", {{"hard", {{"services", "1"}}}}}, {"spec", {{"scopes", {"BestEffort"}}}}};
  CHECK_FALSE(QuotaMatches({"", "services"}, svc_quota, Json::object()));
  CHECK_FALSE(QuotaMatches({"", "services"}, quota(nullptr, nullptr), Json::object()));
}

TEST_CASE("quota usage: a quota of cpu or memory makes every container state it") {
  Json pod = Pod({Container("app", {{"cpu", "100m"}}, nullptr), Container("log", nullptr, {{"memory", "1Mi"}})});
  CHECK(QuotaConstraints(kPods, {"requests.cpu", "pods"}, pod) == "must specify requests.cpu for: log");
  CHECK(QuotaConstraints(kPods, {"limits.cpu", "limits.memory"}, pod) ==
        "must specify limits.cpu for: app,log; limits.memory for: app");
  CHECK(QuotaConstraints(kPods, {"pods", "count/pods"}, pod).empty());
  CHECK(QuotaConstraints({"", "services"}, {"limits.cpu"}, pod).empty());
}

TEST_CASE("quota usage: a namespace's usage for each hard resource, zero when unused") {
  Json quota = {{"spec", {{"hard", {{"pods", "10"}, {"requests.cpu", "2"}, {"configmaps", "5"}, {"services", "3"}}}}}};
  std::vector<Json> pods = {Pod({Container("a", {{"cpu", "250m"}}, nullptr)}),
                            Pod({Container("a", {{"cpu", "500m"}}, nullptr)})};
  pods[1]["status"]["phase"] = "Failed";
  std::vector<GroupResource> listed;
  ListObjects list = [&](const GroupResource& gr, std::vector<Json>* out, std::string*) {
    listed.push_back(gr);
    if (gr == kPods) *out = pods;
    if (gr == GroupResource{"", "configmaps"}) *out = {Json::object(), Json::object()};
    return true;
  };
  ResourceList used;
  std::string error;
  REQUIRE(CalculateQuotaUsage(quota, list, 0, &used, &error));
  CHECK(PrettyPrintResources(used) == "configmaps=2,pods=1,requests.cpu=250m,services=0");
  CHECK(listed.size() == 3);
  ListObjects failing = [](const GroupResource&, std::vector<Json>*, std::string* e) {
    *e = "boom";
    return false;
  };
  CHECK_FALSE(CalculateQuotaUsage(quota, failing, 0, &used, &error));
  CHECK(error == "boom");
}

}  // namespace
}  // namespace kubit::api

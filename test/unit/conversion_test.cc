// Unit tests of kubit::api conversion: autoscaling/v1 HPAs stored as v2,
// events.k8s.io/v1 Events stored as core/v1, both ways.
#include "core/api/conversion.h"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

namespace {

using Json = nlohmann::json;
using kubit::api::ConvertFromStorage;
using kubit::api::ConvertToStorage;

const kubit::api::ResourceType& Type(const char* group, const char* version, const char* plural) {
  const kubit::api::ResourceType* t = kubit::api::FindType(group, version, plural);
  REQUIRE(t);
  return *t;
}

TEST_CASE("conversion: only v1 HPAs and events.k8s.io Events are stored in another version") {
  CHECK(kubit::api::StoredInOtherVersion(Type("autoscaling", "v1", "horizontalpodautoscalers")));
  CHECK(kubit::api::StoredInOtherVersion(Type("events.k8s.io", "v1", "events")));
  CHECK_FALSE(kubit::api::StoredInOtherVersion(Type("autoscaling", "v2", "horizontalpodautoscalers")));
  CHECK_FALSE(kubit::api::StoredInOtherVersion(Type("", "v1", "events")));
  CHECK_FALSE(kubit::api::StoredInOtherVersion(Type("", "v1", "pods")));
}

TEST_CASE("conversion: a v1 HPA's CPU target becomes a v2 Resource metric and back") {
  const auto& v1 = Type("autoscaling", "v1", "horizontalpodautoscalers");
  Json hpa = {{"apiVersion", "autoscaling/v1"},
              {"kind", "HorizontalPodAutoscaler"},
              {"metadata", {{"name", "h"}}},
              {"spec",
               {{"scaleTargetRef", {{"apiVersion", "apps/v1"}, {"kind", "Deployment"}, {"name", "web"}}},
                {"minReplicas", 1},
                {"maxReplicas", 4},
                {"targetCPUUtilizationPercentage", 70}}},
              {"status", {{"currentReplicas", 2}, {"desiredReplicas", 3}, {"currentCPUUtilizationPercentage", 55}}}};
  Json stored = hpa;
  ConvertToStorage(v1, &stored);
  CHECK(stored["apiVersion"] == "autoscaling/v2");
  CHECK(stored["spec"]["metrics"] ==
        Json::parse(R"([{"type":"Resource","resource":{"name":"cpu","target":{"type":"Utilization","averageUtilization":70}}}])"));
  CHECK_FALSE(stored["spec"].contains("targetCPUUtilizationPercentage"));
  CHECK(stored["status"]["currentMetrics"][0]["resource"]["current"]["averageUtilization"] == 55);
  Json back = stored;
  ConvertFromStorage(v1, &back);
  CHECK(back["apiVersion"] == "autoscaling/v1");
  CHECK(back["spec"] == hpa["spec"]);
  CHECK(back["status"]["currentCPUUtilizationPercentage"] == 55);
  CHECK(back["status"]["desiredReplicas"] == 3);
}

TEST_CASE("conversion: a v1 HPA without a target gets v2's default of 80% CPU") {
  const auto& v1 = Type("autoscaling", "v1", "horizontalpodautoscalers");
  Json hpa = {{"apiVersion", "autoscaling/v1"}, {"kind", "HorizontalPodAutoscaler"},
              {"metadata", {{"name", "h"}}},
              {"spec", {{"scaleTargetRef", {{"kind", "Deployment"}, {"name", "web"}}}, {"maxReplicas", 4}}}};
  ConvertToStorage(v1, &hpa);
  CHECK(hpa["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"] == 80);
  CHECK(hpa["spec"]["minReplicas"] == 1);
  ConvertFromStorage(v1, &hpa);
  CHECK(hpa["spec"]["targetCPUUtilizationPercentage"] == 80);
}

TEST_CASE("conversion: v2 metrics v1 cannot hold go to its annotations and come back") {
  const auto& v1 = Type("autoscaling", "v1", "horizontalpodautoscalers");
  Json stored = Json::parse(R"({
    "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "h"},
    "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"}, "maxReplicas": 3,
      "metrics": [
        {"type": "Resource", "resource": {"name": "memory", "target": {"type": "AverageValue", "averageValue": "100Mi"}}},
        {"type": "Pods", "pods": {"metric": {"name": "qps"}, "target": {"type": "AverageValue", "averageValue": "10"}}},
        {"type": "External", "external": {"metric": {"name": "queue"}, "target": {"type": "Value", "value": "30"}}}
      ]},
    "status": {"currentReplicas": 1, "desiredReplicas": 1,
      "conditions": [{"type": "AbleToScale", "status": "True", "reason": "ReadyForNewScale"}]}
  })");
  Json served = stored;
  ConvertFromStorage(v1, &served);
  CHECK_FALSE(served["spec"].contains("targetCPUUtilizationPercentage"));
  const Json& ann = served["metadata"]["annotations"];
  Json metrics = Json::parse(ann["autoscaling.alpha.kubernetes.io/metrics"].get<std::string>());
  REQUIRE(metrics.size() == 3);
  CHECK(metrics[0] == Json::parse(R"({"type":"Resource","resource":{"name":"memory","targetAverageValue":"100Mi"}})"));
  CHECK(metrics[1] == Json::parse(R"({"type":"Pods","pods":{"metricName":"qps","targetAverageValue":"10"}})"));
  CHECK(metrics[2] == Json::parse(R"({"type":"External","external":{"metricName":"queue","targetValue":"30"}})"));
  CHECK(ann.contains("autoscaling.alpha.kubernetes.io/conditions"));
  Json again = served;
  ConvertToStorage(v1, &again);
  CHECK(again["spec"]["metrics"] == stored["spec"]["metrics"]);
  REQUIRE(again["status"]["conditions"].size() == 1);
  CHECK(again["status"]["conditions"][0]["reason"] == "ReadyForNewScale");
  CHECK_FALSE(again["metadata"].contains("annotations"));
}

TEST_CASE("conversion: events.k8s.io Events rename core fields both ways") {
  const auto& ev = Type("events.k8s.io", "v1", "events");
  Json e = Json::parse(R"({
    "apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": {"name": "e", "namespace": "default"},
    "eventTime": "2026-01-01T00:00:00.000000Z", "reportingController": "kubit.io/kubelet",
    "reportingInstance": "n1", "action": "Pulling", "reason": "Pulling", "type": "Normal",
    "note": "Pulling image busybox", "regarding": {"kind": "Pod", "name": "p"},
    "deprecatedCount": 3, "deprecatedSource": {"component": "kubelet"}
  })");
  Json core = e;
  ConvertToStorage(ev, &core);
  CHECK(core["apiVersion"] == "v1");
  CHECK(core["message"] == "Pulling image busybox");
  CHECK(core["involvedObject"]["name"] == "p");
  CHECK(core["reportingComponent"] == "kubit.io/kubelet");
  CHECK(core["count"] == 3);
  CHECK(core["source"]["component"] == "kubelet");
  CHECK_FALSE(core.contains("note"));
  Json back = core;
  ConvertFromStorage(ev, &back);
  CHECK(back == e);
}

}  // namespace

// Unit tests of core/api/limit_ranger.h: LimitRange defaults for pod
// containers and the min/max/ratio checks, with upstream's messages.
#include "core/api/limit_ranger.h"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

namespace kubit::api {
namespace {

using Json = nlohmann::json;

Json Range(Json items) { return {{"spec", {{"limits", std::move(items)}}}}; }

Json Pod(Json resources) {
  Json c = {{"name", "app"}, {"image", "busybox"}};
  if (!resources.is_null()) c["resources"] = std::move(resources);
  return {{"metadata", {{"name", "p"}}}, {"spec", {{"containers", {c}}}}};
}

std::string Check(const Json& range, const std::string& kind, const Json& obj) {
  std::vector<std::string> errs;
  CheckLimitRange(range, kind, obj, &errs);
  return AggregateMessages(errs);
}

TEST_CASE("quota limit ranger: defaults fill what containers leave out and say so") {
  Json range = Range({{{"type", "Container"},
                       {"default", {{"cpu", "500m"}, {"memory", "128Mi"}}},
                       {"defaultRequest", {{"cpu", "100m"}, {"memory", "64Mi"}}}}});
  Json pod = Pod({{"limits", {{"memory", "256Mi"}}}, {"requests", {{"memory", "256Mi"}}}});
  pod["spec"]["initContainers"] = {{{"name", "init"}, {"image", "busybox"}}};
  ApplyLimitRangeDefaults(range, &pod);
  const Json& app = pod["spec"]["containers"][0]["resources"];
  CHECK(app["limits"] == Json({{"cpu", "500m"}, {"memory", "256Mi"}}));
  CHECK(app["requests"] == Json({{"cpu", "100m"}, {"memory", "256Mi"}}));
  CHECK(pod["spec"]["initContainers"][0]["resources"]["limits"] == Json({{"cpu", "500m"}, {"memory", "128Mi"}}));
  CHECK(pod["metadata"]["annotations"]["kubernetes.io/limit-ranger"] ==
        "LimitRanger plugin set: cpu request for container app; cpu limit for container app; "
        "cpu, memory request for init container init; cpu, memory limit for init container init");
  // Nothing to set: no annotation.
  Json full = Pod({{"limits", {{"cpu", "1"}, {"memory", "1Gi"}}}, {"requests", {{"cpu", "1"}, {"memory", "1Gi"}}}});
  ApplyLimitRangeDefaults(range, &full);
  CHECK_FALSE(full["metadata"].contains("annotations"));
}

TEST_CASE("quota limit ranger: min, max and ratio per container with upstream's messages") {
  Json range = Range({{{"type", "Container"}, {"max", {{"cpu", "500m"}}}, {"min", {{"memory", "16Mi"}}}}});
  CHECK(Check(range, "Pod", Pod({{"limits", {{"cpu", "1"}}}, {"requests", {{"cpu", "1"}, {"memory", "32Mi"}}}})) ==
        "maximum cpu usage per Container is 500m, but limit is 1");
  CHECK(Check(range, "Pod", Pod({{"limits", {{"cpu", "500m"}}}, {"requests", {{"memory", "32Mi"}}}})).empty());
  CHECK(Check(range, "Pod", Pod(nullptr)) ==
        "[minimum memory usage per Container is 16Mi.  No request is specified, "
        "maximum cpu usage per Container is 500m.  No limit is specified]");
  CHECK(Check(range, "Pod", Pod({{"limits", {{"cpu", "200m"}}}, {"requests", {{"memory", "8Mi"}}}})) ==
        "minimum memory usage per Container is 16Mi, but request is 8Mi");
  Json ratio = Range({{{"type", "Container"}, {"maxLimitRequestRatio", {{"cpu", "2"}}}}});
  CHECK(Check(ratio, "Pod", Pod({{"limits", {{"cpu", "1"}}}, {"requests", {{"cpu", "250m"}}}})) ==
        "cpu max limit to request ratio per Container is 2, but provided ratio is 4.000000");
  CHECK(Check(ratio, "Pod", Pod({{"limits", {{"cpu", "1"}}}})) ==
        "cpu max limit to request ratio per Container is 2, but no request is specified or request is 0");
  CHECK(Check(ratio, "Pod", Pod({{"limits", {{"cpu", "1"}}}, {"requests", {{"cpu", "500m"}}}})).empty());
}

TEST_CASE("quota limit ranger: Pod items hold the whole pod, claim items the requested storage") {
  Json range = Range({{{"type", "Pod"}, {"max", {{"memory", "1Gi"}}}}});
  Json pod = Pod({{"limits", {{"memory", "768Mi"}}}});
  pod["spec"]["containers"].push_back({{"name", "b"}, {"resources", {{"limits", {{"memory", "512Mi"}}}}}});
  CHECK(Check(range, "Pod", pod) == "maximum memory usage per Pod is 1Gi, but limit is 1280Mi");
  Json claims = Range({{{"type", "PersistentVolumeClaim"}, {"min", {{"storage", "1Gi"}}}, {"max", {{"storage", "2Gi"}}}}});
  Json pvc = {{"spec", {{"resources", {{"requests", {{"storage", "5Gi"}}}}}}}};
  CHECK(Check(claims, "PersistentVolumeClaim", pvc) ==
        "maximum storage usage per PersistentVolumeClaim is 2Gi, but request is 5Gi");
  pvc["spec"]["resources"]["requests"]["storage"] = "512Mi";
  CHECK(Check(claims, "PersistentVolumeClaim", pvc) ==
        "minimum storage usage per PersistentVolumeClaim is 1Gi, but request is 512Mi");
  // Container items do not apply to claims.
  CHECK(Check(Range({{{"type", "Container"}, {"max", {{"storage", "1"}}}}}), "PersistentVolumeClaim", pvc).empty());
}

}  // namespace
}  // namespace kubit::api

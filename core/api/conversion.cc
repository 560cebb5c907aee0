#include "core/api/conversion.h"

#include <nlohmann/json.hpp>

#include "core/api/defaults.h"

namespace kubit::api {
namespace {

using Json = nlohmann::json;

// ---- events.k8s.io/v1 <-> core/v1 -------------------------------------------

// Fields that change name between the two Event versions: {events.k8s.io, core}.
const std::pair<const char*, const char*> kEventRenames[] = {
    {"regarding", "involvedObject"},
    {"note", "message"},
    {"reportingController", "reportingComponent"},
    {"deprecatedSource", "source"},
    {"deprecatedFirstTimestamp", "firstTimestamp"},
    {"deprecatedLastTimestamp", "lastTimestamp"},
    {"deprecatedCount", "count"},
};

void Rename(Json* o, const char* from, const char* to) {
  if (!o->contains(from)) return;
  (*o)[to] = std::move((*o)[from]);
  o->erase(from);
}

void EventFromCore(Json* o) {
  for (const auto& [events, core] : kEventRenames) Rename(o, core, events);
  // Upstream's core Event always has a count and a source; the new API
  // leaves zero values out.
  if (o->contains("deprecatedCount") && (*o)["deprecatedCount"] == 0) o->erase("deprecatedCount");
  if (o->contains("deprecatedSource") && (*o)["deprecatedSource"].is_object() &&
      (*o)["deprecatedSource"].empty())
    o->erase("deprecatedSource");
}

void EventToCore(Json* o) {
  for (const auto& [events, core] : kEventRenames) Rename(o, events, core);
}

// ---- autoscaling/v1 <-> autoscaling/v2 --------------------------------------

const char* kMetricsAnnotation = "autoscaling.alpha.kubernetes.io/metrics";
const char* kCurrentMetricsAnnotation = "autoscaling.alpha.kubernetes.io/current-metrics";
const char* kConditionsAnnotation = "autoscaling.alpha.kubernetes.io/conditions";
const char* kBehaviorAnnotation = "autoscaling.alpha.kubernetes.io/behavior";

Json Get(const Json& o, const char* k) { return o.is_object() && o.contains(k) ? o[k] : Json(); }

void SetIf(Json* o, const char* k, const Json& v) {
  if (!v.is_null()) (*o)[k] = v;
}

// A v2 MetricTarget into the v1 fields named by `prefix` ("target" or
// "current" for statuses): Utilization -> <prefix>AverageUtilization, ...
void TargetToV1(const Json& target, Json* out, bool current, bool object_kind) {
  std::string p = current ? "current" : "target";
  SetIf(out, (p + "AverageUtilization").c_str(), Get(target, "averageUtilization"));
  SetIf(out, (p + "AverageValue").c_str(), Get(target, "averageValue"));
  if (object_kind) SetIf(out, (p + "Value").c_str(), Get(target, "value"));
}

Json TargetFromV1(const Json& m, bool current) {
  std::string p = current ? "current" : "target";
  Json t = Json::object();
  if (m.contains(p + "AverageUtilization")) {
    if (!current) t["type"] = "Utilization";
    t["averageUtilization"] = m[p + "AverageUtilization"];
  }
  if (m.contains(p + "AverageValue")) {
    if (!current && !t.contains("type")) t["type"] = "AverageValue";
    t["averageValue"] = m[p + "AverageValue"];
  }
  if (m.contains(p + "Value")) {
    if (!current) t["type"] = "Value";
    t["value"] = m[p + "Value"];
  }
  return t;
}

// One v2 metric (spec or status) in v1's annotation form.
Json MetricToV1(const Json& m, bool current) {
  std::string type = m.value("type", "");
  const char* tk = current ? "current" : "target";
  Json out = {{"type", type}};
  if (type == "Resource" || type == "ContainerResource") {
    const char* key = type == "Resource" ? "resource" : "containerResource";
    Json src = Get(m, key), r = Json::object();
    SetIf(&r, "name", Get(src, "name"));
    SetIf(&r, "container", Get(src, "container"));
    TargetToV1(Get(src, tk), &r, current, false);
    out[key] = r;
  } else if (type == "Pods") {
    Json src = Get(m, "pods"), r = Json::object();
    SetIf(&r, "metricName", Get(Get(src, "metric"), "name"));
    SetIf(&r, "selector", Get(Get(src, "metric"), "selector"));
    SetIf(&r, current ? "currentAverageValue" : "targetAverageValue", Get(Get(src, tk), "averageValue"));
    out["pods"] = r;
  } else if (type == "Object") {
    Json src = Get(m, "object"), r = Json::object();
    SetIf(&r, "target", Get(src, "describedObject"));
    SetIf(&r, "metricName", Get(Get(src, "metric"), "name"));
    SetIf(&r, "selector", Get(Get(src, "metric"), "selector"));
    SetIf(&r, current ? "currentValue" : "targetValue", Get(Get(src, tk), "value"));
    SetIf(&r, "averageValue", Get(Get(src, tk), "averageValue"));
    out["object"] = r;
  } else if (type == "External") {
    Json src = Get(m, "external"), r = Json::object();
    SetIf(&r, "metricName", Get(Get(src, "metric"), "name"));
    SetIf(&r, "metricSelector", Get(Get(src, "metric"), "selector"));
    SetIf(&r, current ? "currentValue" : "targetValue", Get(Get(src, tk), "value"));
    SetIf(&r, current ? "currentAverageValue" : "targetAverageValue", Get(Get(src, tk), "averageValue"));
    out["external"] = r;
  }
  return out;
}

Json MetricFromV1(const Json& m, bool current) {
  std::string type = m.value("type", "");
  const char* tk = current ? "current" : "target";
  Json out = {{"type", type}};
  auto identifier = [](const Json& name, const Json& selector) {
    Json id = {{"name", name.is_null() ? Json("") : name}};
    SetIf(&id, "selector", selector);
    return id;
  };
  if (type == "Resource" || type == "ContainerResource") {
    const char* key = type == "Resource" ? "resource" : "containerResource";
    Json src = Get(m, key), r = Json::object();
    SetIf(&r, "name", Get(src, "name"));
    SetIf(&r, "container", Get(src, "container"));
    r[tk] = TargetFromV1(src, current);
    out[key] = r;
  } else if (type == "Pods") {
    Json src = Get(m, "pods");
    Json t = Json::object();
    if (!current) t["type"] = "AverageValue";
    SetIf(&t, "averageValue", Get(src, current ? "currentAverageValue" : "targetAverageValue"));
    out["pods"] = {{"metric", identifier(Get(src, "metricName"), Get(src, "selector"))}, {tk, t}};
  } else if (type == "Object") {
    Json src = Get(m, "object");
    Json t = Json::object();
    Json value = Get(src, current ? "currentValue" : "targetValue"), avg = Get(src, "averageValue");
    if (!current) t["type"] = value.is_null() ? "AverageValue" : "Value";
    SetIf(&t, "value", value);
    SetIf(&t, "averageValue", avg);
    out["object"] = {{"describedObject", Get(src, "target")},
                     {"metric", identifier(Get(src, "metricName"), Get(src, "selector"))},
                     {tk, t}};
  } else if (type == "External") {
    Json src = Get(m, "external");
    Json t = Json::object();
    Json value = Get(src, current ? "currentValue" : "targetValue");
    Json avg = Get(src, current ? "currentAverageValue" : "targetAverageValue");
    if (!current) t["type"] = value.is_null() ? "AverageValue" : "Value";
    SetIf(&t, "value", value);
    SetIf(&t, "averageValue", avg);
    out["external"] = {{"metric", identifier(Get(src, "metricName"), Get(src, "metricSelector"))},
                       {tk, t}};
  }
  return out;
}

bool IsCpuUtilization(const Json& m, bool current) {
  if (m.value("type", "") != "Resource") return false;
  Json r = Get(m, "resource");
  if (r.value("name", "") != "cpu") return false;
  Json t = Get(r, current ? "current" : "target");
  return current ? t.contains("averageUtilization")
                 : t.value("type", "") == "Utilization" && t.contains("averageUtilization");
}

Json ParseAnnotation(Json* annotations, const char* key) {
  if (!annotations->is_object() || !annotations->contains(key)) return Json();
  Json v;
  if ((*annotations)[key].is_string()) {
    v = Json::parse((*annotations)[key].get<std::string>(), nullptr, false);
    if (v.is_discarded()) v = Json();
  }
  annotations->erase(key);
  return v;
}

void AnnotateJson(Json* o, const char* key, const Json& v) {
  (*o)["metadata"]["annotations"][key] = v.dump();
}

// v2 (stored) -> v1 (served).
void HpaToV1(Json* o) {
  Json spec = Get(*o, "spec"), status = Get(*o, "status");
  Json v1spec = Json::object();
  for (const char* k : {"scaleTargetRef", "minReplicas", "maxReplicas"}) SetIf(&v1spec, k, Get(spec, k));
  Json others = Json::array();
  for (const auto& m : Get(spec, "metrics").is_array() ? spec["metrics"] : Json::array()) {
    if (IsCpuUtilization(m, false) && !v1spec.contains("targetCPUUtilizationPercentage"))
      v1spec["targetCPUUtilizationPercentage"] = m["resource"]["target"]["averageUtilization"];
    else
      others.push_back(MetricToV1(m, false));
  }
  if (!others.empty()) AnnotateJson(o, kMetricsAnnotation, others);
  if (spec.contains("behavior")) AnnotateJson(o, kBehaviorAnnotation, spec["behavior"]);
  (*o)["spec"] = v1spec;
  if (status.is_object()) {
    Json v1status = Json::object();
    for (const char* k : {"observedGeneration", "lastScaleTime", "currentReplicas", "desiredReplicas"})
      SetIf(&v1status, k, Get(status, k));
    if (!v1status.contains("currentReplicas")) v1status["currentReplicas"] = 0;
    if (!v1status.contains("desiredReplicas")) v1status["desiredReplicas"] = 0;
    Json current = Json::array();
    for (const auto& m : Get(status, "currentMetrics").is_array() ? status["currentMetrics"] : Json::array()) {
      if (IsCpuUtilization(m, true) && !v1status.contains("currentCPUUtilizationPercentage"))
        v1status["currentCPUUtilizationPercentage"] = m["resource"]["current"]["averageUtilization"];
      current.push_back(MetricToV1(m, true));
    }
    if (!current.empty()) AnnotateJson(o, kCurrentMetricsAnnotation, current);
    if (Get(status, "conditions").is_array() && !status["conditions"].empty())
      AnnotateJson(o, kConditionsAnnotation, status["conditions"]);
    (*o)["status"] = v1status;
  }
}

// v1 (served) -> v2 (stored).
void HpaFromV1(Json* o) {
  Json spec = Get(*o, "spec"), status = Get(*o, "status");
  Json& annotations = (*o)["metadata"]["annotations"];
  Json metrics = ParseAnnotation(&annotations, kMetricsAnnotation);
  Json current = ParseAnnotation(&annotations, kCurrentMetricsAnnotation);
  Json conditions = ParseAnnotation(&annotations, kConditionsAnnotation);
  Json behavior = ParseAnnotation(&annotations, kBehaviorAnnotation);
  if (annotations.is_null() || (annotations.is_object() && annotations.empty()))
    (*o)["metadata"].erase("annotations");
  Json v2spec = Json::object();
  for (const char* k : {"scaleTargetRef", "minReplicas", "maxReplicas"}) SetIf(&v2spec, k, Get(spec, k));
  Json v2metrics = Json::array();
  if (spec.contains("targetCPUUtilizationPercentage") && !spec["targetCPUUtilizationPercentage"].is_null())
    v2metrics.push_back({{"type", "Resource"},
                         {"resource", {{"name", "cpu"},
                                       {"target", {{"type", "Utilization"},
                                                   {"averageUtilization", spec["targetCPUUtilizationPercentage"]}}}}}});
  if (metrics.is_array())
    for (const auto& m : metrics) v2metrics.push_back(MetricFromV1(m, false));
  if (!v2metrics.empty()) v2spec["metrics"] = v2metrics;
  if (behavior.is_object()) v2spec["behavior"] = behavior;
  (*o)["spec"] = v2spec;
  if (status.is_object()) {
    Json v2status = Json::object();
    for (const char* k : {"observedGeneration", "lastScaleTime", "currentReplicas", "desiredReplicas"})
      SetIf(&v2status, k, Get(status, k));
    Json v2current = Json::array();
    if (current.is_array()) {
      for (const auto& m : current) v2current.push_back(MetricFromV1(m, true));
    } else if (status.contains("currentCPUUtilizationPercentage")) {
      v2current.push_back({{"type", "Resource"},
                           {"resource", {{"name", "cpu"},
                                         {"current", {{"averageUtilization", status["currentCPUUtilizationPercentage"]}}}}}});
    }
    if (!v2current.empty()) v2status["currentMetrics"] = v2current;
    if (conditions.is_array()) v2status["conditions"] = conditions;
    (*o)["status"] = v2status;
  }
}

bool IsV1Hpa(const ResourceType& t) {
  return !t.custom && t.group == "autoscaling" && t.version == "v1" && t.kind == "HorizontalPodAutoscaler";
}
bool IsEventsGroupEvent(const ResourceType& t) {
  return !t.custom && t.group == "events.k8s.io" && t.kind == "Event";
}

}  // namespace

namespace {
// Custom resources convert with the "None" strategy: only apiVersion
// changes between the CRD's versions.
bool IsOtherCustomVersion(const ResourceType& t) {
  return t.custom && !t.storage_version.empty() && t.storage_version != t.version;
}
}  // namespace

bool StoredInOtherVersion(const ResourceType& t) {
  return IsV1Hpa(t) || IsEventsGroupEvent(t) || IsOtherCustomVersion(t);
}

void ConvertFromStorage(const ResourceType& t, Json* o) {
  if (!o->is_object()) return;
  if (IsV1Hpa(t)) HpaToV1(o);
  else if (IsEventsGroupEvent(t)) EventFromCore(o);
  else if (!IsOtherCustomVersion(t)) return;
  (*o)["apiVersion"] = t.api_version();
  (*o)["kind"] = t.kind;
}

void ConvertToStorage(const ResourceType& t, Json* o) {
  if (!o->is_object()) return;
  if (IsV1Hpa(t)) {
    HpaFromV1(o);
    (*o)["apiVersion"] = "autoscaling/v2";
    // Upstream defaults the stored version when reading it back.
    ApplyDefaults(*FindType("autoscaling", "v2", "horizontalpodautoscalers"), o);
  } else if (IsEventsGroupEvent(t)) {
    EventToCore(o);
    (*o)["apiVersion"] = "v1";
  } else if (IsOtherCustomVersion(t)) {
    (*o)["apiVersion"] = t.group + "/" + t.storage_version;
  }
}

}  // namespace kubit::api

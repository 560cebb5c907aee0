// Defaults of the smaller groups: autoscaling (HPA v1 and v2),
// networking.k8s.io, discovery.k8s.io, storage.k8s.io, scheduling.k8s.io
// and rbac.authorization.k8s.io.
#include "core/api/defaults_internal.h"

namespace kubit::api::defaults {
namespace {

const char kRbacGroup[] = "rbac.authorization.k8s.io";

// HPA scaling rules: the given rules over the defaults of their direction.
Json ScalingRules(const Json* given, bool up) {
  Json rules;
  if (up) {
    rules = {{"stabilizationWindowSeconds", 0},
             {"selectPolicy", "Max"},
             {"policies", Json::array({{{"type", "Pods"}, {"value", 4}, {"periodSeconds", 15}},
                                       {{"type", "Percent"}, {"value", 100}, {"periodSeconds", 15}}})}};
  } else {
    rules = {{"selectPolicy", "Max"},
             {"policies", Json::array({{{"type", "Percent"}, {"value", 100}, {"periodSeconds", 15}}})}};
  }
  if (given && given->is_object()) {
    for (const char* k : {"selectPolicy", "stabilizationWindowSeconds", "policies"})
      if (given->contains(k) && !(*given)[k].is_null()) rules[k] = (*given)[k];
  }
  return rules;
}

void DefaultHPA(const ResourceType& t, Json* hpa) {
  Json* spec = Child(hpa, "spec");
  if (!spec) return;
  SetIfMissing(spec, "minReplicas", 1);
  if (t.version != "v2") return;
  if (!IsArr(*spec, "metrics") || (*spec)["metrics"].empty()) {
    (*spec)["metrics"] = Json::array(
        {{{"type", "Resource"},
          {"resource",
           {{"name", "cpu"}, {"target", {{"type", "Utilization"}, {"averageUtilization", 80}}}}}}});
  }
  if (Json* b = ObjAt(spec, "behavior")) {
    (*b)["scaleUp"] = ScalingRules(ObjAt(b, "scaleUp"), true);
    (*b)["scaleDown"] = ScalingRules(ObjAt(b, "scaleDown"), false);
  }
}

void DefaultNetworkPolicy(Json* np) {
  Json* spec = Child(np, "spec");
  if (!spec) return;
  for (const char* dir : {"ingress", "egress"})
    EachObj(spec, dir, [](Json* rule) {
      EachObj(rule, "ports", [](Json* p) { SetIfMissing(p, "protocol", "TCP"); });
    });
  if (!IsArr(*spec, "policyTypes") || (*spec)["policyTypes"].empty()) {
    Json types = Json::array({"Ingress"});
    if (IsArr(*spec, "egress") && !(*spec)["egress"].empty()) types.push_back("Egress");
    (*spec)["policyTypes"] = types;
  }
}

void DefaultBinding(Json* b) {
  if (Json* ref = Child(b, "roleRef")) SetIfMissing(ref, "apiGroup", kRbacGroup);
  EachObj(b, "subjects", [](Json* s) {
    std::string kind = Str(*s, "kind");
    if (Str(*s, "apiGroup").empty() && (kind == "User" || kind == "Group")) (*s)["apiGroup"] = kRbacGroup;
  });
}

}  // namespace

bool DefaultOtherKind(const ResourceType& t, Json* obj) {
  const std::string& k = t.kind;
  if (t.group == "autoscaling" && k == "HorizontalPodAutoscaler") {
    DefaultHPA(t, obj);
  } else if (t.group == "networking.k8s.io" && k == "NetworkPolicy") {
    DefaultNetworkPolicy(obj);
  } else if (t.group == "networking.k8s.io" && k == "IngressClass") {
    if (Json* spec = ObjAt(obj, "spec"))
      if (Json* params = ObjAt(spec, "parameters")) SetIfMissing(params, "scope", "Cluster");
  } else if (t.group == "discovery.k8s.io" && k == "EndpointSlice") {
    EachObj(obj, "ports", [](Json* p) {
      SetIfMissing(p, "name", "");
      SetIfMissing(p, "protocol", "TCP");
    });
  } else if (t.group == "storage.k8s.io" && k == "StorageClass") {
    SetIfMissing(obj, "reclaimPolicy", "Delete");
    SetIfMissing(obj, "volumeBindingMode", "Immediate");
  } else if (t.group == "scheduling.k8s.io" && k == "PriorityClass") {
    SetIfMissing(obj, "preemptionPolicy", "PreemptLowerPriority");
  } else if (t.group == kRbacGroup && (k == "RoleBinding" || k == "ClusterRoleBinding")) {
    DefaultBinding(obj);
  } else {
    return false;
  }
  return true;
}

}  // namespace kubit::api::defaults

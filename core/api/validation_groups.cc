// Validation of the smaller groups: rbac.authorization.k8s.io (roles and
// bindings), coordination.k8s.io (Lease), scheduling.k8s.io
// (PriorityClass), storage.k8s.io (StorageClass), policy
// (PodDisruptionBudget) and autoscaling (HorizontalPodAutoscaler).
#include <set>

#include "core/api/validation_internal.h"

namespace kubit::api::validation {
namespace {

const char kRbacGroup[] = "rbac.authorization.k8s.io";

// ---- RBAC ----------------------------------------------------------------------

void ValidatePolicyRules(const Json& role, bool namespaced, Errs* errs) {
  const Json& rules = Items(role, "rules");
  for (size_t i = 0; i < rules.size(); i++) {
    const Json& r = rules[i];
    Path p = Path("rules").Index(i);
    if (Len(r, "verbs") == 0) errs->push_back(Required(p.Child("verbs"), "verbs must contain at least one value"));
    if (Len(r, "nonResourceURLs") > 0) {
      std::string urls = GoStrings(GetArr(r, "nonResourceURLs"));
      if (namespaced) errs->push_back(Invalid(p.Child("nonResourceURLs"), urls, "namespaced rules cannot apply to non-resource URLs"));
      if (Len(r, "apiGroups") > 0 || Len(r, "resources") > 0 || Len(r, "resourceNames") > 0)
        errs->push_back(Invalid(p.Child("nonResourceURLs"), urls, "rules cannot apply to both regular resources and non-resource URLs"));
      continue;
    }
    if (Len(r, "apiGroups") == 0) errs->push_back(Required(p.Child("apiGroups"), "resource rules must supply at least one api group"));
    if (Len(r, "resources") == 0) errs->push_back(Required(p.Child("resources"), "resource rules must supply at least one resource"));
  }
}

void ValidateClusterRoleAggregation(const Json& role, Errs* errs) {
  const Json* agg = GetObj(role, "aggregationRule");
  if (!agg) return;
  Path p = Path("aggregationRule").Child("clusterRoleSelectors");
  const Json& sels = Items(*agg, "clusterRoleSelectors");
  if (sels.empty()) errs->push_back(Required(p, "at least one clusterRoleSelector required if aggregationRule is non-nil"));
  for (size_t i = 0; i < sels.size(); i++) {
    ValidateLabelSelector(&sels[i], p.Index(i), errs);
    if (!AsSelector(&sels[i]).valid) errs->push_back(Invalid(p.Index(i), GoSelector(&sels[i]), "invalid label selector."));
  }
}

std::string GoRoleRef(const Json& ref) {
  return "rbac.RoleRef{APIGroup:" + Q(Str(ref, "apiGroup")) + ", Kind:" + Q(Str(ref, "kind")) + ", Name:" + Q(Str(ref, "name")) + "}";
}

void ValidateBinding(const Json& b, const Json* old, bool namespaced, Errs* errs) {
  const Json& ref = ObjOrEmpty(b, "roleRef");
  Path rp("roleRef");
  std::string group = Str(ref, "apiGroup"), kind = Str(ref, "kind"), name = Str(ref, "name");
  if (group != kRbacGroup) errs->push_back(NotSupported(rp.Child("apiGroup"), Q(group), {kRbacGroup}));
  if (namespaced) {
    if (kind != "Role" && kind != "ClusterRole") errs->push_back(NotSupported(rp.Child("kind"), Q(kind), {"Role", "ClusterRole"}));
  } else if (kind != "ClusterRole") {
    errs->push_back(NotSupported(rp.Child("kind"), Q(kind), {"ClusterRole"}));
  }
  if (name.empty()) errs->push_back(Required(rp.Child("name")));
  else AddAll(errs, rp.Child("name"), name, IsValidPathSegmentName(name));
  const Json& subjects = Items(b, "subjects");
  for (size_t i = 0; i < subjects.size(); i++) {
    const Json& s = subjects[i];
    Path sp = Path("subjects").Index(i);
    std::string sname = Str(s, "name"), skind = Str(s, "kind"), sgroup = Str(s, "apiGroup");
    if (sname.empty()) errs->push_back(Required(sp.Child("name")));
    if (skind == "ServiceAccount") {
      if (!sname.empty()) AddAll(errs, sp.Child("name"), sname, IsDNS1123Subdomain(sname));
      if (!sgroup.empty()) errs->push_back(NotSupported(sp.Child("apiGroup"), Q(sgroup), {""}));
      if (!namespaced && Str(s, "namespace").empty()) errs->push_back(Required(sp.Child("namespace")));
    } else if (skind == "User" || skind == "Group") {
      if (sgroup != kRbacGroup) errs->push_back(NotSupported(sp.Child("apiGroup"), Q(sgroup), {kRbacGroup}));
    } else {
      errs->push_back(NotSupported(sp.Child("kind"), Q(skind), {"ServiceAccount", "User", "Group"}));
    }
  }
  if (old) {
    const Json& oref = ObjOrEmpty(*old, "roleRef");
    if (Str(oref, "apiGroup") != group || Str(oref, "kind") != kind || Str(oref, "name") != name)
      errs->push_back(Invalid(rp, GoRoleRef(ref), "cannot change roleRef"));
  }
}

// ---- Lease, PriorityClass, StorageClass, PDB -----------------------------------

void ValidateLease(const Json& lease, Errs* errs) {
  const Json& spec = ObjOrEmpty(lease, "spec");
  if (auto d = Int(spec, "leaseDurationSeconds"); d && *d <= 0)
    errs->push_back(Invalid(Path("spec").Child("leaseDurationSeconds"), GoInt(*d), "must be greater than 0"));
  if (auto t = Int(spec, "leaseTransitions"); t && *t < 0)
    errs->push_back(Invalid(Path("spec").Child("leaseTransitions"), GoInt(*t), "must be greater than or equal to 0"));
}

void ValidatePriorityClass(const Json& pc, const Json* old, Errs* errs) {
  int64_t value = Int(pc, "value").value_or(0);
  if (old) {
    if (value != Int(*old, "value").value_or(0)) errs->push_back(Forbidden(Path("value"), "may not be changed in an update."));
    const Json* np = Get(pc, "preemptionPolicy");
    ValidateImmutable(np, Get(*old, "preemptionPolicy"), Path("preemptionPolicy"), np ? GoValue(*np) : "null", errs);
    return;
  }
  std::string name = Str(ObjOrEmpty(pc, "metadata"), "name");
  if (name.rfind("system-", 0) == 0) {
    struct System {
      const char* name;
      int64_t value;
    } known[] = {{"system-node-critical", 2000001000}, {"system-cluster-critical", 2000000000}};
    std::string err = name + " is not a known system priority class";
    for (const System& s : known)
      if (name == s.name) {
        if (value != s.value) err = "value of " + name + " PriorityClass must be " + std::to_string(s.value);
        else if (Bool(pc, "globalDefault")) err = "globalDefault of " + name + " PriorityClass must be false";
        else err.clear();
      }
    if (!err.empty())
      errs->push_back(Forbidden(Path("metadata").Child("name"),
                                "priority class names with 'system-' prefix are reserved for system use only. error: " + err));
  } else if (value > 1000000000) {
    errs->push_back(Forbidden(Path("value"), "maximum allowed value of a user defined priority is 1000000000"));
  }
  if (const Json* pp = Get(pc, "preemptionPolicy")) ValidatePreemptionPolicy(*pp, Path("preemptionPolicy"), errs);
}

void ValidateStorageClass(const Json& sc, const Json* old, Errs* errs) {
  if (old) {
    if (!SameValue(Get(sc, "parameters"), Get(*old, "parameters")))
      errs->push_back(Forbidden(Path("parameters"), "updates to parameters are forbidden."));
    if (Str(sc, "provisioner") != Str(*old, "provisioner"))
      errs->push_back(Forbidden(Path("provisioner"), "updates to provisioner are forbidden."));
    if (Str(sc, "reclaimPolicy") != Str(*old, "reclaimPolicy"))
      errs->push_back(Forbidden(Path("reclaimPolicy"), "updates to reclaimPolicy are forbidden."));
    if (Str(sc, "volumeBindingMode") != Str(*old, "volumeBindingMode"))
      errs->push_back(Invalid(Path("volumeBindingMode"), Q(Str(sc, "volumeBindingMode")), kImmutable));
    return;
  }
  std::string prov = Str(sc, "provisioner");
  if (prov.empty()) {
    errs->push_back(Required(Path("provisioner")));
  } else {
    std::string lower = prov;
    for (char& c : lower) c = char(tolower(static_cast<unsigned char>(c)));
    AddAll(errs, Path("provisioner"), lower, IsQualifiedName(lower));
  }
  const Json& params = ObjOrEmpty(sc, "parameters");
  if (params.size() > 512) {
    errs->push_back(TooLong(Path("parameters"), 512));
  } else {
    size_t total = 0;
    for (auto it = params.begin(); it != params.end(); ++it) {
      if (it.key().empty()) errs->push_back(Invalid(Path("parameters"), Q(it.key()), "field can not be empty."));
      total += it.key().size() + (it.value().is_string() ? it.value().get_ref<const std::string&>().size() : 0);
    }
    if (total > 256 * 1024) errs->push_back(TooLong(Path("parameters"), 256 * 1024));
  }
  if (Has(sc, "reclaimPolicy")) {
    std::string rp = Str(sc, "reclaimPolicy");
    if (!rp.empty() && rp != "Delete" && rp != "Retain") errs->push_back(NotSupported(Path("reclaimPolicy"), Q(rp), {"Delete", "Retain"}));
  }
  if (!Has(sc, "volumeBindingMode")) {
    errs->push_back(Required(Path("volumeBindingMode")));
  } else if (std::string m = Str(sc, "volumeBindingMode"); m != "Immediate" && m != "WaitForFirstConsumer") {
    errs->push_back(NotSupported(Path("volumeBindingMode"), Q(m), {"Immediate", "WaitForFirstConsumer"}));
  }
  const Json& topologies = Items(sc, "allowedTopologies");
  for (size_t i = 0; i < topologies.size(); i++) {
    Path tp = Path("allowedTopologies").Index(i);
    const Json& exprs = Items(topologies[i], "matchLabelExpressions");
    if (exprs.empty()) errs->push_back(Required(tp, "must have at least one label expression"));
    std::set<std::string> keys;
    for (size_t j = 0; j < exprs.size(); j++) {
      Path ep = tp.Child("matchLabelExpressions").Index(j);
      const Json& values = Items(exprs[j], "values");
      if (values.empty()) errs->push_back(Required(ep.Child("values")));
      std::set<std::string> seen;
      for (size_t k = 0; k < values.size(); k++)
        if (!seen.insert(values[k].dump()).second) errs->push_back(Duplicate(ep.Child("values").Index(k), GoValue(values[k])));
      std::string key = Str(exprs[j], "key");
      ValidateLabelName(key, ep.Child("key"), errs);
      if (!keys.insert(key).second) errs->push_back(Duplicate(ep.Child("key"), Q(key)));
    }
  }
}

void ValidatePDB(const Json& pdb, Errs* errs) {
  const Json& spec = ObjOrEmpty(pdb, "spec");
  Path sp("spec");
  const Json* min = Get(spec, "minAvailable");
  const Json* max = Get(spec, "maxUnavailable");
  if (min && max)
    errs->push_back(Invalid(sp, "policy.PodDisruptionBudgetSpec{MinAvailable:(*intstr.IntOrString)(0xc000000000), Selector:...}",
                            "minAvailable and maxUnavailable cannot be both set"));
  for (const auto& [v, f] : {std::pair{min, "minAvailable"}, std::pair{max, "maxUnavailable"}}) {
    if (!v) continue;
    ValidatePositiveIntOrPercent(*v, sp.Child(f), errs);
    IsNotMoreThan100Percent(*v, sp.Child(f), errs);
  }
  ValidateLabelSelector(GetObj(spec, "selector"), sp.Child("selector"), errs);
  if (Has(spec, "unhealthyPodEvictionPolicy")) {
    std::string p = Str(spec, "unhealthyPodEvictionPolicy");
    if (p != "AlwaysAllow" && p != "IfHealthyBudget")
      errs->push_back(NotSupported(sp.Child("unhealthyPodEvictionPolicy"), Q(p), {"AlwaysAllow", "IfHealthyBudget"}));
  }
}

// ---- HorizontalPodAutoscaler ------------------------------------------------------

void ValidateObjectReference(const Json& ref, const Path& p, Errs* errs) {
  for (const char* f : {"kind", "name"}) {
    std::string v = Str(ref, f);
    if (v.empty()) errs->push_back(Required(p.Child(f)));
    else AddAll(errs, p.Child(f), v, IsValidPathSegmentName(v));
  }
}

void ValidateMetricTarget(const Json& t, const Path& p, Errs* errs) {
  std::string type = Str(t, "type");
  if (type.empty()) errs->push_back(Required(p.Child("type"), "must specify a metric target type"));
  if (type != "Utilization" && type != "Value" && type != "AverageValue")
    errs->push_back(Invalid(p.Child("type"), Q(type), "must be either Utilization, Value, or AverageValue"));
  for (const char* f : {"value", "averageValue"})
    if (const Json* v = Get(t, f))
      if (auto q = Qty(*v); q && q->Sign() != 1) errs->push_back(Invalid(p.Child(f), q->GoSyntax(), "must be positive"));
  if (auto u = Int(t, "averageUtilization"); u && *u < 1)
    errs->push_back(Invalid(p.Child("averageUtilization"), GoInt(*u), "must be greater than 0"));
}

void ValidateMetricIdentifier(const Json& m, const Path& p, Errs* errs) {
  if (Str(m, "name").empty()) errs->push_back(Required(p.Child("name"), "must specify a metric name"));
  else AddAll(errs, p.Child("name"), Str(m, "name"), IsValidPathSegmentName(Str(m, "name")));
  ValidateLabelSelector(GetObj(m, "selector"), p.Child("selector"), errs);
}

void ValidateMetricSpec(const Json& spec, const Path& p, Errs* errs) {
  static const std::vector<std::string> kTypes = {"ContainerResource", "External", "Object", "Pods", "Resource"};
  std::string type = Str(spec, "type");
  if (type.empty()) errs->push_back(Required(p.Child("type"), "must specify a metric source type"));
  bool known = std::find(kTypes.begin(), kTypes.end(), type) != kTypes.end();
  if (!known) errs->push_back(NotSupported(p.Child("type"), Q(type), kTypes));
  std::vector<std::string> present;
  auto first = [&](const char* key) -> const Json* {
    const Json* v = GetObj(spec, key);
    if (!v) return nullptr;
    present.push_back(key);
    return present.size() == 1 ? v : nullptr;
  };
  if (const Json* o = first("object")) {
    Path op = p.Child("object");
    ValidateObjectReference(ObjOrEmpty(*o, "describedObject"), op.Child("describedObject"), errs);
    ValidateMetricIdentifier(ObjOrEmpty(*o, "metric"), op.Child("metric"), errs);
    const Json& t = ObjOrEmpty(*o, "target");
    ValidateMetricTarget(t, op.Child("target"), errs);
    if (!Has(t, "value") && !Has(t, "averageValue"))
      errs->push_back(Required(op.Child("target").Child("value"), "must set either a target value or averageValue"));
  }
  if (const Json* e = first("external")) {
    Path ep = p.Child("external");
    ValidateMetricIdentifier(ObjOrEmpty(*e, "metric"), ep.Child("metric"), errs);
    const Json& t = ObjOrEmpty(*e, "target");
    ValidateMetricTarget(t, ep.Child("target"), errs);
    if (!Has(t, "value") && !Has(t, "averageValue"))
      errs->push_back(Required(ep.Child("target").Child("value"), "must set either a target value for metric or a per-pod target"));
    if (Has(t, "value") && Has(t, "averageValue"))
      errs->push_back(Forbidden(ep.Child("target").Child("value"), "may not set both a target value for metric and a per-pod target"));
  }
  if (const Json* pods = first("pods")) {
    Path pp = p.Child("pods");
    ValidateMetricIdentifier(ObjOrEmpty(*pods, "metric"), pp.Child("metric"), errs);
    const Json& t = ObjOrEmpty(*pods, "target");
    ValidateMetricTarget(t, pp.Child("target"), errs);
    if (!Has(t, "averageValue")) errs->push_back(Required(pp.Child("target").Child("averageValue"), "must specify a positive target averageValue"));
  }
  for (const char* key : {"resource", "containerResource"}) {
    const Json* r = first(key);
    if (!r) continue;
    Path rp = p.Child(key);
    std::string name = Str(*r, "name");
    if (name.empty()) errs->push_back(Required(rp.Child("name"), "must specify a resource name"));
    else AddAll(errs, rp.Child("name"), name, IsQualifiedName(name));
    if (std::string(key) == "containerResource" && Str(*r, "container").empty())
      errs->push_back(Required(rp.Child("container"), "must specify a container"));
    const Json& t = ObjOrEmpty(*r, "target");
    ValidateMetricTarget(t, rp.Child("target"), errs);
    if (!Has(t, "averageUtilization") && !Has(t, "averageValue"))
      errs->push_back(Required(rp.Child("target").Child("averageUtilization"), "must set either a target raw value or a target utilization"));
    if (Has(t, "averageUtilization") && Has(t, "averageValue"))
      errs->push_back(Forbidden(rp.Child("target").Child("averageValue"), "may not set both a target raw value and a target utilization"));
  }
  std::string expected = type == "Object" ? "object" : type == "Pods" ? "pods" : type == "Resource" ? "resource"
                       : type == "External" ? "external" : type == "ContainerResource" ? "containerResource" : "";
  if (!known) errs->push_back(NotSupported(p.Child("type"), Q(type), kTypes));
  if (std::find(present.begin(), present.end(), expected) == present.end())
    errs->push_back(Required(p.Child(expected), "must populate information for the given metric source"));
  if (present.size() != 1)
    for (const auto& t : present)
      if (t != expected) errs->push_back(Forbidden(p.Child(t), "must populate the given metric source only"));
}

void ValidateScalingRules(const Json* rules, const Path& p, Errs* errs) {
  if (!rules) return;
  if (auto w = Int(*rules, "stabilizationWindowSeconds")) {
    if (*w < 0) errs->push_back(Invalid(p.Child("stabilizationWindowSeconds"), GoInt(*w), "must be greater than or equal to zero"));
    if (*w > 3600) errs->push_back(Invalid(p.Child("stabilizationWindowSeconds"), GoInt(*w), "must be less than or equal to 3600"));
  }
  if (Has(*rules, "selectPolicy")) {
    std::string sp = Str(*rules, "selectPolicy");
    if (sp != "Disabled" && sp != "Max" && sp != "Min") errs->push_back(NotSupported(p.Child("selectPolicy"), Q(sp), {"Disabled", "Max", "Min"}));
  }
  const Json& policies = Items(*rules, "policies");
  if (policies.empty()) errs->push_back(Required(p.Child("policies"), "must specify at least one Policy"));
  for (size_t i = 0; i < policies.size(); i++) {
    Path pp = p.Child("policies").Index(i);
    std::string type = Str(policies[i], "type");
    if (type != "Pods" && type != "Percent") errs->push_back(NotSupported(pp.Child("type"), Q(type), {"Percent", "Pods"}));
    int64_t value = Int(policies[i], "value").value_or(0), period = Int(policies[i], "periodSeconds").value_or(0);
    if (value <= 0) errs->push_back(Invalid(pp.Child("value"), GoInt(value), "must be greater than zero"));
    if (period <= 0) errs->push_back(Invalid(pp.Child("periodSeconds"), GoInt(period), "must be greater than zero"));
    if (period > 1800) errs->push_back(Invalid(pp.Child("periodSeconds"), GoInt(period), "must be less than or equal to 1800"));
  }
}

void ValidateHPA(const ResourceType& t, const Json& hpa, Errs* errs) {
  const Json& spec = ObjOrEmpty(hpa, "spec");
  Path sp("spec");
  auto min = Int(spec, "minReplicas");
  int64_t max = Int(spec, "maxReplicas").value_or(0);
  if (min && *min < 1) errs->push_back(Invalid(sp.Child("minReplicas"), GoInt(*min), "must be greater than or equal to 1"));
  if (max < 1) errs->push_back(Invalid(sp.Child("maxReplicas"), GoInt(max), "must be greater than 0"));
  if (min && max < *min) errs->push_back(Invalid(sp.Child("maxReplicas"), GoInt(max), "must be greater than or equal to `minReplicas`"));
  ValidateObjectReference(ObjOrEmpty(spec, "scaleTargetRef"), sp.Child("scaleTargetRef"), errs);
  if (t.version == "v1") {
    if (auto u = Int(spec, "targetCPUUtilizationPercentage"); u && *u < 1)
      errs->push_back(Invalid(sp.Child("targetCPUUtilizationPercentage"), GoInt(*u), "must be greater than 0"));
    return;
  }
  const Json& metrics = Items(spec, "metrics");
  for (size_t i = 0; i < metrics.size(); i++) ValidateMetricSpec(metrics[i], sp.Child("metrics").Index(i), errs);
  if (const Json* b = GetObj(spec, "behavior")) {
    ValidateScalingRules(GetObj(*b, "scaleUp"), sp.Child("behavior").Child("scaleUp"), errs);
    ValidateScalingRules(GetObj(*b, "scaleDown"), sp.Child("behavior").Child("scaleDown"), errs);
  }
}

}  // namespace

bool ValidateOtherKind(const ResourceType& t, const Json& obj, const Json* old, Errs* errs) {
  const std::string& k = t.kind;
  if (t.group == kRbacGroup) {
    if (k == "Role") ValidatePolicyRules(obj, true, errs);
    else if (k == "ClusterRole") {
      ValidatePolicyRules(obj, false, errs);
      ValidateClusterRoleAggregation(obj, errs);
    } else if (k == "RoleBinding") ValidateBinding(obj, old, true, errs);
    else if (k == "ClusterRoleBinding") ValidateBinding(obj, old, false, errs);
    else return false;
    return true;
  }
  if (t.group == "coordination.k8s.io" && k == "Lease") ValidateLease(obj, errs);
  else if (t.group == "scheduling.k8s.io" && k == "PriorityClass") ValidatePriorityClass(obj, old, errs);
  else if (t.group == "storage.k8s.io" && k == "StorageClass") ValidateStorageClass(obj, old, errs);
  else if (t.group == "policy" && k == "PodDisruptionBudget") ValidatePDB(obj, errs);
  else if (t.group == "autoscaling" && k == "HorizontalPodAutoscaler") ValidateHPA(t, obj, errs);
  else return false;
  return true;
}

}  // namespace kubit::api::validation
